"""Word downloads: a version, a redline with tracked changes, the comment–response table, a version's source file."""
from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_login import current_user

from .. import permissions
from ..params import int_arg
from ..services import documents as document_service
from ..services import word as word_service
from ..services.review import ReviewFilters
from .documents import load_document, load_version

bp = Blueprint("word", __name__, url_prefix="/documents")


def _docx(data: bytes, filename: str) -> Response:
    return Response(data, mimetype=word_service.DOCX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<slug>/versions/<int:number>/download.docx")
def version_docx(slug, number):
    _document, version = load_version(slug, number)
    return _docx(*word_service.version_docx(version))


@bp.get("/<slug>/redline.docx")
def redline_docx(slug):
    document = load_document(slug)
    pair = document_service.redline_versions(document, int_arg("from"), int_arg("to"))
    if pair is None:
        abort(404)
    return _docx(*word_service.redline_docx(*pair))


@bp.get("/<slug>/versions/<int:number>/review/export.docx")
def review_docx(slug, number):
    _document, version = load_version(slug, number)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.full_path))
    if not permissions.can_review(current_user, version):
        abort(403)
    return _docx(*word_service.review_docx(version, ReviewFilters.from_args(request.args), current_user))


@bp.get("/<slug>/versions/<int:number>/source.docx")
def source_docx(slug, number):
    document, version = load_version(slug, number)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.full_path))
    if not permissions.can_download_version_source(current_user, version):
        abort(403)
    data = document_service.version_source_docx(version)
    if data is None:
        abort(404)
    return _docx(data, f"{document.slug}-version-{version.number}-source.docx")
