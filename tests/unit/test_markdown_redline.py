"""The redline of rendered Markdown: blocks first, then words; no syntax character ever shows as a change."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from consult.redline import render_clause_redline, render_markdown_redline

WORDS = st.sampled_from("risk model provider shall assess report security incident office framework".split())
SYNTAX = set("#*_>-|`[]()!~+=")


@st.composite
def markdown_pair(draw):
    """A random Markdown text, and the same text with only some words replaced."""
    kinds = draw(st.lists(st.sampled_from(["p", "h", "ul", "ol", "quote", "bold", "table"]), min_size=1, max_size=6))
    old_words, new_words = [], []

    def words(n):
        a = [draw(WORDS) for _ in range(n)]
        b = [w if draw(st.integers(0, 3)) else draw(WORDS) for w in a]
        old_words.append(" ".join(a))
        new_words.append(" ".join(b))
        return len(old_words) - 1

    templates = []
    for kind in kinds:
        i = words(draw(st.integers(1, 6)))
        templates.append(
            {
                "p": "{%d}",
                "h": "#### {%d}",
                "ul": "- {%d}\n- {%d}",
                "ol": "1. {%d}",
                "quote": "> {%d}",
                "bold": "**{%d}** end",
                "table": "| {%d} | x |\n|---|---|\n| y | z |",
            }[kind].replace("%d", str(i))
        )
    template = "\n\n".join(templates)
    return template.format(*old_words), template.format(*new_words)


def changes(html: str) -> str:
    return "".join(re.findall(r"<(?:ins|del)>(.*?)</(?:ins|del)>", html, re.S))


@settings(max_examples=200, deadline=None)
@given(markdown_pair())
def test_only_words_change_never_syntax(pair):
    old, new = pair
    html = render_markdown_redline(old, new)
    assert not (set(changes(html)) & SYNTAX), html
    if old == new:
        assert "<ins>" not in html and "<del>" not in html


def test_blocks_render_as_the_reader_sees_them():
    old = "> #### Box\n> The **provider** shall report.\n\n- first item\n- second item"
    new = "> #### Box\n> The **provider** must report.\n\n- first item\n- second item\n- third item"
    html = render_markdown_redline(old, new)
    assert html.startswith("<blockquote>")
    assert "<del>shall</del><ins>must</ins>" in html
    assert "<ins>third item</ins>" in html
    assert "&gt;" not in html and "####" not in html


def test_formatting_only_change_is_noted_briefly():
    html = render_markdown_redline(
        "The provider shall report.", "The **provider** shall report.", format_note="formatting changed"
    )
    assert "<strong>provider</strong>" in html and "formatting changed" in html
    assert "<ins>" not in html and "<del>" not in html


def test_user_text_is_escaped():
    html = render_markdown_redline("Safe text here.", "Safe <script>alert(1)</script> text here.")
    assert "<script>" not in html and "&lt;script&gt;" in html
    html = render_markdown_redline("", "[x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    assert "href" not in html  # markdown-it refuses the script URL: it stays text, escaped
    assert "<img" not in html


def test_an_unchanged_clause_gives_an_empty_redline():
    class C:
        heading = "Measure 1. Title"
        body = "Some *text*.\n\n- a list item"

    html = render_clause_redline(C, C)
    assert "<ins>" not in html and "<del>" not in html
