"""consult.word: reading Word drafts, refusing bad files, and writing versions and redlines that pandoc reads back."""

import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from docx import Document

from consult.drafts.parse import parse_draft
from consult.word import DocxError
from consult.word.reader import FIGURE_NOTE, docx_to_markdown
from consult.word.safety import open_docx
from consult.word.writer import ClauseText, layout, redline_docx, version_docx
from tests.word_helpers import (
    clauses_words,
    docx_bytes,
    markdown_words,
    need_pandoc,
    pandoc_docx,
    pandoc_text,
    rezip,
    tree,
    words,
    zip_bomb,
)

REAL_DRAFTS = [
    "v3-third-draft-2025-03-11_0-summary.md",
    "v3-third-draft-2025-03-11_1-transparency.md",
    "v3-third-draft-2025-03-11_2-copyright.md",
    "v3-third-draft-2025-03-11_3-safety-security.md",
    "v4-final-2025-07-10_3-safety-security.md",
]


def real(name, shared_data):
    return shared_data / "gpai-cop" / name


# --- import --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_DRAFTS)
def test_a_docx_made_by_pandoc_from_a_real_draft_imports_to_the_same_clauses_and_words(name, shared_data, tmp_path):
    need_pandoc()
    path = real(name, shared_data)
    original = parse_draft(path.read_text(encoding="utf-8"))
    imported = parse_draft(docx_to_markdown(pandoc_docx(path, tmp_path)))
    assert imported.title == original.title
    assert tree(imported.clauses) == tree(original.clauses)
    assert [c.level for c in imported.clauses] == [c.level for c in original.clauses]
    for before, after in zip(original.clauses, imported.clauses, strict=True):
        assert markdown_words(after.body) == markdown_words(before.body), before.key


def _styled_draft() -> bytes:
    document = Document()
    document.add_paragraph("Sample Code of Practice", style="Title")
    document.add_paragraph("Text before any heading.")
    document.add_heading("Commitment 1 Transparency {#transparency}", level=1)
    paragraph = document.add_paragraph("Signatories ")
    paragraph.add_run("shall").bold = True
    paragraph.add_run(" keep ")
    paragraph.add_run("records").italic = True
    paragraph.add_run(" * not a list # nor a heading.")
    document.add_paragraph("First point", style="List Bullet")
    document.add_paragraph("Nested point", style="List Bullet 2")
    document.add_paragraph("Step one", style="List Number")
    document.add_paragraph("Step two", style="List Number")
    document.add_paragraph("1. Not a list: a paragraph that starts with a number.")
    document.add_heading("Measure 1.1 Documentation", level=2)
    document.add_paragraph("A quoted legal text.", style="Quote")
    table = document.add_table(rows=2, cols=2)
    cells = [c for row in table.rows for c in row.cells]
    for cell, text in zip(cells, ["Item", "Due", "Form | A", "May"], strict=True):
        cell.text = text
    document.add_heading("Measure 1.2 Figures", level=2)
    paragraph = document.add_paragraph("See the chart: ")
    paragraph.add_run().add_picture(io.BytesIO(_png()))
    return docx_bytes(document)


def _png() -> bytes:
    """A 1×1 PNG."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


def test_heading_styles_give_the_tree_and_the_body_keeps_its_form():
    markdown = docx_to_markdown(_styled_draft())
    draft = parse_draft(markdown)
    assert draft.title == "Sample Code of Practice"
    assert [(c.key, c.number, c.parent_key) for c in draft.clauses] == [
        ("preamble", "", None),
        ("transparency", "1", None),
        ("measure-1-1", "1.1", "transparency"),
        ("measure-1-2", "1.2", "transparency"),
    ]
    assert draft.clauses[1].explicit_key
    body = draft.clauses[1].body
    assert "Signatories **shall** keep *records* \\* not a list # nor a heading." in body
    assert "- First point\n\n  - Nested point" in body
    assert "1. Step one\n\n2. Step two" in body
    assert "1\\. Not a list" in body
    assert "> A quoted legal text." in draft.clauses[2].body
    assert "| Item | Due |" in draft.clauses[2].body and "Form \\| A" in draft.clauses[2].body
    assert "\\" + FIGURE_NOTE[:-1] + "\\]" in draft.clauses[3].body


def test_footnotes_and_links_survive(tmp_path):
    need_pandoc()
    source = tmp_path / "notes.md"
    source.write_text(
        "## Article 1\n\nSee [the Act](https://eur-lex.europa.eu/eli/reg/2024/1689) and a note.[^n]\n\n"
        "[^n]: The note's own text.\n\n## Article 2\n\nMore.\n",
        encoding="utf-8",
    )
    markdown = docx_to_markdown(pandoc_docx(source, tmp_path, reader="markdown"))
    first = parse_draft(markdown).clauses[0]
    assert "[the Act](<https://eur-lex.europa.eu/eli/reg/2024/1689>)" in first.body
    assert first.body.endswith("\\[1\\] The note’s own text.") or first.body.endswith("\\[1\\] The note's own text.")


# --- refusals ------------------------------------------------------------------------------------------------


def _good() -> bytes:
    return _styled_draft()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: b"## Not Word at all\n", "not a Word document"),
        (lambda: b"PK\x03\x04 truncated zip", "not a valid zip"),
        (lambda: rezip(_good(), drop=("word/document.xml",)), "no word/document.xml"),
        (lambda: bytes.fromhex("d0cf11e0a1b11ae1") + bytes(4096), "password-protected"),
        (lambda: rezip(_good(), add={"word/vbaProject.bin": b"\x00" * 64}), "macros"),
        (
            lambda: rezip(
                _good(),
                replace={
                    "[Content_Types].xml": _good_content_types().replace(
                        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
                    )
                },
            ),
            "macro-enabled",
        ),
        (lambda: b"PK\x03\x04" + bytes(21 * 1024 * 1024), "larger than 20 MB"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(make, message):
    with pytest.raises(DocxError, match=re.escape(message)):
        docx_to_markdown(make())


def _good_content_types() -> bytes:
    with zipfile.ZipFile(io.BytesIO(_good())) as archive:
        return archive.read("[Content_Types].xml")


def test_a_zip_bomb_is_refused_from_its_directory():
    bomb = zip_bomb()
    assert len(bomb) < 20 * 1024 * 1024
    with pytest.raises(DocxError, match="expands to more than 200 MB"):
        open_docx(bomb)


def test_a_zip_whose_directory_lies_about_sizes_is_refused_while_reading():
    honest = zip_bomb(8 * 1024 * 1024)
    with pytest.raises(DocxError, match="expands to more than|damaged"):
        open_docx(honest, max_expanded=4 * 1024 * 1024 + 100)  # the directory sum is checked first...
    # ...so make the directory claim less than the part holds: patch the sizes in both headers.
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        info = archive.getinfo("word/media/zeros.bin")
    lying = honest.replace((info.file_size).to_bytes(8, "little"), (10).to_bytes(8, "little"))
    with pytest.raises(DocxError):
        open_docx(lying, max_expanded=4 * 1024 * 1024)


# --- export: a version ---------------------------------------------------------------------------------------


def _clause_texts(draft):
    return [ClauseText(c.key, c.number, c.heading, c.body, c.level, c.key == "preamble") for c in draft.clauses]


@pytest.mark.parametrize("name", [REAL_DRAFTS[1], REAL_DRAFTS[3]])
def test_a_version_exported_and_imported_again_gives_the_same_clauses_and_words(name, shared_data):
    original = parse_draft(real(name, shared_data).read_text(encoding="utf-8"))
    data = version_docx(
        "Safety and Security",
        ["Third draft (version 1)"],
        _clause_texts(original),
        {c.key for c in original.clauses if c.explicit_key},
    )
    again = parse_draft(docx_to_markdown(data))
    assert again.title == "Safety and Security"
    assert tree(again.clauses) == tree(original.clauses)
    assert clauses_words(again.clauses) == clauses_words(original.clauses)


def test_explicit_keys_survive_an_export():
    original = parse_draft("## Scope {#scope}\n\nText.\n\n## Other\n\nMore text.\n")
    again = parse_draft(docx_to_markdown(version_docx("T", [], _clause_texts(original), {"scope"})))
    assert [(c.key, c.explicit_key) for c in again.clauses] == [("scope", True), ("other", False)]


# --- export: a redline ---------------------------------------------------------------------------------------

OLD = """## Article 1 Scope {#scope}

This Code applies to providers of general-purpose AI models.

- (a) first duty;
- (b) second duty.

## Article 3 Moving {#moving}

This article will move to the end.

## Article 4 Gone {#gone}

Removed text entirely.

## Article 5 Split {#split}

First half of the clause. Second half of the clause.

## Article 6 Merged with the next {#merge-a}

Words of the first source.

## Article 7 Merged with the previous {#merge-b}

Words of the second source.

## Article 2 Definitions {#defs}

Terms have the meaning given in the Act.
"""

NEW = """## Article 1 Scope {#scope}

This Code applies to **all** providers of general-purpose AI models placed on the market.

- (a) first duty;
- (c) a new third duty.

| Term | Meaning |
|---|---|
| Model | A model |

## Article 2 Definitions {#defs}

Terms have the meaning given in the Act.

## Article 2a Split part one {#split}

First half of the clause.

## Article 2b Split part two {#split-two}

Second half of the clause.

## Article 3 New {#fresh}

A wholly new article.

## Article 4 Moved {#moving}

This article has moved to the end.

## Article 5 Merged {#merge-a}

Words of the first source. Words of the second source.
"""


# (old key, new key, relation) as consult.services.redlines.clause_pairs gives them: a split once per part, a merge
# once per source.
LINKS = [
    ("scope", "scope", "modified"),
    ("defs", "defs", "moved"),
    ("split", "split", "split"),
    ("split", "split-two", "split"),
    (None, "fresh", "added"),
    ("moving", "moving", "modified"),
    ("gone", None, "removed"),
    ("merge-a", "merge-a", "merged"),
    ("merge-b", "merge-a", "merged"),
]


def _pairs(old, new, links):
    old_by, new_by = {c.key: c for c in old}, {c.key: c for c in new}
    return [(old_by.get(a), new_by.get(b), *rest) for a, b, *rest in links]


@pytest.mark.parametrize("relations", [True, False], ids=["with-relations", "pairs-only"])
def test_layout_keeps_both_orders_and_writes_each_clause_once(relations):
    old = _clause_texts(parse_draft(OLD))
    new = _clause_texts(parse_draft(NEW))
    links = LINKS if relations else [link[:2] for link in LINKS]
    items = layout(_pairs(old, new, links), [c.key for c in old], [c.key for c in new])
    assert [i.old.key for i in items if i.old] == [c.key for c in old]
    assert [i.new.key for i in items if i.new] == [c.key for c in new]
    notes = {(i.old.key if i.old else None, i.new.key if i.new else None): i.note for i in items}
    # A split: the old clause deleted once, each part inserted; a merge: each source deleted, the result inserted.
    assert notes[("split", None)] == "continued in Article 2a Split part one, Article 2b Split part two"
    assert notes[(None, "split")] == notes[(None, "split-two")] == "continues Article 5 Split"
    assert notes[("merge-a", None)] == notes[("merge-b", None)] == "continued in Article 5 Merged"
    assert notes[(None, "merge-a")] == "continues Article 6 Merged with the next, Article 7 Merged with the previous"
    moved = [i for i in items if i.note.startswith("moved")]
    assert moved and all(i.old is None or i.new is None for i in moved)
    assert notes[("scope", "scope")] == ""


def test_accepting_every_change_gives_the_new_text_and_rejecting_the_old(tmp_path):
    need_pandoc()
    old = _clause_texts(parse_draft(OLD))
    new = _clause_texts(parse_draft(NEW))
    date = datetime(2025, 7, 10, 9, 0, tzinfo=UTC)
    data = redline_docx(
        "Redline", ["v1 → v2"], _pairs(old, new, LINKS), [c.key for c in old], [c.key for c in new], date=date
    )
    assert words(pandoc_text(data, tmp_path, "accept")) == clauses_words(new)
    assert words(pandoc_text(data, tmp_path, "reject")) == clauses_words(old)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml").decode()
        comments = archive.read("word/comments.xml").decode()
    assert '<w:ins w:id="' in xml and '<w:del w:id="' in xml
    assert set(re.findall(r'w:author="([^"]*)"', xml)) == {"Consult"}
    assert set(re.findall(r'<w:(?:ins|del) [^>]*w:date="([^"]*)"', xml)) == {"2025-07-10T09:00:00Z"}
    # Article 2 "Definitions" and Article 3 "Moving" cross each other: one of them is written as a move.
    assert re.search(r"Moved from Article (2 Definitions|3 Moving)", comments) and "Moved to Article" in comments
    assert comments.count("Continues Article 5 Split") == 2
    assert comments.count("Continued in Article 5 Merged") == 2
