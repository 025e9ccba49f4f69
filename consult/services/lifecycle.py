"""The consultation lifecycle in the browser: a document's landing text, and each version's window.

Rule kept by every change here: when a version opens, any earlier version of the same document that would still
be open at that moment closes then (its `closes_at` becomes the new version's `opens_at`), so two versions never
take comments at once, unless the drafter chose otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _

from .. import permissions
from ..extensions import db
from ..markup import render_markdown
from ..models import Comment, Disposition, Document, Version, utcnow
from . import ServiceError, notifications
from .moderation import record


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _require(actor) -> None:
    if not permissions.can_edit_settings(actor):
        raise ServiceError(_("Only drafters can change this."), status=403)


def update_document(document: Document, actor, *, title: str, summary: str, landing: str) -> Document:
    """Change a document's title, summary and landing text; audited; one commit."""
    _require(actor)
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("Give the document a title."), field="title")
    before = {"title": document.title, "summary": document.summary, "landing": document.landing_markdown}
    document.title = title[:300]
    document.summary = (summary or "").strip() or None
    document.landing_markdown = (landing or "").strip() or None
    document.landing_html = str(render_markdown(document.landing_markdown)) if document.landing_markdown else None
    after = {"title": document.title, "summary": document.summary, "landing": document.landing_markdown}
    changed = {k for k in before if before[k] != after[k]}
    if changed:
        record(
            actor,
            "document-settings",
            "document",
            document.id,
            {k: before[k] for k in changed},
            {k: after[k] for k in changed},
        )
    db.session.commit()
    return document


def open_versions_overlapping(version: Version) -> list[Version]:
    """Earlier versions of the same document that would still be open when this version opens."""
    opens = version.opens_at
    if opens is None:
        return []
    rows = db.session.scalars(
        db.select(Version).where(Version.document_id == version.document_id, Version.id != version.id)
    ).all()
    return [
        v
        for v in rows
        if v.number < version.number
        and v.opens_at is not None
        and v.opens_at < opens
        and (v.closes_at is None or v.closes_at > opens)
    ]


def close_earlier(version: Version, actor) -> list[Version]:
    """Close, at this version's opening, every earlier version still open then; the caller commits."""
    closed = []
    for other in open_versions_overlapping(version):
        before = _iso(other.closes_at)
        other.closes_at = version.opens_at
        record(
            actor,
            "window",
            "version",
            other.id,
            {"closes_at": before},
            {"closes_at": _iso(other.closes_at)},
            _("Version %(n)d opens", n=version.number),
        )
        notifications.window_changed(other)
        closed.append(other)
    return closed


def set_window(
    version: Version,
    actor,
    *,
    label: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    close_previous: bool = True,
) -> Version:
    """Change a version's label and consultation window; audited, followers told; one commit."""
    _require(actor)
    label = (label or "").strip()
    if not label:
        raise ServiceError(_("Give the version a label."), field="label")
    if closes_at and not opens_at:
        opens_at = version.opens_at or utcnow()
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError(_("The consultation must close after it opens."), field="closes_date")
    before = {"label": version.label, "opens_at": _iso(version.opens_at), "closes_at": _iso(version.closes_at)}
    window_moved = (version.opens_at, version.closes_at) != (opens_at, closes_at)
    version.label, version.opens_at, version.closes_at = label[:200], opens_at, closes_at
    after = {"label": version.label, "opens_at": _iso(opens_at), "closes_at": _iso(closes_at)}
    changed = {k for k in before if before[k] != after[k]}
    if changed:
        record(actor, "window", "version", version.id, {k: before[k] for k in changed}, {k: after[k] for k in changed})
    if window_moved:
        notifications.window_changed(version)
        if close_previous:
            close_earlier(version, actor)
    db.session.commit()
    return version


def close_now(version: Version, actor) -> Version:
    """End a version's consultation at once; audited, followers told; one commit."""
    _require(actor)
    now = utcnow()
    if version.status(now) != "open":
        raise ServiceError(_("This version is not open for comments."), status=409)
    return set_window(
        version, actor, label=version.label, opens_at=version.opens_at or now, closes_at=now, close_previous=False
    )


def extend(version: Version, actor, days: int) -> Version:
    """Move a version's closing time later by some days (from now, if it has closed); one commit."""
    _require(actor)
    if not 1 <= days <= 365:
        raise ServiceError(_("Extend by 1 to 365 days."), field="days")
    now = utcnow()
    base = max(version.closes_at or now, now)
    return set_window(
        version, actor, label=version.label, opens_at=version.opens_at or now, closes_at=base + timedelta(days=days)
    )


def reopen(version: Version, actor, days: int) -> Version:
    """Open a closed version again for some days from now; earlier open versions close; one commit."""
    _require(actor)
    if not 1 <= days <= 365:
        raise ServiceError(_("Reopen for 1 to 365 days."), field="days")
    now = utcnow()
    if version.status(now) == "open":
        raise ServiceError(_("This version is open already."), status=409)
    opens = version.opens_at if version.opens_at and version.opens_at <= now else now
    return set_window(version, actor, label=version.label, opens_at=opens, closes_at=now + timedelta(days=days))


def newer_version(version: Version) -> Version | None:
    """The latest version of the same document after this one, or None."""
    return db.session.scalar(
        db.select(Version)
        .where(Version.document_id == version.document_id, Version.number > version.number)
        .order_by(Version.number.desc())
        .limit(1)
    )


def open_version(document: Document) -> Version | None:
    """The version of the document that is open for comments now (the latest, if several)."""
    now = utcnow()
    candidates = [v for v in document.versions if v.status(now) == "open"]
    return candidates[-1] if candidates else None


def unanswered_count(version: Version) -> int:
    """Comments of a version (not withdrawn) without a disposition yet."""
    return (
        db.session.scalar(
            db.select(db.func.count(Comment.id))
            .outerjoin(Disposition, Disposition.comment_id == Comment.id)
            .where(Comment.version_id == version.id, Comment.status != "withdrawn", Disposition.id.is_(None))
        )
        or 0
    )
