"""Rate limits: the parts that need no store (bucket names, settings, backend choice, decisions).
The behaviour against the database and Redis is in tests/integration/test_throttle_db.py."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from flask import Flask

from consult import throttle
from consult.throttle import Decision, RateLimit, bucket_name, limit_from_config, retry_seconds


@pytest.fixture
def bare_app():
    app = Flask("throttle-unit")
    with app.app_context():
        yield app


def test_bucket_is_name_and_key():
    assert bucket_name("signin-account", "a@example.org") == "signin-account:a@example.org"
    assert RateLimit("signin-ip", 5, 60).bucket("198.51.100.7") == "signin-ip:198.51.100.7"


def test_long_key_is_replaced_by_its_sha256():
    key = "a" * 250 + "@example.org"
    bucket = bucket_name("signin", key)
    assert bucket == "signin:sha256:" + hashlib.sha256(key.encode()).hexdigest()
    assert len(bucket) <= 200
    assert bucket_name("signin", "b" + key[1:]) != bucket


def test_key_that_looks_hashed_is_hashed_too():
    digest = bucket_name("signin", "z" * 300).split(":", 1)[1]
    assert bucket_name("signin", digest) != bucket_name("signin", "z" * 300)


def test_bucket_of_exactly_200_characters_is_kept():
    key = "k" * (200 - len("n:"))
    assert bucket_name("n", key) == "n:" + key


def test_retry_seconds_rounds_up_and_is_at_least_one():
    assert retry_seconds(160.0, 100.0) == 60
    assert retry_seconds(160.2, 100.0) == 61
    assert retry_seconds(100.0000001, 100.0) == 1
    assert retry_seconds(90.0, 100.0) == 1


def test_decision_is_frozen():
    decision = Decision(True, 0, 1, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.allowed = False  # type: ignore[misc]


@pytest.mark.parametrize("args", [("", 1, 1), ("a:b", 1, 1), ("n", 0, 60), ("n", 5, 0), ("x" * 101, 1, 1)])
def test_invalid_limits_are_refused(args):
    with pytest.raises(ValueError):
        RateLimit(*args)


def test_decision_from_counts():
    limit = RateLimit("n", 3, 60, slow_after=1)
    times = {0: 100.0, 1: 110.0}
    assert limit._decision(3, 3, 120.0, times.get) == Decision(True, 0, 3, True)
    assert limit._decision(3, 2, 120.0, times.get) == Decision(False, 40, 3, True)
    assert limit._decision(4, 3, 120.0, times.get) == Decision(False, 50, 4, True)
    assert limit._decision(1, 2, 120.0, times.get) == Decision(True, 0, 1, False)


def test_clock_is_injectable(monkeypatch):
    assert RateLimit("n", 1, 1, clock=lambda: 42.0)._now() == 42.0
    monkeypatch.setattr(throttle, "now", lambda: 7.0)
    assert RateLimit("n", 1, 1)._now() == 7.0


def test_limit_from_config_defaults(bare_app):
    limit = limit_from_config("signin-account", 5, 900, default_slow=3)
    assert (limit.name, limit.limit, limit.window_seconds, limit.slow_after) == ("signin-account", 5, 900, 3)


def test_limit_from_config_reads_the_app_config(bare_app):
    bare_app.config.update(
        CONSULT_SIGNIN_ACCOUNT_LIMIT="10",
        CONSULT_SIGNIN_ACCOUNT_WINDOW=60,
        CONSULT_SIGNIN_ACCOUNT_SLOW_AFTER=4,
        CONSULT_RESET_LIMIT=None,
    )
    limit = limit_from_config("signin-account", 5, 900)
    assert (limit.limit, limit.window_seconds, limit.slow_after) == (10, 60, 4)
    reset = limit_from_config("reset", 3, 3600)
    assert (reset.limit, reset.window_seconds, reset.slow_after) == (3, 3600, None)


def test_backend_follows_redis_url(bare_app):
    assert isinstance(throttle._backend(), throttle._DatabaseBackend)
    bare_app.config["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    backend = throttle._backend()
    assert isinstance(backend, throttle._FallbackBackend) and backend.url == "redis://127.0.0.1:6379/0"


def test_redis_client_is_cached_per_url():
    one = throttle.redis_client("redis://127.0.0.1:6379/14")
    assert throttle.redis_client("redis://127.0.0.1:6379/14") is one
    assert throttle.redis_client("redis://127.0.0.1:6379/15") is not one


def test_failing_redis_falls_back_without_retrying_at_once(bare_app, monkeypatch):
    calls = {"redis": 0, "db": 0}

    class FailingRedis:
        def __init__(self, client):
            pass

        def hit(self, *args):
            calls["redis"] += 1
            raise ConnectionError("refused")

    class FakeDatabase:
        def hit(self, limit, bucket, at):
            calls["db"] += 1
            return Decision(True, 0, calls["db"], False)

    url = "redis://:secret@127.0.0.1:6379/13"
    monkeypatch.setattr(throttle, "_RedisBackend", FailingRedis)
    monkeypatch.setattr(throttle, "_DatabaseBackend", FakeDatabase)
    monkeypatch.setattr(throttle, "_failed_until", {})
    bare_app.config["REDIS_URL"] = url
    limit = RateLimit("n", 5, 60, clock=lambda: 1000.0)
    assert limit.hit("k").count == 1
    assert limit.hit("k").count == 2
    assert calls == {"redis": 1, "db": 2}


def test_redacted_url_hides_the_password():
    assert throttle._redacted("redis://:secret@cache:6379/0") == "redis://***@cache:6379/0"
    assert throttle._redacted("redis://cache:6379/0") == "redis://cache:6379/0"
