"""The Whoosh schema and its analysers: accents folded before stemming, word pairs for fast phrases."""
from __future__ import annotations

from whoosh.analysis import (CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter)
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

# Fields a reader may name in a query (group:academia); staff may also name the disposition and moderation state.
PUBLIC_QUERY_FIELDS = ("text", "kind", "document", "version", "group", "type")
STAFF_QUERY_FIELDS = PUBLIC_QUERY_FIELDS + ("disposition", "status", "visibility")
FACETS = ("kind", "document", "version", "group", "type", "disposition")


def text_analyzer():
    """Words, lower-cased, accents folded (so 'règlement' meets 'reglement'), stop words dropped, then stemmed."""
    return (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter()
            | StemFilter(cachesize=50_000))


def word_analyzer():
    """Unstemmed folded words: prefixes (evaluat*) are matched here, since a stem is not a prefix of its word."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


class PairFilter(Filter):
    """Joins each token with the next one ('copyright opt', 'opt out'), so a phrase becomes term look-ups."""

    def __call__(self, tokens):
        previous = None
        for token in tokens:
            current = token.text
            if previous is not None:
                token.text = previous + " " + current
                yield token
            previous = current


def pair_analyzer():
    """The same tokens as the text field, then joined in adjacent pairs."""
    return text_analyzer() | PairFilter()


def pair_terms(words: list[str]) -> list[str]:
    """The pair terms for a list of already analysed words, in the form PairFilter indexes them."""
    return [f"{a} {b}" for a, b in zip(words, words[1:])]


def build_schema() -> Schema:
    """The index schema: one document per clause and per comment."""
    return Schema(
        uid=ID(unique=True, stored=True),  # "clause:12", "comment:34"
        kind=ID(stored=True, sortable=True),
        object_id=NUMERIC(stored=True, bits=64),
        clause_id=STORED(),
        document=ID(stored=True, sortable=True),
        version=ID(stored=True, sortable=True),
        clause_key=ID(stored=True),
        group=ID(stored=True, sortable=True),
        type=ID(stored=True, sortable=True),
        disposition=ID(stored=True, sortable=True),
        visibility=ID(stored=True),
        status=ID(stored=True),
        author_id=ID(stored=True),
        created_at=DATETIME(stored=True, sortable=True),
        # The text itself is not stored: snippets are drawn from the database row, after the permission check.
        text=TEXT(analyzer=text_analyzer()),
        words=TEXT(analyzer=word_analyzer(), phrase=False),
        pairs=TEXT(analyzer=pair_analyzer(), phrase=False),
    )
