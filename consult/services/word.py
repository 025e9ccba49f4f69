"""Word files: drafts imported from .docx, and versions, redlines and comment tables exported as .docx."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _

from ..word import DocxError, looks_like_docx
from . import ServiceError

if TYPE_CHECKING:
    from ..word.writer import ClauseText

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
        raise ServiceError(
            _("This Word file cannot be imported: %(reason)s.", reason=exc.message), field="upload"
        ) from None


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


# --- exports ---------------------------------------------------------------------------------------------------

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _clause_text(clause) -> ClauseText:
    from ..drafts.parse import PREAMBLE_KEY
    from ..word.writer import ClauseText

    # The text before the first heading: a heading of its own with {#preamble} is a clause like any other.
    return ClauseText(
        clause.key,
        clause.number,
        clause.heading,
        clause.body,
        clause.level,
        clause.key == PREAMBLE_KEY and not clause.explicit_key,
    )


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _window(version) -> str:
    if version.opens_at and version.closes_at:
        return _(
            "Consultation open from %(opens)s to %(closes)s",
            opens=_when(version.opens_at),
            closes=_when(version.closes_at),
        )
    if version.opens_at:
        return _("Consultation open from %(opens)s", opens=_when(version.opens_at))
    return _("Published %(date)s for reading; no consultation window", date=_when(version.published_at))


def _filename(*parts) -> str:
    return "-".join(re.sub(r"[^a-z0-9-]+", "-", str(p).lower()).strip("-") for p in parts if p) + ".docx"


def version_docx(version) -> tuple[bytes, str]:
    """A version as a Word document, and its file name (document, version and date)."""
    from ..word.writer import version_docx as build
    from .documents import version_clauses

    clauses = version_clauses(version)
    cover = [_("%(label)s (version %(n)d)", label=version.label, n=version.number), _window(version)]
    data = build(
        version.document.title, cover, [_clause_text(c) for c in clauses], {c.key for c in clauses if c.explicit_key}
    )
    return data, _filename(version.document.slug, "version", version.number, version.published_at.date())


def clause_pairs(old_version, new_version) -> list[tuple]:
    """(old clause or None, new clause or None, relation) for every lineage link between two versions, in reading
    order; a split clause comes once per part and a merged one once per source (the writer writes each once)."""
    from . import redlines as redline_service

    return redline_service.clause_pairs(old_version, new_version)


def redline_docx(old_version, new_version) -> tuple[bytes, str]:
    """The redline between two versions as Word with tracked changes, and its file name."""
    from ..word.writer import redline_docx as build
    from .documents import version_outline

    pairs = [
        (_clause_text(o) if o is not None else None, _clause_text(n) if n is not None else None, relation)
        for o, n, relation in clause_pairs(old_version, new_version)
    ]
    if old_version.id == new_version.id:
        pairs = [(n, n, "unchanged") for _o, n, _r in pairs if n is not None]
    document = new_version.document
    cover = [
        _(
            "Changes from %(old)s (version %(a)d) to %(new)s (version %(b)d)",
            old=old_version.label,
            a=old_version.number,
            new=new_version.label,
            b=new_version.number,
        ),
        _(
            "Tracked changes by “Consult”: accept them all to read version %(b)d, reject them all to read "
            "version %(a)d.",
            a=old_version.number,
            b=new_version.number,
        ),
    ]
    data = build(
        _("Redline: %(title)s", title=document.title),
        cover,
        pairs,
        [c.key for c in version_outline(old_version)],
        [c.key for c in version_outline(new_version)],
        date=new_version.published_at,
    )
    return data, _filename(
        document.slug, "redline", old_version.number, "to", new_version.number, new_version.published_at.date()
    )


def review_docx(version, filters, user) -> tuple[bytes, str]:
    """The comment–response table for the review filters as a Word table (same rows as the CSV export)."""
    from ..models import utcnow
    from ..vocabulary import COMMENT_TYPES, DISPOSITIONS, STAKEHOLDER_GROUPS, STANCES
    from ..word.writer import table_docx
    from . import review as review_service

    labels = {
        "stakeholder_group": STAKEHOLDER_GROUPS,
        "type": COMMENT_TYPES,
        "stance": STANCES,
        "disposition": DISPOSITIONS,
    }
    # The CSV's columns, with the stance after the type (the rows carry it; the CSV's columns are fixed).
    columns = list(review_service.EXPORT_COLUMNS)
    headers = review_service.export_headers()
    at = columns.index("type") + 1
    columns.insert(at, "stance")
    headers.insert(at, _("Stance"))

    def rows():
        for row in review_service.export_rows(version, filters, user):
            yield [str(labels[c].get(row[c], row[c])) if c in labels else row[c] for c in columns]

    document = version.document
    cover = [
        _("Comments and responses: %(label)s (version %(n)d)", label=version.label, n=version.number),
        _("Exported %(date)s", date=_when(utcnow())),
    ]
    data = table_docx(document.title, cover, headers, rows(), _("No comments match these filters."))
    return data, _filename(document.slug, "version", version.number, "comments", utcnow().date())
