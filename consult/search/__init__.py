"""Full-text search over clauses and comments with Whoosh, kept in step with the database through the outbox.

Public API:
    search(user, q, filters=..., page=..., per_page=..., sort=...) -> SearchPage
    similar_comments(user, comment, limit=10) -> list[Result]
    drain(timeout=..., max_batches=...) -> int          apply pending outbox rows
    reindex() -> int                                    rebuild from the database, atomically swapped in
    status() -> Status                                  documents indexed, pending rows, size on disk
    install_drain_hook(app)                             drain after each successful state-changing request
"""
from __future__ import annotations


from .index import IndexUnavailable, Status, drain, open_index, reindex, status
from .service import Result, SearchPage, matching_comment_ids, search, similar_comments
from ..logs import get_logger

log = get_logger(__name__)

__all__ = ["IndexUnavailable", "Result", "SearchPage", "Status", "drain", "install_drain_hook", "matching_comment_ids", "open_index",
           "reindex", "search", "similar_comments", "status"]

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def install_drain_hook(app, *, timeout: float = 0.0, max_batches: int = 4) -> None:
    """After a successful POST/PUT/PATCH/DELETE, apply pending outbox rows to the index.

    It never waits for a busy index lock (another worker is writing: the rows stay for the next drain) and never
    turns a response into an error: a failure is logged and `flask search drain` or the next request catches up.
    """
    from flask import request

    if app.extensions.get("consult_search_drain_hook"):
        return  # installed once, whoever calls first
    app.extensions["consult_search_drain_hook"] = True

    @app.after_request
    def drain_search_outbox(response):
        if request.method in SAFE_METHODS or response.status_code >= 400:
            return response
        try:
            drain(timeout=timeout, max_batches=max_batches)
        except Exception:  # noqa: BLE001  (the index is a cache; the request already succeeded)
            log.exception("search outbox drain failed; rows are kept for the next drain")
        return response
