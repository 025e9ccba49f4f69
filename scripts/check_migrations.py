"""Upgrade an empty database through every migration, then check that the models and migrations agree.

Runs on SQLite (a fresh file) and, when DATABASE_URL points at PostgreSQL or CHECK_POSTGRES_URL is set,
on an emptied PostgreSQL schema too. Exits non-zero on any drift.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def check(url: str) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        CONSULT_INSTANCE_PATH=tempfile.mkdtemp(prefix="consult-migrations-"),
        SECRET_KEY="migration-check-only",
    )
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    for args in (["db", "upgrade"], ["db", "check"]):
        result = subprocess.run(FLASK + args, cwd=ROOT, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n")
            sys.exit(f"migration check failed on {url.split('@')[-1]}: flask db {' '.join(args)}")
    print(f"migrations ok on {url.split('://')[0]}: upgrade from empty, no drift")


if __name__ == "__main__":
    check(f"sqlite:///{tempfile.mkdtemp(prefix='consult-migrations-')}/check.db")
    pg = os.environ.get("CHECK_POSTGRES_URL")
    if pg:
        check(pg)
