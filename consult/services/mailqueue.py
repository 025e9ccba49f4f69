"""The mail outbox: mail is queued in the transaction of the event it tells of, and sent later by a worker.

Contract of `deliver()`:
- a row is sent at most once per claim: a worker first claims it (pending → sending, in its own commit, by a
  conditional UPDATE that only one worker can win), then talks SMTP, then marks it sent in a second commit;
- a failure to send (refused, timed out, server gone) puts the row back to pending with a back-off
  (1, 2, 4 … minutes, at most 6 hours) until MAIL_MAX_ATTEMPTS, then leaves it `failed`, never deleted;
- a worker that dies between the SMTP answer and the mark leaves the row `sending`: no other worker touches it
  until the claim is older than CLAIM_TIMEOUT, so a crash never causes an immediate second copy. After that it
  is sent again (never lost) with the same Message-ID, which receiving mail stores use to drop the copy.
Without MAIL_SERVER each row is written to <outbox>/<row id>.eml, which a resend overwrites.
"""

from __future__ import annotations

import email.policy
import json
import os
import smtplib
import socket
from datetime import timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import inspect

from ..config import make_private_dir
from ..extensions import db
from ..logs import get_logger
from ..models import MailOutbox, utcnow

log = get_logger("consult.mail")

# Lines up to RFC 5322's limit, so a long List-Unsubscribe URL stays one plain token that mail clients can read
# (with the default 78 it would be cut into encoded words). The message is built with the classic email.mime
# classes: the newer EmailMessage API parses every header it is given and cost 2.1 ms of CPU per receipt mail
# (most of a comment's own mail work), these 0.5 ms, for the same headers and parts.
MAIL_POLICY = email.policy.compat32.clone(max_line_length=998, linesep="\r\n")
UTF8 = Charset("utf-8")
UTF8.header_encoding = QP  # readable in the outbox folder and in any mail client, and 7-bit safe
UTF8.body_encoding = QP
MAX_ATTEMPTS = 10
CLAIM_TIMEOUT = timedelta(minutes=15)
BACKOFF_MAX = timedelta(hours=6)


def mail_values(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    headers: dict | None = None,
    user_id: int | None = None,
) -> dict:
    """The column values of one outbox row, with its Message-ID fixed now (for bulk inserts)."""
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "consult"
    now = utcnow()
    return {
        "to_address": to,
        "subject": subject[:300],
        "text_body": text,
        "html_body": html,
        "headers": json.dumps(headers) if headers else None,
        "user_id": user_id,
        "message_id": make_msgid(domain=domain),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def mark_queued() -> None:
    """Tell the after-request hook that this request left work for it (mail, or followers to tell)."""
    if has_app_context():
        g.mail_queued = True


def queue_mail(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    headers: dict | None = None,
    user_id: int | None = None,
) -> MailOutbox:
    """Add a mail to the session; the calling service commits it with the change it tells of."""
    row = MailOutbox(**mail_values(to, subject, text, html=html, headers=headers, user_id=user_id))
    db.session.add(row)
    mark_queued()  # the after-request hook delivers only when a request queued something
    if has_request_context():
        g.setdefault("mail_rows", []).append(row)  # its id is known once flushed
    return row


def queue_mail_rows(rows: list[dict]) -> None:
    """Add many mails at once (digests, notifications); the caller commits.

    A few rows go in with the caller's flush (one INSERT beside the event's own rows); many in one statement."""
    if not rows:
        return
    if len(rows) <= 10:
        db.session.add_all(MailOutbox(**row) for row in rows)
    else:
        db.session.execute(db.insert(MailOutbox), rows)
    mark_queued()


def _header(value: str):
    return value if value.isascii() else Header(value, UTF8)


def build_message(row: MailOutbox) -> Message:
    """The RFC 5322 message for a row: plain text, and an HTML alternative when there is one."""
    cfg = current_app.config
    text = MIMEText(row.text_body, "plain", UTF8, policy=MAIL_POLICY)
    if row.html_body:
        message = MIMEMultipart("alternative", policy=MAIL_POLICY)
        message.attach(text)
        message.attach(MIMEText(row.html_body, "html", UTF8, policy=MAIL_POLICY))
    else:
        message = text
    message["From"] = _header(cfg["MAIL_FROM"])
    message["To"] = _header(row.to_address)
    message["Subject"] = _header(row.subject)
    message["Date"] = format_datetime(row.created_at or utcnow())
    message["Message-ID"] = row.message_id
    for name, value in json.loads(row.headers or "{}").items():
        message[name] = _header(value)
    return message


def _transmit(message: Message, row: MailOutbox) -> None:
    """Hand one message to SMTP, or write it to the outbox folder when no server is configured."""
    cfg = current_app.config
    if cfg.get("MAIL_SERVER"):
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=cfg.get("MAIL_TIMEOUT", 20)) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
        return
    outbox = make_private_dir(Path(cfg["MAIL_OUTBOX_DIR"]))
    # Named by creation time then row id: sorted names follow the order of queueing, and a resend overwrites.
    name = f"{row.created_at.strftime('%Y%m%dT%H%M%S')}-{row.id:08d}.eml"
    partial = outbox / f".{name}.part"
    partial.unlink(missing_ok=True)
    # Owner-only: a mail may carry a reset link.
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        fh.write(bytes(message))
    partial.replace(outbox / name)


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claim(row_id: int, now) -> bool:
    """Take a due row for this worker; False when another worker has it (or it is no longer due)."""
    stale = now - CLAIM_TIMEOUT
    claimed = db.session.execute(
        db.update(MailOutbox)
        .where(
            MailOutbox.id == row_id,
            db.or_(
                db.and_(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= now),
                db.and_(MailOutbox.status == "sending", MailOutbox.claimed_at < stale),
            ),
        )
        .values(status="sending", claimed_at=now, attempts=MailOutbox.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return claimed.rowcount == 1


def _mark_sent(row_id: int) -> None:
    db.session.execute(
        db.update(MailOutbox)
        .where(MailOutbox.id == row_id)
        .values(status="sent", sent_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _mark_failed(row_id: int, attempts: int, error: str) -> None:
    done = attempts >= MAX_ATTEMPTS
    db.session.execute(
        db.update(MailOutbox)
        .where(MailOutbox.id == row_id)
        .values(
            status="failed" if done else "pending",
            last_error=error[:1000],
            next_attempt_at=utcnow() + _backoff(attempts),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def due_ids(now, limit: int) -> list[int]:
    """Ids of rows that are due: pending and past their next attempt, or claimed by a worker that vanished."""
    stale = now - CLAIM_TIMEOUT
    return db.session.scalars(
        db.select(MailOutbox.id)
        .where(
            db.or_(
                db.and_(MailOutbox.status == "pending", MailOutbox.next_attempt_at <= now),
                db.and_(MailOutbox.status == "sending", MailOutbox.claimed_at < stale),
            )
        )
        .order_by(MailOutbox.id)
        .limit(limit)
    ).all()


def deliver(limit: int = 200) -> dict[str, int]:
    """Send the mail that is due; returns counts of sent and failed attempts."""
    counts = {"sent": 0, "failed": 0}
    now = utcnow()
    for row_id in due_ids(now, limit):
        if not _claim(row_id, now):
            continue
        row = db.session.get(MailOutbox, row_id, populate_existing=True)
        try:
            _transmit(build_message(row), row)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            log.warning("mail %s to %s not sent (attempt %s): %s", row.id, row.to_address, row.attempts, exc)
            _mark_failed(row.id, row.attempts, f"{type(exc).__name__}: {exc}")
            counts["failed"] += 1
            if isinstance(exc, (ConnectionError, socket.timeout, smtplib.SMTPServerDisconnected)):
                break  # the server is away: leave the rest for the next run instead of waiting on each
            continue
        _mark_sent(row.id)
        counts["sent"] += 1
        log.info("mail %s sent to=%s subject=%r", row.id, row.to_address, row.subject)
    return counts


def outbox_status() -> dict[str, int]:
    """How many rows are in each state."""
    rows = db.session.execute(db.select(MailOutbox.status, db.func.count()).group_by(MailOutbox.status)).all()
    return {status: n for status, n in rows}


def write_to_folder(ids: list[int]) -> int:
    """Without SMTP: write these rows, if committed and still pending, to the outbox folder and mark them sent.

    The rows are named by the request that queued them, so no search for due rows and no claim is needed: a
    message file is written whole under its final name (a resend overwrites it), so a second writer at the same
    moment changes nothing, and a crash before the mark only means it is written again. Runs in a short
    transaction of its own, leaving the request's session (and its loaded objects) untouched."""
    now = utcnow()
    with db.engine.begin() as conn:
        rows = [
            MailOutbox(**dict(r._mapping))
            for r in conn.execute(
                db.select(*MailOutbox.__table__.columns).where(MailOutbox.id.in_(ids), MailOutbox.status == "pending")
            )
        ]
    written = []
    for row in rows:
        _transmit(build_message(row), row)
        written.append(row.id)
    if written:
        with db.engine.begin() as conn:
            conn.execute(
                db.update(MailOutbox)
                .where(MailOutbox.id.in_(written), MailOutbox.status == "pending")
                .values(status="sent", sent_at=now, claimed_at=now, attempts=MailOutbox.attempts + 1, last_error=None)
            )
    return len(written)


def _queued_ids() -> list[int] | None:
    """The ids of the mails this request queued one by one (a reset link, a confirmation: mail the person is waiting
    for), or None when some are unknown (then the due rows are searched)."""
    ids = []
    for row in g.get("mail_rows", ()):
        identity = inspect(row).identity  # from the identity key: no query, even after the commit expired it
        if identity is None:
            if inspect(row).transient:
                continue  # rolled back: nothing to send
            return None
        ids.append(identity[0])
    return ids


def install_deliver_hook(app) -> None:
    """After a request that queued mail, send it once the response has gone to the browser.

    The mail goes out in `call_on_close`, which the WSGI server runs after the response is written, so the person
    never waits for SMTP; a failure is logged and the row stays for `flask mail deliver` or the next request.
    Without MAIL_SERVER the mails queued one by one (a reset link) are written to the outbox folder before the
    response; notifications after it.
    """
    from flask import g as request_g

    @app.after_request
    def deliver_queued_mail(response):
        if not request_g.get("mail_queued"):
            return response
        flask_app = current_app._get_current_object()
        smtp = bool(flask_app.config.get("MAIL_SERVER"))
        if not smtp:
            # Without SMTP a message is a local file. Mail the person waits for (a reset link) is written before the
            # response, so it is there as soon as the page answers; notifications (a receipt, a reply) after it,
            # like SMTP, so that commenting does not wait for mail.
            try:
                ids = _queued_ids()
                if ids is None:
                    deliver(limit=50)
                elif ids:
                    write_to_folder(ids)
            except Exception:  # noqa: BLE001  (the outbox keeps the rows; the worker catches up)
                log.exception("mail delivery to the outbox folder failed; rows are kept")

        def send_after_response():
            with flask_app.app_context():
                try:
                    from .notifications import fan_out_pending

                    fan_out_pending()
                    deliver(limit=50)  # what is due: SMTP's, the fan-out's, rows left by others
                except Exception:  # noqa: BLE001  (the outbox keeps the rows; the worker catches up)
                    log.exception("mail delivery after the request failed; rows are kept")

        response.call_on_close(send_after_response)
        return response
