"""Word-level redlines between two versions of a clause. Pure: no Flask, no database."""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token

EQUAL = "equal"
INSERT = "insert"
DELETE = "delete"

# Operations: (EQUAL, INSERT or DELETE, their text), in order.
Ops = list[tuple[str, str]]
# A stretch of two token lists still to align: (a0, a1, b0, b1, mode).
_Section = tuple[int, int, int, int, int]


class ClauseLike(Protocol):
    """What a clause redline reads: a clause row, or any object with these two texts."""

    @property
    def heading(self) -> str: ...

    @property
    def body(self) -> str: ...


# Combining marks count as word characters so that a decomposed accent ("e" + U+0301)
# stays inside its word instead of becoming a punctuation token of its own.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = rf"(?:\w|[{_MARKS}])+"
_TOKEN_RE = re.compile(rf"{_WORD}|\s+|[^\w\s]")
_WORD_RE = re.compile(_WORD)

# Work budget, in Myers diagonal steps (several million per second in CPython), so that
# two unrelated long texts cost about half a second. One bisection may spend at most
# _BISECT_WORK and the whole diff at most _TOTAL_WORK; past that, a section falls back to
# anchors on tokens unique to both sides, and without anchors to delete-all + insert-all.
_BISECT_WORK = 1_000_000
_TOTAL_WORK = 2_500_000

# A section made of several sentences or lines first gets a smaller allowance, enough for an
# edit distance of about (tokens / _SPAN), and all such attempts in one diff share twice that
# for the whole input: Myers' work grows with the square of the edit distance, and text
# rewritten more than that reads better sentence by sentence anyway. A section whose edit
# distance is surely larger (tokens without a partner on the other side) skips the attempt.
# Past it, identical sentences are aligned first, the remaining sentences are paired in order
# by shared words (Dice on word sets at least _PAIR_SIMILARITY), each pair is diffed word
# by word, and unpaired sentences are deleted or inserted whole. Pairing compares every
# sentence with every other, so regions above _PAIR_CELLS comparisons are first cut on
# anchors (tokens unique to both sides), and the pieces between go sentence by sentence again.
_MIN_WORK = 20_000
_SPAN = 8
_PAIR_SIMILARITY = 0.5
_PAIR_CELLS = 40_000
_SENTENCE_END = frozenset(".;:?!")

# How a section may be aligned: Myers then sentences; Myers then anchors; anchors only.
_COARSE, _FINE, _ANCHORED = 0, 1, 2

_GALLOP = 16


def tokenize(text: str) -> list[str]:
    """Split text into words, whitespace runs and single punctuation characters."""
    return _TOKEN_RE.findall(text)


def diff_words(old: str, new: str) -> list[tuple[str, str]]:
    """Return merged equal/insert/delete operations turning old into new, word by word."""
    if old == new:
        return [(EQUAL, old)] if old else []
    old_tokens = tokenize(old)
    new_tokens = tokenize(new)
    # Only words and punctuation take part in the alignment; whitespace between aligned
    # tokens is compared afterwards, so a reflowed line costs no words.
    old_pos = [i for i, tok in enumerate(old_tokens) if not tok.isspace()]
    new_pos = [i for i, tok in enumerate(new_tokens) if not tok.isspace()]
    ids: dict[str, int] = {}
    a = [ids.setdefault(old_tokens[i], len(ids)) for i in old_pos]
    b = [ids.setdefault(new_tokens[i], len(ids)) for i in new_pos]
    blocks = _match_ids(a, b, _unit_starts(old_tokens, old_pos), _unit_starts(new_tokens, new_pos))
    ops = _Ops()
    pa = pb = 0
    for i, j, size in blocks:
        first_a, first_b = old_pos[i], new_pos[j]
        _gap(ops, old_tokens, pa, first_a, new_tokens, pb, first_b)
        last_a, last_b = old_pos[i + size - 1] + 1, new_pos[j + size - 1] + 1
        span = old_tokens[first_a:last_a]
        if span == new_tokens[first_b:last_b]:
            ops.add(EQUAL, span)
        else:
            pa, pb = first_a, first_b
            for k in range(size):
                ta, tb = old_pos[i + k], new_pos[j + k]
                _gap(ops, old_tokens, pa, ta, new_tokens, pb, tb)
                ops.add(EQUAL, [old_tokens[ta]])
                pa, pb = ta + 1, tb + 1
        pa, pb = last_a, last_b
    _gap(ops, old_tokens, pa, len(old_tokens), new_tokens, pb, len(new_tokens))
    return _cleanup(ops.result())


def rebuild(ops: Ops) -> tuple[str, str]:
    """Return the (old, new) texts that the operations describe."""
    old = "".join(text for kind, text in ops if kind != INSERT)
    new = "".join(text for kind, text in ops if kind != DELETE)
    return old, new


def word_counts(ops: Ops) -> tuple[int, int]:
    """Return (words inserted, words deleted)."""
    inserted = deleted = 0
    for kind, text in ops:
        if kind == INSERT:
            inserted += len(_WORD_RE.findall(text))
        elif kind == DELETE:
            deleted += len(_WORD_RE.findall(text))
    return inserted, deleted


def changed_token_count(ops: Ops) -> int:
    """Return the number of non-whitespace tokens inside insert and delete operations."""
    return sum(1 for kind, text in ops if kind != EQUAL for tok in tokenize(text) if not tok.isspace())


def render_html(ops: Ops) -> str:
    """Render the operations inline as escaped HTML paragraphs with <ins> and <del>."""
    return _render(ops)


def render_side_by_side(ops: Ops) -> tuple[str, str]:
    """Render (old_html, new_html): the old side with <del>, the new side with <ins>."""
    old = _render([op for op in ops if op[0] != INSERT])
    new = _render([op for op in ops if op[0] != DELETE])
    return old, new


# --- building operations ---------------------------------------------------------


class _Ops:
    """Accumulates token lists per operation, merging neighbours of the same kind."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.parts: list[list[str]] = []

    def add(self, kind: str, tokens: list[str]) -> None:
        """Append tokens under kind, merging with the previous operation when it matches."""
        if not tokens:
            return
        if self.kinds and self.kinds[-1] == kind:
            self.parts[-1].extend(tokens)
        else:
            self.kinds.append(kind)
            self.parts.append(list(tokens))

    def result(self) -> list[tuple[str, str]]:
        """Return the operations with their texts joined."""
        return [(kind, "".join(part)) for kind, part in zip(self.kinds, self.parts, strict=True)]


def _gap(ops: _Ops, old: list[str], a0: int, a1: int, new: list[str], b0: int, b1: int) -> None:
    """Emit the operations for an unaligned stretch between two aligned tokens."""
    if a0 == a1 and b0 == b1:
        return
    limit = min(a1 - a0, b1 - b0)
    p = 0
    while p < limit and old[a0 + p] == new[b0 + p]:
        p += 1
    s = 0
    while s < limit - p and old[a1 - 1 - s] == new[b1 - 1 - s]:
        s += 1
    ops.add(EQUAL, old[a0 : a0 + p])
    ops.add(DELETE, old[a0 + p : a1 - s])
    ops.add(INSERT, new[b0 + p : b1 - s])
    ops.add(EQUAL, old[a1 - s : a1])


def _cleanup(ops: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Fold punctuation-only equal runs between changes into the changes around them."""
    out: list[tuple[str, str]] = []
    i = 0
    n = len(ops)
    while i < n:
        if ops[i][0] == EQUAL:
            out.append(ops[i])
            i += 1
            continue
        # One changed stretch: changes, possibly joined by absorbable equal runs.
        old_parts: list[str] = []
        new_parts: list[str] = []
        while i < n:
            kind, text = ops[i]
            if kind == EQUAL:
                if i + 1 < n and ops[i + 1][0] != EQUAL and _absorbable(text):
                    old_parts.append(text)
                    new_parts.append(text)
                else:
                    break
            elif kind == DELETE:
                old_parts.append(text)
            else:
                new_parts.append(text)
            i += 1
        if old_parts:
            out.append((DELETE, "".join(old_parts)))
        if new_parts:
            out.append((INSERT, "".join(new_parts)))
    return out


def _absorbable(text: str) -> bool:
    """Return whether an equal run is too slight to stand between two changes."""
    return "\n" not in text and _WORD_RE.search(text) is None


# --- alignment on token ids -------------------------------------------------------


def _unit_starts(tokens: list[str], positions: list[int]) -> list[bool]:
    """Flag the non-whitespace tokens that begin a sentence or a line."""
    starts = [False] * len(positions)
    for k in range(1, len(positions)):
        i = positions[k]
        gap = tokens[i - 1]
        if gap.isspace() and ("\n" in gap or tokens[positions[k - 1]] in _SENTENCE_END):
            starts[k] = True
    return starts


def _match_ids(
    a: list[int],
    b: list[int],
    starts_a: list[bool] | None = None,
    starts_b: list[bool] | None = None,
    budget: list[int] | None = None,
) -> list[tuple[int, int, int]]:
    """Return sorted matching blocks (i, j, size) of a near-minimal alignment of a and b.

    With sentence starts, heavily rewritten sections are aligned sentence by sentence.
    budget is [work left in all, work left for sections that may go by sentence], shared
    with nested alignments; the second share grows with the square of the input size.
    """
    blocks: list[tuple[int, int, int]] = []
    units = starts_a is not None and starts_b is not None
    if budget is None:
        coarse = 2 * max(_MIN_WORK, ((len(a) + len(b)) // (2 * _SPAN)) ** 2) if units else _TOTAL_WORK
        budget = [_TOTAL_WORK, coarse]
    stack = [(0, len(a), 0, len(b), _COARSE if units else _FINE)]
    while stack:
        a0, a1, b0, b1, mode = stack.pop()
        p = _run_forward(a, a0, b, b0, min(a1 - a0, b1 - b0))
        if p:
            blocks.append((a0, b0, p))
            a0 += p
            b0 += p
        s = _run_backward(a, a1, b, b1, min(a1 - a0, b1 - b0))
        if s:
            blocks.append((a1 - s, b1 - s, s))
            a1 -= s
            b1 -= s
        if a0 == a1 or b0 == b1:
            continue
        split = None
        if budget[0] > 0 and mode != _ANCHORED:
            allowance = min(budget[0], _BISECT_WORK)
            if mode == _COARSE:
                allowance = min(allowance, budget[1], max(_MIN_WORK, ((a1 - a0 + b1 - b0) // (2 * _SPAN)) ** 2))
                if (
                    allowance < (a1 - a0 + b1 - b0) ** 2 // 4
                    and _distance_floor(a, a0, a1, b, b0, b1) ** 2 > 4 * allowance
                ):
                    allowance = 0  # the middle snake lies beyond the allowance: go by sentence now
            if allowance > 0:
                split, spent = _bisect(a, a0, a1, b, b0, b1, allowance)
                budget[0] -= spent
                budget[1] -= spent
        if split is not None:
            x, y = split
            stack.append((x, a1, y, b1, mode))
            stack.append((a0, x, b0, y, mode))
            continue
        if mode == _COARSE:
            assert starts_a is not None and starts_b is not None  # the coarse mode is used with sentence starts
            sections = _by_sentence(a, a0, a1, b, b0, b1, starts_a, starts_b, blocks, budget)
            if sections is not None:
                stack.extend(sections)
                continue
        # Too costly (or nothing in common): split on tokens unique to both sides.
        anchors = _unique_anchors(a, a0, a1, b, b0, b1)
        after = _COARSE if mode == _ANCHORED and units else _FINE if mode == _ANCHORED else mode
        for i, j in anchors:
            blocks.append((i, j, 1))
            stack.append((a0, i, b0, j, after))
            a0, b0 = i + 1, j + 1
        if anchors:
            stack.append((a0, a1, b0, b1, after))
    blocks.sort()
    merged: list[tuple[int, int, int]] = []
    for i, j, size in blocks:
        if merged:
            pi, pj, psize = merged[-1]
            if pi + psize == i and pj + psize == j:
                merged[-1] = (pi, pj, psize + size)
                continue
        merged.append((i, j, size))
    return merged


def _distance_floor(a: list[int], a0: int, a1: int, b: list[int], b0: int, b1: int) -> int:
    """Return a lower bound of the edit distance: tokens that cannot all find a partner."""
    common = Counter(a[a0:a1]) & Counter(b[b0:b1])
    return a1 - a0 + b1 - b0 - 2 * sum(common.values())


def _units(starts: list[bool], lo: int, hi: int) -> list[tuple[int, int]]:
    """Return the (start, end) token ranges of the sentences and lines within [lo, hi)."""
    cuts = [lo] + [k for k in range(lo + 1, hi) if starts[k]] + [hi]
    return list(pairwise(cuts))


def _by_sentence(
    a: list[int],
    a0: int,
    a1: int,
    b: list[int],
    b0: int,
    b1: int,
    starts_a: list[bool],
    starts_b: list[bool],
    blocks: list[tuple[int, int, int]],
    budget: list[int],
) -> list[_Section] | None:
    """Align a section sentence by sentence; return the sections left to diff, or None if it cannot."""
    units_a = _units(starts_a, a0, a1)
    units_b = _units(starts_b, b0, b1)
    if len(units_a) == 1 and len(units_b) == 1:
        return None
    # Identical sentences first, aligned by the same algorithm on sentence ids.
    ids: dict[tuple[int, ...], int] = {}
    ua = [ids.setdefault(tuple(a[s:e]), len(ids)) for s, e in units_a]
    ub = [ids.setdefault(tuple(b[s:e]), len(ids)) for s, e in units_b]
    # Sentences are few, so this costs little unless most of them differ; then skip it.
    share = [min(budget[0], max(_MIN_WORK, ((len(ua) + len(ub)) // 4) ** 2)), 0]
    if _distance_floor(ua, 0, len(ua), ub, 0, len(ub)) ** 2 > 4 * share[0]:
        share[0] = 0
    left = share[0]
    same = _match_ids(ua, ub, budget=share)
    budget[0] -= left - share[0]
    sections: list[_Section] = []
    pi = pj = 0
    for i, j, size in same + [(len(ua), len(ub), 0)]:
        if i > pi and j > pj:
            region = _pair_region(a, units_a[pi:i], b, units_b[pj:j])
            if region is None:
                sections.append((units_a[pi][0], units_a[i - 1][1], units_b[pj][0], units_b[j - 1][1], _ANCHORED))
            else:
                sections.extend(region)
        if size:
            start_a, start_b = units_a[i][0], units_b[j][0]
            blocks.append((start_a, start_b, units_a[i + size - 1][1] - start_a))
        pi, pj = i + size, j + size
    return sections


def _pair_region(
    a: list[int], units_a: list[tuple[int, int]], b: list[int], units_b: list[tuple[int, int]]
) -> list[_Section] | None:
    """Pair the differing sentences of one region in order by shared words; None if too many."""
    p, q = len(units_a), len(units_b)
    if p * q > _PAIR_CELLS:
        return None
    sets_a = [set(a[s:e]) for s, e in units_a]
    sets_b = [set(b[s:e]) for s, e in units_b]
    # score[i][j]: the most shared words over in-order pairings of the first i and j sentences.
    score = [[0] * (q + 1) for _ in range(p + 1)]
    for i in range(1, p + 1):
        sa = sets_a[i - 1]
        need = _PAIR_SIMILARITY * len(sa)
        row, prev = score[i], score[i - 1]
        for j in range(1, q + 1):
            best = row[j - 1] if row[j - 1] > prev[j] else prev[j]
            sb = sets_b[j - 1]
            shared = len(sa & sb)
            if shared and 2 * shared >= need + _PAIR_SIMILARITY * len(sb) and prev[j - 1] + shared > best:
                best = prev[j - 1] + shared
            row[j] = best
    sections: list[_Section] = []
    i, j = p, q
    while i and j:
        if score[i][j] == score[i - 1][j]:
            i -= 1
        elif score[i][j] == score[i][j - 1]:
            j -= 1
        else:
            (s, e), (t, f) = units_a[i - 1], units_b[j - 1]
            sections.append((s, e, t, f, _FINE))
            i -= 1
            j -= 1
    return sections


def _run_forward(a: list[int], i: int, b: list[int], j: int, limit: int) -> int:
    """Return the length of the common run of a[i:] and b[j:], at most limit."""
    n = 0
    stop = min(limit, _GALLOP)
    while n < stop and a[i + n] == b[j + n]:
        n += 1
    if n < stop or n == limit:
        return n
    # Long runs are compared slice by slice so that the loop runs in C.
    step = _GALLOP
    while n < limit:
        hi = min(n + step, limit)
        if a[i + n : i + hi] != b[j + n : j + hi]:
            lo = n
            while hi - lo > _GALLOP:
                mid = (lo + hi) // 2
                if a[i + lo : i + mid] == b[j + lo : j + mid]:
                    lo = mid
                else:
                    hi = mid
            while a[i + lo] == b[j + lo]:
                lo += 1
            return lo
        n = hi
        step *= 2
    return n


def _run_backward(a: list[int], i: int, b: list[int], j: int, limit: int) -> int:
    """Return the length of the common run ending just before a[i] and b[j], at most limit."""
    n = 0
    stop = min(limit, _GALLOP)
    while n < stop and a[i - 1 - n] == b[j - 1 - n]:
        n += 1
    if n < stop or n == limit:
        return n
    step = _GALLOP
    while n < limit:
        hi = min(n + step, limit)
        if a[i - hi : i - n] != b[j - hi : j - n]:
            lo = n
            while hi - lo > _GALLOP:
                mid = (lo + hi) // 2
                if a[i - mid : i - lo] == b[j - mid : j - lo]:
                    lo = mid
                else:
                    hi = mid
            while a[i - 1 - lo] == b[j - 1 - lo]:
                lo += 1
            return lo
        n = hi
        step *= 2
    return n


def _bisect(
    a: list[int], a0: int, a1: int, b: list[int], b0: int, b1: int, allowance: int
) -> tuple[tuple[int, int] | None, int]:
    """Find a point on a shortest edit path through the middle snake; (None, work) if too costly."""
    # Myers' linear-space search: forward paths from (a0, b0) and backward paths from
    # (a1, b1) grow one edit at a time until they meet on a diagonal. The caller has
    # trimmed common ends, so the point returned lies strictly inside the rectangle.
    n = a1 - a0
    m = b1 - b0
    delta = n - m
    front = delta & 1
    max_d = (n + m + 1) // 2
    off = max_d + 1
    size = 2 * off + 1
    vf = [-1] * size
    vb = [-1] * size
    vf[off + 1] = 0
    vb[off + 1] = 0
    f_start = f_end = r_start = r_end = 0
    work = 0
    for d in range(max_d + 1):
        work += 2 * d + 2
        if work > allowance:
            return None, work
        for k in range(-d + f_start, d + 1 - f_end, 2):
            i = off + k
            x = vf[i + 1] if k == -d or (k != d and vf[i - 1] < vf[i + 1]) else vf[i - 1] + 1
            y = x - k
            if x < n and y < m and a[a0 + x] == b[b0 + y]:
                x += _run_forward(a, a0 + x, b, b0 + y, min(n - x, m - y))
                y = x - k
            vf[i] = x
            if x > n:
                f_end += 2
            elif y > m:
                f_start += 2
            elif front:
                j = off + delta - k
                if 0 <= j < size and vb[j] != -1 and x >= n - vb[j]:
                    return (a0 + x, b0 + y), work
        for k in range(-d + r_start, d + 1 - r_end, 2):
            j = off + k
            x = vb[j + 1] if k == -d or (k != d and vb[j - 1] < vb[j + 1]) else vb[j - 1] + 1
            y = x - k
            if x < n and y < m and a[a1 - 1 - x] == b[b1 - 1 - y]:
                x += _run_backward(a, a1 - x, b, b1 - y, min(n - x, m - y))
                y = x - k
            vb[j] = x
            if x > n:
                r_end += 2
            elif y > m:
                r_start += 2
            elif not front:
                i = off + delta - k
                if 0 <= i < size and vf[i] != -1:
                    fx = vf[i]
                    if fx >= n - x:
                        return (a0 + fx, b0 + fx - (delta - k)), work
    return None, work


def _unique_anchors(a: list[int], a0: int, a1: int, b: list[int], b0: int, b1: int) -> list[tuple[int, int]]:
    """Return the longest in-order chain of tokens that occur once on each side."""
    count_a = Counter(a[a0:a1])
    count_b = Counter(b[b0:b1])
    where_b = {b[j]: j for j in range(b0, b1) if count_b[b[j]] == 1}
    pairs = [(i, where_b[a[i]]) for i in range(a0, a1) if count_a[a[i]] == 1 and a[i] in where_b]
    return [pairs[n] for n in longest_increasing([j for _, j in pairs])]


def longest_increasing(values: list[int]) -> list[int]:
    """The indexes, in order, of a longest strictly increasing subsequence of `values` ([] for no values).

    Patience sorting, O(n log n): tails[k] is the smallest value that ends an increasing run of length k + 1 so far;
    each value replaces the first tail not below it (bisect_left, so equal values never extend a run) and points
    back to the index that ended the run one shorter. Among runs of the longest length, the one ending at the
    latest such tail is returned. Used for the anchors of a word diff and for the clauses a Word redline keeps in
    place."""
    tails: list[int] = []
    tail_index: list[int] = []
    back = [-1] * len(values)
    for n, value in enumerate(values):
        pos = bisect_left(tails, value)
        if pos == len(tails):
            tails.append(value)
            tail_index.append(n)
        else:
            tails[pos] = value
            tail_index[pos] = n
        back[n] = tail_index[pos - 1] if pos else -1
    chain: list[int] = []
    n = tail_index[-1] if tail_index else -1
    while n != -1:
        chain.append(n)
        n = back[n]
    chain.reverse()
    return chain


# --- rendering --------------------------------------------------------------------


def _render(ops: Ops) -> str:
    """Render operations as <p> blocks, with <br> for single newlines and ins/del inside lines."""
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for kind, text in ops:
        tag = "ins" if kind == INSERT else "del" if kind == DELETE else None
        run: list[str] = []
        for tok in tokenize(text):
            if "\n" in tok and tok.isspace():
                if run:
                    current.append(_wrap(tag, run))
                    run = []
                if tok.count("\n") >= 2:
                    paragraphs.append(current)
                    current = []
                else:
                    current.append("<br>\n")
            else:
                run.append(html.escape(tok, quote=True))
        if run:
            current.append(_wrap(tag, run))
    paragraphs.append(current)
    return "\n".join(f"<p>{''.join(p)}</p>" for p in paragraphs if p)


def _wrap(tag: str | None, run: list[str]) -> str:
    """Join escaped tokens, inside <tag> when there is one."""
    body = "".join(run)
    return f"<{tag}>{body}</{tag}>" if tag else body


# --- the redline of rendered Markdown -------------------------------------------------
#
# Readers see rendered text, so the HTML redline compares what they see: each text is parsed into leaf blocks
# (headings, paragraphs, list items, quotes, table cells, code) with markdown-it-py, the blocks of the two texts
# are aligned, and only then are the words of paired blocks diffed. The words compared are the block's text as
# rendered (emphasis marks, list markers, quote marks and table pipes are not words), so no Markdown syntax
# character can show as inserted or deleted unless the author wrote it as text. A block whose text is the same but
# whose Markdown differs (bold added, say) is shown as the new rendering with a short note.

_BLOCK_TAGS = {"paragraph_open": "p", "heading_open": "h", "th_open": "th", "td_open": "td"}
_CONTAINERS = {
    "blockquote_open": "blockquote",
    "bullet_list_open": "ul",
    "ordered_list_open": "ol",
    "list_item_open": "li",
    "table_open": "table",
    "tr_open": "tr",
}
# In a compact redline, a deleted block shows this many of its words.
_DELETED_WORDS_SHOWN = 20
# ... and an unchanged stretch inside a changed block keeps this many words at each end.
_CONTEXT_WORDS = 8
# Blocks of one kind pair up when they share at least this much of their words (Dice), else one is deleted and
# the other inserted whole.
_BLOCK_PAIRING = 0.4


class _Block:
    """One leaf block: its container path, its own tag, its rendered text and its rendered HTML."""

    __slots__ = ("path", "tag", "text", "source", "html")

    def __init__(self, path: tuple[tuple[str, int], ...], tag: str, text: str, source: str, html_: str) -> None:
        self.path, self.tag, self.text, self.source, self.html = path, tag, text, source, html_


def _markdown_parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


_PARSER: MarkdownIt | None = None


def _clean(fragment: str) -> str:
    """Rendered Markdown through the same allowlist as markup.render_markdown."""
    import bleach

    from .markup import ALLOWED_ATTRIBUTES, ALLOWED_PROTOCOLS, ALLOWED_TAGS

    return bleach.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )


def _inline_text(children: list[Token] | None) -> str:
    """The text a reader sees in an inline token: words without emphasis marks, breaks as spaces."""
    out = []
    for t in children or ():
        if t.type in ("text", "code_inline"):
            out.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif t.type == "image":
            out.append(_inline_text(t.children))
    return "".join(out)


def markdown_blocks(text: str) -> tuple[_Block, ...]:
    """The leaf blocks of a Markdown text in reading order (cached: clause texts never change once published)."""
    return _markdown_blocks(text or "")


@lru_cache(maxsize=4096)
def _markdown_blocks(text: str) -> tuple[_Block, ...]:
    global _PARSER
    if _PARSER is None:
        _PARSER = _markdown_parser()
    md = _PARSER
    tokens = md.parse(text or "")
    blocks: list[_Block] = []
    path: list[tuple[str, int]] = []
    tag = None
    for i, t in enumerate(tokens):
        if t.type in _CONTAINERS:
            path.append((_CONTAINERS[t.type], i))
        elif t.nesting == -1 and path and t.type.replace("_close", "_open") in _CONTAINERS:
            path.pop()
        elif t.type in _BLOCK_TAGS:
            tag = _BLOCK_TAGS[t.type]
        elif t.type == "inline":
            rendered = cast("RendererHTML", md.renderer).renderInline(t.children or [], md.options, {})
            if "<" in rendered:  # plain escaped text needs no cleaning; most blocks are just that
                rendered = _clean(rendered)
            blocks.append(_Block(tuple(path), tag or "p", _inline_text(t.children), t.content, rendered))
            tag = None
        elif t.type in ("fence", "code_block"):
            blocks.append(_Block(tuple(path), "pre", t.content, t.content, html.escape(t.content)))
        elif t.type == "hr":
            blocks.append(_Block(tuple(path), "hr", "", "---", ""))
    return tuple(blocks)


def _word_set(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.casefold()))


def _similar_blocks(a: _Block, b: _Block) -> bool:
    if a.tag != b.tag and {a.tag, b.tag} != {"th", "td"}:
        return False
    if a.tag in ("th", "td"):
        return True  # table cells pair in order: a cell's place says more than its few words
    wa, wb = _word_set(a.text), _word_set(b.text)
    if len(wa) <= 3 and len(wb) <= 3:
        return True
    return 2 * len(wa & wb) / (len(wa) + len(wb)) >= _BLOCK_PAIRING


def _align_blocks(old: Sequence[_Block], new: Sequence[_Block]) -> list[tuple[_Block | None, _Block | None]]:
    """Pairs (old block, new block) in reading order; None on one side for a deleted or inserted block."""
    import difflib

    keys_a = [(b.tag, " ".join(b.text.split())) for b in old]
    keys_b = [(b.tag, " ".join(b.text.split())) for b in new]
    out: list[tuple[_Block | None, _Block | None]] = []
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.extend(zip(old[i1:i2], new[j1:j2], strict=True))
            continue
        # In order: a block pairs with the next similar block on the other side; what is skipped is deleted or
        # inserted whole.
        i, j = i1, j1
        while i < i2 or j < j2:
            if i < i2 and j < j2 and _similar_blocks(old[i], new[j]):
                out.append((old[i], new[j]))
                i, j = i + 1, j + 1
                continue
            ahead = next((k for k in range(j, min(j2, j + 8)) if i < i2 and _similar_blocks(old[i], new[k])), None)
            if ahead is not None:
                out.extend((None, b) for b in new[j:ahead])
                j = ahead
                continue
            if i < i2:
                out.append((old[i], None))
                i += 1
            else:
                out.append((None, new[j]))
                j += 1
    return out


def _words_html(ops: Ops, side: str | None = None) -> str:
    """Escaped words of operations, with <ins> and <del>; `side` "old" or "new" keeps only that side's changes."""
    parts = []
    for kind, text in ops:
        if (side == "old" and kind == INSERT) or (side == "new" and kind == DELETE):
            continue
        escaped = html.escape(text, quote=True)
        parts.append(
            f"<ins>{escaped}</ins>" if kind == INSERT else f"<del>{escaped}</del>" if kind == DELETE else escaped
        )
    return "".join(parts)


def _shorten_equal(ops: Ops) -> Ops:
    """Long unchanged stretches inside a changed block cut to their first and last few words, and long deletions
    to their opening words (compact view)."""
    out = []
    for kind, text in ops:
        if kind == DELETE:
            ends = [m.end() for m in _WORD_RE.finditer(text)]
            if len(ends) > _DELETED_WORDS_SHOWN + 10:
                text = text[: ends[_DELETED_WORDS_SHOWN - 1]] + " …"
        if kind == EQUAL:
            ends = [m.end() for m in _WORD_RE.finditer(text)]
            starts = [m.start() for m in _WORD_RE.finditer(text)]
            if len(ends) > 2 * _CONTEXT_WORDS + 10:
                text = text[: ends[_CONTEXT_WORDS - 1]] + " … " + text[starts[-_CONTEXT_WORDS] :]
        out.append((kind, text))
    return out


def _open(tag: str) -> str:
    return {"table": '<table class="redline-table">', "li": "<li>"}.get(tag, f"<{tag}>")


def render_markdown_redline(
    old: str, new: str, *, side: str | None = None, format_note: str = "Formatting changed"
) -> str:
    """HTML redline of two Markdown texts as readers see them: aligned blocks, then words within them.

    `side` "old" or "new" renders one side only (for side-by-side views). Every word is escaped; rendered
    unchanged blocks went through the Markdown renderer and the markup allowlist."""
    return markdown_redline(old, new, side=side, format_note=format_note)[0]


def markdown_redline(
    old: str,
    new: str,
    *,
    side: str | None = None,
    format_note: str = "Formatting changed",
    compact: bool = False,
    max_blocks: int | None = None,
    skip_note: str = "…",
    rest_note: str = "…",
) -> tuple[str, int, int]:
    """`render_markdown_redline` with the words it shows inserted and deleted: (html, inserted, deleted).

    `compact` leaves out unchanged blocks (each run becomes one `skip_note`) and shortens long deletions;
    `max_blocks` shows at most that many blocks, then `rest_note` (the word counts still cover everything).
    Results are cached: published texts never change, and a redline page compares the same pairs each time
    (the real third draft -> final page took 0.5-0.8 s to render, on a loaded machine, without the cache)."""
    return _markdown_redline(old or "", new or "", side, format_note, compact, max_blocks, skip_note, rest_note)


@lru_cache(maxsize=2048)
def _markdown_redline(
    old: str,
    new: str,
    side: str | None,
    format_note: str,
    compact: bool,
    max_blocks: int | None,
    skip_note: str,
    rest_note: str,
) -> tuple[str, int, int]:
    out: list[str] = []
    inserted = deleted = 0
    stack: list[tuple[str, int, str]] = []  # open containers: (tag, token index, side they came from)
    shown = 0
    skipped = False

    def skip(note: str) -> None:
        # The note stands outside every list, quote and table, where a paragraph may stand.
        nonlocal stack
        for tag, _, _ in reversed(stack):
            out.append(f"</{tag}>")
        stack = []
        out.append(f'<p class="redline-skip">{html.escape(note)}</p>')

    for a, b in _align_blocks(markdown_blocks(old), markdown_blocks(new)):
        if side == "old" and a is None or side == "new" and b is None:
            continue
        block = b if b is not None and side != "old" else a
        assert block is not None  # a pair has at least one side
        unchanged = a is not None and b is not None and a.source == b.source and a.tag == b.tag
        if max_blocks is not None and shown >= max_blocks or compact and unchanged:
            if a is None:
                inserted += len(_WORD_RE.findall(block.text))
            elif b is None:
                deleted += len(_WORD_RE.findall(block.text))
            elif not unchanged:
                words_in, words_out = word_counts(diff_words(a.text, b.text))
                inserted, deleted = inserted + words_in, deleted + words_out
            skipped = True
            continue
        if skipped:
            skip(skip_note)
            skipped = False
        shown += 1
        origin = "new" if block is b else "old"
        # Lists, quotes and tables continue across the two sides; each item and row is its own.
        path = [
            (tag, idx if tag in ("li", "tr") else 0, origin if tag in ("li", "tr") else "") for tag, idx in block.path
        ]
        common = 0
        while common < min(len(stack), len(path)) and stack[common] == path[common]:
            common += 1
        for tag, _, _ in reversed(stack[common:]):
            out.append(f"</{tag}>")
        for tag, _, _ in path[common:]:
            out.append(_open(tag))
        stack = path
        tag = "p" if block.tag == "h" else block.tag
        cls = ' class="redline-heading"' if block.tag == "h" else ""
        if block.tag == "hr":
            out.append("<hr>")
            continue
        if a is None or b is None:
            kind = "ins" if a is None else "del"
            if a is None:
                inserted += len(_WORD_RE.findall(block.text))
            else:
                deleted += len(_WORD_RE.findall(block.text))
            text = block.text
            if compact and b is None:
                # Changes only: a deleted block shows its opening words; the whole text is in the full redline.
                cut = [m.end() for m in _WORD_RE.finditer(text)]
                if len(cut) > _DELETED_WORDS_SHOWN + 10:
                    text = text[: cut[_DELETED_WORDS_SHOWN - 1]] + " …"
            body = f"<{kind}>{html.escape(text, quote=True)}</{kind}>" if text.strip() else ""
            if block.tag == "pre":
                out.append(f"<pre><{kind}>{block.html}</{kind}></pre>")
            else:
                out.append(f"<{tag}{cls}>{body}</{tag}>")
            continue
        if a.text == b.text:
            note = ""
            if a.source != b.source and side != "old":
                note = f' <span class="redline-format">({html.escape(format_note)})</span>'
            out.append(f"<{tag}{cls}>{block.html}{note}</{tag}>")
            continue
        ops = diff_words(a.text, b.text)
        words_in, words_out = word_counts(ops)
        inserted, deleted = inserted + words_in, deleted + words_out
        words = _words_html(_shorten_equal(ops) if compact else ops, side)
        out.append(f"<pre>{words}</pre>" if block.tag == "pre" else f"<{tag}{cls}>{words}</{tag}>")
    if skipped:
        skip(rest_note if max_blocks is not None and shown >= max_blocks else skip_note)
    for tag, _, _ in reversed(stack):
        out.append(f"</{tag}>")
    return "".join(out), inserted, deleted


def has_changes(old: str, new: str) -> bool:
    """Whether the rendered texts differ in words or in formatting."""
    return [(b.tag, b.source) for b in markdown_blocks(old)] != [(b.tag, b.source) for b in markdown_blocks(new)]


def render_clause_redline(
    old: ClauseLike | None, new: ClauseLike | None, *, side: str | None = None, format_note: str = "Formatting changed"
) -> str:
    """HTML redline of two clauses (objects with `heading` and `body`, or None): the heading's words, then the
    rendered body."""
    return clause_redline(old, new, side=side, format_note=format_note)[0]


def clause_redline(
    old: ClauseLike | None,
    new: ClauseLike | None,
    *,
    side: str | None = None,
    format_note: str = "Formatting changed",
    **options: Any,
) -> tuple[str, int, int]:
    """`render_clause_redline` with the words it shows inserted and deleted: (html, inserted, deleted)."""
    old_heading, new_heading = (old.heading if old else ""), (new.heading if new else "")
    title = ""
    inserted = deleted = 0
    if old_heading != new_heading and not (options.get("compact") and (old is None or new is None)):
        # (A compact view of a whole clause added or removed leaves its heading to the page's own.)
        ops = diff_words(old_heading, new_heading)
        inserted, deleted = word_counts(ops)
        title = f'<p class="redline-title">{_words_html(ops, side)}</p>'
    body, words_in, words_out = markdown_redline(
        old.body if old else "", new.body if new else "", side=side, format_note=format_note, **options
    )
    return title + body, inserted + words_in, deleted + words_out
