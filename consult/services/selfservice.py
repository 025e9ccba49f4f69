"""Self-service and data rights: one's profile, a copy of all one's data, closing one's account."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from ..extensions import db
from ..logs import get_logger
from ..models import (
    Comment,
    CommentRevision,
    Disposition,
    Endorsement,
    Follow,
    MailOutbox,
    Notification,
    NotificationPreference,
    NotificationSettings,
    Organisation,
    User,
    UserSession,
    utcnow,
)
from . import ServiceError, notifications
from .moderation import record

log = get_logger("consult.selfservice")

FORMER_PARTICIPANT = "a former participant"  # stored; pages show it translated


def blocked_sign_in(email: str, password: str) -> User | None:
    """A suspended or rejected account whose password is right, so sign-in can say why it is refused."""
    user = db.session.scalar(db.select(User).where(User.email == User.normalise_email(email)))
    if user is None or user.status not in ("suspended", "rejected"):
        return None
    return user if user.check_password(password) else None


def update_profile(user: User, *, display_name: str, organisation: str) -> User:
    """Change one's name and organisation; a new organisation name starts unverified. One commit."""
    name = (display_name or "").strip()
    if not name:
        raise ServiceError(_("Enter your name."), field="display_name")
    user.display_name = name[:120]
    organisation = (organisation or "").strip()[:200]
    current = user.organisation.name if user.organisation else ""
    if organisation != current:
        user.organisation = Organisation(name=organisation) if organisation else None
    db.session.commit()
    return user


def _iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def export_data(user: User) -> dict:
    """Everything Consult holds about a person, as plain JSON-ready values."""
    comments = db.session.scalars(db.select(Comment).where(Comment.author_id == user.id).order_by(Comment.id)).all()
    ids = [c.id for c in comments]
    revisions, dispositions = {}, {}
    if ids:
        for r in db.session.scalars(
            db.select(CommentRevision).where(CommentRevision.comment_id.in_(ids)).order_by(CommentRevision.id)
        ):
            revisions.setdefault(r.comment_id, []).append(r)
        dispositions = {
            d.comment_id: d for d in db.session.scalars(db.select(Disposition).where(Disposition.comment_id.in_(ids)))
        }
    endorsements = db.session.scalars(db.select(Endorsement).where(Endorsement.user_id == user.id)).all()
    notes = db.session.scalars(
        db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    ).all()
    follows = db.session.scalars(db.select(Follow).where(Follow.user_id == user.id)).all()
    settings = notifications.settings_for(user.id)
    return {
        "account": {
            "email": user.email,
            "name": user.display_name,
            "role": user.role,
            "status": user.status,
            "stakeholder_group": user.stakeholder_group,
            "organisation": user.organisation.name if user.organisation else None,
            "transparency_register_id": user.organisation.transparency_register_id if user.organisation else None,
            "created_at": _iso(user.created_at),
            "approved_at": _iso(user.approved_at),
            "last_sign_in_at": _iso(user.last_sign_in_at),
            "consented_at": _iso(user.consented_at),
        },
        "comments": [
            {
                "id": c.id,
                "receipt": c.receipt,
                "document": c.version.document.slug,
                "version": c.version.number,
                "clause": c.clause.key,
                "parent_id": c.parent_id,
                "type": c.type,
                "stance": c.stance,
                "visibility": c.visibility,
                "status": c.status,
                "body": c.body,
                "proposed_wording": c.proposed_wording,
                "created_at": _iso(c.created_at),
                "edited_at": _iso(c.edited_at),
                "withdrawn_at": _iso(c.withdrawn_at),
                "history": [
                    {
                        "type": r.type,
                        "stance": r.stance,
                        "visibility": r.visibility,
                        "body": r.body,
                        "proposed_wording": r.proposed_wording,
                        "replaced_at": _iso(r.created_at),
                    }
                    for r in revisions.get(c.id, [])
                ],
                "disposition": (
                    {
                        "status": dispositions[c.id].status,
                        "response": dispositions[c.id].response,
                        "decided_at": _iso(dispositions[c.id].decided_at),
                    }
                    if c.id in dispositions
                    else None
                ),
            }
            for c in comments
        ],
        "endorsements": [
            {"comment_id": e.comment_id, "created_at": _iso(e.created_at), "withdrawn_at": _iso(e.withdrawn_at)}
            for e in endorsements
        ],
        "notifications": [
            {
                "kind": n.kind,
                "subject": n.subject,
                "text": n.text,
                "link": n.link,
                "created_at": _iso(n.created_at),
                "read_at": _iso(n.read_at),
            }
            for n in notes
        ],
        "follows": [{"type": f.target_type, "id": f.target_id, "since": _iso(f.created_at)} for f in follows],
        "preferences": notifications.preferences(user.id),
        "mail_language": settings.language if settings else None,
    }


def close_account(user: User, password: str, comments: str) -> None:
    """Close one's own account: sign-in details removed, comments kept under "a former participant" or withdrawn.

    The audit log keeps the fact (and the choice), not the person's details. One commit.
    """
    if comments not in ("keep", "withdraw"):
        raise ServiceError(_("Choose what happens to your comments."), field="comments")
    if not user.check_password(password):
        raise ServiceError(_("Your password is not right."), field="password")
    now = utcnow()
    own = db.session.scalars(db.select(Comment).where(Comment.author_id == user.id)).all()
    for comment in own:
        comment.author_organisation = None
        if comments == "withdraw" and comment.status != "withdrawn":
            comment.status, comment.withdrawn_at = "withdrawn", now
    before = user.status
    user.status, user.status_reason = "closed", None
    user.display_name = FORMER_PARTICIPANT
    user.email = f"closed-{user.id}@closed.invalid"
    user.organisation = None
    user.set_password(secrets.token_urlsafe(32))
    db.session.execute(
        db.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    for model in (Follow, Notification, NotificationPreference):
        db.session.execute(db.delete(model).where(model.user_id == user.id))
    db.session.execute(db.delete(NotificationSettings).where(NotificationSettings.user_id == user.id))
    db.session.execute(db.delete(MailOutbox).where(MailOutbox.user_id == user.id, MailOutbox.status == "pending"))
    record(user, "close-account", "user", user.id, {"status": before}, {"status": "closed", "comments": comments})
    db.session.commit()
    log.info("account closed by its owner user=%s comments=%s", user.id, comments)
