"""The search fast path: the one module that reads Whoosh's private internals (Whoosh 2.7.4 only).

Whoosh walks posting lists one Python call per posting. On a word found in most documents that was most of a search
(a two-word search cost 150 ms at 100,000 comments). Here posting blocks are read whole, decoded at C speed and
cached, and set operations do the rest. It depends on the layout of Whoosh 2.7.4's posting blocks (W3LeafMatcher's
`_data`, `_ids`, `_weights`, `_values`, `_i`, `_next_block`...), its Positions encoding and its deletion list
(`reader._perdoc`); no other module may touch a Whoosh private name (tests/unit/test_search_fence.py checks).

Interface (plain values in and out; query.py is the caller, and index.py for the rebuild's writer):
    hits(searcher, q) -> set[int] | None
        The top-level document numbers `q` matches, deleted documents excluded, when q is terms under AND and OR
        (and Every()); None for any other shape (the caller then asks Whoosh's matchers).
    rank(searcher, q, docnums, limit) -> list[tuple[int, float]] | None
        Of `docnums` (q's hits), the `limit` best as (docnum, score), best first, ties by ascending docnum: the
        scores and order Whoosh's `searcher.search(q)` gives with its default BM25F weighting. None when q is not
        terms under AND and OR.
    Cursor(reader, fieldname, text)
        A term's postings in one segment, asked for ascending documents: find(doc), weight(), positions().
        Raises whoosh.reading.TermNotFound as reader.postings does.
    positions(value) -> set[int]
        The word positions in a text-field posting's stored value.
    clear_caches()
        Forget every decoded block and cached term set.
    rebuild_writer_options() -> dict
        Keyword arguments for the rebuild's ix.writer(): sorted runs spilled as marshalled batches and field
        lengths read once per field; the index written is the stock one.

With CONSULT_SEARCH_FASTPATH=0 this module is never imported and query.py uses Whoosh's public API only, with the
same hits, order and scores; tests/integration/test_search_fastpath.py compares the two on thousands of documents.
Importing it under another Whoosh version fails at once, naming both ways out.
"""

from __future__ import annotations

import heapq
import marshal
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from itertools import accumulate
from pickle import loads

import whoosh
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3LeafMatcher, W3PerDocReader, _lenfield
from whoosh.formats import Existence
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length
from whoosh.writing import PostingPool

PINNED_WHOOSH = (2, 7, 4)

if tuple(whoosh.__version__[:3]) != PINNED_WHOOSH:
    raise ImportError(
        "consult.search.fastpath reads the private internals of Whoosh {}, but Whoosh {} is installed. Set "
        "CONSULT_SEARCH_FASTPATH=0 to search through Whoosh's public API (same results, slower), or pin "
        "Whoosh=={} again (requirements.txt).".format(
            ".".join(map(str, PINNED_WHOOSH)), ".".join(map(str, whoosh.__version__)), ".".join(map(str, PINNED_WHOOSH))
        )
    )

__all__ = ["BatchedRunPool", "Cursor", "clear_caches", "hits", "positions", "rank", "rebuild_writer_options"]


# --- decoded blocks --------------------------------------------------------------------------------------------
#
# Decoding a block of postings (zlib, then pickle, positions included) costs about 70 microseconds, against 2 for
# passing over it by its header; a search reads the same blocks more than once (the set of hits, then the ranking)
# and popular words recur from search to search. Decoded blocks are kept, least recently used dropped first. Segment
# files never change (only their deletions do), so a (segment, offset) key never goes stale. Request threads share
# the cache: an OrderedDict's move_to_end and popitem are not safe under concurrent use, hence the lock.

_BLOCKS: OrderedDict = OrderedDict()
_BLOCKS_MAX = 8000  # blocks of up to 128 postings: some tens of MB at most
_blocks_lock = threading.Lock()


def _block_ids(m: W3LeafMatcher, segment: str):
    """The current block's document numbers, from the decoded-block cache when it has them.

    Whoosh decodes ids with a Python generator, one call per posting; they are stored as gaps, so accumulate()
    gives the same numbers at C speed.
    """
    if m._ids is None:
        key = (segment, m._dataoffset)
        with _blocks_lock:
            found = _BLOCKS.get(key)
            if found is not None:
                _BLOCKS.move_to_end(key)
        if found is None:
            if m._data is None:
                m._read_data()
            found = (tuple(accumulate(m._data[0])), m._data)
            with _blocks_lock:
                _BLOCKS[key] = found
                if len(_BLOCKS) > _BLOCKS_MAX:
                    _BLOCKS.popitem(last=False)
        m._ids, m._data = found
    return m._ids


def _leaf(matcher):
    """The segment's own postings matcher under the deletion filter, which callers apply once for the whole set."""
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def positions(value: bytes) -> set[int]:
    """The word positions in a text-field posting's stored value.

    Whoosh 2.7's Positions format stores a count, then the pickled gaps between positions; decoding it here with
    C-speed pickle and accumulate is several times faster than the format's own loop, which dominated long
    phrases of common words. tests/unit/test_search_analysis.py checks it against the format's decoder.
    """
    if not value.endswith(b"."):
        value += b"."
    return set(accumulate(loads(value[_INT_SIZE:])))


class Cursor:
    """A term's postings in one segment, looked up by ascending document number.

    Whoosh's skip_to steps through a block one Python call per posting, which on a word found in most documents
    cost more than the work it served; here blocks before the wanted document are passed over by their headers
    (never decoded) and each block's ids are searched with bisect. Only hits or candidates are looked up, and
    those are never deleted documents, so the deletion filter is left out.
    """

    def __init__(self, reader, fieldname: str, text):
        self.m = _leaf(reader.postings(fieldname, text))  # raises TermNotFound
        self.segment = reader.segment().segment_id()
        self.fast = isinstance(self.m, W3LeafMatcher)

    def find(self, doc: int) -> bool:
        """Whether the term is in `doc`; documents must be asked for in ascending order."""
        m = self.m
        if not self.fast:
            if m.is_active() and m.id() < doc:
                m.skip_to(doc)
            return m.is_active() and m.id() == doc
        while not m._atend and m._maxid < doc:
            m._next_block()
        if m._atend:
            return False
        ids = _block_ids(m, self.segment)
        i = bisect_left(ids, doc, m._i)
        m._i = min(i, len(ids) - 1)
        return i < len(ids) and ids[i] == doc

    def value(self) -> bytes:
        """The stored value (positions) at the document last found."""
        m = self.m
        if not self.fast:
            return m.value()
        if m._values is None:
            m._read_values()
        return m._values[m._i]

    def weight(self) -> float:
        """The term's frequency in the document last found."""
        m = self.m
        if not self.fast:
            return m.weight()
        if m._weights is None:
            m._read_weights()
        return m._weights[m._i]

    def positions(self) -> set[int]:
        """The term's positions in the document last found."""
        return positions(self.value()) if self.fast else set(self.m.value_as("positions"))


def _postings_at(reader, fieldname: str, text, local: list[int], *, weights: bool) -> list:
    """Those of `local` (ascending document numbers of the segment) that hold the term: as (doc, frequency) pairs
    with `weights`, else the documents.

    Only the blocks holding some of them are decoded (the others are passed over by their headers), and each is
    looked up as a dict or set built at C speed: a Python call per document asked for, not per posting.
    """
    try:
        m = _leaf(reader.postings(fieldname, text))
    except TermNotFound:
        return []
    if not isinstance(m, W3LeafMatcher):
        cursor = Cursor(reader, fieldname, text)
        return [(doc, cursor.weight()) if weights else doc for doc in local if cursor.find(doc)]
    segment = reader.segment().segment_id()
    found: list = []
    i, n = 0, len(local)
    while i < n:
        while not m._atend and m._maxid < local[i]:
            m._next_block()
        if m._atend:
            break
        j = bisect_right(local, m._maxid, i)
        ids = _block_ids(m, segment)
        if weights:
            if m._weights is None:
                m._read_weights()
            get = dict(zip(ids, m._weights, strict=False)).get
            found.extend((doc, tf) for doc, tf in zip(local[i:j], map(get, local[i:j]), strict=False) if tf is not None)
        else:
            present = set(ids)
            found.extend(doc for doc in local[i:j] if doc in present)
        i = j
        m._next_block()
    return found


# A segment's field lengths, one byte per document (Whoosh's own encoding), read whole once: Whoosh reads a
# document's length with several Python calls, which was a quarter of ranking a two-word search. Segments never
# change; request threads share the cache, whose trimming needs the lock.
_LENGTHS: OrderedDict = OrderedDict()
_LENGTHS_MAX = 64
_lengths_lock = threading.Lock()
_BYTE_LENGTHS = [byte_to_length(byte) for byte in range(256)]


def _length_bytes(reader, fieldname: str):
    key = (reader.segment().segment_id(), fieldname)
    with _lengths_lock:
        found = _LENGTHS.get(key)
    if found is None:
        column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        found = column.load() if column is not None else bytes(reader.doc_count_all())
        with _lengths_lock:
            _LENGTHS[key] = found
            if len(_LENGTHS) > _LENGTHS_MAX:
                _LENGTHS.popitem(last=False)
    return found


# --- the set of hits ------------------------------------------------------------------------------------------
#
# For the common shapes (terms under AND and OR) the postings are read a block at a time and combined with set
# operations, which run in C. The sets of the few terms every reader's filter uses are kept per segment.

_CACHED_TERM_FIELDS = {"audience", "kind", "status"}
_TERM_SETS: OrderedDict = OrderedDict()
_TERM_SETS_MAX = 16  # a set of 50,000 documents takes about 2 MB
# Request threads fill and trim it at once; popping the oldest while another thread inserts needs the lock.
_term_sets_lock = threading.Lock()


def _term_ids(reader, fieldname: str, text) -> list[int]:
    """One term's document numbers in one segment, deleted documents included (the caller removes them)."""
    try:
        matcher = _leaf(reader.postings(fieldname, text))
    except TermNotFound:
        return []
    if not isinstance(matcher, W3LeafMatcher):
        return list(matcher.all_ids())
    segment = reader.segment().segment_id()
    ids: list[int] = []
    while matcher.is_active():  # a block at a time
        ids.extend(_block_ids(matcher, segment)[matcher._i :])
        matcher._next_block()
    return ids


def _term_set(reader, q: wq.Term):
    if q.fieldname not in _CACHED_TERM_FIELDS:
        return set(_term_ids(reader, q.fieldname, q.text))
    key = (reader.segment().segment_id(), q.fieldname, q.text)
    with _term_sets_lock:
        found = _TERM_SETS.get(key)
    if found is None:
        found = frozenset(_term_ids(reader, q.fieldname, q.text))
        with _term_sets_lock:
            _TERM_SETS[key] = found
            if len(_TERM_SETS) > _TERM_SETS_MAX:
                _TERM_SETS.popitem(last=False)
    return found


def _segment_set(reader, q):
    """The segment's documents for q (deletions not yet removed), or None for a shape not handled here."""
    if isinstance(q, wq.Term):
        return _term_set(reader, q)
    if isinstance(q, wq.Every) and not q.fieldname:
        return set(range(reader.doc_count_all()))
    if isinstance(q, wq.And) and q.subqueries:
        return _segment_intersection(reader, q.subqueries)
    if isinstance(q, wq.Or) and q.subqueries:
        parts = [_segment_set(reader, sub) for sub in q.subqueries]
        return None if any(part is None for part in parts) else set().union(*parts)
    return None


def _segment_intersection(reader, subqueries):
    """AND in one segment: the other parts first, then the terms from the rarest up.

    A term much more frequent than the documents left is not read whole: each remaining document is looked up
    in it, and its blocks that hold none of them are never decoded.
    """
    terms = sorted(
        (sub for sub in subqueries if isinstance(sub, wq.Term)), key=lambda t: reader.doc_frequency(t.fieldname, t.text)
    )
    current = None
    for sub in subqueries:
        if not isinstance(sub, wq.Term):
            part = _segment_set(reader, sub)
            if part is None:
                return None
            current = set(part) if current is None else current & part
    for term in terms:
        if current is None:
            current = set(_term_set(reader, term))
        elif term.fieldname in _CACHED_TERM_FIELDS or reader.doc_frequency(term.fieldname, term.text) <= 8 * len(
            current
        ):
            current &= _term_set(reader, term)
        else:
            current = set(_postings_at(reader, term.fieldname, term.text, sorted(current), weights=False))
        if not current:
            return set()
    return current


def hits(searcher, q) -> set[int] | None:
    """The documents q matches (deleted ones excluded), or None when q is not terms under AND and OR."""
    docs: set[int] = set()
    for sub, offset in searcher.leaf_searchers():
        reader = sub.reader()
        local = _segment_set(reader, q)
        if local is None:
            return None
        if reader.has_deletions():
            local = set(local).difference(reader._perdoc.deleted_docs())
        docs.update(map(offset.__add__, local))
    return docs


# --- ranking ---------------------------------------------------------------------------------------------------


def _scoring_terms(q) -> list[wq.Term] | None:
    """Every term of q when q is terms under AND and OR (unboosted), or None for another shape.

    Whoosh scores such a query, for a document it matches, as the sum of the scores of every term in it that the
    document holds (an AND's children all match; an OR adds those that do)."""
    if isinstance(q, wq.Term):
        return [q]
    if isinstance(q, (wq.And, wq.Or)) and q.subqueries and q.boost == 1.0:
        terms = []
        for sub in q.subqueries:
            found = _scoring_terms(sub)
            if found is None:
                return None
            terms.extend(found)
        return terms
    return None


def rank(searcher, q, docnums: set[int], limit: int) -> list[tuple[int, float]] | None:
    """The `limit` best of q's hits `docnums`, scored as Whoosh's default BM25F weighting scores q; None if q is
    not terms under AND and OR, or the searcher weighs otherwise.

    Whoosh's scoring walks the intersection one posting at a time (a word in most documents made two-word
    searches cost 150 ms); here each term's postings are read a block at a time and only the hits are scored.
    """
    if _scoring_terms(q) is None or type(searcher.weighting) is not BM25F:
        return None
    ranking = _Ranking(searcher, docnums)
    constant = ranking.add(q, sorted(docnums), everywhere=True)
    scores = ranking.scores
    if constant:
        for doc in scores:
            scores[doc] += constant
    return heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))


class _Ranking:
    """Whoosh's score of each hit, summed over the query tree as its matchers sum it.

    A term adds its score where it is present; an AND adds its children's; an OR adds those of its children that
    match the document as a whole (a child AND only where all its terms are present).
    """

    def __init__(self, searcher, docnums: set[int]):
        self.searcher = searcher
        self.weighting = searcher.weighting
        self.scores = dict.fromkeys(docnums, 0.0)
        self.leaves = [
            (sub.reader(), offset, offset + sub.doc_count_all()) for sub, offset in searcher.leaf_searchers()
        ]
        self.lengths: dict[tuple[str, int], dict[int, int]] = {}  # a field's length per document, read once

    def _local(self, docs: list[int]):
        """(reader, offset, the docs of that segment as its own numbers) for each segment holding some of docs."""
        for reader, offset, end in self.leaves:
            local = [d - offset for d in docs[bisect_left(docs, offset) : bisect_left(docs, end)]]
            if local:
                yield reader, offset, local

    def add(self, q, docs: list[int], *, everywhere: bool) -> float:
        """Add q's score to each of `docs` (sorted; q matches each); returns a score to add to every hit instead
        (an unscored term present in every hit adds its weight, 1, to each: counted once)."""
        if isinstance(q, wq.Term):
            field = self.searcher.schema[q.fieldname]
            if not field.scorable and isinstance(field.format, Existence):
                # Whoosh scores a term of an unscored field (kind, audience...) by its weight: 1 in an ID field.
                if everywhere:
                    return q.boost
                for doc in docs:
                    self.scores[doc] += q.boost
                return 0.0
            self._add_term(q, field, docs)
            return 0.0
        if isinstance(q, wq.And):
            return sum(self.add(sub, docs, everywhere=everywhere) for sub in q.subqueries)
        constant = 0.0  # an OR: each child where it matches
        for sub in q.subqueries:
            matched = self._matching(sub, docs)
            if matched:
                constant += self.add(sub, matched, everywhere=everywhere and len(matched) == len(docs))
        return constant

    def _matching(self, q, docs: list[int]) -> list[int]:
        """Those of `docs` (sorted) that q matches, sorted."""
        if isinstance(q, wq.And):
            for sub in q.subqueries:
                docs = self._matching(sub, docs)
            return docs
        if isinstance(q, wq.Or):
            return sorted(set().union(*(self._matching(sub, docs) for sub in q.subqueries)))
        found = []
        for reader, offset, local in self._local(docs):
            if q.fieldname in _CACHED_TERM_FIELDS:
                present = _term_set(reader, q)
                found.extend(doc + offset for doc in local if doc in present)
            else:
                found.extend(doc + offset for doc in _postings_at(reader, q.fieldname, q.text, local, weights=False))
        return found

    def _add_term(self, term: wq.Term, field, docs: list[int]) -> None:
        """Add a term's BM25F score (or, in an unscored field, its weight) to each of `docs` that holds it.

        The arithmetic is whoosh.scoring.bm25's, in its order, with the length part looked up per length byte.
        """
        searcher, scores, boost = self.searcher, self.scores, term.boost
        idf = searcher.idf(term.fieldname, term.text)
        avgfl = searcher.avg_field_length(term.fieldname) or 1
        b, k1 = self.weighting._field_B.get(term.fieldname, self.weighting.B), self.weighting.K1
        norms = [k1 * ((1 - b) + b * fl / avgfl) for fl in _BYTE_LENGTHS]
        for reader, offset, local in self._local(docs):
            pairs = _postings_at(reader, term.fieldname, term.text, local, weights=True)
            if not field.scorable:
                for doc, tf in pairs:
                    scores[doc + offset] += boost * tf
                continue
            lengths = _length_bytes(reader, term.fieldname)
            for doc, tf in pairs:
                scores[doc + offset] += boost * (idf * ((tf * (k1 + 1)) / (tf + norms[lengths[doc]])))


def clear_caches() -> None:
    """Forget every decoded block and cached term set (the search benchmark measures searches without them too)."""
    with _blocks_lock:
        _BLOCKS.clear()
    with _term_sets_lock:
        _TERM_SETS.clear()
    with _lengths_lock:
        _LENGTHS.clear()


# --- the rebuild's writer ------------------------------------------------------------------------------------------
# Used by index.reindex only when the fast path is on; the index it writes is the stock one (see _RebuildCodec).


def rebuild_writer_options() -> dict:
    """The keyword arguments that give Whoosh's writer the faster posting pool and length reader below."""
    return {"poolclass": BatchedRunPool, "codec": _RebuildCodec()}


class BatchedRunPool(PostingPool):
    """The writer's posting pool, with its sorted runs written to disk as marshalled batches.

    A large rebuild holds more postings than fit in `limitmb`, so the pool spills sorted runs to temporary files
    and merges them at commit. Whoosh pickles each posting on its own there: a quarter of a rebuild's time went to
    pickle.dump and pickle.load. Batches of plain tuples through marshal cost a small fraction of that.
    """

    RUN_BATCH = 20_000

    def _write_run(self, f, items):
        batch = []
        for item in items:
            batch.append(item)
            if len(batch) >= self.RUN_BATCH:
                marshal.dump(batch, f)
                batch = []
        if batch:
            marshal.dump(batch, f)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    batch = marshal.load(f)
                except EOFError:
                    return
                yield from batch
        finally:
            f.close()
            self._remove_run(path)


class _LengthsInMemory(W3PerDocReader):
    """Per-document field lengths read once per field into a list.

    At commit the writer asks for the length of the document of every posting it writes (tens of millions in a
    large rebuild), and the stock reader decodes it from the column file each time: 15% of a rebuild.
    """

    def doc_field_length(self, docnum, fieldname, default=0):
        lists = self.__dict__.setdefault("_length_lists", {})
        lengths = lists.get(fieldname)
        if lengths is None:
            reader = self._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            lengths = lists[fieldname] = None if reader is None else [byte_to_length(b) if b else None for b in reader]
        if lengths is None:
            return default
        return lengths[docnum]


class _RebuildCodec(W3Codec):
    """The default codec with the lengths above for the rebuild's writer. It is saved (pickled into the index's
    table of contents) as the plain default codec, so the index on disk is the same and readers never need it."""

    def per_document_reader(self, storage, segment):
        return _LengthsInMemory(storage, segment)

    def __reduce__(self):
        return (W3Codec, (self._blocklimit, self._compression, self._inlinelimit))
