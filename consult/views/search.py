"""Search: the results page, its JSON twin and the drafters' similar comments."""

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user

from .. import permissions
from .. import search as search_service
from ..params import page_arg
from ..search.query import FILTER_FIELDS, SORTS
from ..services import documents as document_service
from .loaders import load_comment

bp = Blueprint("search", __name__)

PER_PAGE = 20


def _filters() -> dict:
    return {name: (request.args.get(name) or "").strip()[:100] for name in FILTER_FIELDS}


def _run():
    sort = request.args.get("sort", "relevance")
    if sort not in SORTS:
        sort = "relevance"
    page = page_arg()
    q = (request.args.get("q") or "").strip()
    filters = _filters()
    results = search_service.search(current_user, q, filters=filters, page=page, per_page=PER_PAGE, sort=sort)
    return results, filters, sort


def result_url(item, *, external: bool = False) -> str:
    """The clause's anchor, or the comment's permalink."""
    if item.kind == "comment":
        return url_for("comments.show", comment_id=item.comment.id, _external=external)
    version = item.clause.version
    return url_for(
        "documents.clause",
        slug=version.document.slug,
        number=version.number,
        key=item.clause.key,
        _anchor=item.clause.key,
        _external=external,
    )


def search_url(**changes) -> str:
    """This search's URL with some parameters changed (None or "" removes one); back to page 1."""
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    for key, value in changes.items():
        if value in (None, ""):
            args.pop(key, None)
        else:
            args[key] = value
    return url_for("search.results", **args)


@bp.get("/search")
def results():
    results, filters, sort = _run()
    searched = bool(results.query or any(filters.values()))
    return render_template(
        "search/results.html",
        results=results,
        filters=filters,
        sort=sort,
        searched=searched,
        result_url=result_url,
        search_url=search_url,
        document_titles=document_service.document_titles(),
        facet_order=[f for f in ("document", "version", "group", "type", "disposition") if f in results.facets],
    )


def _iso(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@bp.get("/api/search")
def api():
    results, _filters_used, _sort = _run()
    items = []
    for item in results.items:
        version, clause = item.version, item.clause  # a general comment has no clause
        row = {
            "kind": item.kind,
            "clause_id": clause.id if clause else None,
            "clause_key": clause.key if clause else None,
            "clause_number": clause.number if clause else None,
            "document": version.document.slug,
            "version": version.number,
            "snippet": str(item.snippet),
            "url": result_url(item),
        }
        if item.comment is not None:
            row.update(
                comment_id=item.comment.id,
                type=item.comment.type,
                group=item.comment.author_group,
                created_at=_iso(item.comment.created_at),
            )
        items.append(row)
    facets = {
        name: [{"value": value, "count": count} for value, count in counts] for name, counts in results.facets.items()
    }
    return jsonify(
        query=results.query,
        total=results.total,
        page=results.page,
        pages=results.pages,
        per_page=results.per_page,
        facets=facets,
        results=items,
        message=str(results.message) if results.message else None,
    )


@bp.get("/comments/<int:comment_id>/similar")
def similar(comment_id):
    if not permissions.is_staff(current_user):
        abort(403)
    comment = load_comment(comment_id)
    items = search_service.similar_comments(current_user, comment, limit=10)
    return render_template("search/similar.html", comment=comment, items=items, result_url=result_url)
