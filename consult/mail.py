"""Outgoing mail goes through the outbox (services/mailqueue.py): queued with the event, sent by a worker."""

from __future__ import annotations

from .extensions import db


def send_mail(to: str, subject: str, body: str) -> None:
    """Queue a plain-text message in its own transaction; it is sent after the request or by `flask mail deliver`."""
    from .services.mailqueue import queue_mail

    queue_mail(to, subject, body)
    db.session.commit()
