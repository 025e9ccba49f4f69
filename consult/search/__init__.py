"""Full-text search over clauses and comments, kept in step with the database through the outbox.

Two backends, chosen by SEARCH_BACKEND: `whoosh` (an index on disk: index.py, query.py, service.py) and `postgres`
(PostgreSQL's own full-text search over the `search_document` table: postgres.py). Both answer the same query
language with the same visibility rules, and the same tests run against both.

Public API (each call goes to the configured backend):
    search(user, q, filters=..., page=..., per_page=..., sort=...) -> SearchPage
    similar_comments(user, comment, limit=10) -> list[Result]
    matching_comment_ids(user, q, document=..., version=...) -> list[int]
    drain(timeout=..., max_batches=..., rebuild=True) -> int
                                                        apply pending outbox rows (first rebuilding a missing
                                                        Whoosh index, unless rebuild=False: in a request)
    reindex() -> int                                    rebuild from the database
    status() -> Status                                  documents indexed, pending rows, size
    install_drain_hook(app)                             apply the outbox after each successful change
"""

from __future__ import annotations

from flask import current_app

from ..logs import get_logger
from . import index as _whoosh_index
from . import service as _whoosh_service
from .index import IndexUnavailable, Status, open_index
from .service import Result, SearchPage

log = get_logger(__name__)

__all__ = [
    "IndexUnavailable",
    "Result",
    "SearchPage",
    "Status",
    "backend_name",
    "drain",
    "install_drain_hook",
    "matching_comment_ids",
    "open_index",
    "reindex",
    "search",
    "similar_comments",
    "status",
]

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class BackendMisconfigured(RuntimeError):
    """SEARCH_BACKEND=postgres on a database that is not PostgreSQL."""


def backend_name() -> str:
    """The configured backend: 'whoosh' or 'postgres'."""
    return current_app.config.get("SEARCH_BACKEND") or "whoosh"


def _backend():
    if backend_name() == "postgres":
        from ..extensions import db
        from . import postgres

        if db.engine.dialect.name != "postgresql":
            raise BackendMisconfigured("SEARCH_BACKEND=postgres needs a PostgreSQL DATABASE_URL")
        return postgres
    return None


def search(user, qstring: str, **kwargs) -> SearchPage:
    backend = _backend()
    return (backend or _whoosh_service).search(user, qstring, **kwargs)


def similar_comments(user, comment, *, limit: int = 10) -> list[Result]:
    backend = _backend()
    return (backend or _whoosh_service).similar_comments(user, comment, limit=limit)


def matching_comment_ids(user, qstring: str, **kwargs) -> list[int]:
    backend = _backend()
    return (backend or _whoosh_service).matching_comment_ids(user, qstring, **kwargs)


def drain(*, rebuild: bool = True, **kwargs) -> int:
    backend = _backend()
    if backend is not None:
        return backend.drain(**kwargs)
    return _whoosh_index.drain(rebuild=rebuild, **kwargs)


def reindex(**kwargs) -> int:
    backend = _backend()
    return (backend or _whoosh_index).reindex(**kwargs)


def status() -> Status:
    backend = _backend()
    return (backend or _whoosh_index).status()


def check_fastpath(app) -> None:
    """Import the search fast path at start-up when it is on, so another Whoosh version stops the app at once with
    the message saying what to do, rather than failing every search."""
    if app.config.get("CONSULT_SEARCH_FASTPATH", True) and app.config.get("SEARCH_BACKEND", "whoosh") == "whoosh":
        from . import fastpath  # noqa: F401  (imported for its version check)


def install_drain_hook(app, *, timeout: float = 0.0, max_batches: int = 4) -> None:
    """After a successful POST/PUT/PATCH/DELETE, get the pending outbox rows applied.

    With CONSULT_SEARCH_DRAIN_DELAY_MS > 0 (the default, 200) the request only wakes this process's background
    drainer (drainer.py), which applies them within that delay plus the drain; with 0 the request itself drains
    before it returns, as earlier releases did. With CONSULT_SEARCH_DRAIN_AFTER_REQUEST=0 nothing is installed:
    `flask search drain` (an index host's loop) applies the outbox. Neither way turns a response into an error.
    """
    from flask import request

    if app.extensions.get("consult_search_drain_hook"):
        return  # installed once, whoever calls first
    app.extensions["consult_search_drain_hook"] = True
    delay = app.config.get("CONSULT_SEARCH_DRAIN_DELAY_MS", 0) / 1000
    drainer = None
    if delay > 0:
        from .drainer import BackgroundDrainer

        drainer = app.extensions["consult_search_drainer"] = BackgroundDrainer(app, delay=delay)

    if drainer is not None:

        @app.before_request
        def start_search_drainer():
            # A process's first request starts its thread, which applies whatever is pending: rows left by a
            # process that died, or by command-line imports, reach the index without waiting for the next change.
            if not drainer.started_here():
                drainer.notify()

    @app.after_request
    def drain_search_outbox(response):
        if request.method in SAFE_METHODS or response.status_code >= 400:
            return response
        try:
            if drainer is not None:
                drainer.notify()
            else:
                drain(timeout=timeout, max_batches=max_batches, rebuild=False)  # a rebuild takes minutes
        except Exception:  # noqa: BLE001  (the index is a cache; the request already succeeded)
            log.exception("search outbox drain failed; rows are kept for the next drain")
        return response
