"""The read-only JSON API over public content."""
from flask import Blueprint, abort, jsonify
from flask_login import current_user

from .. import permissions
from ..services import documents as document_service

bp = Blueprint("api", __name__, url_prefix="/api")


def iso(value):
    """ISO 8601 in UTC, or None."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def version_json(version) -> dict:
    return {"number": version.number, "label": version.label, "status": version.status(),
            "opens_at": iso(version.opens_at), "closes_at": iso(version.closes_at),
            "published_at": iso(version.published_at), "clauses": version.clause_count}


def document_json(document) -> dict:
    return {"slug": document.slug, "title": document.title,
            "versions": [version_json(v) for v in document.versions]}


def _document(slug):
    document = document_service.get_document(slug)
    if document is None or not permissions.can_view_document(current_user, document):
        abort(404)
    return document


@bp.get("/documents")
def documents():
    return jsonify(documents=[document_json(d) for d in document_service.documents_with_versions()])


@bp.get("/documents/<slug>")
def document(slug):
    document = _document(slug)
    return jsonify(document_json(document))


@bp.get("/documents/<slug>/versions/<int:number>/clauses")
def clauses(slug, number):
    document = _document(slug)
    version = document_service.get_version(document, number)
    if version is None or not permissions.can_view_version(current_user, version):
        abort(404)
    clauses = document_service.version_clauses(version)
    keys = {c.id: c.key for c in clauses}
    return jsonify(clauses=[
        {"key": c.key, "number": c.number, "heading": c.heading, "body": c.body, "parent_key": keys.get(c.parent_id),
         "position": c.position, "lineage_id": c.lineage_id, "level": c.level}
        for c in clauses
    ])
