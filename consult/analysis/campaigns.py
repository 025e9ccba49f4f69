"""Campaign detection: which comments are copies of one letter, each perhaps with a sentence of the sender's own.

Contract
--------
``find_campaigns(texts, min_size=2)`` takes ``{comment id: text}`` and returns a list of :class:`Campaign`, largest
first (ties: smallest id first). Every campaign has at least ``min_size`` members; a comment belongs to at most one
campaign; comments in none are not listed. ``representative`` is the most central member (the highest mean
similarity to the others), which the review shows as the campaign's template text.

Two texts are copies of one letter when, over their word 5-shingles (lower-cased words, punctuation dropped):

* their Jaccard similarity is at least ``JACCARD`` (0.5: small edits, reordered paragraphs), or
* the smaller text's shingles lie mostly inside the larger (containment at least ``CONTAINMENT``, 0.8: the template
  with a personal opening or closing paragraph added) **and** the shared part is at least ``MIN_SHARED`` shingles.

A shared opening line is not enough: two letters that share their first sentence and differ after it have a
Jaccard near 0.3 and a containment near 0.5, under both bars.

Method
------
1. Each text becomes a MinHash signature (datasketch, 64 permutations) over crc32 hashes of its shingles.
2. Texts are taken longest-shingle-set-last (shortest first, so a plain copy of the template tends to lead its
   campaign), and each is compared only with the *leaders* of the campaigns found so far, found through MinHash LSH
   at a Jaccard of ``LSH_THRESHOLD`` (low enough to reach a template with a long personal addition). A text that
   matches a leader joins its campaign; otherwise it leads a new one. Comparing with leaders and not with every
   member keeps the work near-linear: a campaign of 10,000 identical letters costs one comparison per letter.
3. Intersections are estimated from the signatures' Jaccard and the exact shingle counts:
   |A ∩ B| = J (|A| + |B|) / (1 + J).

The thresholds come from what a campaign letter is (a template plus a little), not from any one docket.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.minhash import _fmix  # the finaliser datasketch applies before its permutations (pinned 2.0.0)

# 128 permutations measured precision/recall 0.882/1.000 (EPA docket) and 0.984/0.986 (synthetic) in
# bench_campaigns; 64 measure 0.881/0.991 and 0.979/0.984 at about half the cost, which the 100,000-comment job needs.
NUM_PERM = 64
SHINGLE = 5
JACCARD = 0.4
CONTAINMENT = 0.6
MIN_SHARED = 12  # shingles: about a sentence and a half in common, at the least
LSH_THRESHOLD = 0.3
INDEXED_PER_CAMPAIGN = 8  # members of each campaign a new text is compared with
CENTRALITY_SAMPLE = 200  # members compared when choosing a large campaign's representative

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Campaign:
    representative: int
    members: list[int]
    similarity: dict[int, float] = field(default_factory=dict)  # member id -> estimated Jaccard with the template

    @property
    def size(self) -> int:
        return len(self.members)


_WORD_HASHES: dict[str, int] = {}
_MULTIPLIERS = np.array([0x9E3779B1 ** (SHINGLE - 1 - i) % 2**32 for i in range(SHINGLE)], dtype=np.uint64)


def _word_hashes(words: list[str]) -> list[int]:
    """crc32 of each word, through a cache (most words of a consultation repeat; the cache is bounded)."""
    cache = _WORD_HASHES
    values = list(map(cache.get, words))
    if None in values:
        if len(cache) > 2_000_000:
            cache.clear()
        for i, value in enumerate(values):
            if value is None:
                values[i] = cache[words[i]] = zlib.crc32(words[i].encode("utf-8"))
    return values


def shingle_array(text: str, k: int = SHINGLE) -> np.ndarray:
    """The distinct 32-bit hashes of the text's word k-shingles, as a numpy array (one shingle if shorter)."""
    words = _WORD.findall(text.lower())
    if not words:
        return np.empty(0, dtype=np.uint64)
    h = np.array(_word_hashes(words), dtype=np.uint64)
    if len(h) < k:
        return np.array([int(np.sum(h * _MULTIPLIERS[-len(h) :]) % 2**32)], dtype=np.uint64)
    # A polynomial over the k word hashes, modulo 2**32: computed for every window at once.
    windows = np.lib.stride_tricks.sliding_window_view(h, k)
    return np.unique((windows * _MULTIPLIERS).sum(axis=1) % np.uint64(2**32))


def shingles(text: str, k: int = SHINGLE) -> set[int]:
    """The hashes of the text's word k-shingles, as a set (for tests and exact comparisons)."""
    return {int(v) for v in shingle_array(text, k)}


def _identity(value):
    return value


_BASE: MinHash | None = None


def _base() -> MinHash:
    global _BASE
    if _BASE is None:
        _BASE = MinHash(num_perm=NUM_PERM, hashfunc=_identity)
    return _BASE


def signature(shingle_hashes) -> LeanMinHash:
    """The MinHash signature of shingle hashes (a numpy array or a set).

    This is datasketch's own update (its "affine32" scheme: the MurmurHash3 finalizer, then an affine permutation
    per row, then the minimum) applied to the whole array at once, which datasketch's update_batch does only
    after a Python-level call per value; checked against MinHash.update_batch in the tests."""
    base = _base()
    values = (
        shingle_hashes
        if isinstance(shingle_hashes, np.ndarray)
        else np.fromiter(shingle_hashes, dtype=np.uint64, count=len(shingle_hashes))
    )
    m = base.copy()
    if len(values):
        a, b = base.permutations
        hv = _fmix(values.astype(np.uint32).reshape(-1, 1), 32)
        m.hashvalues = np.minimum(m.hashvalues, (hv * a + b).min(axis=0))
    return LeanMinHash(m)


def signature_bytes(sig: LeanMinHash) -> bytes:
    """A signature as bytes, for storage (datasketch's affine32 scheme: 32-bit values)."""
    return np.asarray(sig.hashvalues, dtype=np.uint32).tobytes()


def signature_from_bytes(data: bytes) -> LeanMinHash:
    """A signature stored by signature_bytes."""
    values = np.frombuffer(data, dtype=np.uint32).copy()
    return LeanMinHash(seed=1, hashvalues=values, scheme=_base().scheme)


def same_letter(j: float, size_a: int, size_b: int) -> bool:
    """The matching rule above, from an (estimated) Jaccard and the two shingle counts."""
    if not size_a or not size_b:
        return False
    if j >= JACCARD:
        return True
    shared = j * (size_a + size_b) / (1 + j)
    return shared >= MIN_SHARED and shared / min(size_a, size_b) >= CONTAINMENT


@dataclass
class _Item:
    id: int
    size: int
    sig: LeanMinHash


PREPARE_CHUNK = 512  # texts hashed together: one numpy pass per chunk instead of a dozen small ones per text


def prepare(texts: dict[int, str]) -> dict[int, tuple[int, LeanMinHash]]:
    """{id: (shingle count, signature)} for each non-empty text; the same values as shingle_array and signature
    text by text, computed a chunk of texts at a time (100,000 comments took 70 s one by one)."""
    out: dict[int, tuple[int, LeanMinHash]] = {}
    items = [(cid, _WORD.findall(text.lower())) for cid, text in texts.items()]
    items = [(cid, words) for cid, words in items if words]
    for start in range(0, len(items), PREPARE_CHUNK):
        out.update(_prepare_chunk(items[start : start + PREPARE_CHUNK]))
    return out


def _prepare_chunk(items: list[tuple[int, list[str]]]) -> dict[int, tuple[int, LeanMinHash]]:
    base = _base()
    k = SHINGLE
    lengths = np.array([len(words) for _cid, words in items], dtype=np.int64)
    hashes = np.array(_word_hashes([w for _cid, words in items for w in words]), dtype=np.uint64)
    doc_of_word = np.repeat(np.arange(len(items)), lengths)
    parts_doc, parts_hash = [], []
    if len(hashes) >= k:
        windows = np.lib.stride_tricks.sliding_window_view(hashes, k)
        values = (windows * _MULTIPLIERS).sum(axis=1) % np.uint64(2**32)
        inside = doc_of_word[: len(values)] == doc_of_word[k - 1 :]  # windows that do not cross two texts
        parts_doc.append(doc_of_word[: len(values)][inside])
        parts_hash.append(values[inside])
    for d in np.nonzero(lengths < k)[0]:  # short texts: one shingle of all their words
        offset = int(lengths[:d].sum())
        h = hashes[offset : offset + lengths[d]]
        parts_doc.append(np.array([d]))
        parts_hash.append(np.array([int(np.sum(h * _MULTIPLIERS[-len(h) :]) % 2**32)], dtype=np.uint64))
    docs = np.concatenate(parts_doc).astype(np.uint64)
    keys = np.unique((docs << np.uint64(32)) | np.concatenate(parts_hash))
    doc_index = (keys >> np.uint64(32)).astype(np.int64)
    shingle_hashes = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    sizes = np.bincount(doc_index, minlength=len(items))
    a, b = base.permutations
    # One row per permutation, shingles along the row: reduceat then runs over contiguous memory.
    permuted = a.reshape(-1, 1) * _fmix(shingle_hashes.reshape(1, -1), 32) + b.reshape(-1, 1)
    present = np.nonzero(sizes)[0]
    starts = np.concatenate(([0], np.cumsum(sizes[present])[:-1]))
    minima = np.minimum(np.minimum.reduceat(permuted, starts, axis=1).T, base.hashvalues)
    out = {}
    for row, d in enumerate(present):  # straight from the values: copying a MinHash re-parses its permutations
        out[items[d][0]] = (int(sizes[d]), LeanMinHash(seed=base.seed, hashvalues=minima[row], scheme=base.scheme))
    return out


class CampaignIndex:
    """Campaigns found so far, with a few members of each searchable by LSH; texts are added one at a time."""

    def __init__(self):
        self.lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self.parent: dict[int, int] = {}  # union-find over campaign roots
        self.members: dict[int, list[int]] = defaultdict(list)  # root -> member ids
        self.indexed: dict[int, int] = defaultdict(int)  # root -> members in the LSH
        self.items: dict[int, _Item] = {}

    def root(self, cid: int) -> int:
        """The campaign a text is in (path-halving union-find)."""
        parent = self.parent
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    def add(self, cid: int, size: int, sig: LeanMinHash) -> int:
        """File a text in the campaign(s) whose indexed members it matches (joining them), or start one."""
        item = _Item(cid, size, sig)
        self.items[cid] = item
        matched = set()
        for other_id in self.lsh.query(sig):
            other = self.items[other_id]
            if same_letter(sig.jaccard(other.sig), size, other.size):
                matched.add(self.root(other_id))
        if not matched:
            self.parent[cid] = cid
            self.members[cid].append(cid)
            self._index(cid, cid)
            return cid
        # Join the largest matching campaign; others this text also matches are the same letter: merge them.
        target = max(matched, key=lambda r: (len(self.members[r]), -r))
        for other in matched - {target}:
            self.parent[other] = target
            self.members[target].extend(self.members.pop(other))
            self.indexed[target] += self.indexed.pop(other, 0)
        self.parent[cid] = target
        self.members[target].append(cid)
        if self.indexed[target] < INDEXED_PER_CAMPAIGN:
            self._index(target, cid)
        return target

    def _index(self, root: int, cid: int) -> None:
        self.lsh.insert(cid, self.items[cid].sig, check_duplication=False)
        self.indexed[root] += 1

    def campaigns(self, min_size: int = 2) -> list[Campaign]:
        """The groups of at least min_size, largest first, each with its most central member as representative."""
        found = []
        for ids in self.members.values():
            if len(ids) < min_size:
                continue
            rep = _central([self.items[i] for i in ids])
            rep_sig = self.items[rep].sig
            sims = {i: (1.0 if i == rep else float(self.items[i].sig.jaccard(rep_sig))) for i in ids}
            found.append(Campaign(rep, sorted(ids), sims))
        found.sort(key=lambda c: (-c.size, min(c.members)))
        return found


def _central(items: list[_Item]) -> int:
    """The member with the highest mean estimated Jaccard to (a sample of) the others; ties: smallest id."""
    if len(items) <= 2:
        return min(i.id for i in items)
    sample = sorted(items, key=lambda i: i.id)
    if len(sample) > CENTRALITY_SAMPLE:
        step = len(sample) / CENTRALITY_SAMPLE
        sample = [sample[int(n * step)] for n in range(CENTRALITY_SAMPLE)]
    matrix = np.array([np.asarray(i.sig.hashvalues) for i in sample])
    best, best_score = None, -1.0
    for row, candidate in enumerate(sample):
        score = float((matrix == matrix[row]).mean())
        if score > best_score:
            best, best_score = candidate.id, score
    return best


def find_campaigns(texts: dict[int, str], min_size: int = 2) -> list[Campaign]:
    """Group copies of one letter (see the module's contract); pure: plain values in, plain values out."""
    return cluster(prepare(texts), min_size)


def cluster(prepared: dict[int, tuple[int, LeanMinHash]], min_size: int = 2) -> list[Campaign]:
    """find_campaigns over signatures already computed."""
    index = CampaignIndex()
    for cid, (size, sig) in sorted(prepared.items(), key=lambda kv: (kv[1][0], kv[0])):
        index.add(cid, size, sig)
    return index.campaigns(min_size)


_LAYOUT: tuple[int, int] | None = None


def _band_layout() -> tuple[int, int]:
    """(bands, rows per band) that MinHashLSH chooses for our threshold (computed once: it integrates numerically)."""
    global _LAYOUT
    if _LAYOUT is None:
        layout = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        _LAYOUT = (layout.b, layout.r)
    return _LAYOUT


def band_keys(matrix: np.ndarray) -> np.ndarray:
    """LSH band keys (one uint64 per band) of signatures given as rows of hash values, with the same band layout
    as the MinHashLSH used by find_campaigns: two texts are candidates when any key in a column is equal. Used by
    incremental runs to compare a few new texts with every stored signature in one vectorised step."""
    b, r = _band_layout()
    matrix = np.asarray(matrix, dtype=np.uint64)[:, : b * r].reshape(len(matrix), b, r)
    multipliers = np.array([0x100000001B3**i % 2**64 for i in range(r)], dtype=np.uint64)
    return (matrix * multipliers).sum(axis=2)
