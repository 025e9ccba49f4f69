"""Word files: drafts imported from .docx, and versions, redlines and comment tables exported as .docx."""
from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..word import DocxError, looks_like_docx
from . import ServiceError

STASH_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def draft_source(data: bytes | str) -> tuple[bytes | str, bytes | None]:
    """A submitted draft as Markdown, converting a .docx: (Markdown, the original .docx or None)."""
    if not isinstance(data, bytes) or not looks_like_docx(data):
        return data, None
    from ..word.reader import docx_to_markdown

    try:
        return docx_to_markdown(data), data
    except DocxError as exc:
        raise ServiceError(_("This Word file cannot be imported: %(reason)s.", reason=exc.message),
                           field="upload") from None


# --- the Word file between the preview and the publication ------------------------------------------------
# A browser does not send a file twice, so the upload waits on the server between the preview and the confirmation.

def _stash_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def stash_upload(user, data: bytes) -> str:
    """Keep an uploaded Word file for this user until the publication is confirmed; returns its token."""
    folder = _stash_dir()
    now = time.time()
    for old in folder.glob("*.docx"):  # forget what nobody confirmed
        if now - old.stat().st_mtime > STASH_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    path = folder / f"{int(user.id)}-{token}.docx"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return token


def stashed_upload(user, token: str | None) -> bytes | None:
    """The Word file this user stashed under `token`, or None."""
    if not token or not _TOKEN.match(token):
        return None
    path = _stash_dir() / f"{int(user.id)}-{token}.docx"
    return path.read_bytes() if path.is_file() else None


def text_or_stashed(user, token: str | None, text: str) -> bytes | str:
    """What to publish when no file came with the form: the stashed Word file, unless the drafter has since
    edited its Markdown in the form (then the text, and the Word file is not kept)."""
    data = stashed_upload(user, token)
    if data is not None:
        try:
            converted = draft_source(data)[0]
        except ServiceError:
            return text
        if " ".join(converted.split()) == " ".join(text.split()):
            return data
    return text


def drop_upload(user, token: str | None) -> None:
    """Forget a stashed Word file once it has been published."""
    if token and _TOKEN.match(token):
        (_stash_dir() / f"{int(user.id)}-{token}.docx").unlink(missing_ok=True)
