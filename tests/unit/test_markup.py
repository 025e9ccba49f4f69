"""The renderer: safe output, faithful Markdown, and a cost that follows the length of the text, whatever it holds."""

from __future__ import annotations

import contextlib
import math
import sys
import time

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from consult import markup
from consult.markup import MAX_NESTING, RenderError, check_markdown, render_markdown

LIMIT = 10_000  # a comment's length limit; wording, questions and reasons are shorter or rendered the same way

# Pieces that trouble Markdown parsers and linkifiers: delimiters, brackets, HTML starts, quote and list markers,
# URL parts. Adversarial inputs are usually a short pattern repeated, so a test text is a pattern of runs of these,
# repeated up to the length wanted.
PIECES = [
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "*",
    "**",
    "_",
    "__",
    "<",
    ">",
    "`",
    "```",
    "\\",
    "~~",
    "|",
    "a",
    "-",
    ".",
    "@",
    ":",
    "/",
    "http://",
    "www.",
    "a.b",
    " ",
    "\n",
    "\n\n",
    "> ",
    "1. ",
    "- ",
    "   ",
    "    ",
    "#",
    "&",
    "&amp",
    "\t",
]

patterns = st.lists(st.tuples(st.sampled_from(PIECES), st.integers(1, 6)), min_size=1, max_size=8).map(
    lambda runs: "".join(piece * n for piece, n in runs)
)


def repeat_to(pattern: str, length: int) -> str:
    return (pattern * math.ceil(length / len(pattern)))[:length]


def work(text: str) -> int:
    """Deterministic cost of one render: the Python and C calls it makes (a profiler counts them)."""
    count = 0

    def profiler(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        with contextlib.suppress(RenderError):
            render_markdown(text)
    finally:
        sys.setprofile(None)
    return count


# The inputs that broke Python-Markdown, and the one fuzzing found in bleach's linkify (49 s for 10,000 chars).
KNOWN_WORST = ["[", "![", "1.    ", "a-a.", "*a**", "<", "_a", "[a](", "http://a-"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns)
@example("[")
@example("![")
@example("1.    ")
@example("a-a.")
@example("*a**")
@example("http://a-")
def test_cost_grows_linearly_with_length(pattern):
    """Doubling the text at most about doubles the work (a quadratic renderer would quadruple it)."""
    small, large = work(repeat_to(pattern, 1_000)), work(repeat_to(pattern, 2_000))
    assert large <= 2.4 * small + 2_000, (pattern, small, large)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns)
@example("[")
@example("![")
@example("a-a.")
@example("http://a-")
@example("<")
def test_text_at_the_length_limit_renders_or_is_refused_quickly(pattern):
    """The whole pipeline (markdown-it, bleach, linkify) on 10,000 characters: CPU time with a wide margin.

    Linear work is shown above by counting calls; a regular expression's backtracking happens inside one call and
    can only be seen in time, so this bound is on process CPU time (not wall-clock), 4 times the 0.5 s target and
    about 15 times what the slowest input measured (bench/bench_render.py). bleach's own URL regex took 49 s."""
    text = repeat_to(pattern, LIMIT)
    started = time.process_time()
    try:
        html = render_markdown(text)
    except RenderError:
        html = None
    spent = time.process_time() - started
    assert spent < 2.0, (pattern, spent)
    if html is not None:
        assert "<script" not in html and "javascript:" not in html.lower()


def test_nesting_past_the_limit_is_refused_not_truncated_and_never_recurses_without_end():
    deep_list = ("1. " + "   ") * 1400 + "x"  # raised RecursionError in Python-Markdown
    deep_quote = "> " * 5000 + "x"
    for text in (deep_list, deep_quote):
        with pytest.raises(RenderError):
            render_markdown(text)
        with pytest.raises(RenderError):
            check_markdown(text)


def test_nesting_a_real_draft_needs_is_accepted():
    box = "> #### Box\n>\n> 1. one\n>    - two\n>      - three\n>        1. four\n"
    html = render_markdown(box)
    assert "<blockquote>" in html and "<h4>Box</h4>" in html and html.count("<li>") == 4
    assert MAX_NESTING >= 12  # the third draft of the GPAI code nests 10 deep


def test_raw_html_script_urls_and_handlers_never_pass():
    html = render_markdown(
        "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
        '<a href="https://e.org" onclick="x()">y</a>\n\n<div style="x">z</div>'
    )
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript' not in html and "<div" not in html and '<a href="https://e.org" onclick' not in html
    assert "&lt;script&gt;" in html  # shown as text, so the author sees what they wrote


def test_tables_strikethrough_and_alignment():
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | ~~2~~ |")
    assert '<th align="left">a</th>' in html and '<td align="right"><del>2</del></td>' in html
    assert "style=" not in html


def test_links_get_rel_and_bare_urls_are_linked_only_with_a_scheme_or_www():
    html = render_markdown("see https://e.org/a_(b). www.example.org, and example.org; `https://code`")
    assert '<a href="https://e.org/a_(b)" rel="nofollow noopener">' in html
    assert '<a href="http://www.example.org" rel="nofollow noopener">www.example.org</a>,' in html
    assert ">example.org<" not in html and 'href="https://code"' not in html
    assert '<a href="https://w.org" rel="nofollow noopener">w</a>' in render_markdown("[w](https://w.org)")


def test_the_linkifier_uses_the_linear_url_pattern():
    """bleach's default URL_RE backtracks over 'a-a.' runs; the cleaner must use ours."""
    linkify = markup._cleaner.filters[0]
    assert linkify.keywords["url_re"] is markup.URL_RE


def test_empty_text():
    assert render_markdown("") == "" and render_markdown(None) == ""
