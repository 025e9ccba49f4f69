"""Rate limits shared by every worker process.

A :class:`RateLimit` counts attempts per bucket (``f"{name}:{key}"``) in a sliding window.
The counts live where every worker sees them:

- in Redis when ``REDIS_URL`` is configured: one sorted set per bucket, scored by the time of each
  attempt, updated in a MULTI/EXEC pipeline so that concurrent workers never lose a count;
- otherwise in the database, one ``ThrottleEvent`` row per attempt.

If Redis is configured but cannot be reached, the limit logs a warning and uses the database for a
short while (never an error page).

Semantics:

- ``check(key)`` records nothing; ``allowed`` says whether one more attempt would be within the limit.
- ``hit(key)`` records one attempt; ``allowed`` says whether *this* attempt is within the limit.
  Refused attempts are recorded too, so a client that keeps hammering stays refused.
- ``retry_after`` is the number of seconds (at least 1) until enough counted attempts have left the
  window for one more to be allowed; with the usual pattern (stop at the limit) that is the moment
  the oldest counted attempt leaves the window. It is 0 when allowed.
- ``slow_down`` is true when ``count`` is past ``slow_after``.

Database writes use their own short transaction on a separate connection (``db.engine.begin()``),
never ``db.session``: recording an attempt is an action of its own and must not commit, or roll back,
whatever the caller has pending in the session. On SQLite, call ``hit`` before the caller's session
has flushed writes of its own, or the two connections would wait on each other's write lock.
SQLite serialises writers, so concurrent hits each see a distinct count. On PostgreSQL (READ
COMMITTED) no hit is lost either, but two hits committing at the same moment may each miss the other,
so a burst can get a few attempts past the limit.

Time comes from the module-level :func:`now` (seconds since the epoch), or from the ``clock`` given
to :class:`RateLimit`, so that tests can move time forward without sleeping.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import delete, func, insert, select, text

from .extensions import db
from .logs import get_logger
from .models.moderation import ThrottleEvent

log = get_logger(__name__)

BUCKET_MAX = 200  # ThrottleEvent.bucket is a String(200)
HASH_PREFIX = "sha256:"  # marks a key replaced by its digest
REDIS_PREFIX = "consult:throttle:"
REDIS_TIMEOUT = 0.5  # seconds, for connecting and for each command
REDIS_RETRY_AFTER_FAILURE = 30.0  # seconds during which a failed Redis URL is not tried again


def now() -> float:
    """The current time in seconds since the epoch (replace it in tests, or give a clock)."""
    return time.time()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until allowed again (0 when allowed)
    count: int  # attempts counted in the window, including past ones
    slow_down: bool  # True when count is past the "slow" threshold (caller may add a delay / message)


def bucket_name(name: str, key: str) -> str:
    """``f"{name}:{key}"``, with the key replaced by ``sha256:<hex>`` when the result would not fit.

    Keys that already start with ``sha256:`` are hashed as well, so that no raw key can share a
    bucket with the digest of another.
    """
    bucket = f"{name}:{key}"
    if len(bucket) > BUCKET_MAX or key.startswith(HASH_PREFIX):
        bucket = f"{name}:{HASH_PREFIX}{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
    return bucket


def retry_seconds(leaves_at: float, at: float) -> int:
    """Whole seconds from ``at`` until ``leaves_at``, rounded up, at least 1."""
    # Round away float noise first (timestamps go through datetimes with microsecond precision).
    return max(1, math.ceil(round(leaves_at - at, 3)))


class RateLimit:
    """At most ``limit`` attempts per key in any ``window_seconds``."""

    def __init__(
        self,
        name: str,
        limit: int,
        window_seconds: int,
        slow_after: int | None = None,
        *,
        clock: Callable[[], float] | None = None,
    ):
        if not name or len(name) > 100 or ":" in name:
            raise ValueError("a rate limit name is 1 to 100 characters, without ':'")
        if limit < 1 or window_seconds < 1:
            raise ValueError("limit and window_seconds must be at least 1")
        if slow_after is not None and slow_after < 0:
            raise ValueError("slow_after must not be negative")
        self.name = name
        self.limit = int(limit)
        self.window_seconds = int(window_seconds)
        self.slow_after = slow_after
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"RateLimit({self.name!r}, limit={self.limit}, window_seconds={self.window_seconds}, "
            f"slow_after={self.slow_after})"
        )

    def bucket(self, key: str) -> str:
        return bucket_name(self.name, key)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else now()

    def check(self, key: str) -> Decision:
        """Would one more attempt for ``key`` be allowed? Records nothing."""
        at = self._now()
        return _backend().check(self, self.bucket(key), at)

    def hit(self, key: str) -> Decision:
        """Record one attempt for ``key``; the decision says whether this attempt is within the limit."""
        at = self._now()
        return _backend().hit(self, self.bucket(key), at)

    def clear(self, key: str) -> None:
        """Forget every attempt for ``key`` (e.g. after a successful sign-in)."""
        _backend().clear(self.bucket(key))

    def _decision(self, count: int, allowed_up_to: int, at: float, nth_time: Callable[[int], float | None]) -> Decision:
        """Build a decision. ``allowed_up_to`` is the highest allowed count (limit for hit, limit-1 for check).
        ``nth_time(i)`` gives the time of the i-th oldest counted attempt (0-based), only asked when refused."""
        slow = self.slow_after is not None and count > self.slow_after
        if count <= allowed_up_to:
            return Decision(True, 0, count, slow)
        # One more attempt is allowed once the count drops to limit - 1: the (count - limit)-th oldest
        # (0-based) must have left the window.
        first = nth_time(count - self.limit)
        retry = retry_seconds(first + self.window_seconds, at) if first is not None else 1
        return Decision(False, retry, count, slow)


def limit_from_config(name: str, default_limit: int, default_window: int, default_slow: int | None = None) -> RateLimit:
    """A :class:`RateLimit` whose numbers come from ``CONSULT_<NAME>_LIMIT``, ``CONSULT_<NAME>_WINDOW``
    and, optionally, ``CONSULT_<NAME>_SLOW_AFTER`` in the app config, else the defaults.
    ``<NAME>`` is the name upper-cased with anything but letters and digits turned into ``_``."""
    prefix = "CONSULT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
    config = current_app.config

    def setting(suffix: str, default):
        value = config.get(f"{prefix}_{suffix}")
        if value is None or value == "":
            return default
        return int(value)

    return RateLimit(
        name, setting("LIMIT", default_limit), setting("WINDOW", default_window), setting("SLOW_AFTER", default_slow)
    )


# --- backends ---------------------------------------------------------------------------------------


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class _DatabaseBackend:
    """ThrottleEvent rows, written in a transaction of their own through the engine."""

    table = ThrottleEvent.__table__

    def _counted(self, bucket: str, cutoff: datetime):
        t = self.table
        return (t.c.bucket == bucket) & (t.c.created_at > cutoff)

    def _nth_time(self, conn, bucket: str, cutoff: datetime, index: int) -> float | None:
        t = self.table
        row = conn.execute(
            select(t.c.created_at).where(self._counted(bucket, cutoff)).order_by(t.c.created_at).offset(index).limit(1)
        ).first()
        return row[0].timestamp() if row else None

    def _count(self, conn, bucket: str, cutoff: datetime) -> int:
        t = self.table
        return conn.execute(select(func.count()).select_from(t).where(self._counted(bucket, cutoff))).scalar_one()

    def check(self, limit: RateLimit, bucket: str, at: float) -> Decision:
        cutoff = _dt(at - limit.window_seconds)
        with db.engine.connect() as conn:
            count = self._count(conn, bucket, cutoff)
            return limit._decision(count, limit.limit - 1, at, lambda i: self._nth_time(conn, bucket, cutoff, i))

    def hit(self, limit: RateLimit, bucket: str, at: float) -> Decision:
        t = self.table
        cutoff = _dt(at - limit.window_seconds)
        # Writes come first so that SQLite takes its write lock at once (and waits for it with
        # busy_timeout) rather than upgrading a read transaction later.
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Serialise hits on one bucket, so that concurrent workers each see the others' rows.
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:b))"), {"b": bucket})
            conn.execute(delete(t).where(t.c.bucket == bucket, t.c.created_at <= cutoff))
            conn.execute(insert(t).values(bucket=bucket, created_at=_dt(at)))
            count = self._count(conn, bucket, cutoff)
            return limit._decision(count, limit.limit, at, lambda i: self._nth_time(conn, bucket, cutoff, i))

    def clear(self, bucket: str) -> None:
        t = self.table
        with db.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.bucket == bucket))


class _RedisBackend:
    """One sorted set per bucket: members are unique per attempt, scores are the attempt times."""

    def __init__(self, client):
        self.client = client

    @staticmethod
    def _key(bucket: str) -> str:
        return REDIS_PREFIX + bucket

    def _nth_time(self, key: str, cutoff: float, index: int) -> float | None:
        found = self.client.zrangebyscore(key, f"({cutoff!r}", "+inf", start=index, num=1, withscores=True)
        return float(found[0][1]) if found else None

    def check(self, limit: RateLimit, bucket: str, at: float) -> Decision:
        key = self._key(bucket)
        cutoff = at - limit.window_seconds
        count = int(self.client.zcount(key, f"({cutoff!r}", "+inf"))
        return limit._decision(count, limit.limit - 1, at, lambda i: self._nth_time(key, cutoff, i))

    def hit(self, limit: RateLimit, bucket: str, at: float) -> Decision:
        key = self._key(bucket)
        cutoff = at - limit.window_seconds
        member = f"{at!r}:{secrets.token_hex(8)}"
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", cutoff)
        pipe.zadd(key, {member: at})
        pipe.zcard(key)
        pipe.expire(key, limit.window_seconds + 1)
        _, _, count, _ = pipe.execute()
        return limit._decision(int(count), limit.limit, at, lambda i: self._nth_time(key, cutoff, i))

    def clear(self, bucket: str) -> None:
        self.client.delete(self._key(bucket))


_clients: dict[str, object] = {}
_failed_until: dict[str, float] = {}
_clients_lock = threading.Lock()


def redis_client(url: str):
    """One client (with its connection pool) per URL, shared by the threads of a process."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
            _clients[url] = client
        return client


class _FallbackBackend:
    """Redis, falling back to the database (with a warning) when Redis fails."""

    def __init__(self, url: str):
        self.url = url

    def _call(self, method: str, *args):
        if time.monotonic() >= _failed_until.get(self.url, 0.0):
            try:
                return getattr(_RedisBackend(redis_client(self.url)), method)(*args)
            except Exception as exc:  # noqa: BLE001  (unreachable, timing out, or misconfigured: never an error page)
                _failed_until[self.url] = time.monotonic() + REDIS_RETRY_AFTER_FAILURE
                log.warning(
                    "throttle: Redis at %s failed (%s); using the database for %d s",
                    _redacted(self.url),
                    exc,
                    REDIS_RETRY_AFTER_FAILURE,
                )
        return getattr(_DatabaseBackend(), method)(*args)

    def check(self, *args):
        return self._call("check", *args)

    def hit(self, *args):
        return self._call("hit", *args)

    def clear(self, *args):
        return self._call("clear", *args)


def _redacted(url: str) -> str:
    """The URL without a password, for logs."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def _backend():
    url = current_app.config.get("REDIS_URL")
    return _FallbackBackend(url) if url else _DatabaseBackend()
