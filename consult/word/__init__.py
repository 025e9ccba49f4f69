"""Word (.docx) in and out. Pure: bytes and plain values in, bytes or Markdown out; no Flask, no database.

* `safety.open_docx(data)` checks an upload before anything reads it (size, zip bomb, encryption, macros) and
  returns its parts, read with a limit.
* `reader.docx_to_markdown(data)` turns a Word draft into the project's Markdown draft format, so that an
  imported .docx goes through the same parser, numbering and errors as a Markdown file.
* `writer` builds .docx files: a version, a redline with real tracked changes, a table.
"""

from .safety import DocxError, is_docx, looks_like_docx

__all__ = ["DocxError", "is_docx", "looks_like_docx"]
