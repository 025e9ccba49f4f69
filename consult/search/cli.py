"""`flask --app app search reindex|drain|status`."""

from __future__ import annotations

import json
import sys
import time

import click
from flask.cli import AppGroup


class Progress:
    """A rebuild's progress on stderr: one line redrawn in place on a terminal, a plain line every few seconds
    otherwise (a log file or a pipe gets no carriage returns)."""

    WIDTH = 30

    def __init__(self, stream=None, *, interval: float = 5.0, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval
        self.started = time.monotonic()
        self.last_line = None  # when the last plain line was written
        self.drawn = False

    def __call__(self, done: int, total: int, phase: str = "indexing") -> None:
        now = time.monotonic()
        elapsed = now - self.started
        share = done / total if total else 1.0
        text = f"{phase} {done:,}/{total:,} documents ({share:.0%}) {elapsed:.0f} s"
        if self.tty:
            filled = int(share * self.WIDTH)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {text}\033[K")
            self.drawn = True
        elif self.last_line is None or now - self.last_line >= self.interval or done >= total:
            self.stream.write(text + "\n")
            self.last_line = now
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def register_search_cli(app) -> None:
    """Attach the `search` command group to the app's CLI."""
    group = AppGroup("search", help="Rebuild, catch up or inspect the search index.")

    @group.command("reindex")
    @click.option("--quiet", is_flag=True, help="No progress on stderr.")
    def reindex_command(quiet):
        """Rebuild the index from the database (Whoosh: into a new directory, then swapped in)."""
        from . import reindex

        started = time.monotonic()
        progress = None if quiet else Progress()
        try:
            count = reindex(progress=progress)
        finally:
            if progress is not None:
                progress.finish()
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
