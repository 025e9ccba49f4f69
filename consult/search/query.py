"""Reading the index: parsing a reader's query, the visibility filter, facets, paging, snippets and similar comments.

`run_query` works on a Whoosh searcher alone (no database), so the benchmark measures exactly what a page runs.

Only Whoosh's public API is used here. With CONSULT_SEARCH_FASTPATH on (the default), the set of hits, the phrase
check and the ranking of term queries go through fastpath.py, which reads Whoosh 2.7.4's posting blocks directly;
tests/integration/test_search_fastpath.py compares both ways on thousands of documents.
"""

from __future__ import annotations

import re
import threading
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape
from itertools import islice, pairwise

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from whoosh import query as wq
from whoosh import sorting
from whoosh.fields import Schema
from whoosh.highlight import ContextFragmenter, Formatter, highlight
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.qparser import FieldAliasPlugin, QueryParser
from whoosh.reading import TermNotFound

from .. import permissions
from .schema import FACETS, PUBLIC_QUERY_FIELDS, STAFF_QUERY_FIELDS, build_schema, pair_terms, text_analyzer

OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"}
LOWERCASE_FIELDS = {"kind", "document", "group", "type", "disposition", "status", "visibility"}
FILTER_FIELDS = ("kind", "document", "version", "group", "type", "disposition")
ALIASES = {
    "group": ["stakeholder", "groupe"],
    "type": ["comment-type"],
    "document": ["doc"],
    "disposition": ["decision"],
}
MAX_EXPANSION = 200  # prefix expansions used for highlighting


# --- parsing -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _parser(staff: bool) -> QueryParser:
    """A parser that knows only the fields this reader may name, so 'author_id:5' is just words."""
    full = build_schema()
    names = STAFF_QUERY_FIELDS if staff else PUBLIC_QUERY_FIELDS
    parser = QueryParser("text", Schema(**{n: full[n] for n in names}))
    aliases = {k: v for k, v in ALIASES.items() if k in names}
    parser.add_plugin(FieldAliasPlugin(aliases))
    return parser


@lru_cache(maxsize=2)
def _raw_parser(staff: bool) -> QueryParser:
    """The same query language, with the words left as typed (lower-cased): the PostgreSQL backend stems them."""
    from whoosh.analysis import LowercaseFilter, RegexTokenizer
    from whoosh.fields import TEXT

    full = build_schema()
    names = STAFF_QUERY_FIELDS if staff else PUBLIC_QUERY_FIELDS
    fields = {n: full[n] for n in names if n != "text"}
    fields["text"] = TEXT(analyzer=RegexTokenizer() | LowercaseFilter())
    parser = QueryParser("text", Schema(**fields))
    parser.add_plugin(FieldAliasPlugin({k: v for k, v in ALIASES.items() if k in names}))
    return parser


def query_problem(qstring: str) -> str | None:
    """Why a query cannot be read as written (unbalanced quote or bracket, a lone operator), or None."""
    if qstring.count('"') % 2:
        return _l("a quotation mark is not closed")
    depth = 0
    for char in qstring.replace('"', " "):
        depth += (char == "(") - (char == ")")
        if depth < 0:
            return _l("a bracket is closed that was never opened")
    if depth:
        return _l("a bracket is not closed")
    tokens = [t for t in re.split(r"[\s()]+", qstring) if t]
    if not tokens or all(t in OPERATORS for t in tokens):
        return _l("there are operators but no words")
    if tokens[0] in OPERATORS - {"NOT"} or tokens[-1] in OPERATORS:
        return _l("AND, OR and NOT need a word on each side")
    for a, b in pairwise(tokens):
        if a in OPERATORS and b in OPERATORS and b != "NOT":
            return _l("two operators follow each other")
    return None


def plain_words(qstring: str) -> list[str]:
    """The words of a query without its syntax: what a fallback search looks for."""
    return [w for w in re.findall(r"\w+", qstring) if w not in OPERATORS]


def _lower_fields(q):
    if isinstance(q, wq.Term) and q.fieldname in LOWERCASE_FIELDS:
        return wq.Term(q.fieldname, str(q.text).lower(), boost=q.boost)
    if isinstance(q, wq.Phrase) and q.fieldname == "text":
        words = list(q.words)
        if len(words) == 1:
            return wq.Term("text", words[0], boost=q.boost)
        pairs = [wq.Term("pairs", p) for p in pair_terms(words)]
        if len(words) == 2:
            return pairs[0]  # the pair is the phrase: no positions to read
        # The pair terms narrow the candidates cheaply; positions are then checked only on those.
        return wq.And(pairs + [q])
    if isinstance(q, (wq.Prefix, wq.Wildcard)) and q.fieldname == "text":
        # A stem is not always a prefix of its word ("evaluation" is indexed as "evalu"): words that are their own
        # stem are found among the stems, the others among the unstemmed words kept for that.
        return wq.Or([type(q)("text", q.text, boost=q.boost), type(q)("words", q.text, boost=q.boost)])
    if isinstance(q, wq.FuzzyTerm) and q.fieldname == "text":
        return wq.Term("text", q.text)
    return q


def _rewrite(q):
    if q.is_leaf():
        return _lower_fields(q)
    return q.apply(_rewrite)


@dataclass
class Parsed:
    query: wq.Query | None
    message: str | None = None


def parse(qstring: str, user, *, raw: bool = False) -> Parsed:
    """The reader's query as a Whoosh query, or the words-only fallback with a message saying so.

    raw: the words as typed (lower-cased), not stemmed nor rewritten for the Whoosh index (the PostgreSQL backend).
    """
    qstring = (qstring or "").strip()[:500]
    if not qstring:
        return Parsed(None)
    parser = (_raw_parser if raw else _parser)(permissions.is_staff(user))
    problem = query_problem(qstring)
    q = None
    if problem is None:
        try:
            q = parser.parse(qstring)
        except Exception:  # noqa: BLE001  (the parser should not raise; if it does, fall back to words)
            problem = _l("the search could not be read")
    if problem is not None:
        words = plain_words(qstring)
        if not words:
            return Parsed(
                None, _l("Your search has no words in it (%(reason)s). Type some words to look for.", reason=problem)
            )
        q = parser.parse(" ".join(words))
        message = _l(
            "We could not read your search as written (%(reason)s), so we searched for the words only: %(words)s",
            reason=problem,
            words=" ".join(words),
        )
    else:
        message = None
    if q is None or q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return Parsed(None, message or _l("Your search has only very common words. Try more specific words."))
    return Parsed((q if raw else _rewrite(q)).normalize(), message)


# --- visibility --------------------------------------------------------------------------------------------------


def visibility_filter(user) -> wq.Query | None:
    """What the reader may find, as an index query: None (everything) for staff.

    Everyone: clauses, and visible comments that are not confidential (the 'public' audience). A signed-in reader
    also finds their own visible confidential comments. Hidden and withdrawn comments are found by staff only.
    """
    if permissions.is_staff(user):
        return None
    public = wq.Term("audience", "public")
    if getattr(user, "is_authenticated", False) and getattr(user, "id", None) is not None:
        own = wq.And([wq.Term("author_id", str(user.id)), wq.Term("kind", "comment"), wq.Term("status", "visible")])
        return wq.Or([public, own])
    return public


def allowed_facets(user) -> tuple[str, ...]:
    """Facets shown to the reader: the disposition only to staff."""
    return FACETS if permissions.is_staff(user) else tuple(f for f in FACETS if f != "disposition")


def chosen_filters(user, filters: dict, *, without: str | None = None) -> list[tuple[str, str]]:
    """(field, value) of each facet filter the reader chose and may use, values as indexed; both backends use it."""
    allowed = allowed_facets(user)
    chosen = []
    for name in FILTER_FIELDS:
        value = (filters.get(name) or "").strip()
        if value and name != without and name in allowed:
            chosen.append((name, value.lower() if name in LOWERCASE_FIELDS else value))
    return chosen


def _filters(user, filters: dict, *, without: str | None = None) -> wq.Query | None:
    parts = []
    vis = visibility_filter(user)
    if vis is not None:
        parts.append(vis)
    parts += [wq.Term(name, value) for name, value in chosen_filters(user, filters, without=without)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _restricted(q: wq.Query, restriction: wq.Query | None) -> wq.Query:
    """The query limited to what the restriction allows, as one intersection.

    Whoosh turns a `filter=` into the full set of documents it matches, which costs time in proportion to the
    whole index; inside an And, the query's own (usually short) posting lists drive the work instead."""
    if restriction is None:
        return q
    # A plain intersection: a constant-score wrapper would list every matching document first, and Require gave
    # wrong hits with the negated visibility term. The restriction terms are in nearly every document, so they
    # add next to nothing to the scores.
    return wq.And([q, restriction])


# --- searching ---------------------------------------------------------------------------------------------------


@dataclass
class IndexHit:
    kind: str
    object_id: int
    clause_id: int | None
    document: str
    version: str
    clause_key: str
    group: str | None
    type: str | None
    disposition: str | None
    created_at: datetime | None
    score: float | None


def _index_hit(stored: dict, score: float) -> IndexHit:
    """A hit from a document's stored fields."""
    return IndexHit(
        stored["kind"],
        int(stored["object_id"]),
        stored.get("clause_id"),
        stored.get("document", ""),
        stored.get("version", ""),
        stored.get("clause_key", ""),
        stored.get("group"),
        stored.get("type"),
        stored.get("disposition"),
        stored.get("created_at"),
        score,
    )


@dataclass
class QueryResult:
    hits: list[IndexHit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, int]]]
    terms: frozenset = frozenset()
    message: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


SORTS = ("relevance", "newest", "oldest")


# --- facet counts --------------------------------------------------------------------------------------------------
#
# Whoosh's grouping asks each facet's column for every hit in Python: on a word found in 80,000 documents that was
# most of a 600 ms search. Here each segment's facet columns are read once into small integer codes (a segment never
# changes, only its deletions do, and deleted documents are never hits), and counting the hits is a C-speed
# Counter over those codes.

_SEGMENT_CODES: dict[str, dict[str, tuple[array, list[str]]]] = {}
_SEGMENT_CODES_MAX = 64
# Request threads share it: trimming the oldest entry while another thread adds one needs the lock (a segment's
# codes are computed outside it; two threads computing the same ones at once only waste a little work).
_codes_lock = threading.Lock()


def _segment_codes(reader, names) -> dict[str, tuple[array, list[str]]]:
    key = reader.segment().segment_id()
    with _codes_lock:
        cached = _SEGMENT_CODES.get(key)
    if cached is not None and all(n in cached for n in names):
        return cached
    codes = dict(cached or {})
    count = reader.doc_count_all()
    for name in names:
        if name in codes:
            continue
        values: dict[str, int] = {}
        column = reader.column_reader(name) if reader.has_column(name) else None
        docs = array(
            "I", (values.setdefault(column[d] if column is not None else "", len(values)) for d in range(count))
        )
        codes[name] = (docs, list(values))
    with _codes_lock:
        if len(_SEGMENT_CODES) >= _SEGMENT_CODES_MAX:
            _SEGMENT_CODES.pop(next(iter(_SEGMENT_CODES)))
        _SEGMENT_CODES[key] = codes
    return codes


def facet_counts(searcher, docnums, names) -> dict[str, list[tuple[str, int]]]:
    """For each facet, its values among these documents with their counts, the most frequent first."""
    totals = {name: Counter() for name in names}
    if not names:
        return {}
    ordered = sorted(docnums)
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.doc_count_all()
        lo, hi = bisect_left(ordered, offset), bisect_left(ordered, end)
        if lo == hi:
            continue
        local = [d - offset for d in ordered[lo:hi]]
        codes = _segment_codes(sub.reader(), names)
        for name in names:
            docs, values = codes[name]
            for code, n in Counter(map(docs.__getitem__, local)).items():
                totals[name][values[code]] += n
    return {
        name: sorted(
            ((str(k), v) for k, v in totals[name].items() if k not in (None, "", b"")), key=lambda kv: (-kv[1], kv[0])
        )
        for name in names
    }


def highlight_terms(q, reader) -> frozenset:
    """The analysed words a snippet should mark: the query's positive terms, prefixes expanded and stemmed."""
    words: set[str] = set()
    analyzer = text_analyzer()

    def walk(node):
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a)
            return
        if not node.is_leaf():
            for child in node.children():
                walk(child)
            return
        if isinstance(node, wq.Phrase):
            words.update(node.words)
            return
        if isinstance(node, (wq.Prefix, wq.Wildcard)):
            for term in islice(node.existing_terms(reader, expand=True), MAX_EXPANSION):
                text = term[1].decode("utf-8") if isinstance(term[1], bytes) else term[1]
                if node.fieldname == "text":
                    words.add(text)  # already a stem
                else:
                    words.update(t.text for t in analyzer(text))
            return
        if isinstance(node, wq.Term) and node.fieldname == "text":
            words.add(str(node.text))
        elif isinstance(node, wq.Term) and node.fieldname == "pairs":
            words.update(str(node.text).split(" "))

    walk(q)
    return frozenset(words)


def _split_phrases(q):
    """Take the long phrases out of a top-level AND: their pair terms stay; positions are checked separately."""
    if not isinstance(q, wq.And):
        return q, []
    phrases = [c for c in q.subqueries if isinstance(c, wq.Phrase) and c.fieldname == "text"]
    if not phrases:
        return q, []
    rest = [c for c in q.subqueries if c not in phrases]
    return (rest[0] if len(rest) == 1 else wq.And(rest)), phrases


class PostingsCursor:
    """A term's postings in one segment through Whoosh's public matcher API, looked up by ascending document.

    The fast path's Cursor has the same methods and reads the posting blocks directly.
    """

    def __init__(self, reader, fieldname: str, text):
        self.m = reader.postings(fieldname, text)  # raises TermNotFound

    def find(self, doc: int) -> bool:
        """Whether the term is in `doc`; documents must be asked for in ascending order."""
        m = self.m
        if m.is_active() and m.id() < doc:
            m.skip_to(doc)
        return m.is_active() and m.id() == doc

    def weight(self) -> float:
        """The term's frequency in the document last found."""
        return self.m.weight()

    def positions(self) -> set[int]:
        """The term's positions in the document last found."""
        return set(self.m.value_as("positions"))


def _fastpath(fast: bool):
    """The fast path module when it is on (imported only then: it refuses a Whoosh version it was not made for)."""
    if not fast:
        return None
    from . import fastpath

    return fastpath


def clear_block_cache() -> None:
    """Forget the fast path's decoded blocks (the search benchmark measures searches that start without them too)."""
    _fastpath(True).clear_caches()


def _phrase_counts(searcher, candidates, phrases, cursor=PostingsCursor) -> dict[int, int]:
    """Of the candidates (which hold every word pair), those with every phrase's words in order, and how often.

    Whoosh's own phrase matcher reads positions for every document holding all the words; here they are read only
    for the candidates, segment by segment, each distinct word once per document. `cursor` reads the postings:
    PostingsCursor, or the fast path's Cursor.
    """
    counts = dict.fromkeys(candidates, 0)
    for phrase in phrases:
        words = list(phrase.words)
        offsets = {}  # word -> its places in the phrase ("model model evaluation": model at 0 and 1)
        for i, word in enumerate(words):
            offsets.setdefault(word, []).append(i)
        for sub, base in searcher.leaf_searchers():
            end = base + sub.doc_count_all()
            local = [d - base for d in sorted(counts) if base <= d < end]
            if not local:
                continue
            reader = sub.reader()
            try:
                cursors = [(cursor(reader, "text", word), places) for word, places in offsets.items()]
            except TermNotFound:  # a word absent from this segment: no candidate in it has the phrase
                for doc in local:
                    del counts[doc + base]
                continue
            for doc in local:
                starts = None  # the positions where the phrase could start, narrowed word by word
                for postings, places in cursors:
                    if not postings.find(doc):
                        starts = None
                        break
                    found = postings.positions()
                    for i in places:
                        if starts is None:
                            starts = found if i == 0 else {p - i for p in found}
                        else:
                            starts = {start for start in starts if start + i in found}
                    if not starts:
                        break
                if starts:
                    counts[doc + base] += len(starts)
                else:
                    del counts[doc + base]
    return counts


class _Only(wq.Query):
    """Matches exactly these document numbers (a phrase's verified hits), scored by the given weights.

    The search then steps from hit to hit instead of walking, scoring and masking every candidate; a phrase's hits
    are ranked by how often the phrase occurs in them.
    """

    def __init__(self, top_searcher, weights: dict[int, float]):
        self.docnums = sorted(weights)
        self.weights = weights
        self._offsets = {id(sub): (offset, sub.doc_count_all()) for sub, offset in top_searcher.leaf_searchers()}

    def __eq__(self, other):
        return type(other) is type(self) and other.docnums == self.docnums

    def __hash__(self):
        return hash((type(self), len(self.docnums)))

    def is_leaf(self):
        return True

    def estimate_size(self, ixreader):
        return len(self.docnums)

    def estimate_min_size(self, ixreader):
        return len(self.docnums)

    def matcher(self, searcher, context=None):
        offset, count = self._offsets.get(id(searcher), (0, searcher.doc_count_all()))
        ids = [d - offset for d in self.docnums if offset <= d < offset + count]
        if not ids:
            return NullMatcher()
        return ListMatcher(ids, weights=[float(self.weights[d + offset]) for d in ids])


def matching_docs(searcher, q: wq.Query, driver: wq.Query, *, fast: bool = True) -> set[int]:
    """The documents `q` matches, unscored; `driver` is the part of it that decides how many there are.

    With the fast path, terms under AND and OR are evaluated as sets of posting blocks. Other shapes (and every
    shape without it) go through Whoosh's matchers: stepped through when the driving query is small (each step
    skips ahead in the long lists), listed whole when large.
    """
    fastpath = _fastpath(fast)
    found = fastpath.hits(searcher, q) if fastpath is not None else None
    if found is not None:
        return found
    if driver.estimate_size(searcher.reader()) * 8 >= searcher.doc_count_all():
        return set(searcher.docs_for_query(q))
    docs = set()
    context = searcher.boolean_context()
    for sub, offset in searcher.leaf_searchers():
        try:
            matcher = q.matcher(sub, context)
        except TermNotFound:
            continue
        while matcher.is_active():
            docs.add(matcher.id() + offset)
            matcher.next()
    return docs


def _restricted_hits(searcher, restriction, fast: bool) -> set[int] | None:
    """The documents the reader's restriction allows, when the fast path can list them cheaply."""
    fastpath = _fastpath(fast)
    return fastpath.hits(searcher, restriction) if fastpath is not None else None


def _ranked(searcher, q, docnums: set[int], limit: int, sortedby, *, phrases: bool, fast: bool):
    """The `limit` best hits as (docnum, score): by BM25F (or the phrase counts), or by date when sortedby is set."""
    fastpath = _fastpath(fast)
    if fastpath is not None and sortedby is None and not phrases:
        ranked = fastpath.rank(searcher, q, docnums, limit)
        if ranked is not None:
            return ranked
    if sortedby is None and not phrases:
        # Whoosh's top-N collection can miss a hit its own full scoring ranks higher (seen with the reader's
        # own-comments branch of the visibility filter: a hit of the top 10 was missing from the top 40), so every
        # hit is scored and the best are cut here: Whoosh's own scores, in the order they give.
        results = searcher.search(q, limit=None)
        return [(docnum, score) for score, docnum in results.top_n[:limit]]
    # A phrase's hits come as one weighted list, whose "block quality" Whoosh would recompute on every hit.
    results = searcher.search(q, limit=limit, sortedby=sortedby, optimize=not phrases)
    return [(hit.docnum, hit.score) for hit in results]


def run_query(
    searcher,
    parsed: Parsed,
    user,
    *,
    filters: dict | None = None,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
    with_facets: bool = True,
    fast: bool = True,
) -> QueryResult:
    """One page of hits the reader may see, the exact total and facet counts over that same filtered set.

    fast: use the fast path (fastpath.py, CONSULT_SEARCH_FASTPATH); without it only Whoosh's public API is used,
    with the same hits, order and scores.
    """
    filters = filters or {}
    q = parsed.query
    if q is None:
        if not any((filters.get(n) or "").strip() for n in FILTER_FIELDS):
            return QueryResult([], 0, 1, per_page, {}, message=parsed.message)
        q = wq.Every()
    names = allowed_facets(user) if with_facets else ()
    q, phrases = _split_phrases(q)
    restriction = _filters(user, filters)
    if phrases:
        fastpath = _fastpath(fast)
        cursor = fastpath.Cursor if fastpath is not None else PostingsCursor
        counts = _phrase_counts(searcher, sorted(matching_docs(searcher, q, q, fast=fast)), phrases, cursor)
        # The hits are known now: they are restricted as a set, and ranked by how often the phrase occurs.
        base = unrestricted = _Only(searcher, counts)
        docnums = set(counts)
        if restriction is not None:
            allowed = _restricted_hits(searcher, restriction, fast)
            docnums = (
                docnums & allowed
                if allowed is not None
                else matching_docs(searcher, _restricted(base, restriction), base, fast=fast)
            )
            base = _Only(searcher, {d: counts[d] for d in docnums})
        q = base
    else:
        base = unrestricted = q
        q = _restricted(base, restriction)
        # The total and the facets come from the set of hits (no scoring); only the page's hits are ranked.
        docnums = matching_docs(searcher, q, base, fast=fast)
    total = len(docnums)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)  # a page past the end shows the last page
    facets = facet_counts(searcher, docnums, names)
    if names and (filters.get("kind") or "").strip():
        # The kind tabs show both counts, whichever kind is chosen.
        both = matching_docs(
            searcher, _restricted(unrestricted, _filters(user, filters, without="kind")), unrestricted, fast=fast
        )
        facets["kind"] = facet_counts(searcher, both, ["kind"])["kind"]
    hits = []
    if total:
        sortedby = None
        if sort == "newest":
            sortedby = sorting.FieldFacet("created_at", reverse=True)
        elif sort == "oldest":
            sortedby = sorting.FieldFacet("created_at")
        ranked = _ranked(searcher, q, docnums, page * per_page, sortedby, phrases=bool(phrases), fast=fast)
        for docnum, score in ranked[(page - 1) * per_page : page * per_page]:
            stored = searcher.stored_fields(docnum)
            hits.append(_index_hit(stored, score))
    terms = highlight_terms(parsed.query, searcher.reader()) if parsed.query is not None else frozenset()
    return QueryResult(hits, total, page, per_page, facets, terms, parsed.message)


def comment_ids(searcher, parsed: Parsed, user, *, document: str, version: int, limit: int) -> list[int]:
    """Ids of the comments of one version that match the query, as far as the reader may see."""
    restriction = _filters(user, {"kind": "comment", "document": document, "version": str(version)})
    hits = searcher.search(_restricted(parsed.query, restriction), limit=limit)
    return [int(hit["object_id"]) for hit in hits]


# --- snippets ----------------------------------------------------------------------------------------------------


class MarkFormatter(Formatter):
    """Escapes all text and wraps each match in <mark>: the only markup a snippet carries."""

    between = " … "

    def _text(self, text):
        return escape(text, quote=True)

    def format_token(self, text, token, replace=False):
        return f"<mark>{escape(text[token.startchar : token.endchar], quote=True)}</mark>"


def snippet(text: str, terms: frozenset, *, length: int = 240) -> Markup:
    """A short extract of `text` with the query's words marked; plain escaped text when nothing matches."""
    text = text or ""
    if terms:
        fragmenter = ContextFragmenter(maxchars=length, surround=70, charlimit=200_000)
        marked = highlight(text, terms, text_analyzer(), fragmenter, MarkFormatter(), top=2)
        if marked:
            return Markup(marked)
    short = text[:length]
    return Markup(escape(short, quote=True) + ("…" if len(text) > length else ""))


def similar_terms(searcher, text: str, numterms: int = 12) -> list[tuple[str, float]]:
    """The comment's most characteristic words, as Whoosh's more-like-this weighs them."""
    return searcher.key_terms_from_text("text", text or "", numterms=numterms)


def run_similar(searcher, comment_id: int, text: str, user, *, limit: int = 10) -> tuple[list[IndexHit], frozenset]:
    """The comments most like this one (itself excluded), within what the reader may see."""
    key_terms = similar_terms(searcher, text)
    if not key_terms:
        return [], frozenset()
    q = wq.Or([wq.Term("text", word, boost=weight) for word, weight in key_terms])
    own = searcher.document_number(uid=f"comment:{comment_id}")
    filters = _filters(user, {"kind": "comment"})
    results = searcher.search(q, limit=limit, filter=filters, mask={own} if own is not None else None)
    hits = []
    for hit in results:
        stored = hit.fields()
        hits.append(_index_hit(stored, hit.score))
    return hits, frozenset(word for word, _ in key_terms)
