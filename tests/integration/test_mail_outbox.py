"""The mail outbox against a real SMTP server (aiosmtpd on a free port): delivery, retries, no duplicates."""

from __future__ import annotations

import contextlib
import email
import socket
from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import MailOutbox, utcnow
from consult.services import mailqueue

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    """Collects what the SMTP server accepts; can refuse with a temporary error on demand."""

    def __init__(self):
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    inbox.controller = controller
    yield inbox
    with contextlib.suppress(Exception):  # a test may have stopped it already
        controller.stop()


def queue(to="ada@example.org", subject="Hello", text="Plain words.", html=None, headers=None):
    row = mailqueue.queue_mail(to, subject, text, html=html, headers=headers)
    db.session.commit()
    return row.id


def test_a_queued_mail_arrives_with_its_recipient_headers_and_both_parts(app, smtp):
    row_id = queue(
        html="<p>Rich words.</p>",
        headers={"List-Unsubscribe": "<https://x.test/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    assert mailqueue.deliver() == {"sent": 1, "failed": 0}
    [(rcpts, msg)] = smtp.messages
    assert rcpts == ["ada@example.org"] and msg["To"] == "ada@example.org" and msg["Subject"] == "Hello"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"] == db.session.get(MailOutbox, row_id).message_id
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in msg.walk() if not p.is_multipart()}
    assert "Plain words." in parts["text/plain"] and "Rich words." in parts["text/html"]
    assert db.session.get(MailOutbox, row_id, populate_existing=True).status == "sent"
    # Delivering again sends nothing: the row is marked.
    assert mailqueue.deliver() == {"sent": 0, "failed": 0} and len(smtp.messages) == 1


def test_a_refusing_server_leads_to_retries_with_back_off_not_loss(app, smtp):
    row_id = queue()
    smtp.refuse = True
    assert mailqueue.deliver()["failed"] == 1
    row = db.session.get(MailOutbox, row_id, populate_existing=True)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > utcnow()
    assert "451" in row.last_error
    assert mailqueue.deliver() == {"sent": 0, "failed": 0}  # not due yet: back-off
    smtp.refuse = False
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert mailqueue.deliver()["sent"] == 1 and len(smtp.messages) == 1


def test_a_vanished_server_keeps_every_mail_for_later(app, smtp):
    ids = [queue(subject=f"m{i}") for i in range(3)]
    smtp.controller.stop()
    result = mailqueue.deliver()
    assert result["sent"] == 0 and result["failed"] >= 1
    rows = db.session.scalars(db.select(MailOutbox).execution_options(populate_existing=True)).all()
    assert {r.status for r in rows} == {"pending"} and len(rows) == 3
    # The server comes back on the same port; the rows go out once their back-off has passed.
    smtp.controller = aiosmtpd.Controller(smtp, hostname="127.0.0.1", port=app.config["MAIL_PORT"])
    smtp.controller.start()
    db.session.execute(db.update(MailOutbox).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert mailqueue.deliver()["sent"] == 3
    assert sorted(m["Subject"] for _r, m in smtp.messages) == ["m0", "m1", "m2"]
    assert all(db.session.get(MailOutbox, i, populate_existing=True).status == "sent" for i in ids)


def test_no_duplicate_after_a_crash_between_send_and_mark(app, smtp, monkeypatch):
    row_id = queue()
    real_mark = mailqueue._mark_sent

    def crash(_row_id):
        raise KeyboardInterrupt("worker killed after the SMTP answer, before the mark")

    monkeypatch.setattr(mailqueue, "_mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        mailqueue.deliver()
    db.session.rollback()
    monkeypatch.setattr(mailqueue, "_mark_sent", real_mark)
    assert len(smtp.messages) == 1
    row = db.session.get(MailOutbox, row_id, populate_existing=True)
    assert row.status == "sending"
    # Another worker right after the crash does not send it again: the claim is fresh.
    assert mailqueue.deliver() == {"sent": 0, "failed": 0} and len(smtp.messages) == 1
    # Only a claim older than the timeout is taken over (the mail must not be lost), with the same Message-ID.
    row.claimed_at = utcnow() - mailqueue.CLAIM_TIMEOUT - timedelta(seconds=1)
    db.session.commit()
    assert mailqueue.deliver()["sent"] == 1
    assert len({m["Message-ID"] for _r, m in smtp.messages}) == 1
    assert db.session.get(MailOutbox, row_id, populate_existing=True).status == "sent"


def test_two_workers_never_send_the_same_row(app, smtp):
    row_id = queue()
    now = utcnow()
    assert mailqueue._claim(row_id, now) is True
    assert mailqueue._claim(row_id, now) is False  # the second worker loses the conditional update


def test_a_mail_that_keeps_failing_ends_failed_and_kept(app, smtp):
    row_id = queue()
    smtp.refuse = True
    for _ in range(mailqueue.MAX_ATTEMPTS):
        db.session.execute(db.update(MailOutbox).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        mailqueue.deliver()
    row = db.session.get(MailOutbox, row_id, populate_existing=True)
    assert row.status == "failed" and row.attempts == mailqueue.MAX_ATTEMPTS
    assert mailqueue.outbox_status() == {"failed": 1}


def test_without_a_server_mail_goes_to_eml_files_and_a_resend_overwrites(app, tmp_path):
    app.config["MAIL_SERVER"] = None
    row_id = queue(subject="Filed")
    assert mailqueue.deliver()["sent"] == 1
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and "Subject: Filed" in files[0].read_text()
    db.session.execute(db.update(MailOutbox).where(MailOutbox.id == row_id).values(status="pending"))
    db.session.commit()
    mailqueue.deliver()
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_the_cli_delivers_and_reports(app, smtp):
    queue()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mail", "deliver"])
    assert result.exit_code == 0 and '"sent": 1' in result.output
    result = runner.invoke(args=["mail", "status"])
    assert result.exit_code == 0 and '"sent": 1' in result.output
