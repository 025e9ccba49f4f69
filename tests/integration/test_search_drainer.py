"""The search outbox applied off the request path: a background thread per process, woken by each change."""

import os
import time
from datetime import timedelta

import pytest

from consult import create_app, search
from consult.extensions import db
from consult.models import SearchOutbox, utcnow
from consult.services import comments as comment_service
from tests.conftest import IsolatedClient
from tests.factories import make_user, publish, sign_in

BACKENDS = ["whoosh"] + (["postgres"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])
DRAFT = "# Drainer Code\n\n## Chapter I. Scope\n\nWho the code is for.\n"


def pending() -> int:
    db.session.rollback()  # a fresh snapshot: the thread commits in its own session
    return db.session.scalar(db.select(db.func.count(SearchOutbox.id)))


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture(params=BACKENDS)
def background_app(request, app, tmp_path):
    """An app as `make run` builds it: the drain is left to the background thread (200 ms)."""
    quiet = create_app(
        {
            "TESTING": True,
            "SEARCH_INDEX_DIR": str(tmp_path / "bg-index"),
            "SEARCH_BACKEND": request.param,
            "CONSULT_SEARCH_DRAIN_DELAY_MS": 200,
            "CONSULT_SIGNIN_DELAY_SECONDS": 0,
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    quiet.test_client_class = IsolatedClient
    yield quiet
    drainer = quiet.extensions.get("consult_search_drainer")
    if drainer is not None:
        drainer.stop()


def comment_through_the_page(app, body):
    version = publish(
        "drainer-code", DRAFT, opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10)
    )
    clause = version.clauses[0]
    author = make_user("participant")
    client = app.test_client()
    sign_in(client, author.email)
    drainer = app.extensions["consult_search_drainer"]
    drainer.wait_idle(10)  # the sign-in's own wake-up is done
    path = f"/documents/drainer-code/versions/1/clauses/{clause.key}"
    from tests.integration.test_comments import form_data

    form = form_data(client, path, body=body, type="remark")
    response = client.post(path + "/comments", data=form)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    return drainer


def found(app, word) -> int:
    """The hits for a word; -1 while the index is still being built by the thread."""
    with app.app_context():
        try:
            return search.search(None, word).total
        except search.IndexUnavailable:
            return -1


def test_the_request_only_wakes_the_drainer_which_makes_the_comment_findable(background_app):
    # A longer wait than the default 200 ms, so that a slow test machine still looks before the thread has drained.
    background_app.extensions["consult_search_drainer"].delay = 1.5
    drainer = comment_through_the_page(background_app, "A note about the lesser spotted woodpecker.")
    with background_app.app_context():
        # The response came back before the index had the comment (the thread waits to batch changes)...
        assert pending() >= 1
    # ...and the thread applies it soon after, without another request.
    assert wait_for(lambda: found(background_app, "woodpecker") == 1)
    with background_app.app_context():
        assert pending() == 0
    assert drainer.drained >= 1


def test_a_crash_mid_drain_loses_nothing_and_the_thread_tries_again(background_app, monkeypatch):
    with background_app.app_context():
        backend = search.backend_name()
    calls = {"n": 0}
    if backend == "whoosh":
        from whoosh.writing import SegmentWriter

        target, name = SegmentWriter, "commit"
    else:
        from consult.search import postgres

        target, name = postgres, "apply_changes"
    real = getattr(target, name)

    def crash_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker killed mid-drain")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, crash_once)
    drainer = comment_through_the_page(background_app, "A note about the great crested grebe.")
    assert wait_for(lambda: found(background_app, "grebe") == 1)
    assert calls["n"] >= 2 and drainer.failures >= 1  # the first drain failed, the rows stayed, the next applied them
    with background_app.app_context():
        assert pending() == 0


def test_rows_left_by_a_dead_process_are_applied_by_the_next_change(background_app):
    with background_app.app_context():
        search.drain()  # the index exists, as `make run` builds it before serving
        version = publish(
            "drainer-code", DRAFT, opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10)
        )
        comment_service.post_comment(
            author=make_user("participant"),
            clause=version.clauses[0],
            type_="remark",
            body="Orphaned note about a dipper.",
            visibility="public",
        )
        assert pending() >= 1  # written with the comment; nobody drained it (as if the process had died)
    drainer = comment_through_the_page_again(background_app)
    assert wait_for(lambda: found(background_app, "dipper") == 1)
    assert drainer.drained >= 1


def test_the_drainer_rebuilds_a_missing_index_a_search_found(background_app):
    """A search never rebuilds the index (503), but wakes the thread, which rebuilds it; nothing is lost."""
    import shutil

    with background_app.app_context():
        version = publish(
            "drainer-code", DRAFT, opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10)
        )
        comment_service.post_comment(
            author=make_user("participant"),
            clause=version.clauses[0],
            type_="remark",
            body="A note about a wryneck.",
            visibility="public",
        )
        shutil.rmtree(background_app.config["SEARCH_INDEX_DIR"], ignore_errors=True)
    client = background_app.test_client()
    response = client.get("/api/search?q=wryneck")
    if background_app.config["SEARCH_BACKEND"] == "whoosh":
        assert response.status_code == 503 and response.headers["Retry-After"]
    assert wait_for(lambda: found(background_app, "wryneck") == 1)
    assert client.get("/api/search?q=wryneck").get_json()["total"] == 1
    with background_app.app_context():
        assert pending() == 0


def comment_through_the_page_again(app):
    author = make_user("participant")
    client = app.test_client()
    sign_in(client, author.email)  # any successful change wakes the thread, which drains every pending row
    return app.extensions["consult_search_drainer"]


def test_the_thread_starts_again_in_a_forked_child(background_app):
    drainer = comment_through_the_page_again(background_app)
    assert drainer._thread is not None and drainer._thread.is_alive()
    from consult.search import drainer as drainer_module

    drainer_module._after_fork_in_child()  # what os.register_at_fork runs in a gunicorn worker
    assert drainer._thread is None
    drainer.notify()
    assert drainer._thread is not None and drainer._thread.is_alive()
    assert drainer.wait_idle(10)
