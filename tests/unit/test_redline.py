"""Tests for the word-level redline: correctness, minimality, speed guards and HTML output."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from consult import redline
from consult.redline import (
    changed_token_count,
    diff_words,
    rebuild,
    render_html,
    render_side_by_side,
    tokenize,
    word_counts,
)

PIECES = [
    "shall",
    "may",
    "the",
    "operator",
    "café",
    "Zürich",
    "naïve",
    "e\u0301te\u0301",
    "a",
    "1",
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    " \n \n",
    ",",
    ".",
    ";",
    "(",
    ")",
    "-",
    "<",
    ">",
    "&",
    '"',
    "'",
]
pieces_text = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
char_text = st.text(alphabet="ab é\u0301\n.,;<&\"' \t", max_size=60)
any_text = st.one_of(pieces_text, char_text, st.text(max_size=30))


def check_ops(old: str, new: str, ops) -> None:
    """Assert that ops are well formed and describe exactly old -> new."""
    assert rebuild(ops) == (old, new)
    assert all(kind in ("equal", "insert", "delete") for kind, _ in ops)
    assert all(text for _, text in ops)
    assert all(ops[i][0] != ops[i + 1][0] for i in range(len(ops) - 1))


def nonspace(text: str) -> list[str]:
    """Return the non-whitespace tokens of text."""
    return [tok for tok in tokenize(text) if not tok.isspace()]


def lcs_length(a: list[str], b: list[str]) -> int:
    """Return the length of a longest common subsequence, by dynamic programming."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


# --- tokenizer and round trips ---------------------------------------------------


@given(st.text())
def test_tokenize_round_trips_any_text(text):
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_tokenize_splits_words_whitespace_and_punctuation():
    assert tokenize("Le café, n'est-ce pas?\n\n  Fin.") == [
        "Le",
        " ",
        "café",
        ",",
        " ",
        "n",
        "'",
        "est",
        "-",
        "ce",
        " ",
        "pas",
        "?",
        "\n\n  ",
        "Fin",
        ".",
    ]
    # A decomposed accent stays inside its word.
    assert tokenize("cafe\u0301 ok") == ["cafe\u0301", " ", "ok"]


@settings(max_examples=300, deadline=None)
@given(any_text, any_text)
def test_diff_rebuilds_random_texts(old, new):
    check_ops(old, new, diff_words(old, new))


@st.composite
def edited_pair(draw):
    """A base text and a copy with random token-level insertions, deletions and substitutions."""
    base = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=80))
    edited = list(base)
    for _ in range(draw(st.integers(0, 8))):
        pos = draw(st.integers(0, len(edited)))
        cut = draw(st.integers(0, 3))
        added = draw(st.lists(st.sampled_from(PIECES), max_size=3))
        edited[pos : pos + cut] = added
    return "".join(base), "".join(edited)


@settings(max_examples=300, deadline=None)
@given(edited_pair())
def test_diff_rebuilds_random_edits(pair):
    old, new = pair
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert diff_words(new, old) and rebuild(diff_words(new, old)) == (new, old)


words_and_spaces = st.lists(
    st.sampled_from(["alpha", "beta", "gamma", "delta", "é", " ", " ", "\n", "\n\n"]), max_size=40
).map("".join)


@settings(max_examples=300, deadline=None)
@given(words_and_spaces, words_and_spaces)
def test_diff_is_minimal_on_small_inputs(old, new):
    # Without punctuation nothing is folded by the clean-up, so the count must be exact.
    a, b = nonspace(old), nonspace(new)
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert changed_token_count(ops) == len(a) + len(b) - 2 * lcs_length(a, b)


def test_identical_and_empty_texts():
    assert diff_words("", "") == []
    assert diff_words("same text", "same text") == [("equal", "same text")]
    assert diff_words("", "new words") == [("insert", "new words")]
    assert diff_words("old words", "") == [("delete", "old words")]


def test_whitespace_changes_are_kept_exactly():
    ops = diff_words("one  two\nthree", "one two three")
    check_ops("one  two\nthree", "one two three", ops)
    assert changed_token_count(ops) == 0
    assert word_counts(ops) == (0, 0)


def test_punctuation_between_changes_is_folded_into_them():
    ops = diff_words("alpha, beta gamma", "delta; epsilon gamma")
    assert ops == [("delete", "alpha, beta"), ("insert", "delta; epsilon"), ("equal", " gamma")]


def test_word_counts():
    ops = diff_words("the quick brown fox", "the slow brown cat jumps")
    assert ops == [
        ("equal", "the "),
        ("delete", "quick"),
        ("insert", "slow"),
        ("equal", " brown "),
        ("delete", "fox"),
        ("insert", "cat jumps"),
    ]
    assert word_counts(ops) == (3, 2)
    assert changed_token_count(ops) == 5


# --- minimality and size -------------------------------------------------------------


def boilerplate(sentences: int) -> str:
    """A deterministic repetitive legal text with small numbered variations."""
    return "\n\n".join(
        f"{i + 1}. The operator shall notify the authority within {7 + i % 5} days of any "
        f"change to the licence, and the authority shall publish the notice within "
        f"{14 + i % 3} days of receiving it."
        for i in range(sentences)
    )


def apply_edits(text: str, count: int, seed: int) -> tuple[str, int]:
    """Make count non-overlapping word edits; return the edited text and their total cost."""
    tokens = tokenize(text)
    words = [i for i, tok in enumerate(tokens) if tok.isalpha()]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(words[::8], count), reverse=True)
    cost = 0
    for n, pos in enumerate(chosen):
        kind = n % 3
        if kind == 0:
            tokens[pos] = "amended"
            cost += 2
        elif kind == 1:
            tokens[pos:pos] = ["inserted", " "]
            cost += 1
        else:
            end = pos + 2 if tokens[pos + 1] == " " else pos + 1
            del tokens[pos:end]
            cost += 1
    return "".join(tokens), cost


def test_repetitive_boilerplate_diff_stays_near_minimal():
    old = boilerplate(400)
    new, cost = apply_edits(old, 60, seed=7)
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert changed_token_count(ops) <= 1.1 * cost
    inserted, deleted = word_counts(ops)
    assert inserted + deleted <= 1.1 * cost


def prose(words: int, seed: int, vocabulary: int = 3000) -> str:
    """Deterministic pseudo-prose with punctuation, line breaks and paragraphs."""
    rng = random.Random(seed)
    vocab = [f"term{i}" for i in range(vocabulary)] + ["the", "of", "and", "shall", "operator"] * 50
    out = []
    for _ in range(words):
        out.append(rng.choice(vocab))
        out.append(rng.choice([" "] * 12 + [", ", ". ", "\n", "\n\n"]))
    return "".join(out)


def test_long_clause_with_few_changes_gives_a_small_diff():
    old = prose(20_000, seed=1)
    tokens = tokenize(old)
    rng = random.Random(2)
    positions = sorted(rng.sample([i for i, t in enumerate(tokens) if t.isalnum()], 10))
    for pos in positions:
        tokens[pos] = "revised"
    new = "".join(tokens)
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert changed_token_count(ops) == 20
    assert word_counts(ops) == (10, 10)
    assert len(ops) <= 31


def test_unrelated_long_texts_still_rebuild():
    old = prose(5_000, seed=3, vocabulary=400)
    new = prose(5_000, seed=4, vocabulary=400)
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert changed_token_count(ops) <= len(nonspace(old)) + len(nonspace(new))


@settings(max_examples=100, deadline=None)
@given(edited_pair())
def test_fallback_without_budget_is_still_correct(pair):
    old, new = pair
    with mock.patch.object(redline, "_TOTAL_WORK", 0):
        check_ops(old, new, diff_words(old, new))
    with mock.patch.object(redline, "_BISECT_WORK", 5), mock.patch.object(redline, "_TOTAL_WORK", 40):
        check_ops(old, new, diff_words(old, new))


def test_fallback_anchors_on_unique_words():
    old = " ".join(f"w{i}" for i in range(300))
    new = old.replace("w10 ", "x10 ").replace("w150 ", "").replace("w299", "w299 tail")
    with mock.patch.object(redline, "_TOTAL_WORK", 0):
        ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert changed_token_count(ops) == 4


# --- HTML ----------------------------------------------------------------------------


class StructureChecker(HTMLParser):
    """Checks that tags balance, only p/br/ins/del appear, and ins/del stay inside one line."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.paragraphs = 0
        self.breaks = 0
        self.text: list[str] = []
        self.changed: dict[str, list[str]] = {"ins": [], "del": []}

    def handle_starttag(self, tag, attrs):
        assert tag in ("p", "br", "ins", "del") and not attrs
        if tag == "br":
            assert self.stack == ["p"], "line break outside a paragraph or inside ins/del"
            self.breaks += 1
            return
        if tag == "p":
            assert self.stack == [], "nested paragraph or paragraph inside ins/del"
            self.paragraphs += 1
        else:
            assert self.stack == ["p"], "ins/del outside a paragraph or nested"
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert tag != "br"
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.stack and self.stack[-1] in self.changed:
            self.changed[self.stack[-1]].append(data)

    def check(self, markup: str) -> StructureChecker:
        """Parse markup and assert it closed every element."""
        self.feed(markup)
        self.close()
        assert self.stack == []
        return self


def squash(text: str) -> str:
    """Drop all whitespace."""
    return re.sub(r"\s+", "", text)


def test_render_html_escapes_and_marks_changes():
    old = 'Intro <script>alert("x")</script> & more.\n\n- item one\n- item two'
    new = "Intro <b>'bold'</b> & more.\n\n- item one\n- item 2\n- item three"
    ops = diff_words(old, new)
    html = render_html(ops)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;" in html and "script&gt;" in html and "b&gt;" in html
    assert "&quot;x&quot;" in html and "&#x27;bold&#x27;" in html and "&amp;" in html
    assert "<del>two</del><ins>2</ins>" in html
    assert "<ins>- item three</ins>" in html
    assert not re.search(r"<(ins|del)>[^<]*<(p|/p|br)", html)
    checker = StructureChecker().check(html)
    assert checker.paragraphs == 2
    assert checker.breaks == 2
    assert squash("".join(checker.text)) == squash("".join(text for _, text in ops))


def test_render_closes_changes_around_line_and_paragraph_breaks():
    ops = [("equal", "Keep "), ("delete", "old line\nold para\n\nold end"), ("insert", "new\n\nnew end")]
    html = render_html(ops)
    assert html == (
        "<p>Keep <del>old line</del><br>\n<del>old para</del></p>\n"
        "<p><del>old end</del><ins>new</ins></p>\n<p><ins>new end</ins></p>"
    )
    StructureChecker().check(html)


def test_side_by_side_shows_each_version():
    old = "Fees & charges:\n\nA <b> fee of 10."
    new = 'Fees & charges:\n\nA fee of 12.\nPayable "now".'
    old_html, new_html = render_side_by_side(diff_words(old, new))
    assert "<ins>" not in old_html and "<del>" not in new_html
    old_check = StructureChecker().check(old_html)
    new_check = StructureChecker().check(new_html)
    assert squash("".join(old_check.text)) == squash(old)
    assert squash("".join(new_check.text)) == squash(new)
    assert old_check.paragraphs == new_check.paragraphs == 2
    assert new_check.breaks == 1
    assert "&lt;b&gt;" in old_html and "&quot;now&quot;" in new_html and "&amp;" in new_html


@settings(max_examples=200, deadline=None)
@given(edited_pair())
def test_rendering_is_well_formed_and_loses_nothing(pair):
    old, new = pair
    ops = diff_words(old, new)
    inline = StructureChecker().check(render_html(ops))
    assert squash("".join(inline.changed["del"])) == squash("".join(t for k, t in ops if k == "delete"))
    assert squash("".join(inline.changed["ins"])) == squash("".join(t for k, t in ops if k == "insert"))
    old_html, new_html = render_side_by_side(ops)
    assert squash("".join(StructureChecker().check(old_html).text)) == squash(old)
    assert squash("".join(StructureChecker().check(new_html).text)) == squash(new)


# --- heavily rewritten text goes sentence by sentence --------------------------------


sentences_text = st.lists(
    st.sampled_from(["shall", "may", "the", "operator", "café", "a", "1", " ", " ", "\n", "\n\n", ".", ";", ",", ". "]),
    max_size=60,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(edited_pair(), st.tuples(sentences_text, sentences_text)))
def test_sentence_path_is_always_correct(pair):
    # No Myers allowance for sectioned text: every difference goes through sentence pairing.
    old, new = pair
    with mock.patch.object(redline, "_MIN_WORK", 0), mock.patch.object(redline, "_SPAN", 10**9):
        check_ops(old, new, diff_words(old, new))
    with (
        mock.patch.object(redline, "_MIN_WORK", 0),
        mock.patch.object(redline, "_SPAN", 10**9),
        mock.patch.object(redline, "_PAIR_CELLS", 1),
    ):
        check_ops(old, new, diff_words(old, new))


def test_rewritten_clause_keeps_similar_sentences_word_by_word_and_replaces_the_rest():
    kept = "The operator shall notify the authority within seven days of any change to the licence."
    edited = "The operator shall notify the regulator within seven days of any change to the licence."
    old_rest = " ".join(f"old{i} clause text about reporting number {i}." for i in range(60))
    new_rest = " ".join(f"new{i} wording on disclosure item {i + 100};" for i in range(60))
    old = f"{kept}\n\n{old_rest}"
    new = f"{edited}\n\n{new_rest}"
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert ops[:4] == [
        ("equal", "The operator shall notify the "),
        ("delete", "authority"),
        ("insert", "regulator"),
        ("equal", " within seven days of any change to the licence.\n\n"),
    ]
    # The rewritten part is shown as whole text out and whole text in, not as word soup.
    assert ops[4:] == [("delete", old_rest), ("insert", new_rest)]


def test_heavily_rewritten_long_clause_takes_the_sentence_path():
    # No timing here (the machine is shared): a rewrite this heavy must leave exact Myers for the bounded
    # sentence-by-sentence path, which shows far fewer, longer operations than a word-by-word alignment.
    old = prose(3_000, seed=5, vocabulary=300)
    new = prose(3_000, seed=6, vocabulary=300)
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert len(ops) < 600


def test_small_edits_in_many_sentences_stay_minimal():
    # A modest edit rate keeps the word-level alignment, sentence boundaries or not.
    old = boilerplate(60)
    new, cost = apply_edits(old, 12, seed=3)
    ops = diff_words(old, new)
    check_ops(old, new, ops)
    assert changed_token_count(ops) <= cost


def _longest_by_dynamic_programming(values: list[int]) -> int:
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@given(st.lists(st.integers(min_value=-20, max_value=20), max_size=60))
def test_longest_increasing_is_a_longest_strictly_increasing_run(values):
    chain = redline.longest_increasing(values)
    assert chain == sorted(set(chain))  # indexes in order, none twice
    assert all(values[a] < values[b] for a, b in zip(chain, chain[1:], strict=False))
    assert len(chain) == _longest_by_dynamic_programming(values)


def test_longest_increasing_small_cases():
    assert redline.longest_increasing([]) == []
    assert redline.longest_increasing([3, 1, 2, 5, 4]) == [1, 2, 4]
    assert redline.longest_increasing([2, 2, 2]) == [2]
