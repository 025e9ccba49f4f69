"""`flask --app app search reindex|drain|status`."""

from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup


def register_search_cli(app) -> None:
    """Attach the `search` command group to the app's CLI."""
    group = AppGroup("search", help="Rebuild, catch up or inspect the search index.")

    @group.command("reindex")
    def reindex_command():
        """Rebuild the index from the database into a new directory, then swap it in."""
        from . import reindex

        started = time.monotonic()
        count = reindex()
        click.echo(json.dumps({"indexed": count, "seconds": round(time.monotonic() - started, 2)}))

    @group.command("drain")
    @click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the index lock.")
    def drain_command(timeout):
        """Apply pending outbox rows to the index."""
        from . import drain, status

        applied = drain(timeout=timeout)
        click.echo(json.dumps({"applied": applied, "pending": status().pending}))

    @group.command("status")
    def status_command():
        """Documents indexed, pending outbox rows and index size."""
        from . import status

        s = status()
        click.echo(
            json.dumps({"path": s.path, "documents": s.documents, "pending": s.pending, "size_bytes": s.size_bytes})
        )

    app.cli.add_command(group)
