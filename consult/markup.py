"""The one way user text becomes HTML: Markdown (markdown-it-py, CommonMark), then bleach with an allowlist.

Contract of :func:`render_markdown`:

- It takes any string and returns sanitised HTML (``Markup``): raw HTML in the source is shown as text, never
  passed through; bleach then keeps only the tags, attributes and URL schemes allowed below, links bare URLs, and
  gives every link ``rel="nofollow noopener"``.
- Its cost grows linearly with the length of the text, whatever the text contains. markdown-it-py parses inline
  delimiters (``[``, ``*``, backticks...) with a delimiter stack in one pass, and counts how deep blocks nest
  instead of recursing without bound. Python-Markdown, used before, took 15-28 s on ``'[' * 10000`` and raised
  RecursionError on a list nested 1,400 deep (see ``bench/bench_render.py`` for the figures before and after).
- Text that nests blocks deeper than :data:`MAX_NESTING` allows (quotes and lists inside each other) raises
  :class:`RenderError` rather than silently losing its tail, so that a service can refuse it with a clear
  message and keep the text.

The same renderer serves user text (comments, responses) and drafts (clause bodies are rendered at import), so the
bound holds for a 5 MB draft too.
"""

from __future__ import annotations

import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "a",
        "em",
        "strong",
        "b",
        "i",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "caption",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "sup",
        "sub",
        "del",
        "ins",
        "dl",
        "dt",
        "dd",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "th": ["align", "scope"],
    "td": ["align"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# How deep blocks may nest (markdown-it counts each opening token: a quote, a list, a list item, a paragraph).
# The real third draft of the GPAI code nests 10 deep (lists inside boxed `>` quotes); the CommonMark preset's
# default is 20. Past it markdown-it drops the rest of the text, so we refuse such text instead (see RenderError).
MAX_NESTING = 16


class RenderError(ValueError):
    """The text cannot be rendered faithfully (it nests blocks too deeply)."""


def _table_align_and_del(state) -> None:
    """Core rule: table alignment as the allowed `align` attribute (bleach drops `style`), `~~x~~` as <del>."""
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = token.attrGet("style") or ""
            if style.startswith("text-align:"):
                token.attrs.pop("style", None)
                token.attrSet("align", style.split(":", 1)[1])
        for child in token.children or ():
            if child.type in ("s_open", "s_close"):
                child.tag = "del"


_md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING, "xhtmlOut": False}).enable(
    ["table", "strikethrough"]
)
_md.core.ruler.push("consult_table_align_and_del", _table_align_and_del)

# The same block parser without inline parsing, for checking a whole draft before its preview: blocks alone
# decide how deep the text nests, and skipping inline parsing makes the check ~1,000 times cheaper on hostile
# inline text (1 MB of '[' : 0.01 s instead of 15 s).
_md_blocks = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING}).enable(["table", "strikethrough"])
_md_blocks.core.ruler.disable(["inline", "text_join"])


def _rel_nofollow_noopener(attrs, new=False):
    """Every link, written or linkified, gets rel="nofollow noopener"."""
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


# Bare URLs become links only when they start with a scheme or "www.": one literal prefix, then one character
# class, so the search is linear. bleach's own URL_RE (bare domains like "example.org") backtracks over runs of
# "a-a." and took 49 s on 10,000 such characters.
URL_RE = re.compile(r"""(?<![\w@/.])(?:https?://|www\.)[^\s<>"'`{}|\\^]+""", re.IGNORECASE)

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_rel_nofollow_noopener], skip_tags=["pre", "code"], url_re=URL_RE)],
)


def _parse(text: str, parser: MarkdownIt = _md) -> list:
    try:
        tokens = parser.parse(text)
    except RecursionError:  # not expected with maxNesting; if it ever happens, a refusal, never a 500
        raise RenderError("blocks nested too deeply") from None
    # A container opened this deep makes markdown-it skip whatever it contains; refuse rather than lose text.
    if any(t.level >= MAX_NESTING - 2 for t in tokens):
        raise RenderError("blocks nested too deeply")
    return tokens


def check_markdown(text: str) -> None:
    """Raise RenderError if the text could not be rendered faithfully (parses its blocks only: cheap)."""
    _parse(text or "", _md_blocks)


def markdown_to_html(text: str) -> str:
    """CommonMark (with tables and strike-through) to HTML, unsanitised; RenderError if blocks nest too deeply."""
    return _md.renderer.render(_parse(text), _md.options, {})


def render_markdown(text: str | None) -> Markup:
    """Render user Markdown to safe HTML in linear time: raw HTML, script URLs and event attributes never pass."""
    if not text:
        return Markup("")
    return Markup(_cleaner.clean(markdown_to_html(text)))
