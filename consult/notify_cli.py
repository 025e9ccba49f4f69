"""Command line for mail and notifications: `mail deliver|status`, `notify digests`."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import AppGroup


def register_notify_cli(app: Flask) -> None:
    """Attach `mail` and `notify` to `flask --app app`."""
    mail = AppGroup("mail", help="The mail outbox.")
    notify = AppGroup("notify", help="Notifications.")

    @mail.command("deliver")
    @click.option("--limit", default=1000, show_default=True, help="At most this many mails in one run.")
    def deliver(limit):
        """Tell followers of new comments, then send the mail that is due (retries with back-off, never twice)."""
        from .services.mailqueue import deliver as deliver_mail
        from .services.notifications import fan_out_pending

        told = fan_out_pending(limit=limit)
        click.echo(json.dumps({"events": told, **deliver_mail(limit=limit)}))

    @mail.command("status")
    def status():
        """Count the outbox rows by state (pending, sending, sent, failed)."""
        from .services.mailqueue import outbox_status

        click.echo(json.dumps(outbox_status()))

    @notify.command("digests")
    def digests():
        """Announce windows closing or opening soon, the moderators' daily summary, and queue due digests."""
        from .services.notifications import run_scheduled

        click.echo(json.dumps(run_scheduled()))

    app.cli.add_command(mail)
    app.cli.add_command(notify)
