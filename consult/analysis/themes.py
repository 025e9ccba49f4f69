"""Themes and extractive summaries of a set of comments.

Contract
--------
``find_themes(texts, n_themes=None)`` takes ``{comment id: text}`` and returns a list of :class:`ThemeResult`, largest
first. Every comment with at least one indexed term is in exactly one theme; comments with none (empty, or only
stop words) are in no theme. A theme has a ``label`` (its two or three strongest key phrases, joined), up to
``KEY_TERMS`` ``key_terms``, its ``members`` and, per member, a ``weight`` (how strongly the comment loads on the
theme; the review shows the heaviest first as the theme's representative comments). With fewer than
``MIN_COMMENTS`` texts there are no themes: themes of three comments help nobody.

Method: TF-IDF over words and word pairs (scikit-learn; English stop words, terms in at least two comments and in at
most 95 % of them: a docket dominated by one letter must leave its copies some terms; at 70 %, 111 of 196 comments
of one real docket had none), then non-negative matrix factorisation (NMF, or its mini-batch form past
``MINIBATCH_FROM`` texts) into k themes, k = √(n/2) clamped to [2, ``MAX_THEMES``] unless given; each comment
goes to its strongest theme. Deterministic: fixed seeds.

``summarise(texts, n_sentences=3)`` returns up to n sentences taken verbatim from the texts, each with the ids of
every text that contains it (campaign letters share sentences): the sentences closest to the centroid of all
sentences' TF-IDF vectors, skipping any too similar to one already chosen.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sklearn.decomposition import NMF, MiniBatchNMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

MIN_COMMENTS = 6
MAX_THEMES = 30
KEY_TERMS = 8
MINIBATCH_FROM = 20_000
MAX_FEATURES = 50_000
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=[A-Z0-9\"'(«])|\n{2,}")


@dataclass
class ThemeResult:
    label: str
    key_terms: list[str]
    members: list[int]
    weights: dict[int, float] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.members)


def choose_k(n: int) -> int:
    """How many themes for n comments when the caller does not say."""
    return max(2, min(MAX_THEMES, round(math.sqrt(n / 2))))


def _vectorizer(n: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        stop_words="english",
        ngram_range=(1, 2),
        min_df=2 if n >= 20 else 1,
        max_df=0.95,
        sublinear_tf=True,
        max_features=MAX_FEATURES,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
    )


def _label(terms: list[str]) -> str:
    """Two or three key phrases, preferring pairs of words and skipping words a chosen pair already holds."""
    chosen: list[str] = []
    for term in sorted(terms[:6], key=lambda t: (-len(t.split()), terms.index(t))):
        words = set(term.split())
        if any(words & set(c.split()) for c in chosen):
            continue
        chosen.append(term)
        if len(chosen) == 3:
            break
    chosen.sort(key=terms.index)
    return ", ".join(chosen)[:200]


def find_themes(
    texts: dict[int, str], n_themes: int | None = None, *, weights: dict[int, int] | None = None
) -> list[ThemeResult]:
    """Group comments into themes (see the module's contract). `weights` counts a text as that many comments
    (a campaign's template stands for its members), so a campaign weighs as its size in the factorisation."""
    ids = [i for i, t in texts.items() if t and t.strip()]
    if len(ids) < MIN_COMMENTS:
        return []
    vectorizer = _vectorizer(len(ids))
    try:
        matrix = vectorizer.fit_transform([texts[i] for i in ids])
    except ValueError:  # no term survives (only stop words)
        return []
    keep = np.asarray(matrix.sum(axis=1)).ravel() > 0
    if keep.sum() < MIN_COMMENTS:
        return []
    ids = [i for i, k in zip(ids, keep, strict=True) if k]
    matrix = matrix[keep]
    if weights:
        scale = np.sqrt(np.array([weights.get(i, 1) for i in ids], dtype=float))
        fit_matrix = matrix.multiply(scale.reshape(-1, 1)).tocsr()
    else:
        fit_matrix = matrix
    k = min(n_themes or choose_k(len(ids)), len(ids) - 1, matrix.shape[1])
    if k < 2:
        return []
    if len(ids) >= MINIBATCH_FROM:
        model = MiniBatchNMF(n_components=k, init="nndsvda", random_state=0, batch_size=2048, max_iter=50)
    else:
        model = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=300)
    with warnings.catch_warnings():  # a fit stopped at max_iter is still a usable grouping for drafters to edit
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(fit_matrix)
    loadings = model.transform(matrix)
    terms = vectorizer.get_feature_names_out()
    assignment = loadings.argmax(axis=1)
    strength = loadings.max(axis=1)
    groups: dict[int, list[int]] = defaultdict(list)
    for row, theme in enumerate(assignment):
        groups[int(theme)].append(row)
    results = []
    for theme, rows in groups.items():
        top = [str(terms[j]) for j in np.argsort(model.components_[theme])[::-1][:KEY_TERMS]]
        members = [ids[r] for r in rows]
        results.append(
            ThemeResult(_label(top), top, sorted(members), {ids[r]: round(float(strength[r]), 6) for r in rows})
        )
    results.sort(key=lambda t: (-sum((weights or {}).get(m, 1) for m in t.members), t.label))
    return results


def split_sentences(text: str) -> list[str]:
    """The text's sentences, trimmed; Markdown list markers and headings removed."""
    out = []
    for part in _SENTENCE.split(text or ""):
        part = re.sub(r"^\s*(?:[-*+]|\d+[.)]|#+)\s+", "", part.strip()).strip()
        if 25 <= len(part) <= 600:
            out.append(part)
    return out


def _normal(sentence: str) -> str:
    return " ".join(re.findall(r"\w+", sentence.lower()))


def summarise(texts: dict[int, str], n_sentences: int = 3, redundancy: float = 0.5) -> list[tuple[str, list[int]]]:
    """Up to n sentences taken from the texts, each with the ids of the texts containing it (see the contract)."""
    sources: dict[str, list[int]] = defaultdict(list)
    shown: dict[str, str] = {}
    for cid in sorted(texts):
        for sentence in split_sentences(texts[cid]):
            key = _normal(sentence)
            if key and cid not in sources[key]:
                sources[key].append(cid)
                shown.setdefault(key, sentence)
    keys = list(sources)
    if not keys:
        return []
    if len(keys) <= n_sentences:
        return [(shown[k], sources[k]) for k in keys]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(keys)
    except ValueError:
        return [(shown[k], sources[k]) for k in keys[:n_sentences]]
    # Each distinct sentence counts as often as it was written, so a point many people made weighs more.
    counts = np.array([len(sources[k]) for k in keys], dtype=float)
    centroid = np.asarray(matrix.multiply(counts.reshape(-1, 1)).sum(axis=0)).ravel()
    norm = np.linalg.norm(centroid)
    if not norm:
        return [(shown[k], sources[k]) for k in keys[:n_sentences]]
    scores = matrix @ (centroid / norm)
    chosen: list[int] = []
    for row in np.argsort(-scores, kind="stable"):
        if any(float(matrix[row].multiply(matrix[c]).sum()) > redundancy for c in chosen):
            continue
        chosen.append(int(row))
        if len(chosen) == n_sentences:
            break
    return [(shown[keys[r]], sources[keys[r]]) for r in chosen]
