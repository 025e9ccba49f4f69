"""Building .docx files: a version, a redline with real tracked changes, a table. Pure: plain values in, bytes out.

Redline contract (`redline_docx`):
* Every difference is a Word tracked change (`w:ins` / `w:del`, author and date given by the caller), and whole
  paragraphs that appear or disappear have their paragraph mark tracked too. So Word's Accept All leaves exactly the
  newer text and Reject All exactly the older, in order; pandoc's `--track-changes=accept|reject` reads the same.
* The caller gives clause pairs (old, new, status) in any order. Pairs whose old clauses keep their relative order
  are diffed in place (paragraphs aligned first, words within them second). A clause that moved, or one old clause
  continued by several new ones (a split) or several old by one new (a merge), cannot be diffed in place without
  scrambling one side's order: it is written as a deletion where it was and an insertion where it is, each with a
  Word comment naming the other end ("Moved from Measure II.4.1 …", "Continued in …", "Continues …"). Every old
  clause is deleted at most once and every new clause inserted at most once, however many links it has.
"""

from __future__ import annotations

import difflib
import io
import os
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.run import Run as DocxRun

from ..redline import longest_increasing
from .blocks import Para, Run, Table, heading_para, markdown_blocks, tokens
from .reader import BOX_HEADING_STYLE

AUTHOR = "Consult"
_BULLETS = "•◦▪•◦▪•◦▪"


@dataclass(frozen=True)
class ClauseText:
    """What a Word file needs of a clause."""

    key: str
    number: str
    heading: str
    body: str
    level: int
    is_preamble: bool = False

    def label(self) -> str:
        return self.heading


class Builder:
    """A python-docx document written paragraph by paragraph, with tracked changes where asked."""

    def __init__(self, *, author: str = AUTHOR, date: datetime | None = None, landscape: bool = False):
        self.document = Document()
        self.body = self.document.element.body
        self.sect = self.body.find(qn("w:sectPr"))
        self.author = author
        self.date = (date or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.change_id = 0
        self.nums: dict[tuple[int, str], str] = {}
        self.abstract: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.list_base = 0  # lists of different clauses never share numbering
        self.box_style_id: str | None = None
        styles = self.document.styles
        styles["Normal"].font.size = Pt(11)
        if landscape:
            section = self.document.sections[0]
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = section.page_height, section.page_width

    # --- low level -----------------------------------------------------------------------------------------
    def _next_id(self) -> str:
        self.change_id += 1
        return str(self.change_id)

    def _mark(self, tag: str):
        element = OxmlElement(tag)
        element.set(qn("w:id"), self._next_id())
        element.set(qn("w:author"), self.author)
        element.set(qn("w:date"), self.date)
        return element

    def _append(self, element) -> None:
        self.sect.addprevious(element)

    def _link_id(self, url: str) -> str:
        if url not in self.links:
            self.links[url] = self.document.part.relate_to(url, RT.HYPERLINK, is_external=True)
        return self.links[url]

    def _num_id(self, list_id: int, kind: str, start: int) -> str:
        key = (self.list_base + list_id, kind)
        if key not in self.nums:
            numbering = self.document.part.numbering_part.element
            if kind not in self.abstract:
                abstract_id = str(900 + len(self.abstract))
                node = OxmlElement("w:abstractNum")
                node.set(qn("w:abstractNumId"), abstract_id)
                for level in range(9):
                    lvl = OxmlElement("w:lvl")
                    lvl.set(qn("w:ilvl"), str(level))
                    for tag, value in (
                        ("w:start", "1"),
                        ("w:numFmt", "bullet" if kind == "bullet" else "decimal"),
                        ("w:lvlText", _BULLETS[level] if kind == "bullet" else f"%{level + 1}."),
                    ):
                        child = OxmlElement(tag)
                        child.set(qn("w:val"), value)
                        lvl.append(child)
                    ppr = OxmlElement("w:pPr")
                    ind = OxmlElement("w:ind")
                    ind.set(qn("w:left"), str(720 * (level + 1)))
                    ind.set(qn("w:hanging"), "360")
                    ppr.append(ind)
                    lvl.append(ppr)
                    node.append(lvl)
                first_num = numbering.find(qn("w:num"))
                if first_num is not None:
                    first_num.addprevious(node)
                else:
                    numbering.append(node)
                self.abstract[kind] = abstract_id
            num_id = str(900 + len(self.nums))
            num = OxmlElement("w:num")
            num.set(qn("w:numId"), num_id)
            ref = OxmlElement("w:abstractNumId")
            ref.set(qn("w:val"), self.abstract[kind])
            num.append(ref)
            if kind == "ordered":
                override = OxmlElement("w:lvlOverride")
                override.set(qn("w:ilvl"), "0")
                start_el = OxmlElement("w:startOverride")
                start_el.set(qn("w:val"), str(start))
                override.append(start_el)
                num.append(override)
            numbering.append(num)
            self.nums[key] = num_id
        return self.nums[key]

    def _box_heading_style(self) -> str:
        """A bold quote style for headings inside quote boxes ("LEGAL TEXT"), so they stay out of the outline."""
        if self.box_style_id is None:
            styles = self.document.styles
            style = styles.add_style(BOX_HEADING_STYLE, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = styles["Quote"]
            style.font.bold = True
            self.box_style_id = style.style_id
        return self.box_style_id

    def _paragraph(self, para: Para, mark: str | None = None):
        """An empty w:p with the paragraph's style, numbering and indentation; `mark` tracks its paragraph mark."""
        p = OxmlElement("w:p")
        ppr = OxmlElement("w:pPr")
        style = None
        if para.style == "heading":
            style = "Title" if para.level == 0 else f"Heading{min(9, max(1, para.level))}"
        elif para.style == "subtitle":
            style = "Subtitle"
        elif para.style == "boxhead":
            style = self._box_heading_style()
        elif para.quote:
            style = "Quote"
        elif para.list_depth:
            style = "ListParagraph"
        if style:
            pstyle = OxmlElement("w:pStyle")
            pstyle.set(qn("w:val"), style)
            ppr.append(pstyle)
        if para.list_kind:
            numpr = OxmlElement("w:numPr")
            ilvl = OxmlElement("w:ilvl")
            ilvl.set(qn("w:val"), str(min(8, para.list_depth - 1)))
            num = OxmlElement("w:numId")
            num.set(qn("w:val"), self._num_id(para.list_id, para.list_kind, para.list_start))
            numpr.append(ilvl)
            numpr.append(num)
            ppr.append(numpr)
        elif para.list_depth:
            ind = OxmlElement("w:ind")
            ind.set(qn("w:left"), str(720 * para.list_depth))
            ppr.append(ind)
        if mark:
            rpr = OxmlElement("w:rPr")
            rpr.append(self._mark(f"w:{mark}"))
            ppr.append(rpr)
        if len(ppr):
            p.append(ppr)
        return p

    def _run(self, text: str, run: Run, deleted: bool):
        r = OxmlElement("w:r")
        rpr = OxmlElement("w:rPr")
        if run.link:
            style = OxmlElement("w:rStyle")
            style.set(qn("w:val"), "Hyperlink")
            rpr.append(style)
        if run.code:
            fonts = OxmlElement("w:rFonts")
            for attr in ("w:ascii", "w:hAnsi", "w:cs"):
                fonts.set(qn(attr), "Courier New")
            rpr.append(fonts)
        if run.bold:
            rpr.append(OxmlElement("w:b"))
        if run.italic:
            rpr.append(OxmlElement("w:i"))
        if run.link:
            color = OxmlElement("w:color")
            color.set(qn("w:val"), "0563C1")
            underline = OxmlElement("w:u")
            underline.set(qn("w:val"), "single")
            rpr.append(color)
            rpr.append(underline)
        if len(rpr):
            r.append(rpr)
        parts = text.split("\n")
        for n, part in enumerate(parts):
            if n:
                r.append(OxmlElement("w:br"))
            if part:
                t = OxmlElement("w:delText" if deleted else "w:t")
                t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                t.text = part
                r.append(t)
        return r

    def _fill(self, p, pieces: list[tuple[str, Run, str | None]]) -> list:
        """Append (text, run, change) pieces to a paragraph, grouping alike ones; returns the w:r elements."""
        made = []
        groups: list[list] = []
        for text, run, change in pieces:
            key = (run, change)
            if groups and groups[-1][0] == key:
                groups[-1][1] += text
            else:
                groups.append([key, text])
        container = None
        container_key = None
        for (run, change), text in groups:
            r = self._run(text, run, change == "del")
            made.append(r)
            holder_key = (run.link, change)
            if run.link:
                if container is None or container_key != holder_key:
                    link = OxmlElement("w:hyperlink")
                    link.set(qn("r:id"), self._link_id(run.link))
                    p.append(link)
                    target = link
                    if change:
                        wrap = self._mark(f"w:{change}")
                        link.append(wrap)
                        target = wrap
                    container, container_key = target, holder_key
                container.append(r)
                continue
            container, container_key = None, None
            if change:
                wrap = self._mark(f"w:{change}")
                wrap.append(r)
                p.append(wrap)
            else:
                p.append(r)
        return made

    # --- blocks --------------------------------------------------------------------------------------------
    def para(self, para: Para, change: str | None = None) -> list:
        """Write a paragraph, whole, or wholly inserted/deleted; returns its w:r elements."""
        p = self._paragraph(para, change)
        made = self._fill(p, [(text, run, change) for text, run in tokens(para.runs)])
        self._append(p)
        return made

    def para_diff(self, old: Para, new: Para) -> list:
        """Write the newer paragraph with its word-level differences from the older one tracked."""
        p = self._paragraph(new)
        old_tokens, new_tokens = tokens(old.runs), tokens(new.runs)
        matcher = difflib.SequenceMatcher(
            None, [t.strip() or t for t, _ in old_tokens], [t.strip() or t for t, _ in new_tokens], autojunk=False
        )
        pieces = []
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                # Equal words may differ in the spaces around them ("mitigations " before "to", "mitigations" at
                # the end): the shared text is written once, each side's rest tracked, so neither side loses a space.
                for (old_text, old_run), (text, run) in zip(old_tokens[i1:i2], new_tokens[j1:j2], strict=True):
                    common = len(os.path.commonprefix([old_text, text]))
                    if common:
                        pieces.append((text[:common], run, None))
                    if old_text[common:]:
                        pieces.append((old_text[common:], old_run, "del"))
                    if text[common:]:
                        pieces.append((text[common:], run, "ins"))
                continue
            pieces.extend((text, run, "del") for text, run in old_tokens[i1:i2])
            pieces.extend((text, run, "ins") for text, run in new_tokens[j1:j2])
        made = self._fill(p, pieces)
        self._append(p)
        return made

    def table(self, table: Table, change: str | None = None, header: bool = False) -> None:
        """Write a table, whole, or with every row tracked as inserted or deleted."""
        if not table.rows:
            return
        width = max(len(row) for row in table.rows) or 1
        docx_table = self.document.add_table(rows=0, cols=width)
        docx_table.style = self.document.styles["Table Grid"]
        for n, row in enumerate(table.rows):
            cells = docx_table.add_row().cells
            if header and n == 0:  # Word repeats the header row on every page
                cells[0]._tc.getparent().get_or_add_trPr().append(OxmlElement("w:tblHeader"))
            if change:
                trpr = cells[0]._tc.getparent().get_or_add_trPr()
                trpr.append(self._mark(f"w:{change}"))
            for cell, runs in zip(cells, row, strict=False):  # a short row leaves its last cells empty
                p = cell.paragraphs[0]._p
                self._fill(p, [(text, run, change) for text, run in tokens(runs)])
        element = docx_table._tbl
        self._append(element)  # add_table put it before sectPr already; keep the order explicit
        self._append(OxmlElement("w:p"))

    def block(self, block, change: str | None = None) -> list:
        """Write a paragraph or a table; returns the paragraph's w:r elements (none for a table)."""
        if isinstance(block, Table):
            self.table(block, change)
            return []
        return self.para(block, change)

    def comment(self, runs: list, text: str) -> None:
        """A Word comment on the given w:r elements."""
        if runs:
            self.document.add_comment(
                [DocxRun(runs[0], None), DocxRun(runs[-1], None)], text=text, author=self.author, initials="C"
            )

    def to_bytes(self) -> bytes:
        """The document as .docx bytes."""
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


# --- a version -------------------------------------------------------------------------------------------------


def clause_blocks(clause: ClauseText, top_level: int) -> list[Para | Table]:
    """A clause's heading (none for a preamble) and body blocks, with the heading at its Word level."""
    blocks: list[Para | Table] = []
    if not clause.is_preamble:
        heading = clause.heading
        blocks.append(heading_para(heading, max(1, clause.level - top_level + 1)))
    return blocks + markdown_blocks(clause.body)


def heading_text(clause: ClauseText, explicit_key: bool) -> str:
    """A clause heading as written in the draft: with its `{#key}` when the key was pinned."""
    return f"{clause.heading} {{#{clause.key}}}" if explicit_key else clause.heading


def version_docx(
    title: str, cover: list[str], clauses: list[ClauseText], explicit_keys: set[str] = frozenset()
) -> bytes:
    """A version as Word: the title and cover lines (Title, Subtitle), then every clause with heading styles."""
    builder = Builder()
    _cover(builder, title, cover)
    top = min((c.level for c in clauses if not c.is_preamble), default=2)
    for n, clause in enumerate(clauses):
        builder.list_base = n * 10000
        if clause.key in explicit_keys:
            clause = ClauseText(
                clause.key, clause.number, heading_text(clause, True), clause.body, clause.level, clause.is_preamble
            )
        for block in clause_blocks(clause, top):
            builder.block(block)
    return builder.to_bytes()


def _cover(builder: Builder, title: str, cover: list[str]) -> None:
    builder.para(Para([Run(title)], style="heading", level=0))
    for line in cover:
        builder.para(Para([Run(line)], style="subtitle"))


# --- a redline -------------------------------------------------------------------------------------------------


@dataclass
class _Item:
    old: ClauseText | None
    new: ClauseText | None
    note: str = ""


def layout(pairs: list[tuple], old_order: list[str], new_order: list[str]) -> list[_Item]:
    """Order the pairs so that both versions read in order: diff in place what can be, delete + insert the rest.

    A pair is (old, new) or (old, new, relation) with a relation of drafts/lineage.RELATIONS. A clause that is in
    several pairs, or a pair whose relation is "split" or "merged", is never diffed in place: each old clause is
    deleted once and each new clause inserted once, so accepting every change gives the newer version exactly."""
    old_pos = {key: n for n, key in enumerate(old_order)}
    new_pos = {key: n for n, key in enumerate(new_order)}
    pairs = [(p[0], p[1], p[2] if len(p) > 2 else None) for p in pairs]
    links_of_old: dict[str, int] = {}
    links_of_new: dict[str, int] = {}
    for old, new, _relation in pairs:
        if old and new:
            links_of_old[old.key] = links_of_old.get(old.key, 0) + 1
            links_of_new[new.key] = links_of_new.get(new.key, 0) + 1
    used_old, used_new = set(), set()
    paired: list[tuple[ClauseText, ClauseText]] = []
    extra_old, extra_new = [], []
    for old, new, relation in sorted(
        pairs, key=lambda p: (new_pos.get(p[1].key, -1) if p[1] else -1, old_pos.get(p[0].key, -1) if p[0] else -1)
    ):
        single = (
            old
            and new
            and relation not in ("split", "merged")
            and links_of_old[old.key] == 1
            and links_of_new[new.key] == 1
        )
        if single and old.key not in used_old and new.key not in used_new:
            used_old.add(old.key)
            used_new.add(new.key)
            paired.append((old, new))
        else:
            if old and old.key not in used_old:
                used_old.add(old.key)
                extra_old.append(_Item(old, None))
            if new and new.key not in used_new:
                used_new.add(new.key)
                extra_new.append(_Item(None, new))
    # The longest run of pairs whose old clauses are in order stays in place; the rest become moves.
    keep = set(longest_increasing([old_pos[o.key] for o, _ in paired]))
    anchors = []
    for n, (old, new) in enumerate(paired):
        if n in keep:
            anchors.append(_Item(old, new))
        else:
            extra_old.append(_Item(old, None, f"moved to {new.label()}"))
            extra_new.append(_Item(None, new, f"moved from {old.label()}"))
    for item in extra_new:
        if not item.note and item.new:
            sources = [o.label() for o, n, _r in pairs if o and n and n.key == item.new.key]
            if sources:
                item.note = "continues " + ", ".join(sources)
    for item in extra_old:
        if not item.note and item.old:
            targets = [n.label() for o, n, _r in pairs if o and n and o.key == item.old.key]
            if targets:
                item.note = "continued in " + ", ".join(targets)
    # Merge: between two anchors come the deletions of that stretch of the old version, then its insertions.
    anchor_old = [old_pos[a.old.key] for a in anchors]
    anchor_new = [new_pos[a.new.key] for a in anchors]
    slots: list[list[_Item]] = [[] for _ in range(len(anchors) + 1)]
    for item in sorted(extra_old, key=lambda i: old_pos[i.old.key]):
        slots[bisect_left(anchor_old, old_pos[item.old.key])].append(item)
    inserts: list[list[_Item]] = [[] for _ in range(len(anchors) + 1)]
    for item in sorted(extra_new, key=lambda i: new_pos[i.new.key]):
        inserts[bisect_left(anchor_new, new_pos[item.new.key])].append(item)
    out: list[_Item] = []
    for n in range(len(anchors) + 1):
        out.extend(slots[n])
        out.extend(inserts[n])
        if n < len(anchors):
            out.append(anchors[n])
    return out


def _signature(block) -> str:
    """What two blocks must share to count as the same block: kind, style and words."""
    kind = "t" if isinstance(block, Table) else f"p{block.style}{block.quote}{block.list_kind}"
    return kind + "\x00" + " ".join(block.text().split())


def _similar(a: str, b: str) -> bool:
    """Whether two paragraphs at the same place read better as one edited paragraph than as a replacement."""
    wa, wb = a.split(), b.split()
    if not wa or not wb:
        return False
    # Paragraphs at the same place that share a third of their words read better as one edited paragraph.
    return difflib.SequenceMatcher(None, wa, wb, autojunk=False).quick_ratio() >= 0.34


def _diff_blocks(builder: Builder, old_blocks: list, new_blocks: list) -> list:
    """Write a clause pair: blocks aligned, then words within paired paragraphs. Returns the first w:r elements."""
    first: list = []
    old_keys = [_signature(b) for b in old_blocks]
    new_keys = [_signature(b) for b in new_blocks]
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for block in new_blocks[j1:j2]:
                made = builder.block(block)
                first = first or made
            continue
        olds, news = old_blocks[i1:i2], new_blocks[j1:j2]
        pairs = 0
        while (
            pairs < min(len(olds), len(news))
            and isinstance(olds[pairs], Para)
            and isinstance(news[pairs], Para)
            and _similar(olds[pairs].text(), news[pairs].text())
        ):
            pairs += 1
        for n in range(pairs):
            made = builder.para_diff(olds[n], news[n])
            first = first or made
        for block in olds[pairs:]:
            made = builder.block(block, "del")
            first = first or made
        for block in news[pairs:]:
            made = builder.block(block, "ins")
            first = first or made
    return first


def redline_docx(
    title: str,
    cover: list[str],
    pairs: list[tuple],
    old_order: list[str],
    new_order: list[str],
    *,
    date: datetime,
    author: str = AUTHOR,
) -> bytes:
    """The redline between two versions as Word with tracked changes (see the module's contract)."""
    builder = Builder(author=author, date=date)
    _cover(builder, title, cover)
    levels = [c.level for pair in pairs for c in pair[:2] if c and not c.is_preamble]
    top = min(levels, default=2)
    for n, item in enumerate(layout(pairs, old_order, new_order)):
        builder.list_base = n * 10000
        if item.old and item.new:
            runs = _diff_blocks(builder, clause_blocks(item.old, top), clause_blocks(item.new, top))
        elif item.new:
            runs = []
            for block in clause_blocks(item.new, top):
                made = builder.block(block, "ins")
                runs = runs or made
        else:
            runs = []
            for block in clause_blocks(item.old, top):
                made = builder.block(block, "del")
                runs = runs or made
        if item.note:
            builder.comment(runs, item.note[0].upper() + item.note[1:] + ".")
    return builder.to_bytes()


# --- a table ---------------------------------------------------------------------------------------------------


def table_docx(title: str, cover: list[str], headers: list[str], rows, empty: str) -> bytes:
    """A landscape document with a title and one table (its cells' Markdown kept as plain text)."""
    builder = Builder(landscape=True)
    _cover(builder, title, cover)
    table = Table([[[Run(h, bold=True)] for h in headers]])
    count = 0
    for row in rows:
        count += 1
        table.rows.append([[Run(str(value or ""))] for value in row])
    if count:
        builder.table(table, header=True)
    else:
        builder.para(Para([Run(empty)]))
    return builder.to_bytes()
