"""Notifications, the people and things they follow, their choices, and the mail outbox."""

from __future__ import annotations

from ..extensions import db
from .types import UTCDateTime, utcnow


class MailOutbox(db.Model):
    """One mail to send: written in the same transaction as the event, sent later by `flask mail deliver`.

    `status` is pending → sending (claimed by one worker) → sent, or failed after the last attempt. The Message-ID
    is fixed when the row is written, so a resend after a crash carries the same id and receiving mail stores
    recognise it as the same message.
    """

    __table_args__ = (db.Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)
    to_address = db.Column(db.String(254), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    text_body = db.Column(db.Text, nullable=False)
    html_body = db.Column(db.Text)
    headers = db.Column(db.Text)  # JSON object of extra headers (List-Unsubscribe...)
    message_id = db.Column(db.String(200), nullable=False, unique=True)
    status = db.Column(db.String(10), nullable=False, default="pending")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    claimed_at = db.Column(UTCDateTime)
    sent_at = db.Column(UTCDateTime)
    last_error = db.Column(db.Text)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Notification(db.Model):
    """One thing a person is told about, on the site and, as they chose, by mail now or in a digest."""

    __table_args__ = (
        db.Index("ix_notification_user_created", "user_id", "created_at"),
        db.Index("ix_notification_delivery_mailed", "delivery", "mailed_at"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    subject = db.Column(db.String(300), nullable=False)
    text = db.Column(db.Text, nullable=False)  # plain text, in the recipient's language
    link = db.Column(db.String(500))  # a path on the site
    delivery = db.Column(db.String(12), nullable=False)  # immediately, daily, weekly, never (chosen when created)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    read_at = db.Column(UTCDateTime)
    mailed_at = db.Column(UTCDateTime)  # when it went into a mail or a digest


class NotificationPreference(db.Model):
    """A person's choice for one kind of notification; a kind without a row uses the default."""

    __table_args__ = (db.UniqueConstraint("user_id", "kind", name="uq_notification_preference_user_kind"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    kind = db.Column(db.String(40), nullable=False)
    delivery = db.Column(db.String(12), nullable=False)


class NotificationSettings(db.Model):
    """Per-person mail settings: language, following on comment, and when the last digests went out."""

    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), primary_key=True)
    language = db.Column(db.String(10))
    autofollow = db.Column(db.Boolean, nullable=False, default=True)
    daily_digest_at = db.Column(UTCDateTime)
    weekly_digest_at = db.Column(UTCDateTime)


class Follow(db.Model):
    """A person following a document or a single clause."""

    __table_args__ = (
        db.UniqueConstraint("user_id", "target_type", "target_id", name="uq_follow_user_target"),
        db.Index("ix_follow_target", "target_type", "target_id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    target_type = db.Column(db.String(10), nullable=False)  # document, clause
    target_id = db.Column(db.Integer, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class NotificationEvent(db.Model):
    """An event whose fan-out to followers is done after the response (a comment on a followed clause).

    Written in the transaction of the event; `notifications.fan_out_pending` deletes it and tells the followers
    in one transaction, so a comment costs one row in the request however many people follow the clause.
    """

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)  # "comment"
    object_id = db.Column(db.Integer, nullable=False)
    # The language of the request that made it: a first comment's author gets their settings (and receipt) in it.
    language = db.Column(db.String(10))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class SentNotice(db.Model):
    """A time-based notice already given (a window closing soon, a day's moderation summary), so it is given once."""

    key = db.Column(db.String(200), primary_key=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
