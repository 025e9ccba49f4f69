"""Reading Word files in tests: pandoc as an independent reader, and word sequences to compare texts by."""

import re
import shutil
import subprocess

from markdown_it import MarkdownIt

from tests.conftest import require

PANDOC = shutil.which("pandoc")
_MD = MarkdownIt("commonmark").enable("table")
_WORD = re.compile(r"[^\W_]+")
# List markers as pandoc's plain text writes them ("1.  ", "-   ", nested "7.  1.  "): not words of the text.
_MARKERS = re.compile(r"^[ \t]*(?:(?:\d+[.)]|[-•◦▪])(?:[ \t]+|$))+", re.MULTILINE)


def need_pandoc():
    require(PANDOC is not None, "pandoc is not installed (Debian: apt-get install pandoc)")


def words(text: str) -> list[str]:
    """The words of plain text, in order (punctuation, whitespace and list markers ignored)."""
    return _WORD.findall(_MARKERS.sub("", text))


def markdown_words(text: str) -> list[str]:
    """The words a reader sees in Markdown (no syntax, no link addresses), in order."""
    out = []
    for token in _MD.parse(text or ""):
        if token.type in ("code_block", "fence"):
            out.append(token.content)
        elif token.type == "inline":
            out.extend(child.content for child in token.children or [] if child.type in ("text", "code_inline"))
    return _WORD.findall(" ".join(out))


def clauses_words(clauses) -> list[str]:
    """The words of a version read from top to bottom: each heading (not the preamble's), then its body."""
    out = []
    for clause in clauses:
        if not (clause.key == "preamble" and not clause.explicit_key):
            out += words(clause.heading)
        out += markdown_words(clause.body)
    return out


def tree(clauses) -> list[tuple]:
    """What must survive a round trip: key, number, parent and the heading's words."""
    return [(c.key, c.number, c.parent_key, words(c.heading)) for c in clauses]


def pandoc_text(data: bytes, tmp_path, track_changes: str = "accept") -> str:
    """A .docx as plain text, read by pandoc with all tracked changes accepted or rejected."""
    path = tmp_path / "read.docx"
    path.write_bytes(data)
    return subprocess.run(
        [PANDOC, f"--track-changes={track_changes}", "--wrap=none", "-t", "plain", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def pandoc_docx(markdown_path, tmp_path, reader: str = "commonmark") -> bytes:
    """A .docx made by pandoc from a Markdown file."""
    out = tmp_path / "made-by-pandoc.docx"
    subprocess.run([PANDOC, "-f", reader, "-t", "docx", str(markdown_path), "-o", str(out)], check=True, timeout=120)
    return out.read_bytes()


def docx_bytes(document) -> bytes:
    """A python-docx document saved to bytes."""
    import io

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, *, drop=(), add=None, replace=None) -> bytes:
    """A copy of a .docx with parts dropped, added or replaced."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = (replace or {}).get(info.filename, source.read(info.filename))
            target.writestr(info.filename, content)
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def zip_bomb(size: int = 300 * 1024 * 1024) -> bytes:
    """A small zip whose one part expands to `size` bytes of zeros, beside a real document.xml."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/zeros.bin", "w", force_zip64=True) as part:
            chunk = bytes(1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
    return out.getvalue()
