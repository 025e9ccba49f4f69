"""Moderation records: the audit log, invitations, one-time tokens and throttling state."""

from __future__ import annotations

from ..extensions import db
from .types import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One moderator or admin action. Append-only: no code path edits or deletes a row."""

    id = db.Column(db.Integer, primary_key=True)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    action = db.Column(db.String(40), nullable=False, index=True)  # e.g. approve, reject, role, suspend, hide
    target_type = db.Column(db.String(40), nullable=False)  # user, comment, report, invitation
    target_id = db.Column(db.Integer)
    before = db.Column(db.Text)  # JSON of the changed fields before
    after = db.Column(db.Text)  # JSON of the changed fields after
    reason = db.Column(db.Text)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)

    actor = db.relationship("User", foreign_keys=[actor_id], lazy="joined")


class Invitation(db.Model):
    """A single-use, expiring link that creates an active account."""

    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)  # sha256 of the token in the link
    email = db.Column(db.String(254))  # when set, only this address may use it
    role = db.Column(db.String(20), nullable=False, default="participant")
    created_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    used_at = db.Column(UTCDateTime)
    used_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    revoked_at = db.Column(UTCDateTime)  # a moderator took back an unused invitation (who: in the audit log)


class OneTimeToken(db.Model):
    """Emailed single-use tokens (password reset), stored only as a hash."""

    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    purpose = db.Column(db.String(20), nullable=False)  # "reset"
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)
    used_at = db.Column(UTCDateTime)


class ThrottleEvent(db.Model):
    """One counted attempt (failed sign-in, reset request, comment...) for rate limits shared by all workers."""

    id = db.Column(db.Integer, primary_key=True)
    bucket = db.Column(db.String(200), nullable=False)  # e.g. "signin:account:<email>" or "signin:ip:<addr>"
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (db.Index("ix_throttle_event_bucket_created_at", "bucket", "created_at"),)
