"""Word downloads: a version, a redline with tracked changes, the comment–response table, a version's source file."""

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from .. import permissions
from ..services import documents as document_service
from ..services import word as word_service
from ..services.review import ReviewFilters
from .loaders import load_document, load_version, redline_pair

bp = Blueprint("word", __name__, url_prefix="/documents")


def _docx(data: bytes, filename: str) -> Response:
    return Response(
        data, mimetype=word_service.DOCX_MIMETYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@bp.get("/<slug>/versions/<int:number>/download.docx")
def version_docx(slug, number):
    _document, version = load_version(slug, number)
    return _docx(*word_service.version_docx(version))


@bp.get("/<slug>/redline.docx")
def redline_docx(slug):
    return _docx(*word_service.redline_docx(*redline_pair(load_document(slug))))


@bp.get("/<slug>/versions/<int:number>/review/export.docx")
def review_docx(slug, number):
    _document, version = load_version(slug, number, permit=permissions.can_review)
    return _docx(*word_service.review_docx(version, ReviewFilters.from_args(request.args), current_user))


@bp.get("/<slug>/versions/<int:number>/source.docx")
def source_docx(slug, number):
    document, version = load_version(slug, number, permit=permissions.can_download_version_source)
    data = document_service.version_source_docx(version)
    if data is None:
        abort(404)
    return _docx(data, f"{document.slug}-version-{version.number}-source.docx")
