"""Applying the search outbox off the request path: one background thread per process, woken by each change.

A request that changed something only wakes the thread; the thread waits `CONSULT_SEARCH_DRAIN_DELAY_MS` so that
the changes of the next moments go into the same batch, then drains everything pending (every process's rows, not
only its own). The outbox keeps its guarantees: its rows are written in the same transaction as the change and
deleted only after the index has them, so a crash (of the thread or the process) loses nothing, and the next drain
anywhere (the next change in any process, a thread starting, `flask search drain`) catches up. While rows remain
(another process holds the index lock, or a drain failed) the thread tries again, backing off up to a few seconds.

The thread is started lazily, by a process's first request (it then applies whatever is pending, e.g. rows left by
a process that died or by a command-line import), and again in a child after a fork (gunicorn's workers), since
threads do not survive one.
"""

from __future__ import annotations

import os
import threading
import time
import weakref

from ..logs import get_logger

log = get_logger(__name__)

MAX_BACKOFF = 5.0
_drainers: weakref.WeakSet[BackgroundDrainer] = weakref.WeakSet()


class BackgroundDrainer:
    """Drains the search outbox for one app in a daemon thread of the current process."""

    def __init__(self, app, *, delay: float, drain_timeout: float = 2.0):
        self.app = app
        self.delay = delay
        self.drain_timeout = drain_timeout
        self.drained = 0  # rows applied by this process's thread (for tests and logs)
        self.failures = 0
        self._reset()
        _drainers.add(self)

    def _reset(self) -> None:
        self._pid = None
        self._thread = None
        self._stopping = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()

    def notify(self) -> None:
        """Something was queued: drain it soon (the thread starts on first use in this process)."""
        self._ensure_started()
        self._idle.clear()
        self._wake.set()

    def started_here(self) -> bool:
        """Whether this process's thread has been started (cheap: read on every request)."""
        return self._pid == os.getpid()

    def _ensure_started(self) -> None:
        pid = os.getpid()
        thread = self._thread
        if self._pid == pid and thread is not None and thread.is_alive():
            return
        with self._lock:
            if self._pid == pid and self._thread is not None and self._thread.is_alive():
                return
            self._pid = pid
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="consult-search-drain", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Let the thread finish its current drain and end (tests; a process otherwise keeps it until exit)."""
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the thread has nothing more to do; True if it got there in time."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        backoff = 0.0
        while not self._stopping:
            self._wake.wait()
            if self._stopping:
                break
            time.sleep(max(self.delay, backoff))  # the changes of the next moments join this batch
            self._wake.clear()
            pending = self._drain_once()
            if pending:
                backoff = min(MAX_BACKOFF, max(0.1, backoff * 2 or self.delay * 2))
                self._wake.set()
            else:
                backoff = 0.0
                if not self._wake.is_set():
                    self._idle.set()
        self._idle.set()

    def _drain_once(self) -> bool:
        """One drain of everything pending; True when rows remain (to be tried again)."""
        from ..extensions import db
        from ..models import SearchOutbox
        from . import drain

        try:
            with self.app.app_context():
                self.drained += drain(timeout=self.drain_timeout)
                remaining = db.session.scalar(db.select(SearchOutbox.id).limit(1)) is not None
                db.session.remove()
                return remaining
        except Exception:  # the rows stay in the outbox; the next attempt applies them
            self.failures += 1
            log.exception("background search drain failed; outbox rows are kept and tried again")
            return True


def _after_fork_in_child() -> None:
    for drainer in list(_drainers):
        drainer._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
