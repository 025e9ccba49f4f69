"""Match the clauses of two versions of a draft. Pure: no Flask, no database.

`match_clauses(old, new)` takes two sequences of clause-like objects (anything with
`key`, `number`, `heading`, `body`, `parent_key`, `position` and `explicit_key`, such
as `ParsedClause` or the `Clause` model) and returns one `LineagePair` per link.
`find_links` is the matching alone; `relate(old, new, links)` states the relation of
links that are already known (stored ones, corrected by drafters).

Contract of the result
----------------------
* A link ties one old clause to one new clause. Every new key is the `new_key` of at
  least one pair and every old key the `old_key` of at least one pair.
* The links with `primary` set form a one-to-one matching: the lineage proper, along
  which a clause keeps its identity. Other links record where text went in a split
  or came from in a merge.
* `status` is one of RELATIONS: "added" (no old clause, `old_key` None), "removed"
  (no new clause, `new_key` None), "split" (the old clause has several links: every
  one of them is "split"), "merged" (the new clause has several links and its old
  clause(s) were not split), else, for a link that is the only one of both clauses,
  the first that applies of "modified" (heading without its number, or body, differs
  beyond whitespace), "moved" (its parent is not the continuation of its old parent,
  or its order among siblings that kept their parent changed), "renumbered",
  "unchanged".
* Order: the new clauses in new-version order (by `position`); a new clause with
  several links lists them in old order. Each removed old clause sits right after the
  pairs of the new clause that continues the nearest earlier old clause (consecutive
  removed clauses keep their old order), or at the start when no earlier old clause
  was continued.
* `similarity` is `clause_similarity` of the two clauses (0.0 for added and removed);
  `confidence` (0..1) says how sure the matcher is of the link: 1.0 for a key or a
  drafter's link, lower when another candidate came close. `method` is "key",
  "heading", "similarity", "split", "merge" or "manual" ("" for added and removed,
  "manual" for a clause a drafter unlinked).

How clauses are matched (each step only sees clauses the earlier steps left over)
--------------------------------------------------------------------------------
0. drafters' corrections (`manual`, {new_key: old_key or None});
1. the same explicit key, when both clauses pinned it with {#key};
2. the same heading once the label and number are stripped (`strip_number`),
   when that heading is unique among the unmatched clauses on both sides, or,
   when it repeats, unique under corresponding parents; repeated until stable;
3. text similarity: each clause becomes TF-IDF vectors (sublinear term frequency,
   L2-normalised) of its heading, its body and both, over stemmed words and word
   pairs, with document frequencies taken over the clauses of both versions, so
   that words every clause uses weigh little and renumbering weighs nothing. The
   score of a pair is the cosine of headings and bodies, weighted HEADING_WEIGHT to
   the rest. Pairs scoring at least `threshold` are assigned one-to-one by the
   Hungarian method (largest total score, `scipy.optimize.linear_sum_assignment`),
   twice: the second time a pair whose parents correspond gets PARENT_BONUS, so
   structure breaks near-ties but never makes a pair on its own.
4. splits and merges, for the clauses left over: each is linked to the clause on
   the other side whose whole text (heading and body) is clearly the most like
   its own (TF-IDF cosine at least LEFTOVER_MIN and LEFTOVER_LEAD times the next
   best, so that catch-all clauses such as a glossary, near many, take none). A
   new clause left over becomes a part of an old clause, unless its distinctive
   vocabulary (IDF-weighted) is mostly still in the old clause's continuation (a
   copy); an old clause left over merges into a new clause, unless that clause's
   own old clause already had most of the text (a dropped duplicate). A clause a
   drafter linked or unlinked by hand gets no such link. The link becomes the
   lineage itself when neither clause has one.

Measured on the development sample of an expert mapping of the real third draft
to the final Safety and Security chapter: 14 of 14 continuing provisions matched,
6 of 9 split or merged ones tied to a true counterpart (tests/integration/
test_real_redline.py, bench/bench_redline.py).

`similarity` is reported by `clause_similarity`: 30% heading (without its number)
and 70% body, each by `text_similarity`, which compares characters (difflib) for
short strings and, for longer ones, averages the Dice coefficients of their sets of
words and of word pairs. Both ignore case, accents, punctuation and Markdown marks.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

RELATIONS = ("unchanged", "modified", "renumbered", "moved", "split", "merged", "added", "removed")
STATUSES = RELATIONS
METHODS = ("key", "heading", "similarity", "split", "merge", "manual", "")

# Share of the clause similarity (and of the TF-IDF score) that comes from the heading; the body carries the rest.
HEADING_WEIGHT = 0.3
# Strings up to this many normalised characters are compared character by character.
SHORT_TEXT = 100
# Structure as a tie-breaker: added to the score of a pair whose parents correspond, in the second assignment.
PARENT_BONUS = 0.03
# The least TF-IDF score for a one-to-one link by text; unrelated clauses of one draft score about 0 to 0.15.
THRESHOLD = 0.2
# A clause left over after the one-to-one assignment is linked (as a split part or a merged clause) to the clause on
# the other side whose whole text is most like its own, when that cosine reaches LEFTOVER_MIN and leads the next
# best by LEFTOVER_LEAD (big catch-all clauses such as a glossary are near many clauses, and lead none)...
LEFTOVER_MIN = 0.12
LEFTOVER_LEAD = 1.2
# ... and it has at least this many distinct words and word pairs, so that the evidence means something.
MIN_FEATURES = 12
# A clause's text has moved (not been copied) when at most this share of it is still in the continuation.
KEPT_AT_MOST = 0.5
# Words too common in legal drafting to say what a clause is about (word pairs keep them).
STOPWORDS = frozenset(
    """a an and any are as at be by for from has have in into is it its of on or such that the
their them these this those to which who with shall should may must will not""".split()
)


@dataclass(frozen=True)
class LineagePair:
    """One link between an old and a new clause (or an added or removed clause), with its relation."""

    old_key: str | None
    new_key: str | None
    status: str
    similarity: float
    method: str
    confidence: float = 0.0
    primary: bool = False


@dataclass(frozen=True)
class Link:
    """A link found by `find_links` or stored: old clause -> new clause, how it was found and how sure."""

    old_key: str
    new_key: str
    method: str
    confidence: float = 1.0
    primary: bool = True


# --- text normalisation ---------------------------------------------------

_NUM = r"(?:\d+[a-z]?|[ivxlcdm]+|[a-z])(?:\.(?:\d+[a-z]?|[ivxlcdm]+|[a-z]))*"
_SEP = r"[.:)\]\u2013\u2014-]"
_LABELLED = re.compile(rf"^\s*[^\W\d_]+\s+({_NUM})(\s*{_SEP}+\s*|\s+|\s*$)", re.I)
_BARE = re.compile(rf"^\s*({_NUM})(\s*{_SEP}+\s*|\s+|\s*$)", re.I)
_WORD = re.compile(r"[^\W_]+")
# The combining-mark blocks; a regex over them is much faster than a per-character check.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _fold(text: str) -> str:
    """Lowercase `text` and fold accents ("Évaluation" -> "evaluation")."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return text.casefold()


def _number_prefix_length(heading: str) -> int:
    """Length of the leading "Label 1.2." or "1.2." of `heading`, 0 when there is none."""
    for pattern, labelled in ((_LABELLED, True), (_BARE, False)):
        m = pattern.match(heading)
        if not m:
            continue
        num, sep = m.group(1), m.group(2)
        has_digit = any(ch.isdigit() for ch in num)
        punctuated = bool(sep.strip())
        # Letters alone ("Plan B", "I am") are words unless punctuated like a number ("A.", "II:");
        # after a label word a dotted "II.4" is a number too.
        if has_digit or punctuated or (labelled and "." in num):
            return m.end()
    return 0


def _title(heading: str) -> str:
    """The heading as written without its label and number, whitespace collapsed."""
    return " ".join(heading[_number_prefix_length(heading) :].split())


def _words(text: str) -> list[str]:
    """Normalised words of `text`: folded, without punctuation or Markdown marks."""
    return _WORD.findall(_fold(text))


def strip_number(heading: str) -> str:
    """Normalise a heading for comparison: label word and number removed, folded, punctuation gone."""
    return " ".join(_words(_title(heading)))


# --- similarity -----------------------------------------------------------


class _Text:
    """Precomputed forms of one text, so that each text is normalised only once."""

    __slots__ = ("norm", "words", "unigrams", "bigrams")

    def __init__(self, words: list[str]):
        self.words = words
        self.norm = " ".join(words)
        self.unigrams = frozenset(words)
        self.bigrams = frozenset(pairwise(words))

    @classmethod
    def joined(cls, first: _Text, second: _Text) -> _Text:
        """The text of first followed by second, reusing their word sets instead of rebuilding them."""
        text = cls.__new__(cls)
        text.words = first.words + second.words
        text.norm = " ".join(text.words)
        text.unigrams = first.unigrams | second.unigrams
        text.bigrams = first.bigrams | second.bigrams
        if first.words and second.words:
            text.bigrams |= {(first.words[-1], second.words[0])}
        return text


def _dice(a: frozenset[Any], b: frozenset[Any]) -> float:
    """Dice coefficient of two (multi)sets."""
    total = len(a) + len(b)
    return 2 * len(a & b) / total if total else 1.0


def _text_similarity(a: _Text, b: _Text, floor: float = 0.0) -> float:
    """`text_similarity` on precomputed texts; any result below `floor` may be a mere upper bound."""
    if a.norm == b.norm:
        return 1.0
    if not a.norm or not b.norm:
        return 0.0
    if len(a.norm) <= SHORT_TEXT and len(b.norm) <= SHORT_TEXT:
        # The length bound (real_quick_ratio) first, before building a matcher at all.
        bound = _size_bound(len(a.norm), len(b.norm))
        if bound < floor:
            return bound
        sm = difflib.SequenceMatcher(None, a.norm, b.norm, autojunk=False)
        # The cheap upper bounds settle most hopeless pairs without the full comparison.
        bound = sm.real_quick_ratio()
        if bound >= floor:
            bound = sm.quick_ratio()
        return sm.ratio() if bound >= floor else bound
    if not a.bigrams and not b.bigrams:
        bound = _size_bound(len(a.unigrams), len(b.unigrams))
        return _dice(a.unigrams, b.unigrams) if bound >= floor else bound
    # Words say what the text is about; word pairs say whether it still reads the same.
    bound = (_size_bound(len(a.unigrams), len(b.unigrams)) + _size_bound(len(a.bigrams), len(b.bigrams))) / 2
    if bound < floor:
        return bound
    return (_dice(a.unigrams, b.unigrams) + _dice(a.bigrams, b.bigrams)) / 2


def _size_bound(m: int, n: int) -> float:
    """Upper bound of the Dice coefficient (and of difflib's ratio) of sets of sizes m and n."""
    return 2 * min(m, n) / (m + n) if m + n else 1.0


def text_similarity(a: str, b: str) -> float:
    """Similarity 0..1 of two normalised texts: characters when short, else words and word pairs (Dice)."""
    return _text_similarity(_Text(_words(a)), _Text(_words(b)))


# --- clauses --------------------------------------------------------------


class _Clause:
    """One input clause with the derived forms matching needs."""

    __slots__ = (
        "key",
        "number",
        "parent_key",
        "explicit_key",
        "index",
        "title",
        "title_norm",
        "body_ws",
        "title_text",
        "body_text",
        "all_text",
    )

    def __init__(self, src: Any, index: int):
        self.key = src.key
        self.number = src.number or ""
        self.parent_key = src.parent_key
        self.explicit_key = bool(src.explicit_key)
        self.index = index  # place in its version, 0-based
        self.title = _title(src.heading or "")
        body = src.body or ""
        self.body_ws = " ".join(body.split())
        self.title_text = _Text(_words(self.title))
        self.title_norm = self.title_text.norm  # == strip_number(heading)
        self.body_text = _Text(_words(body))
        self.all_text = _Text.joined(self.title_text, self.body_text)


def _clause_similarity(a: _Clause, b: _Clause, floor: float = 0.0) -> float:
    """Similarity 0..1 of two clauses, heading and body weighted; below `floor` it may be a bound."""
    has_title = bool(a.title_text.norm or b.title_text.norm)
    has_body = bool(a.body_text.norm or b.body_text.norm)
    if not has_title and not has_body:
        return 1.0
    if not has_body:
        return _text_similarity(a.title_text, b.title_text, floor)
    if not has_title:
        return _text_similarity(a.body_text, b.body_text, floor)
    body = _text_similarity(a.body_text, b.body_text, (floor - HEADING_WEIGHT) / (1 - HEADING_WEIGHT))
    rest = (1 - HEADING_WEIGHT) * body
    if HEADING_WEIGHT + rest < floor:
        return HEADING_WEIGHT + rest  # even an identical heading could not lift it to the floor
    title = _text_similarity(a.title_text, b.title_text, (floor - rest) / HEADING_WEIGHT)
    if title == 1.0 and body == 1.0:
        return 1.0
    return HEADING_WEIGHT * title + rest


def clause_similarity(a: Any, b: Any) -> float:
    """Similarity 0..1 of two clause-like objects, as `match_clauses` reports it."""
    return _clause_similarity(_Clause(a, 0), _Clause(b, 0))


def _prepare(clauses: Iterable[Any], side: str) -> list[_Clause]:
    """Wrap and order the clauses of one version; keys must be unique."""
    ordered = sorted(clauses, key=lambda c: c.position)
    out = [_Clause(c, i) for i, c in enumerate(ordered)]
    keys = Counter(c.key for c in out)
    dupes = sorted(k for k, n in keys.items() if n > 1)
    if dupes:
        raise ValueError(f"duplicate {side} clause keys: {', '.join(dupes)}")
    return out


class _Matching:
    """The growing one-to-one matching between old and new clauses."""

    def __init__(self, old: list[_Clause], new: list[_Clause]):
        self.old = old
        self.new = new
        self.old_by_key = {c.key: c for c in old}
        self.new_by_key = {c.key: c for c in new}
        self.new_for_old: dict[str, str] = {}
        self.old_for_new: dict[str, str | None] = {}  # None: unlinked by a drafter
        self.method: dict[str, str] = {}
        # Exact similarities already computed, (old key, new key) -> value, so none is computed twice.
        self.similarity: dict[tuple[str, str], float] = {}

    def pair_similarity(self, o: _Clause, n: _Clause) -> float:
        """The exact similarity of a pair, computed once."""
        sim = self.similarity.get((o.key, n.key))
        if sim is None:
            sim = self.similarity[(o.key, n.key)] = _clause_similarity(o, n)
        return sim

    def pair(self, o: _Clause, n: _Clause, method: str) -> None:
        """Record that new clause `n` continues old clause `o`."""
        self.new_for_old[o.key] = n.key
        self.old_for_new[n.key] = o.key
        self.method[n.key] = method

    def free_old(self) -> list[_Clause]:
        """Old clauses not yet matched, in old order."""
        return [c for c in self.old if c.key not in self.new_for_old]

    def free_new(self) -> list[_Clause]:
        """New clauses not yet matched or unlinked, in new order."""
        return [c for c in self.new if c.key not in self.old_for_new]

    def parents_correspond(self, o: _Clause, n: _Clause) -> bool:
        """Whether `n`'s parent continues `o`'s parent (both at the top counts)."""
        if o.parent_key is None or n.parent_key is None:
            return o.parent_key is None and n.parent_key is None
        return bool(self.new_for_old.get(o.parent_key) == n.parent_key)


# --- TF-IDF vectors -------------------------------------------------------------

# Plural, then verb endings, then a final "e", so that measure, measures, measured and measuring meet.
_PLURALS = (("sses", "ss"), ("ies", "y"), ("ss", "ss"), ("us", "us"), ("is", "is"), ("s", ""))
_ENDINGS = (("ational", "ate"), ("ation", "ate"), ("ising", "ise"), ("izing", "ize"), ("ing", ""), ("ed", ""))


_STEMS: dict[str, str] = {}


def stem(word: str) -> str:
    """A light English stem: enough to meet inflected forms of one word, never two different words' stems."""
    found = _STEMS.get(word)
    if found is None:
        found = _stem(word)
        if len(_STEMS) < 200_000:  # a bounded cache: vocabularies are far smaller
            _STEMS[word] = found
    return found


def _stem(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in _PLURALS:
        if word.endswith(suffix):
            if len(word) - len(suffix) >= 3:
                word = word[: len(word) - len(suffix)] + repl
            break
    for suffix, repl in _ENDINGS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: len(word) - len(suffix)] + repl
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _features(words: list[str]) -> Counter[str]:
    """Stemmed content words and stemmed word pairs (pairs of two stop words left out), with counts."""
    stems = [stem(w) for w in words]
    feats = Counter(s for s, w in zip(stems, words, strict=True) if w not in STOPWORDS)
    feats.update(
        f"{a} {b}"
        for (a, b), (wa, wb) in zip(pairwise(stems), pairwise(words), strict=True)
        if not (wa in STOPWORDS and wb in STOPWORDS)
    )
    return feats


class _Vectors:
    """TF-IDF matrices (rows: clauses) of headings, bodies and whole texts, with document frequencies
    taken over the clauses of both versions."""

    def __init__(self, old: list[_Clause], new: list[_Clause]):
        clauses = old + new
        titles = [_features(c.title_text.words) for c in clauses]
        bodies = [_features(c.body_text.words) for c in clauses]
        df = Counter(chain.from_iterable((t.keys() | b.keys()) for t, b in zip(titles, bodies, strict=True)))
        vocab = {f: j for j, f in enumerate(sorted(df))}
        n = len(clauses)
        self.idf = np.log((n + 1) / (np.fromiter((df[f] for f in vocab), dtype=float, count=len(vocab)) + 1)) + 1.0
        self.vocab = vocab
        title = self._weights(titles)
        body = self._weights(bodies)
        whole = (title + body).tocsr()  # a word in heading and body counts in both
        self.title, self.body, self.all = _normalise(title), _normalise(body), _normalise(whole)
        # Distinctive vocabulary as sets, IDF-weighted: how much of a text another one holds (copies, duplicates).
        self.sets = whole.copy()
        self.sets.data = self.idf[self.sets.indices]
        self.size = np.diff(whole.indptr)
        self.has_body = np.array([bool(c.body_text.words) for c in clauses])
        self.n_old = len(old)

    def _weights(self, rows: list[Counter[str]]) -> csr_matrix:
        """Sublinear TF-IDF weights, one row per clause, not yet normalised."""
        cols = np.fromiter(map(self.vocab.__getitem__, chain.from_iterable(rows)), dtype=np.int64)
        ptr = np.cumsum([0] + [len(feats) for feats in rows])
        counts = np.fromiter(chain.from_iterable(feats.values() for feats in rows), dtype=float, count=len(cols))
        data = (1.0 + np.log(counts)) * self.idf[cols]
        return csr_matrix((data, cols, ptr), shape=(len(rows), len(self.vocab)))

    def scores(self, olds: list[int], news: list[int]) -> np.ndarray:
        """Score matrix (old rows x new columns): heading and body cosines, or whole texts where a body is empty."""
        news = [self.n_old + j for j in news]
        title = (self.title[olds] @ self.title[news].T).toarray()
        body = (self.body[olds] @ self.body[news].T).toarray()
        whole = (self.all[olds] @ self.all[news].T).toarray()
        both = self.has_body[olds][:, None] & self.has_body[news][None, :]
        scores: np.ndarray = np.where(both, HEADING_WEIGHT * title + (1 - HEADING_WEIGHT) * body, whole)
        return scores

    def whole(self, olds: list[int], news: list[int]) -> np.ndarray:
        """Cosine of whole texts (heading and body together), old rows x new columns."""
        cosines: np.ndarray = (self.all[olds] @ self.all[[self.n_old + j for j in news]].T).toarray()
        return cosines

    def shared_mass(self, x: int, y: int, z: int | None, x_new: bool) -> tuple[float, float]:
        """(mass of x's vocabulary also in y, part of that also in z): the text of x in y, and how much of it
        z already had. x is new when `x_new`, y and z are then old and new; else x is old, y new and z old."""
        ox = (self.n_old if x_new else 0) + x
        oy = (0 if x_new else self.n_old) + y
        fx = set(self.sets[ox].indices)
        shared = fx & set(self.sets[oy].indices)
        if z is None:
            return float(self.idf[list(shared)].sum()) if shared else 0.0, 0.0
        oz = (self.n_old if x_new else 0) + z
        also = shared & set(self.sets[oz].indices)
        return (
            float(self.idf[list(shared)].sum()) if shared else 0.0,
            float(self.idf[list(also)].sum()) if also else 0.0,
        )


def _normalise(m: csr_matrix) -> csr_matrix:
    """Rows scaled to unit length (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return csr_matrix(m.multiply(1.0 / norms[:, None]))


# --- matching steps ---------------------------------------------------------


class _Found(_Matching):
    """The one-to-one matching plus the split and merge links, with a confidence per link."""

    def __init__(self, old: list[_Clause], new: list[_Clause]):
        super().__init__(old, new)
        self.confidence: dict[str, float] = {}  # new key -> confidence of its primary link
        self.extra: list[Link] = []  # split and merge links
        self.fixed: set[str] = set()  # keys (old and new) a drafter settled by hand


def _apply_manual(m: _Found, manual: dict[str, str | None]) -> None:
    """Step 0: the drafters' corrections."""
    used: set[str] = set()
    for new_key, old_key in manual.items():
        if new_key not in m.new_by_key:
            raise ValueError(f"manual lineage names an unknown new clause: {new_key}")
        m.fixed.add(new_key)
        m.confidence[new_key] = 1.0
        if old_key is None:
            m.old_for_new[new_key] = None
            m.method[new_key] = "manual"
            continue
        if old_key not in m.old_by_key:
            raise ValueError(f"manual lineage names an unknown old clause: {old_key}")
        if old_key in used:
            raise ValueError(f"manual lineage links old clause {old_key} twice")
        used.add(old_key)
        m.fixed.add(old_key)
        m.pair(m.old_by_key[old_key], m.new_by_key[new_key], "manual")


def _match_explicit_keys(m: _Found) -> None:
    """Step 1: the same key pinned with {#key} in both versions."""
    old = {c.key: c for c in m.free_old() if c.explicit_key}
    for n in m.free_new():
        o = old.get(n.key) if n.explicit_key else None
        if o is not None:
            m.pair(o, n, "key")
            m.confidence[n.key] = 1.0


def _match_headings(m: _Found) -> None:
    """Step 2: the same stripped heading, unique overall or under corresponding parents."""
    while True:
        olds: dict[str, list[_Clause]] = defaultdict(list)
        news: dict[str, list[_Clause]] = defaultdict(list)
        for c in m.free_old():
            if c.title_norm:
                olds[c.title_norm].append(c)
        for c in m.free_new():
            if c.title_norm:
                news[c.title_norm].append(c)
        found: list[tuple[_Clause, _Clause]] = []
        for title, ns in news.items():
            os_ = olds.get(title)
            if not os_:
                continue
            if len(os_) == 1 and len(ns) == 1:
                found.append((os_[0], ns[0]))
                continue
            # A repeated heading ("Purpose" in every chapter): pair it only where parents pin it down.
            by_new = {n.key: [o for o in os_ if m.parents_correspond(o, n)] for n in ns}
            by_old = {o.key: [n for n in ns if m.parents_correspond(o, n)] for o in os_}
            for n in ns:
                cands = by_new[n.key]
                if len(cands) == 1 and len(by_old[cands[0].key]) == 1:
                    found.append((cands[0], n))
        if not found:
            return
        for o, n in found:
            m.pair(o, n, "heading")
            # The same heading is strong evidence; a body rewritten beyond recognition makes it less sure.
            m.confidence[n.key] = round(0.8 + 0.2 * m.pair_similarity(o, n), 3)


def _confidence(score: float, rival: float) -> float:
    """How sure a similarity link is: a high score, and a clear lead over the best rival candidate."""
    return round(min(1.0, 0.5 * min(1.0, score / 0.6) + 0.5 * min(1.0, max(0.0, score - rival) / 0.25)), 3)


def _match_similar(m: _Found, vectors: _Vectors, threshold: float) -> None:
    """Step 3: one-to-one by TF-IDF score, the Hungarian method, structure as a tie-breaker in a second round."""
    olds, news = m.free_old(), m.free_new()
    if not olds or not news:
        return
    score = vectors.scores([o.index for o in olds], [n.index for n in news])
    # The same words in the same order score 1 even when there is nothing for TF-IDF to weigh (empty clauses).
    same_text: dict[str, list[int]] = defaultdict(list)
    for j, n in enumerate(news):
        same_text[n.all_text.norm].append(j)
    for i, o in enumerate(olds):
        for j in same_text.get(o.all_text.norm, ()):
            score[i, j] = 1.0
    eligible = score >= threshold
    if not eligible.any():
        return
    from scipy.optimize import linear_sum_assignment  # here: importing it costs a second at start-up

    chosen: list[tuple[int, int]] = []
    for bonus_round in (False, True):
        weight = np.where(eligible, score, 0.0)
        if bonus_round:
            # Parents matched in the first round (and before) now pin down their children's near-ties.
            trial = {olds[i].key: news[j].key for i, j in chosen}
            for i, o in enumerate(olds):
                for j in map(int, np.nonzero(eligible[i])[0]):
                    n = news[j]
                    if o.parent_key is None or n.parent_key is None:
                        same = o.parent_key is None and n.parent_key is None
                    else:
                        same = (m.new_for_old.get(o.parent_key) or trial.get(o.parent_key)) == n.parent_key
                    if same:
                        weight[i, j] += PARENT_BONUS
        rows, cols = linear_sum_assignment(weight, maximize=True)
        chosen = [(i, j) for i, j in zip(rows, cols, strict=True) if eligible[i, j]]
    for i, j in chosen:
        o, n = olds[i], news[j]
        row = np.delete(score[i], j)
        col = np.delete(score[:, j], i)
        rival = max(row.max() if row.size else 0.0, col.max() if col.size else 0.0)
        m.pair(o, n, "similarity")
        m.confidence[n.key] = _confidence(float(score[i, j]), float(rival))


def _add_link(m: _Found, o: _Clause, n: _Clause, method: str, share: float) -> None:
    """Record a split or merge link; it becomes the lineage itself when neither clause has one yet."""
    confidence = round(min(1.0, share), 3)
    if o.key not in m.new_for_old and n.key not in m.old_for_new:
        m.pair(o, n, method)
        m.confidence[n.key] = confidence
    else:
        m.extra.append(Link(o.key, n.key, method, confidence, primary=False))


def _leftover_target(row: np.ndarray, pool: list[_Clause]) -> int | None:
    """Index in `pool` of the clearly most similar clause for a clause left over, or None."""
    if not len(row):
        return None
    order = np.argsort(-row, kind="stable")
    best = float(row[order[0]])
    second = float(row[order[1]]) if len(order) > 1 else 0.0
    if best < LEFTOVER_MIN or best < LEFTOVER_LEAD * second:
        return None
    return int(order[0])


def _find_splits_and_merges(m: _Found, vectors: _Vectors) -> None:
    """Step 4: parts of split clauses and clauses merged into others, from the whole-text cosine of clauses left
    over, when the text moved (a part's text left the old clause's continuation; a merged text is new to the
    clause that took it)."""
    free_new = [n for n in m.free_new() if vectors.size[vectors.n_old + n.index] >= MIN_FEATURES]
    old_pool = [o for o in m.old if o.key not in m.fixed]
    found: list[tuple[_Clause, _Clause, str, float]] = []
    if free_new and old_pool:
        whole = vectors.whole([o.index for o in old_pool], [n.index for n in free_new])
        for j, n in enumerate(free_new):
            i = _leftover_target(whole[:, j], old_pool)
            if i is None:
                continue
            o = old_pool[i]
            kept_in = m.new_for_old.get(o.key)
            if kept_in is not None:
                shared, still = vectors.shared_mass(n.index, o.index, m.new_by_key[kept_in].index, x_new=True)
                if shared == 0 or still > KEPT_AT_MOST * shared:
                    continue  # a copy: the text is still where it was
            found.append((o, n, "split", float(whole[i, j])))
    free_old = [o for o in m.free_old() if o.key not in m.fixed and vectors.size[o.index] >= MIN_FEATURES]
    new_pool = [n for n in m.new if n.key not in m.fixed]
    if free_old and new_pool:
        whole = vectors.whole([o.index for o in free_old], [n.index for n in new_pool])
        for i, o in enumerate(free_old):
            target = _leftover_target(whole[i], new_pool)
            if target is None:
                continue
            n = new_pool[target]
            own_key = m.old_for_new.get(n.key)
            if own_key:
                shared, had = vectors.shared_mass(o.index, n.index, m.old_by_key[own_key].index, x_new=False)
                if shared == 0 or had > KEPT_AT_MOST * shared:
                    continue  # the clause already said this: a dropped duplicate, not a merge
            found.append((o, n, "merge", float(whole[i, target])))
    for o, n, method, score in found:
        if any(lk.old_key == o.key and lk.new_key == n.key for lk in m.extra) or m.old_for_new.get(n.key) == o.key:
            continue
        _add_link(m, o, n, method, _confidence(score, 0.0))


def find_links(
    old: Sequence[Any], new: Sequence[Any], *, threshold: float = THRESHOLD, manual: dict[str, str | None] | None = None
) -> list[Link]:
    """The links between the clauses of two versions, primary (one-to-one) ones first; see the module docstring."""
    olds, news = _prepare(old, "old"), _prepare(new, "new")
    return _find(olds, news, threshold, manual)[0]


def _find(
    olds: list[_Clause], news: list[_Clause], threshold: float, manual: dict[str, str | None] | None
) -> tuple[list[Link], _Found]:
    m = _Found(olds, news)
    if manual:
        _apply_manual(m, manual)
    _match_explicit_keys(m)
    _match_headings(m)
    if m.free_old() or m.free_new():  # else nothing is left to weigh: most new versions of a long draft
        vectors = _Vectors(olds, news)
        _match_similar(m, vectors, threshold)
        _find_splits_and_merges(m, vectors)
    links = [
        Link(o_key, n.key, m.method[n.key], m.confidence.get(n.key, 1.0))
        for n in news
        if (o_key := m.old_for_new.get(n.key))
    ]
    return links + m.extra, m


# --- statuses and order -----------------------------------------------------


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence of `values`."""
    tails: list[int] = []  # index into values of the smallest tail for each length
    prev = [-1] * len(values)
    for i, v in enumerate(values):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if values[tails[mid]] < v:
                lo = mid + 1
            else:
                hi = mid
        prev[i] = tails[lo - 1] if lo else -1
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    keep: set[int] = set()
    i = tails[-1] if tails else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


def _moved(olds: list[_Clause], news: list[_Clause], primary: dict[str, str], continuation: dict[str, str]) -> set[str]:
    """New keys of primarily linked clauses whose parent lineage or sibling order changed."""
    old_by_key = {c.key: c for c in olds}
    moved: set[str] = set()
    stayed: dict[str | None, list[tuple[str, int]]] = defaultdict(list)
    for n in news:
        old_key = primary.get(n.key)
        if old_key is None:
            continue
        o = old_by_key[old_key]
        if o.parent_key is None or n.parent_key is None:
            same_parent = o.parent_key is None and n.parent_key is None
        else:
            same_parent = continuation.get(o.parent_key) == n.parent_key
        if same_parent:
            stayed[n.parent_key].append((n.key, o.index))
        else:
            moved.add(n.key)
    for siblings in stayed.values():
        keep = _longest_increasing([i for _, i in siblings])
        moved.update(k for j, (k, _) in enumerate(siblings) if j not in keep)
    return moved


def _status(o: _Clause, n: _Clause, moved: bool) -> str:
    """Relation of a one-to-one link: modified > moved > renumbered > unchanged."""
    if o.title != n.title or o.body_ws != n.body_ws:
        return "modified"
    if moved:
        return "moved"
    if o.number != n.number:
        return "renumbered"
    return "unchanged"


def _relate(
    olds: list[_Clause], news: list[_Clause], links: Iterable[Link], unlinked: Iterable[str] = ()
) -> list[LineagePair]:
    old_by_key = {c.key: c for c in olds}
    new_by_key = {c.key: c for c in news}
    links = [lk for lk in links if lk.old_key in old_by_key and lk.new_key in new_by_key]
    primary: dict[str, str] = {}
    taken: set[str] = set()
    for lk in links:
        if lk.primary and lk.new_key not in primary and lk.old_key not in taken:
            primary[lk.new_key] = lk.old_key
            taken.add(lk.old_key)
    olds_of: dict[str, list[Link]] = defaultdict(list)
    news_of: dict[str, list[Link]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for lk in links:
        if (lk.old_key, lk.new_key) in seen:
            continue
        seen.add((lk.old_key, lk.new_key))
        olds_of[lk.new_key].append(lk)
        news_of[lk.old_key].append(lk)
    # Structure follows the lineage: an old clause continues where its primary link goes, else its first link.
    continuation = {o: n for n, o in primary.items()}
    for o_key, lks in news_of.items():
        continuation.setdefault(o_key, min(lks, key=lambda lk: new_by_key[lk.new_key].index).new_key)
    moved = _moved(olds, news, primary, continuation)
    unlinked = set(unlinked)

    by_new: dict[str, list[LineagePair]] = {}
    for n in news:
        lks = sorted(olds_of.get(n.key, ()), key=lambda lk: old_by_key[lk.old_key].index)
        if not lks:
            by_new[n.key] = [
                LineagePair(
                    None, n.key, "added", 0.0, "manual" if n.key in unlinked else "", 1.0 if n.key in unlinked else 0.0
                )
            ]
            continue
        pairs = []
        for lk in lks:
            o = old_by_key[lk.old_key]
            if len(news_of[o.key]) > 1:
                status = "split"
            elif len(lks) > 1:
                status = "merged"
            else:
                status = _status(o, n, n.key in moved)
            pairs.append(
                LineagePair(
                    o.key,
                    n.key,
                    status,
                    _clause_similarity(o, n),
                    lk.method,
                    lk.confidence,
                    primary.get(n.key) == o.key,
                )
            )
        by_new[n.key] = pairs

    # Removed clauses follow the continuation of the nearest earlier old clause.
    after: dict[str | None, list[LineagePair]] = defaultdict(list)
    anchor: str | None = None
    for o in olds:
        if o.key in continuation:
            anchor = continuation[o.key]
        else:
            after[anchor].append(LineagePair(o.key, None, "removed", 0.0, ""))
    result = list(after[None])
    for n in news:
        result.extend(by_new[n.key])
        result.extend(after[n.key])
    return result


def relate(
    old: Sequence[Any], new: Sequence[Any], links: Iterable[Link], unlinked: Iterable[str] = ()
) -> list[LineagePair]:
    """The pairs (relations, order) of known links; `unlinked` names new clauses a drafter unlinked by hand."""
    return _relate(_prepare(old, "old"), _prepare(new, "new"), links, unlinked)


def match_clauses(
    old: Sequence[Any], new: Sequence[Any], *, threshold: float = THRESHOLD, manual: dict[str, str | None] | None = None
) -> list[LineagePair]:
    """Match the clauses of an old and a new version; see the module docstring for the contract."""
    olds, news = _prepare(old, "old"), _prepare(new, "new")
    links, _ = _find(olds, news, threshold, manual)
    unlinked = [k for k, v in (manual or {}).items() if v is None]
    return _relate(olds, news, links, unlinked)


def candidates(
    old: Sequence[Any], new: Sequence[Any], new_keys: Iterable[str] | None = None, k: int = 3
) -> dict[str, list[tuple[str, float]]]:
    """For each new clause (all, or those named), the k old clauses the matcher finds most like it, best first:
    {new key: [(old key, score 0..1)]}. The same heading scores 1; else the TF-IDF score of step 3."""
    olds, news = _prepare(old, "old"), _prepare(new, "new")
    wanted = [n for n in news if new_keys is None or n.key in set(new_keys)]
    if not olds or not wanted:
        return {n.key: [] for n in wanted}
    vectors = _Vectors(olds, news)
    score = vectors.scores([o.index for o in olds], [n.index for n in wanted])
    out: dict[str, list[tuple[str, float]]] = {}
    for j, n in enumerate(wanted):
        column = score[:, j].copy()
        for i, o in enumerate(olds):
            if o.title_norm and o.title_norm == n.title_norm or o.all_text.norm == n.all_text.norm:
                column[i] = max(column[i], 1.0)
        order = np.argsort(-column, kind="stable")[:k]
        out[n.key] = [(olds[i].key, round(float(min(1.0, column[i])), 3)) for i in order if column[i] > 0]
    return out
