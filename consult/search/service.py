"""Search as the pages and the API use it: the index query, then the rows from the database, checked again."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup

from .. import permissions
from ..extensions import db
from ..logs import get_logger
from ..models import Clause, Comment, Version
from ..pagination import Page
from .index import IndexUnavailable, forget, live_searcher, request_rebuild
from .query import IndexHit, QueryResult, comment_ids, parse, run_query, run_similar, snippet

log = get_logger(__name__)


@dataclass
class Result:
    """One hit the reader may see, with its database row and a snippet drawn from text they may read."""

    kind: str
    clause: Clause | None  # None for a general comment on a version
    comment: Comment | None
    snippet: Markup
    score: float | None = None

    @property
    def version(self) -> Version:
        return self.comment.version if self.clause is None else self.clause.version

    @property
    def document(self):
        return self.version.document


@dataclass
class SearchPage(Page):
    """A page of results (see Page) with the query, facet counts and an optional message about the query."""

    query: str = ""
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    message: str | None = None
    dropped: int = 0

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    def numbers(self, around: int = 2):
        from ..pagination import Page

        return Page(items=[None], total=self.total, page=self.page, per_page=self.per_page).numbers(around)


def _wake_drainer() -> None:
    """Let this process's background drainer (if any) rebuild the index now rather than at the next change."""
    drainer = current_app.extensions.get("consult_search_drainer")
    if drainer is not None:
        drainer.notify()


def _with_index(fn):
    """Run fn(searcher) on the live index, reopened once if it fails mid-way (a merge may have removed a segment).

    A missing or unreadable index is never rebuilt here: that takes minutes at scale, so the request answers
    IndexUnavailable (503, "try again in a few minutes") and the drainer or `flask search reindex` rebuilds it.
    """
    for attempt in range(2):
        try:
            searcher, gen = live_searcher()
        except IndexUnavailable:
            _wake_drainer()
            raise
        try:
            return fn(searcher)
        except (OSError, EOFError, struct.error) as exc:
            forget(gen)
            if attempt:
                log.warning("search index at %s failed while reading (%s); asking for a rebuild", gen, exc)
                request_rebuild()
                _wake_drainer()
                raise IndexUnavailable(str(gen)) from exc
            log.info("search index at %s failed while reading (%s); opening it again", gen, exc)


def _load(hits: list[IndexHit], user, terms) -> tuple[list[Result], int]:
    """Load the rows of the hits and keep only those the permission rules allow, in the index's order."""
    comment_ids = [h.object_id for h in hits if h.kind == "comment"]
    clause_ids = [h.object_id for h in hits if h.kind == "clause"]
    comments = (
        {
            c.id: c
            for c in db.session.scalars(
                db.select(Comment)
                .where(Comment.id.in_(comment_ids))
                .options(
                    db.joinedload(Comment.clause),
                    db.joinedload(Comment.version).joinedload(Version.document),
                    db.joinedload(Comment.author),
                    db.joinedload(Comment.disposition),
                )
            ).unique()
        }
        if comment_ids
        else {}
    )
    clauses = (
        {
            c.id: c
            for c in db.session.scalars(
                db.select(Clause)
                .where(Clause.id.in_(clause_ids))
                .options(db.joinedload(Clause.version).joinedload(Version.document))
            ).unique()
        }
        if clause_ids
        else {}
    )
    results, dropped = [], 0
    staff = permissions.is_staff(user)
    for hit in hits:
        if hit.kind == "comment":
            comment = comments.get(hit.object_id)
            # The same rule as the index filter, asked of the database row: staff see everything; others only
            # visible comments whose text they may read.
            allowed = (
                comment is not None
                and permissions.can_see_comment(user, comment)
                and permissions.can_view_comment_text(user, comment)
                and (staff or comment.status == "visible")
            )
            if not allowed:
                dropped += 1
                log.warning("search index and database disagree on comment %s; not shown", hit.object_id)
                continue
            text = comment.body + ("\n" + comment.proposed_wording if comment.proposed_wording else "")
            results.append(Result("comment", comment.clause, comment, snippet(text, terms), hit.score))
        else:
            clause = clauses.get(hit.object_id)
            if clause is None or not permissions.can_view_version(user, clause.version):
                dropped += 1
                log.warning("search index and database disagree on clause %s; not shown", hit.object_id)
                continue
            text = f"{clause.heading}\n{clause.body}"
            results.append(Result("clause", clause, None, snippet(text, terms), hit.score))
    return results, dropped


def search(
    user, qstring: str, *, filters: dict | None = None, page: int = 1, per_page: int = 20, sort: str = "relevance"
) -> SearchPage:
    """Search clauses and comments as `user`: filtered in the index, then checked again row by row."""
    parsed = parse(qstring, user)
    fast = current_app.config.get("CONSULT_SEARCH_FASTPATH", True)
    result: QueryResult = _with_index(
        lambda s: run_query(s, parsed, user, filters=filters or {}, page=page, per_page=per_page, sort=sort, fast=fast)
    )
    items, dropped = _load(result.hits, user, result.terms)
    return SearchPage(
        query=(qstring or "").strip(),
        items=items,
        total=max(0, result.total - dropped),
        page=result.page,
        per_page=per_page,
        facets=result.facets,
        message=result.message,
        dropped=dropped,
    )


def similar_comments(user, comment: Comment, *, limit: int = 10) -> list[Result]:
    """The comments most like this one, as Whoosh's more-like-this finds them, that the reader may see."""
    text = comment.body + ("\n" + comment.proposed_wording if comment.proposed_wording else "")
    hits, terms = _with_index(lambda s: run_similar(s, comment.id, text, user, limit=limit))
    items, _dropped = _load([h for h in hits if h.object_id != comment.id], user, terms)
    return items


def matching_comment_ids(user, qstring: str, *, document: str, version: int, limit: int = 100_000) -> list[int]:
    """Ids of the comments of one version that match a query, as far as the reader may see (no rows loaded)."""
    parsed = parse(qstring, user)
    if parsed.query is None:
        return []
    return _with_index(lambda s: comment_ids(s, parsed, user, document=document, version=version, limit=limit))
