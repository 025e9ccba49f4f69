"""Checks on an uploaded .docx before any XML is parsed: what is refused, and why.

A .docx is a zip of XML parts. Refused, each with a message for the drafter:
* a file over MAX_DOCX_BYTES (20 MB), or whose parts expand past MAX_EXPANDED_BYTES (200 MB, a zip bomb): sizes
  are checked from the zip directory first, then every part is read in chunks with the same limits, since the
  directory can lie;
* a password-protected file (Word encrypts into an OLE compound file, which is not a zip);
* a file that is not a zip, or a zip without `word/document.xml`;
* a macro-enabled document (`.docm` content type, or a `vbaProject.bin` part).
Nothing here fetches external references: parts are only read from the zip, and XML is parsed later by
python-docx with entity resolution and network access off.
"""

from __future__ import annotations

import io
import zipfile

MAX_DOCX_BYTES = 20 * 1024 * 1024
MAX_EXPANDED_BYTES = 200 * 1024 * 1024
MAX_PARTS = 2000
_CHUNK = 64 * 1024

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
MACRO_CONTENT_TYPE = "macroenabled"


class DocxError(ValueError):
    """A .docx that cannot be imported, with a message for the person who sent it."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def looks_like_docx(data: bytes) -> bool:
    """True when the bytes are a zip or an OLE container (so they are meant as Word, not Markdown)."""
    return data[:4] == ZIP_SIGNATURE or data[:8] == OLE_SIGNATURE


def is_docx(data: bytes) -> bool:
    """True when the bytes are a zip holding word/document.xml (checked from the directory only)."""
    if data[:4] != ZIP_SIGNATURE:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def open_docx(
    data: bytes, *, max_bytes: int = MAX_DOCX_BYTES, max_expanded: int = MAX_EXPANDED_BYTES
) -> dict[str, bytes]:
    """Check an uploaded .docx and return its parts {name: bytes}; DocxError says why a file is refused."""
    if len(data) > max_bytes:
        raise DocxError(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    if data[:8] == OLE_SIGNATURE:
        raise DocxError(
            "the document is password-protected or in the old .doc format: save it unprotected, "
            "as a Word document (.docx)"
        )
    if data[:4] != ZIP_SIGNATURE:
        raise DocxError("the file is not a Word document (.docx)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DocxError("the file is not a Word document (.docx): it is not a valid zip archive") from None
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            raise DocxError("the file is not a Word document (.docx): it has no word/document.xml")
        if len(infos) > MAX_PARTS:
            raise DocxError(f"the document has more than {MAX_PARTS} parts")
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise DocxError("the document contains macros (.docm): save it as a plain Word document (.docx)")
        if sum(info.file_size for info in infos) > max_expanded:
            raise DocxError(f"the document expands to more than {max_expanded // (1024 * 1024)} MB")
        if any(info.flag_bits & 0x1 for info in infos):
            raise DocxError("the document is password-protected: save it without a password")
        parts: dict[str, bytes] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            chunks = []
            try:
                with archive.open(info) as stream:
                    while chunk := stream.read(_CHUNK):
                        total += len(chunk)
                        if total > max_expanded:
                            raise DocxError(f"the document expands to more than {max_expanded // (1024 * 1024)} MB")
                        chunks.append(chunk)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                raise DocxError(f"the document is damaged: its part {info.filename} cannot be read") from None
            parts[info.filename] = b"".join(chunks)
    content_types = parts.get("[Content_Types].xml", b"").decode("utf-8", "replace").lower()
    if MACRO_CONTENT_TYPE in content_types:
        raise DocxError("the document is macro-enabled (.docm): save it as a plain Word document (.docx)")
    if not content_types:
        raise DocxError("the file is not a Word document (.docx): it has no [Content_Types].xml")
    return parts


def repack(parts: dict[str, bytes]) -> bytes:
    """The checked parts as a fresh zip (stored, not compressed) for python-docx to open."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()
