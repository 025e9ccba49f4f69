"""Command line: import-draft, create-user, demo-data."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask

from .drafts.parse import MAX_DRAFT_BYTES
from .services import ServiceError


def fail(message: str, code: int = 2):
    """Print an error to stderr and exit with `code`; nothing has been written."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def apply_search_changes() -> None:
    """Apply the search outbox before a command that wrote content returns, so an import is findable at once.

    A command runs in a process of its own, with no server's background drainer; if the index is busy the rows
    stay in the outbox for the next drain (nothing is lost), and the command still succeeds."""
    from .logs import get_logger
    from .search import drain

    try:
        drain(timeout=10.0)
    except Exception:  # noqa: BLE001  (the index is a cache of the database; the import itself is committed)
        get_logger("consult.cli").exception("search outbox not applied; `flask search drain` will apply it")


def register_cli(app: Flask) -> None:
    """Attach the commands to `flask --app app`."""

    @app.cli.command("import-draft")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--document", "slug", required=True, help="Document slug; created if new.")
    @click.option("--title", help="Document title (default: the draft's '# Title' line).")
    @click.option("--label", help="Version label, e.g. 'Second draft'.")
    @click.option("--opens", help="Consultation opens, ISO 8601 (UTC if no zone). Default: now.")
    @click.option("--closes", help="Consultation closes, ISO 8601 (UTC if no zone).")
    def import_draft(path, slug, title, label, opens, closes):
        """Publish a Markdown or Word (.docx) draft as the next version of a document."""
        from .services import documents as document_service

        file = Path(path)
        if not file.is_file():
            fail(f"{path}: no such file")
        from .word import looks_like_docx
        from .word.safety import MAX_DOCX_BYTES

        with file.open("rb") as head:
            is_word = looks_like_docx(head.read(8))
        limit = MAX_DOCX_BYTES if is_word else MAX_DRAFT_BYTES
        if file.stat().st_size > limit:
            fail(f"{path}: the file is larger than {limit // (1024 * 1024)} MB")
        try:
            opens_at = document_service.parse_datetime(opens, "--opens")
            closes_at = document_service.parse_datetime(closes, "--closes")
            version = document_service.publish_version(
                slug=slug, data=file.read_bytes(), title=title, label=label, opens_at=opens_at, closes_at=closes_at
            )
        except ServiceError as exc:
            where = f"{path}: line {exc.line}: " if exc.line else f"{path}: "
            fail(where + exc.message)
        apply_search_changes()
        click.echo(json.dumps({"document": slug, "version": version.number, "clauses": version.clause_count}))

    @app.cli.command("import-comments")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--document", "slug", required=True, help="Document slug.")
    @click.option("--version", "number", required=True, type=int, help="Version number.")
    def import_comments(path, slug, number):
        """Import submissions received by other channels from a CSV file (all rows or none)."""
        from .services import documents as document_service
        from .services import imports as import_service

        file = Path(path)
        if not file.is_file():
            fail(f"{path}: no such file")
        document = document_service.get_document(slug)
        version = document_service.get_version(document, number) if document else None
        if version is None:
            fail(f"no version {number} of a document '{slug}'")
        try:
            result = import_service.import_comments(version, file.read_bytes())
        except import_service.ImportRejected as exc:
            for line, message in exc.errors:
                click.echo(f"error: {path}: line {line}: {message}" if line else f"error: {path}: {message}", err=True)
            click.echo(f"error: {path}: rejected; nothing was imported", err=True)
            sys.exit(2)
        apply_search_changes()
        click.echo(json.dumps({"imported": result.imported, "skipped": result.skipped}))

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", required=True, type=click.Choice(["participant", "drafter", "moderator", "admin"]))
    @click.option("--name", help="Display name.")
    @click.option("--group", default="other", help="Stakeholder group (default: other).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def create_user(email, role, name, group, password_stdin):
        """Create an active account; the password is prompted for, or read from stdin."""
        from .services import accounts as account_service

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = account_service.create_user(
                email, password, role=role, display_name=name, stakeholder_group=group, status="active"
            )
        except ServiceError as exc:
            fail(exc.message)
        click.echo(json.dumps({"id": user.id, "email": user.email, "role": user.role}))

    @app.cli.command("demo-data")
    @click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database has content.")
    def demo_data(if_empty):
        """Load the demo content into an empty database; refuses if there is content already."""
        from .demo import database_is_empty, load_demo

        if if_empty and not database_is_empty():
            click.echo("The database has content; demo content not loaded.", err=True)
            return
        try:
            accounts = load_demo()
        except ServiceError as exc:
            fail(exc.message)
        click.echo("Demo content loaded. Accounts (these passwords are shown once; note them now):")
        for email, role, password in accounts:
            click.echo(f"  {role:<12} {email:<32} {password}")

    from flask.cli import AppGroup

    analysis = AppGroup("analysis", help="Campaigns, themes and summaries of the comments.")

    @analysis.command("refresh")
    @click.option("--document", "slug", help="Only this document.")
    @click.option("--version", "number", type=int, help="Only this version (with --document).")
    @click.option("--full", is_flag=True, help="Recompute everything, not only what new comments change.")
    def analysis_refresh(slug, number, full):
        """Recompute campaigns, themes and summaries; prints one JSON line per version."""
        from .services import analysis as analysis_service

        if number is not None and not slug:
            fail("--version needs --document")
        versions = analysis_service.versions_to_refresh(slug, number)
        if slug and not versions:
            fail(f"no such document or version: {slug}" + (f" version {number}" if number is not None else ""))
        for version in versions:
            result = analysis_service.refresh(version, full=full)
            click.echo(json.dumps(result.__dict__))

    app.cli.add_command(analysis)

    from .search.cli import register_search_cli

    register_search_cli(app)

    from .notify_cli import register_notify_cli

    register_notify_cli(app)
