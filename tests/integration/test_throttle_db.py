"""Rate limits against the real stores: the database (SQLite or PostgreSQL) and Redis."""

from __future__ import annotations

import logging
import os
import threading
import uuid

import pytest
from sqlalchemy import func, select

from consult import throttle
from consult.extensions import db
from consult.models.moderation import ThrottleEvent
from consult.throttle import RateLimit
from tests.conftest import require

REDIS_URL = os.environ.get("CONSULT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START = 1_750_000_000.0


class Clock:
    def __init__(self, at: float = START):
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001  (any failure means: no Redis to test against)
        return False


@pytest.fixture
def redis_app(app):
    """The app with REDIS_URL set; the keys of this test's limits are deleted afterwards."""
    require(_redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
    app.config["REDIS_URL"] = REDIS_URL
    yield app
    client = throttle.redis_client(REDIS_URL)
    for key in client.scan_iter(match=f"{throttle.REDIS_PREFIX}t{_PREFIX}*"):
        client.delete(key)


_PREFIX = uuid.uuid4().hex[:8]


@pytest.fixture(params=["db", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request, app):
    if request.param == "redis":
        request.getfixturevalue("redis_app")
    return request.param


@pytest.fixture
def name(request):
    """A name unique to this test (and this run), so that Redis keys never meet another test's."""
    return f"t{_PREFIX}-{uuid.uuid4().hex[:10]}"


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ThrottleEvent))


def test_under_the_limit_is_allowed(backend, name):
    limit = RateLimit(name, 3, 60, clock=Clock())
    first, second = limit.hit("a@example.org"), limit.hit("a@example.org")
    assert first == throttle.Decision(True, 0, 1, False)
    assert second == throttle.Decision(True, 0, 2, False)
    assert limit.check("a@example.org") == throttle.Decision(True, 0, 2, False)


def test_check_records_nothing(backend, name):
    limit = RateLimit(name, 3, 60, clock=Clock())
    for _ in range(5):
        assert limit.check("k").count == 0
    assert limit.hit("k").count == 1


def test_at_the_limit_refused_with_retry_after(backend, name):
    clock = Clock()
    limit = RateLimit(name, 3, 60, clock=clock)
    limit.hit("k")
    clock.advance(10)
    limit.hit("k")
    clock.advance(10)
    third = limit.hit("k")
    assert third.allowed and third.count == 3
    # Three attempts in the window: one more is not allowed until the oldest (at START) leaves it.
    refused = limit.check("k")
    assert not refused.allowed and refused.count == 3
    assert refused.retry_after == 40
    fourth = limit.hit("k")
    assert not fourth.allowed and fourth.count == 4
    # With a refused attempt recorded, the two oldest must leave: the second one left at START + 10.
    assert fourth.retry_after == 50


def test_retry_after_is_at_least_one_second(backend, name):
    clock = Clock()
    limit = RateLimit(name, 1, 60, clock=clock)
    limit.hit("k")
    clock.advance(59.9995)
    decision = limit.check("k")
    assert not decision.allowed and decision.retry_after == 1


def test_window_expiry(backend, name):
    clock = Clock()
    limit = RateLimit(name, 2, 60, clock=clock)
    limit.hit("k")
    clock.advance(30)
    limit.hit("k")
    assert not limit.check("k").allowed
    clock.advance(30)  # the first attempt is exactly one window old: it no longer counts
    decision = limit.check("k")
    assert decision.allowed and decision.count == 1
    assert limit.hit("k").count == 2
    clock.advance(120)
    assert limit.check("k") == throttle.Decision(True, 0, 0, False)


def test_clear(backend, name):
    limit = RateLimit(name, 2, 60, clock=Clock())
    for _ in range(3):
        limit.hit("a@example.org")
    limit.hit("b@example.org")
    assert not limit.check("a@example.org").allowed
    limit.clear("a@example.org")
    assert limit.check("a@example.org") == throttle.Decision(True, 0, 0, False)
    assert limit.check("b@example.org").count == 1


def test_slow_after(backend, name):
    limit = RateLimit(name, 5, 60, slow_after=2, clock=Clock())
    assert [limit.hit("k").slow_down for _ in range(4)] == [False, False, True, True]
    decision = limit.check("k")
    assert decision.slow_down and decision.allowed


def test_keys_are_independent(backend, name):
    limit = RateLimit(name, 1, 60, clock=Clock())
    assert limit.hit("198.51.100.7").allowed
    assert not limit.hit("198.51.100.7").allowed
    assert limit.hit("203.0.113.9").allowed
    other = RateLimit(name + "-other", 1, 60, clock=Clock())
    assert other.check("198.51.100.7").count == 0


def test_long_key_is_hashed(backend, name):
    limit = RateLimit(name, 2, 60, clock=Clock())
    long_key = "x" * 300 + "@example.org"
    assert limit.hit(long_key).count == 1
    assert limit.hit(long_key).count == 2
    assert limit.hit("x" * 300 + "@example.com").count == 1
    assert len(limit.bucket(long_key)) <= 200
    if backend == "db":
        buckets = set(db.session.scalars(select(ThrottleEvent.bucket)))
        assert limit.bucket(long_key) in buckets
        assert all(len(b) <= 200 for b in buckets)


def test_real_clock_is_used_by_default(backend, name, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttle, "now", clock)
    limit = RateLimit(name, 1, 60)
    limit.hit("k")
    assert not limit.check("k").allowed
    clock.advance(61)
    assert limit.check("k").allowed


def test_concurrent_hits_count_exactly(backend, name, app):
    threads_n, per_thread = 8, 15
    limit = RateLimit(name, 10_000, 3600, clock=Clock())
    counts: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_n)

    def worker():
        try:
            with app.app_context():  # each thread has its own context, as each worker process does
                barrier.wait()
                for _ in range(per_thread):
                    decision = limit.hit("shared")
                    with lock:
                        counts.append(decision.count)
        except BaseException as exc:  # noqa: BLE001  (reported below: a thread's failure would otherwise be silent)
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    total = threads_n * per_thread
    assert limit.check("shared").count == total
    if backend == "redis" or db.engine.dialect.name == "sqlite":
        # Atomic stores: every hit saw a distinct count.
        assert sorted(counts) == list(range(1, total + 1))
    else:
        # PostgreSQL (READ COMMITTED): no hit is lost, but a hit's count may miss another worker's
        # insert committed at the same moment.
        assert all(1 <= c <= total for c in counts)


# --- database only ----------------------------------------------------------------------------------


def test_old_rows_are_deleted_by_later_hits(app, name):
    clock = Clock()
    limit = RateLimit(name, 5, 60, clock=clock)
    for _ in range(3):
        limit.hit("k")
    assert _rows() == 3
    clock.advance(61)
    limit.hit("k")
    assert _rows() == 1


def test_hit_does_not_commit_the_callers_session(app, name):
    """The throttle row is committed on its own; what the caller has pending in the session stays pending."""
    pending = ThrottleEvent(bucket="pending:caller-row", created_at=throttle._dt(START))
    db.session.add(pending)
    RateLimit(name, 3, 60, clock=Clock()).hit("k")
    db.session.rollback()
    buckets = list(db.session.scalars(select(ThrottleEvent.bucket)))
    assert buckets == [f"{name}:k"]


def test_limit_from_config(app, name):
    app.config.update(
        {f"CONSULT_{name.upper().replace('-', '_')}_LIMIT": "1", f"CONSULT_{name.upper().replace('-', '_')}_WINDOW": 30}
    )
    limit = throttle.limit_from_config(name, 5, 60, default_slow=3)
    assert (limit.limit, limit.window_seconds, limit.slow_after) == (1, 30, 3)
    assert limit.hit("k").allowed and not limit.hit("k").allowed


# --- Redis only -------------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_keys_expire(redis_app, name):
    limit = RateLimit(name, 3, 60, clock=Clock())
    limit.hit("k")
    client = throttle.redis_client(REDIS_URL)
    key = throttle.REDIS_PREFIX + limit.bucket("k")
    assert 0 < client.ttl(key) <= 61
    assert _rows() == 0  # nothing went to the database


@pytest.mark.redis
def test_redis_state_is_shared_between_apps(redis_app, name):
    """Two app instances (as two workers) see the same counts."""
    from consult import create_app

    limit = RateLimit(name, 2, 60, clock=Clock())
    limit.hit("k")
    other = create_app({"TESTING": True, "REDIS_URL": REDIS_URL})
    with other.app_context():
        assert limit.hit("k").count == 2
    assert not limit.check("k").allowed


def test_unreachable_redis_falls_back_to_the_database(app, name, caplog, monkeypatch):
    # Alembic's fileConfig (run in-process by the schema fixture) disables loggers that already exist.
    monkeypatch.setattr(logging.getLogger("consult.throttle"), "disabled", False)
    url = f"redis://u{uuid.uuid4().hex}@127.0.0.1:1/0"  # nothing listens on port 1; a URL of its own
    app.config["REDIS_URL"] = url
    limit = RateLimit(name, 2, 60, clock=Clock())
    with caplog.at_level(logging.WARNING, logger="consult.throttle"):
        assert limit.hit("k").count == 1
        assert limit.hit("k").count == 2
        assert not limit.check("k").allowed
        limit.clear("k")
    assert _rows() == 0
    warnings = [r for r in caplog.records if r.name == "consult.throttle"]
    assert len(warnings) == 1  # then the database is used without trying Redis at every call
    assert "127.0.0.1:1" in warnings[0].getMessage()
