"""The read-only JSON API over public content."""

from flask import Blueprint, jsonify, request

from .. import permissions
from ..params import int_arg, page_arg
from ..services import comments as comment_service
from ..services import documents as document_service
from ..services import redlines as redline_service
from .loaders import load_document, load_version

bp = Blueprint("api", __name__, url_prefix="/api")


def iso(value):
    """ISO 8601 in UTC, or None."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def version_json(version) -> dict:
    return {
        "number": version.number,
        "label": version.label,
        "status": version.status(),
        "opens_at": iso(version.opens_at),
        "closes_at": iso(version.closes_at),
        "published_at": iso(version.published_at),
        "clauses": version.clause_count,
    }


def document_json(document) -> dict:
    return {"slug": document.slug, "title": document.title, "versions": [version_json(v) for v in document.versions]}


@bp.get("/documents")
def documents():
    return jsonify(documents=[document_json(d) for d in document_service.documents_with_versions()])


@bp.get("/documents/<slug>")
def document(slug):
    document = load_document(slug)
    return jsonify(document_json(document))


@bp.get("/documents/<slug>/versions/<int:number>/clauses")
def clauses(slug, number):
    _, version = load_version(slug, number)
    clauses = document_service.version_clauses(version)
    keys = {c.id: c.key for c in clauses}
    return jsonify(
        clauses=[
            {
                "key": c.key,
                "number": c.number,
                "heading": c.heading,
                "body": c.body,
                "parent_key": keys.get(c.parent_id),
                "position": c.position,
                "lineage_id": c.lineage_id,
                "level": c.level,
            }
            for c in clauses
        ]
    )


def _clause_ref(clause):
    return {"key": clause.key, "number": clause.number, "heading": clause.heading} if clause else None


@bp.get("/documents/<slug>/redline")
def redline(slug):
    document = load_document(slug)
    pair = document_service.redline_versions(document, int_arg("from"), int_arg("to"))
    if pair is None:
        return jsonify(error="both versions must exist (use ?from=N&to=M)"), 404
    old, new = pair
    result = redline_service.build_redline(old, new)
    return jsonify(
        summary=result.summary,
        clauses=[
            {
                "status": e.status,
                "old": _clause_ref(e.old),
                "new": _clause_ref(e.new),
                "confidence": e.confidence,
                "ops": [list(op) for op in e.ops],
            }
            for e in result.entries
        ],
    )


def comment_json(comment) -> dict:
    """A public comment as the API shows it: author name only when its visibility is public."""
    disposition = comment.disposition if comment.version.review_published_at else None
    return {
        "id": comment.id,
        "clause_key": comment.clause.key if comment.clause else None,
        "type": comment.type,
        "stance": comment.stance,
        "visibility": comment.visibility,
        "body": comment.body,
        "proposed_wording": comment.proposed_wording,
        "stakeholder_group": comment.author_group,
        "author": comment.author_display if comment.visibility == "public" else None,
        "organisation": comment.author_organisation if comment.visibility == "public" else None,
        "parent_id": comment.parent_id,
        "endorsements": comment.endorsement_count,
        "created_at": iso(comment.created_at),
        "edited_at": iso(comment.edited_at),
        "disposition": {"status": disposition.status, "response": disposition.response} if disposition else None,
    }


@bp.get("/documents/<slug>/versions/<int:number>/comments")
def comments(slug, number):
    _, version = load_version(slug, number)
    page = comment_service.public_comments(version, clause_key=request.args.get("clause"), page=page_arg())
    return jsonify(comments=[comment_json(c) for c in page.items], total=page.total, page=page.page)


def _analysis_version(slug, number):
    """A version whose analysis the reader may see: 401 for anonymous visitors, 403 for participants."""
    return load_version(slug, number, permit=permissions.can_analyse)[1]


@bp.get("/documents/<slug>/versions/<int:number>/campaigns")
def campaigns(slug, number):
    from ..services import analysis as analysis_service

    version = _analysis_version(slug, number)
    return jsonify(campaigns=analysis_service.campaigns_json(version))


@bp.get("/documents/<slug>/versions/<int:number>/themes")
def themes(slug, number):
    from ..services import analysis as analysis_service

    version = _analysis_version(slug, number)
    return jsonify(themes=analysis_service.themes_json(version))
