"""Fixtures: one schema per test session, emptied tables between tests, a fresh index directory per test.

Under pytest-xdist (`make test`) each worker is a process of its own, named by PYTEST_XDIST_WORKER ("gw0", "gw1"...),
with its own instance folder and database: a SQLite file in its own temporary folder, or on PostgreSQL a database
named after DATABASE_URL's with the worker's id (test_gw0...), created when missing and emptied by `_schema`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask.testing import FlaskClient

SESSION_DIR = Path(tempfile.mkdtemp(prefix="consult-tests-"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Workers inherit the environment of the process that started them, after its conftest changed it: what the person
# running the tests set is kept aside once, so each process derives its own folder and database from that.
for _name in ("DATABASE_URL", "CONSULT_INSTANCE_PATH"):
    os.environ.setdefault(f"CONSULT_TESTS_GIVEN_{_name}", os.environ.get(_name, ""))
GIVEN_DATABASE_URL = os.environ["CONSULT_TESTS_GIVEN_DATABASE_URL"]
GIVEN_INSTANCE_PATH = os.environ["CONSULT_TESTS_GIVEN_CONSULT_INSTANCE_PATH"]


def worker_database_url(url: str, worker: str) -> str:
    """The worker's own database: the database name (or SQLite file name) with the worker's id appended."""
    if not worker:
        return url
    if url.startswith("sqlite"):
        return f"{url}-{worker}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{worker}"))


os.environ["CONSULT_INSTANCE_PATH"] = (
    str(Path(GIVEN_INSTANCE_PATH) / WORKER) if GIVEN_INSTANCE_PATH else str(SESSION_DIR / "instance")
)
os.environ["DATABASE_URL"] = (
    worker_database_url(GIVEN_DATABASE_URL, WORKER) if GIVEN_DATABASE_URL else f"sqlite:///{SESSION_DIR / 'test.db'}"
)
os.environ.setdefault("SECRET_KEY", "test-secret-key-only-for-the-test-suite")

REQUIRE_ALL = os.environ.get("CONSULT_REQUIRE_ALL") == "1"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def require(condition: bool, reason: str):
    """Skip when a component is missing on a laptop; in CI (CONSULT_REQUIRE_ALL=1) fail instead."""
    if not condition:
        if REQUIRE_ALL:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped while CONSULT_REQUIRE_ALL=1: {report.longrepr}"


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    """Compile each messages.po to its (git-ignored) messages.mo when missing or older: pytest runs on a fresh clone."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parents[1] / "consult" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        partial = mo.with_name(f".{mo.stem}.{os.getpid()}.mo")  # written aside, then swapped in whole
        with partial.open("wb") as fh:
            write_mo(fh, catalog)
        partial.replace(mo)


def _create_worker_database() -> None:
    """CREATE DATABASE for this worker on the server of the database the person gave, when it does not exist."""
    import psycopg

    name = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    with psycopg.connect(GIVEN_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="session")
def _schema():
    """Build the schema once through the migrations (which also proves they work), on an emptied database."""
    from flask_migrate import upgrade

    from consult import create_app
    from consult.extensions import db

    if WORKER and GIVEN_DATABASE_URL.startswith("postgres"):
        _create_worker_database()
    app = create_app({"TESTING": True})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        db.engine.dispose()
    yield


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server does, so `g` and the db session are fresh."""

    def open(self, *args, **kwargs):
        # A change (POST...) is answered buffered, so the response is closed as a server closes it, running its
        # call_on_close work (mail); GET responses stay streamed where the app streams them (exports).
        if str(kwargs.get("method", "GET")).upper() not in ("GET", "HEAD"):
            kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(_schema, tmp_path):
    from consult import create_app
    from consult.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
            "CONSULT_SIGNIN_DELAY_SECONDS": 0,
            "PAGE_CACHE_DIR": str(tmp_path / "page-cache"),
            # Tests drain in the request, so a search right after a change finds it; the background
            # drainer has its own tests (tests/integration/test_search_drainer.py).
            "CONSULT_SEARCH_DRAIN_DELAY_MS": 0,
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        # An index exists before serving, as `make run` builds it with `flask search drain`: a request never
        # rebuilds one (it answers 503), and a drain in a request leaves its rows while there is none.
        from consult.search import index as search_index

        search_index.reindex()
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def shared_data():
    """The real public texts beside the project (../shared/data)."""
    require(SHARED_DATA.is_dir(), "../shared/data is not present")
    return SHARED_DATA
