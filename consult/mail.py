"""Outgoing mail: SMTP when MAIL_SERVER is set, otherwise .eml files under instance/outbox/."""
from __future__ import annotations

import os
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from .models import utcnow
from .config import make_private_dir
from .logs import get_logger

log = get_logger("consult.mail")


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message; without MAIL_SERVER it is written to the outbox folder and logged."""
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="consult")
    message.set_content(body)
    if cfg.get("MAIL_SERVER"):
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(message)
        log.info("mail sent to=%r subject=%r", to, subject)
        return
    outbox = Path(cfg["MAIL_OUTBOX_DIR"])
    make_private_dir(outbox)
    path = outbox / f"{utcnow().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
    # Owner-only: a mail may carry a reset link.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        fh.write(bytes(message))
    log.info("mail written to %s (to=%r subject=%r)", path, to, subject)
