"""The Whoosh schema and its analysers: accents folded before stemming, word pairs for fast phrases."""

from __future__ import annotations

import threading
from collections import defaultdict
from itertools import pairwise

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.analysis.tokenizers import default_pattern
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.lang.porter import stem
from whoosh.support.charset import accent_map
from whoosh.system import pack_uint

_STOPS = StopFilter().stops
_MIN_SIZE = StopFilter().min

# Fields a reader may name in a query (group:academia); staff may also name the disposition and moderation state.
PUBLIC_QUERY_FIELDS = ("text", "kind", "document", "version", "group", "type")
STAFF_QUERY_FIELDS = PUBLIC_QUERY_FIELDS + ("disposition", "status", "visibility")
FACETS = ("kind", "document", "version", "group", "type", "disposition")


def text_analyzer():
    """Words, lower-cased, accents folded (so 'règlement' meets 'reglement'), stop words dropped, then stemmed."""
    return (
        RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter(cachesize=50_000)
    )


def _plain(word: str) -> bool:
    """A word the text field holds as it is: not a stop word and its own stem ('risk', 'model')."""
    return len(word) >= _MIN_SIZE and word not in _STOPS and stem(word) == word


class UnlikeStemFilter(Filter):
    """Keeps the words the text field does not hold as they are: stop words and words whose stem differs."""

    def __call__(self, tokens):
        for token in tokens:
            if not _plain(token.text):
                yield token


def word_analyzer():
    """Unstemmed folded words a prefix (evaluat*) cannot find among the stems ('evaluation' is indexed as 'evalu').

    A prefix is looked up in both fields: among the stems, for the words that are their own stem (a word's stem
    starts with the prefix just when the word does), and here for the others. Keeping only those halves this field.
    """
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | UnlikeStemFilter()


def pair_term(a: str, b: str) -> str:
    """The term for the word pair (a, b): both stems, joined by a space.

    Hashing pairs into a bounded set of buckets was tried: it saved little of the rebuild (the postings, one per
    distinct pair in each document, stay as many) and cost two-word phrases their exact one-term look-up, since a
    bucket's hits then need their positions read: phrase p95 doubled. A pair stays its own term.
    """
    return f"{a} {b}"


class PairFilter(Filter):
    """Joins each token with the next one ('copyright opt', 'opt out'), so a phrase becomes term look-ups."""

    def __call__(self, tokens):
        previous = None
        for token in tokens:
            current = token.text
            if previous is not None:
                token.text = pair_term(previous, current)
                yield token
            previous = current


def pair_analyzer():
    """The same tokens as the text field, then joined in adjacent pairs."""
    return text_analyzer() | PairFilter()


def pair_terms(words: list[str]) -> list[str]:
    """The pair terms for a list of already analysed words, in the form PairFilter indexes them."""
    return [pair_term(a, b) for a, b in pairwise(words)]


# --- the indexing fast path -----------------------------------------------------------------------------------
#
# Whoosh runs each field's analyser over the text separately, token object by token object: a comment was read three
# times (text, words, pairs) and each word went through five filters. When a document is indexed, the three fields
# below analyse the text once, with a per-word cache (raw word -> folded word, stem or None for a stop word), and
# build the same postings Whoosh's formats would. Queries, highlighting and anything but plain indexing still go
# through the analysers above, and tests/unit/test_search_analysis.py checks that both paths give the same postings.

_WORD_CACHE: dict[str, tuple[str, str | None, bool]] = {}
_WORD_CACHE_MAX = 200_000
# A drain thread and a request draining in-line may index at once. A hit is one dict read (atomic under the GIL, and
# an entry never changes), so only the rare miss takes the lock, which keeps a clear() from racing an insertion.
_word_cache_lock = threading.Lock()
# The last text analysed and its analysis, as one tuple replaced whole: the three fields receive the same string,
# and a pair of slots written one after the other could pair one thread's text with another's analysis.
_last: tuple = (None, None)


def _word(raw: str) -> tuple[str, str | None]:
    folded = raw.lower().translate(accent_map)
    kept = folded if len(folded) >= _MIN_SIZE and folded not in _STOPS else None
    stemmed = stem(kept) if kept is not None else None
    entry = (folded, stemmed, stemmed != folded)  # the last: whether the `words` field keeps it
    with _word_cache_lock:
        if len(_WORD_CACHE) >= _WORD_CACHE_MAX:
            _WORD_CACHE.clear()
        _WORD_CACHE[raw] = entry
    return entry


def analyse(text: str) -> tuple[list[str], list[tuple[str, int]]]:
    """The `words` field's tokens and the (stem, position) pairs the text field indexes.

    Positions follow StopFilter(renumber=True): the first kept word keeps its position, the next ones follow it.
    """
    global _last
    last_text, last_result = _last
    if last_text is not None and last_text == text:
        return last_result
    cache = _WORD_CACHE
    words, stems = [], []
    pos = None
    for i, match in enumerate(default_pattern.finditer(text)):
        raw = match.group(0)
        entry = cache.get(raw) or _word(raw)
        if entry[2]:
            words.append(entry[0])
        if entry[1] is not None:
            pos = i if pos is None else pos + 1
            stems.append((entry[1], pos))
    result = (words, stems)
    _last = (text, result)
    return result


def _encode(term: str, freq: int, value: bytes):
    return term.encode("utf-8"), freq, float(freq), value


class StemmedText(TEXT):
    """The text field: stems with positions, indexed through `analyse`."""

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str) or type(self.format) is not Positions or self.format.field_boost != 1.0:
            return super().index(value, **kwargs)
        poses = defaultdict(list)
        for term, pos in analyse(value)[1]:
            poses[term].append(pos)
        encode = self.format.encode
        return [_encode(term, len(plist), encode(plist)) for term, plist in poses.items()]


class _CountedTerms(TEXT):
    """A frequency-only field whose terms come from `analyse`."""

    def terms(self, value: str) -> list[str]:
        raise NotImplementedError

    def index(self, value, **kwargs):
        if kwargs or not isinstance(value, str) or self.format.field_boost != 1.0 or type(self.format) is Positions:
            return super().index(value, **kwargs)
        counts = defaultdict(int)
        for term in self.terms(value):
            counts[term] += 1
        return [_encode(term, n, pack_uint(n)) for term, n in counts.items()]


class FoldedWords(_CountedTerms):
    """Unstemmed folded words whose stem differs, for prefixes."""

    def terms(self, value):
        return analyse(value)[0]


class WordPairs(_CountedTerms):
    """Adjacent stems joined by a space, as PairFilter makes them."""

    def terms(self, value):
        stems = [term for term, _pos in analyse(value)[1]]
        return pair_terms(stems)


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
        audience=ID(),  # "public" or "restricted": see index.audience
        created_at=DATETIME(stored=True, sortable=True),
        # The text itself is not stored: snippets are drawn from the database row, after the permission check.
        text=StemmedText(analyzer=text_analyzer()),
        words=FoldedWords(analyzer=word_analyzer(), phrase=False),
        pairs=WordPairs(analyzer=pair_analyzer(), phrase=False),
    )
