"""Word (.docx) to the project's Markdown draft format. Pure: bytes in, Markdown text out.

The contract:
* The `Title` style names the document (`# Title`). Without one, a lone `Heading 1` that opens the document is the
  title (pandoc writes a Markdown `# Title` so).
* `Heading 1` … `Heading 9` paragraphs (or styles based on them) start clauses. The shallowest heading level used
  becomes `##`, so a Word outline of Heading 1/2/3 gives `##`/`###`/`####`; deeper levels stop at `######`. The
  heading text is kept as written, so numbers in it and a trailing `{#key}` work as in Markdown.
* An unnumbered heading directly followed by quote paragraphs, or standing between two, is the title of a boxed
  note (e.g. "LEGAL TEXT") and stays in the body as `> #### …`, as the real drafts write it.
* The body keeps paragraphs, bold and italic, hyperlinks (http, https, mailto), bulleted and numbered lists with
  their nesting, tables (as pipe tables), quotes (styles named "Quote", "Intense Quote", "Block Text"), and line
  breaks. Footnotes become "[n]" in the text and "[n] note" paragraphs at the end of their clause. Images,
  charts and embedded objects become a visible "[figure omitted]". Deleted tracked changes are dropped and
  inserted ones kept (the text as if every change were accepted); field codes are skipped, their results kept.
* Text is escaped so that nothing in it reads as Markdown syntax: a paragraph never becomes a heading or a list
  by accident.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from lxml import etree

from .safety import DocxError, open_docx, repack

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_w = f"{{{W}}}"
FIGURE_NOTE = "[figure omitted]"
BOX_HEADING_STYLE = "Quote Heading"

_HEADING_STYLE = re.compile(r"heading\s*([1-9])$", re.I)
_LIST_STYLE = re.compile(r"list (?:bullet|number)\s*([2-9])$")
_QUOTE_STYLES = {"quote", "intense quote", "block text", "blockquote", "block quote"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^([#>+=\-]|\d+[.)](?=\s|$))")
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class _Span:
    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None
    raw: bool = False  # already Markdown (footnote marks, figure notes)


@dataclass
class _Block:
    kind: str  # "heading", "para", "table", "title", "subtitle"
    spans: list[_Span] = field(default_factory=list)
    level: int = 0  # heading level as in Word
    quote: bool = False
    list_kind: str | None = None  # "bullet" or "ordered"
    list_level: int = 0
    list_number: int = 1
    rows: list[list[str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)

    def plain(self) -> str:
        return "".join(s.text for s in self.spans if not s.raw).strip()


def docx_to_markdown(data: bytes) -> str:
    """Convert a checked .docx to Markdown in the draft format; DocxError when it cannot be read."""
    parts = open_docx(data)
    try:
        from docx import Document

        document = Document(io.BytesIO(repack(parts)))
    except DocxError:
        raise
    except Exception:  # noqa: BLE001  (python-docx raises many kinds for a damaged package; all mean the same to a drafter)
        raise DocxError("the file is not a readable Word document (.docx)") from None
    try:
        return _Reader(document, parts).markdown()
    except etree.XMLSyntaxError:
        raise DocxError("the Word document is damaged: a part is not well-formed XML") from None


class _Reader:
    def __init__(self, document, parts: dict[str, bytes]):
        self.document = document
        self.styles = {s.style_id: s for s in document.styles}
        self.rels = document.part.rels
        self.numbering = _Numbering(document)
        self.footnotes = self._footnotes(parts)
        self.counters: dict[tuple[str, int], int] = {}
        self.note_number = 0

    # --- styles ------------------------------------------------------------------------------------------
    def _style_names(self, style_id: str | None) -> list[str]:
        names, style, seen = [], self.styles.get(style_id) if style_id else None, set()
        while style is not None and style.style_id not in seen:
            seen.add(style.style_id)
            names.append((style.name or "").strip().lower())
            style = style.base_style
        return names

    def _style_numpr(self, style_id: str | None):
        style, seen = self.styles.get(style_id) if style_id else None, set()
        while style is not None and style.style_id not in seen:
            seen.add(style.style_id)
            numpr = style.element.find(f"{_w}pPr/{_w}numPr")
            if numpr is not None:
                return numpr
            style = style.base_style
        return None

    # --- blocks ------------------------------------------------------------------------------------------
    def blocks(self) -> list[_Block]:
        out: list[_Block] = []
        self._walk(self.document.element.body, out)
        return out

    def _walk(self, parent, out: list[_Block]) -> None:
        for child in parent:
            tag = child.tag
            if tag == f"{_w}p":
                block = self._paragraph(child)
                if block is not None:
                    out.append(block)
            elif tag == f"{_w}tbl":
                out.append(self._table(child))
            elif tag == f"{_w}sdt":
                content = child.find(f"{_w}sdtContent")
                if content is not None:
                    self._walk(content, out)
            elif tag in (f"{_w}ins", f"{_w}moveTo", f"{_w}customXml"):
                self._walk(child, out)

    def _paragraph(self, p) -> _Block | None:
        ppr = p.find(f"{_w}pPr")
        style_id = None
        numpr = None
        if ppr is not None:
            pstyle = ppr.find(f"{_w}pStyle")
            style_id = pstyle.get(f"{_w}val") if pstyle is not None else None
            numpr = ppr.find(f"{_w}numPr")
        names = self._style_names(style_id)
        spans: list[_Span] = []
        notes: list[tuple[int, str]] = []
        self._runs(p, spans, notes, None)
        block = _Block("para", spans, notes=notes)
        for name in names:
            heading = _HEADING_STYLE.match(name)
            if heading:
                block.kind, block.level = "heading", int(heading.group(1))
                break
            if name == "title":
                block.kind = "title"
                break
            if name == "subtitle":
                block.kind = "subtitle"
                break
            if name == BOX_HEADING_STYLE.lower():  # how Consult writes a heading inside a quote box
                block.kind, block.quote = "boxed", True
                break
            if name in _QUOTE_STYLES:
                block.quote = True
                break
        if not block.plain() and not any(s.raw for s in spans):
            return None
        if block.kind == "para":
            if numpr is None:
                numpr = self._style_numpr(style_id)
            self._list_item(block, numpr)
            # Word's "List Bullet 2", "List Number 3" styles nest by their own numbering, each at level 0.
            styled = next((_LIST_STYLE.match(n) for n in names if _LIST_STYLE.match(n)), None)
            if block.list_kind and styled and block.list_level == 0:
                block.list_level = int(styled.group(1)) - 1
        return block

    def _list_item(self, block: _Block, numpr) -> None:
        if numpr is None:
            return
        num_id_el, ilvl_el = numpr.find(f"{_w}numId"), numpr.find(f"{_w}ilvl")
        num_id = num_id_el.get(f"{_w}val") if num_id_el is not None else None
        if not num_id or num_id == "0":  # numId 0 switches numbering off
            return
        ilvl = int(ilvl_el.get(f"{_w}val", "0")) if ilvl_el is not None else 0
        fmt, start = self.numbering.level(num_id, ilvl)
        block.list_level = ilvl
        if fmt == "none":
            return
        block.list_kind = "bullet" if fmt == "bullet" else "ordered"
        for key in [k for k in self.counters if k[0] == num_id and k[1] > ilvl]:
            del self.counters[key]  # a shallower item restarts the deeper levels
        count = self.counters.get((num_id, ilvl), start - 1) + 1
        self.counters[(num_id, ilvl)] = count
        block.list_number = count

    def _runs(self, parent, spans: list[_Span], notes, link: str | None) -> None:
        for child in parent:
            tag = child.tag
            if tag == f"{_w}r":
                self._run(child, spans, notes, link)
            elif tag == f"{_w}hyperlink":
                rid = child.get(f"{{{R}}}id")
                target = None
                if rid and rid in self.rels and self.rels[rid].is_external:
                    target = self.rels[rid].target_ref
                    if not target.lower().startswith(_LINK_SCHEMES):
                        target = None
                self._runs(child, spans, notes, target)
            elif tag in (
                f"{_w}ins",
                f"{_w}moveTo",
                f"{_w}smartTag",
                f"{_w}fldSimple",
                f"{_w}customXml",
                f"{_w}dir",
                f"{_w}bdo",
            ):
                self._runs(child, spans, notes, link)
            elif tag == f"{_w}sdt":
                content = child.find(f"{_w}sdtContent")
                if content is not None:
                    self._runs(content, spans, notes, link)
            # w:del, w:moveFrom, bookmarks, comments, proofing marks: nothing to read

    def _run(self, r, spans: list[_Span], notes, link: str | None) -> None:
        bold, italic = self._run_format(r.find(f"{_w}rPr"))
        text: list[str] = []

        def flush():
            if text:
                spans.append(_Span("".join(text), bold, italic, link))
                text.clear()

        for child in r:
            tag = child.tag
            if tag == f"{_w}t":
                text.append(child.text or "")
            elif tag in (f"{_w}tab", f"{_w}ptab"):
                text.append(" ")
            elif tag in (f"{_w}br", f"{_w}cr"):
                if child.get(f"{_w}type") in (None, "textWrapping"):
                    text.append("\n")
            elif tag == f"{_w}noBreakHyphen":
                text.append("-")
            elif tag == f"{_w}sym":
                text.append(" ")
            elif tag in (f"{_w}footnoteReference", f"{_w}endnoteReference"):
                flush()
                note = self.footnotes.get(child.get(f"{_w}id")) if tag == f"{_w}footnoteReference" else None
                self.note_number += 1
                spans.append(_Span(f"\\[{self.note_number}\\]", raw=True))
                notes.append((self.note_number, note or ""))
            elif tag in (f"{_w}drawing", f"{_w}pict", f"{_w}object") or tag.endswith("}AlternateContent"):
                flush()
                spans.append(_Span(_escape_inline(FIGURE_NOTE), raw=True))
        flush()

    def _run_format(self, rpr) -> tuple[bool, bool]:
        if rpr is None:
            return False, False
        bold = _on(rpr.find(f"{_w}b"))
        italic = _on(rpr.find(f"{_w}i"))
        rstyle = rpr.find(f"{_w}rStyle")
        if rstyle is not None:
            names = self._style_names(rstyle.get(f"{_w}val"))
            bold = bold or any("strong" in n or n == "bold" for n in names)
            italic = italic or any("emphasis" in n or n == "italic" for n in names)
        return bold, italic

    def _table(self, tbl) -> _Block:
        rows = []
        for tr in tbl.iter(f"{_w}tr"):
            cells = []
            for tc in tr.findall(f"{_w}tc"):
                texts = []
                for p in tc.iter(f"{_w}p"):
                    spans: list[_Span] = []
                    self._runs(p, spans, [], None)
                    text = _inline(spans).replace("\n", " ").strip()
                    if text:
                        texts.append(text)
                cells.append(" ".join(texts))  # "|" is escaped with the rest of the text
            rows.append(cells)
        return _Block("table", rows=rows)

    def _footnotes(self, parts: dict[str, bytes]) -> dict[str, str]:
        xml = parts.get("word/footnotes.xml")
        if not xml:
            return {}
        root = etree.fromstring(xml, _XML_PARSER)
        notes = {}
        for note in root.findall(f"{_w}footnote"):
            if note.get(f"{_w}type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            texts = []
            for p in note.iter(f"{_w}p"):
                spans: list[_Span] = []
                self._runs(p, spans, [], None)
                text = _inline(spans).replace("\n", " ").strip()
                if text:
                    texts.append(text)
            notes[note.get(f"{_w}id")] = " ".join(texts)
        return notes

    # --- Markdown ----------------------------------------------------------------------------------------
    def markdown(self) -> str:
        blocks = self.blocks()
        title = None
        titles = [b for b in blocks if b.kind == "title"]
        if titles:
            title = titles[0].plain()
        else:
            level_one = [b for b in blocks if b.kind == "heading" and b.level == 1]
            if len(level_one) == 1 and blocks and blocks[0] is level_one[0]:
                title = level_one[0].plain()
                blocks[0].kind = "title"
        _mark_boxed_headings(blocks)
        levels = [b.level for b in blocks if b.kind == "heading"]
        shift = min(levels) - 2 if levels else 0
        return _assemble(title, blocks, shift)


class _Numbering:
    """numId → (format, start) of each level, from numbering.xml."""

    def __init__(self, document):
        self.levels: dict[tuple[str, int], tuple[str, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for node in root.findall(f"{_w}abstractNum"):
            levels = {}
            for lvl in node.findall(f"{_w}lvl"):
                fmt = lvl.find(f"{_w}numFmt")
                start = lvl.find(f"{_w}start")
                levels[int(lvl.get(f"{_w}ilvl", "0"))] = (
                    fmt.get(f"{_w}val", "decimal") if fmt is not None else "decimal",
                    _int(start.get(f"{_w}val") if start is not None else None, 1),
                )
            abstract[node.get(f"{_w}abstractNumId")] = levels
        for num in root.findall(f"{_w}num"):
            ref = num.find(f"{_w}abstractNumId")
            levels = dict(abstract.get(ref.get(f"{_w}val") if ref is not None else None, {}))
            for override in num.findall(f"{_w}lvlOverride"):
                ilvl = int(override.get(f"{_w}ilvl", "0"))
                start = override.find(f"{_w}startOverride")
                if start is not None and ilvl in levels:
                    levels[ilvl] = (levels[ilvl][0], _int(start.get(f"{_w}val"), 1))
            for ilvl, value in levels.items():
                self.levels[(num.get(f"{_w}numId"), ilvl)] = value

    def level(self, num_id: str, ilvl: int) -> tuple[str, int]:
        return self.levels.get((num_id, ilvl), ("bullet", 1))


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _on(element) -> bool:
    return element is not None and element.get(f"{_w}val", "true") not in ("0", "false", "off")


def _is_numbered(heading: str) -> bool:
    """Whether the draft parser takes a number from this heading (asked of the parser, not copied from it).

    The parser gives a clause a number only when its heading has one, and "" otherwise."""
    from ..drafts.parse import DraftError, parse_draft

    try:
        draft = parse_draft(f"## {heading}\n")
    except DraftError:
        return False
    return bool(draft.clauses[-1].number)


def _mark_boxed_headings(blocks: list[_Block]) -> None:
    """Headings that title a quote box stay in the body (see the module's contract)."""
    for index, block in enumerate(blocks):
        if block.kind != "heading":
            continue
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        before = blocks[index - 1] if index else None
        quote_after = after is not None and after.kind == "para" and after.quote
        quote_before = before is not None and before.kind == "para" and before.quote
        if quote_after and (quote_before or not _is_numbered(block.plain())):
            block.kind, block.quote = "boxed", True


def _escape_inline(text: str) -> str:
    """Backslash every character that could start Markdown inline syntax."""
    return _INLINE_SPECIAL.sub(r"\\\1", text)


def _escape_line(line: str) -> str:
    """Escape what would make a line a heading, quote, list item or rule ("1." becomes "1\\.")."""
    line = line.strip()
    return _LINE_START.sub(
        lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1] if m.group(0)[0].isdigit() else "\\" + m.group(0), line
    )


def _inline(spans: list[_Span]) -> str:
    """Spans as inline Markdown: escaped text, **bold**, *italic*, [links](url), merged where alike."""
    merged: list[_Span] = []
    for span in spans:
        if (
            merged
            and not span.raw
            and not merged[-1].raw
            and (merged[-1].bold, merged[-1].italic, merged[-1].link) == (span.bold, span.italic, span.link)
        ):
            merged[-1] = _Span(merged[-1].text + span.text, span.bold, span.italic, span.link)
        else:
            merged.append(span)
    out = []
    for span in merged:
        if span.raw:
            out.append(span.text)
            continue
        text = span.text
        core = text.strip(" \t")
        if not core:
            out.append(text)
            continue
        lead, trail = text[: len(text) - len(text.lstrip(" \t"))], text[len(text.rstrip(" \t")) :]
        piece = "\n".join(_escape_inline(part) for part in core.split("\n"))
        if span.italic and "\n" not in piece:
            piece = f"*{piece}*"
        if span.bold and "\n" not in piece:
            piece = f"**{piece}**"
        if span.link:
            piece = f"[{piece}](<{span.link.replace('>', '%3E').replace('<', '%3C')}>)"
        out.append(lead + piece + trail)
    return "".join(out)


def _assemble(title: str | None, blocks: list[_Block], shift: int) -> str:
    """Write the blocks as a Markdown draft: title, clause headings shifted to start at ##, bodies, notes."""
    out: list[str] = []
    if title:
        out += [f"# {title}", ""]
    pending_notes: list[tuple[int, str]] = []
    list_stack: list[int] = []  # content column of each open list level
    quote_open = False

    def flush_notes():
        for number, text in pending_notes:
            out.extend([f"\\[{number}\\] {text}".rstrip(), ""])
        pending_notes.clear()

    for block in blocks:
        if block.kind in ("title", "subtitle") and not out[2:]:
            continue  # the cover: its title is the draft's title
        if block.kind == "heading":
            flush_notes()
            list_stack.clear()
            quote_open = False
            level = max(2, min(6, block.level - shift))
            heading = " ".join(block.plain().split())
            out.extend([f"{'#' * level} {heading}", ""])
            continue
        if block.kind == "table":
            list_stack.clear()
            quote_open = False
            rows = block.rows or [[]]
            width = max(len(r) for r in rows) or 1
            rows = [r + [""] * (width - len(r)) for r in rows]
            out.append("| " + " | ".join(rows[0]) + " |")
            out.append("|" + "---|" * width)
            out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
            out.append("")
            continue
        pending_notes.extend(block.notes)
        if block.kind == "boxed":
            text = "#### " + " ".join(block.plain().split())
            lines = [text]
        else:
            text = _inline(block.spans).strip()
            lines = [_escape_line(line) for line in text.split("\n")]
            lines = [line for line in lines if line]
            if not lines:
                continue
            if len(lines) > 1:
                lines = [line + "\\" for line in lines[:-1]] + [lines[-1]]
            if block.kind in ("title", "subtitle"):
                lines[0] = f"**{lines[0]}**"
        indent = ""
        if block.list_kind:
            del list_stack[block.list_level :]
            column = list_stack[-1] if list_stack else 0
            marker = "- " if block.list_kind == "bullet" else f"{block.list_number}. "
            while len(list_stack) < block.list_level:
                list_stack.append(column)
            list_stack.append(column + len(marker))
            indent = " " * column
            lines = [indent + marker + lines[0]] + [" " * (column + len(marker)) + line for line in lines[1:]]
        else:
            list_stack.clear()
        prefix = "> " if block.quote else ""
        if block.quote and quote_open:
            out[-1] = ">"  # the same quote goes on
        quote_open = block.quote
        out.extend(prefix + line for line in lines)
        out.append("")
    flush_notes()
    return "\n".join(out).rstrip() + "\n"
