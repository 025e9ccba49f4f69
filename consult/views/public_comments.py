"""The public view of all feedback on a version, and its open data (CSV and JSON)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context, url_for

from .. import permissions
from ..pagination import page_size
from ..params import page_arg
from ..services import documents as document_service
from ..services import public_comments as service
from ..services.public_comments import PublicFilters
from .loaders import load_version

bp = Blueprint("public_comments", __name__, url_prefix="/documents")

BASE = "/<slug>/versions/<int:number>/comments"


def _load(slug, number):
    return load_version(slug, number, view=permissions.can_view_public_comments)


def _licence():
    return service.licence(current_app.config.get("CONSULT_OPEN_DATA_LICENCE", "CC-BY-4.0"))


def _comment_url(comment_id: int) -> str:
    return url_for("comments.show", comment_id=comment_id, _external=True)


def _filename(document, version, ext: str) -> str:
    return f"{document.slug}-version-{version.number}-public-comments.{ext}"


@bp.get(BASE)
def index(slug, number):
    document, version = _load(slug, number)
    filters = PublicFilters.from_args(request.args)
    page = service.comments_page(version, filters, page=page_arg(), per_page=page_size())
    return render_template(
        "documents/public_comments.html",
        document=document,
        version=version,
        filters=filters,
        page=page,
        facets=service.facet_counts(version, filters),
        outline=document_service.version_outline(version),
        confidential=service.confidential_count(version, filters.clause),
        licence=_licence(),
    )


@bp.get(BASE + ".csv")
def export_csv(slug, number):
    document, version = _load(slug, number)
    rows = service.export_rows(version, PublicFilters.from_args(request.args), _comment_url)
    headers = {"Content-Disposition": f'attachment; filename="{_filename(document, version, "csv")}"'}
    if _licence()["url"]:  # the licence travels with the file (RFC 8288), as well as on the page linking to it
        headers["Link"] = f'<{_licence()["url"]}>; rel="license"'
    return Response(stream_with_context(service.export_csv(rows)), mimetype="text/csv", headers=headers)


@bp.get(BASE + ".json")
def export_json(slug, number):
    document, version = _load(slug, number)
    filters = PublicFilters.from_args(request.args)
    rows = service.export_rows(version, filters, _comment_url)
    head = {
        "document": document.slug,
        "title": document.title,
        "version": version.number,
        "label": version.label,
        "licence": _licence(),
        "filters": filters.as_args(),
        "fields": list(service.FIELDS),
        "confidential_comments": service.confidential_count(version, filters.clause),
        "source": url_for("public_comments.index", slug=document.slug, number=version.number, _external=True),
    }
    return Response(
        stream_with_context(service.export_json(head, rows)),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{_filename(document, version, "json")}"'},
    )
