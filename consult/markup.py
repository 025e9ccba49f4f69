"""The one way user text becomes HTML: Markdown, then bleach with an allowlist."""
from __future__ import annotations

from functools import partial

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "a", "em", "strong", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "caption",
    "h1", "h2", "h3", "h4", "h5", "h6", "sup", "sub", "del", "ins", "dl", "dt", "dd",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "th": ["align", "scope"],
    "td": ["align"],
    "ol": ["start"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
MARKDOWN_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]


def _rel_nofollow_noopener(attrs, new=False):
    """Every link, written or linkified, gets rel="nofollow noopener"."""
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_rel_nofollow_noopener], skip_tags=["pre", "code"])],
)


def render_markdown(text: str | None) -> Markup:
    """Render user Markdown to safe HTML: raw HTML, script URLs and event attributes never pass."""
    if not text:
        return Markup("")
    html = markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return Markup(_cleaner.clean(html))
