"""Clause Markdown as a list of Word-shaped blocks (paragraphs and tables of formatted runs). Pure.

The Markdown is read with markdown-it-py (CommonMark and tables), so a block here is what a reader sees, never
Markdown syntax. A paragraph knows whether it is a quote, a list item (kind, depth, the list it belongs to and its
start number), a code line, or a heading inside the body (the title of a quote box: such headings are written
as bold paragraphs, so that Word's navigation pane shows only clauses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt

_LINK_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    link: str | None = None


@dataclass
class Para:
    runs: list[Run]
    style: str = "body"  # "body", "code", "heading" (a clause heading: level says which), "boxhead"
    level: int = 0
    quote: bool = False
    list_kind: str | None = None  # "bullet" / "ordered" for the first paragraph of a list item
    list_depth: int = 0  # 0 outside lists; 1 in a top-level list
    list_id: int = 0  # the top-level list it belongs to
    list_start: int = 1

    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass
class Table:
    rows: list[list[list[Run]]] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join("\t".join("".join(r.text for r in cell) for cell in row) for row in self.rows)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def heading_para(text: str, level: int) -> Para:
    """A clause heading as a paragraph."""
    return Para([Run(" ".join(text.split()))], style="heading", level=level)


def markdown_blocks(text: str) -> list[Para | Table]:
    """The blocks of a clause body, in order."""
    tokens = _parser().parse(text or "")
    blocks: list[Para | Table] = []
    quote = 0
    lists: list[tuple[str, int]] = []  # (kind, start) of the open lists
    item_first: list[bool] = []  # per open list item: its first paragraph is still to come
    list_counter = 0
    table: Table | None = None
    row: list[list[Run]] | None = None
    heading_in_body = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                list_counter += 1
            start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else 1
            lists.append(("bullet" if kind == "bullet_list_open" else "ordered", start))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            item_first.append(True)
        elif kind == "list_item_close":
            item_first.pop()
        elif kind == "heading_open":
            heading_in_body = True
        elif kind == "heading_close":
            heading_in_body = False
        elif kind == "table_open":
            table = Table()
        elif kind == "table_close":
            blocks.append(table)
            table = None
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and table is not None:
            table.rows.append(row)
        elif (
            kind == "inline"
            and row is not None
            and table is not None
            and tokens[index - 1].type in ("th_open", "td_open")
        ):
            row.append(_runs(token.children or [], bold=tokens[index - 1].type == "th_open"))
        elif kind == "inline":
            runs = _runs(token.children or [], bold=heading_in_body)
            para = Para(
                runs,
                quote=quote > 0,
                list_depth=len(lists),
                list_id=list_counter if lists else 0,
                style="boxhead" if heading_in_body else "body",
            )
            if lists and item_first and item_first[-1]:
                item_first[-1] = False
                para.list_kind, para.list_start = lists[-1]
            if para.text().strip() or para.list_kind:
                blocks.append(para)
        elif kind in ("code_block", "fence", "html_block"):
            for line in token.content.rstrip("\n").split("\n"):
                blocks.append(
                    Para(
                        [Run(line, code=True)],
                        style="code",
                        quote=quote > 0,
                        list_depth=len(lists),
                        list_id=list_counter if lists else 0,
                    )
                )
        index += 1
    return blocks


def _runs(children, *, bold: bool = False) -> list[Run]:
    runs: list[Run] = []
    strong = em = 0
    link: list[str | None] = []
    for child in children:
        kind = child.type
        current_link = link[-1] if link else None
        if kind == "text":
            runs.append(Run(child.content, bold or strong > 0, em > 0, False, current_link))
        elif kind == "code_inline":
            runs.append(Run(child.content, bold or strong > 0, em > 0, True, current_link))
        elif kind == "softbreak":
            runs.append(Run(" ", bold or strong > 0, em > 0, False, current_link))
        elif kind == "hardbreak":
            runs.append(Run("\n", bold or strong > 0, em > 0, False, current_link))
        elif kind == "strong_open":
            strong += 1
        elif kind == "strong_close":
            strong -= 1
        elif kind == "em_open":
            em += 1
        elif kind == "em_close":
            em -= 1
        elif kind == "link_open":
            href = str(child.attrGet("href") or "")
            link.append(href if href.lower().startswith(_LINK_SCHEMES) else None)
        elif kind == "link_close":
            if link:
                link.pop()
        elif kind == "image":
            runs.append(Run(f"[{child.content or 'figure'}]", italic=True))
        elif kind == "html_inline":
            runs.append(Run(child.content))
    return _merge(runs)


def _merge(runs: list[Run]) -> list[Run]:
    merged: list[Run] = []
    for run in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].code, merged[-1].link) == (
            run.bold,
            run.italic,
            run.code,
            run.link,
        ):
            last = merged.pop()
            merged.append(Run(last.text + run.text, run.bold, run.italic, run.code, run.link))
        else:
            merged.append(run)
    return merged


_WORD = re.compile(r"\s+|\S+\s*")


def tokens(runs: list[Run]) -> list[tuple[str, Run]]:
    """Words with their trailing spaces, each with the run it came from (a line break is its own token)."""
    out = []
    for run in runs:
        for piece in re.split(r"(\n)", run.text):
            if not piece:
                continue
            if piece == "\n":
                out.append(("\n", run))
                continue
            out.extend((match.group(0), run) for match in _WORD.finditer(piece))
    return out
