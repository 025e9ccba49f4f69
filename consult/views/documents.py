"""Documents, versions and clauses; publishing a version."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from .. import fragments, permissions
from .. import redline as redline_render
from ..forms import PublishForm
from ..forms.base import show_error
from ..pagination import page_size
from ..params import page_arg
from ..services import ServiceError
from ..services import comments as comment_service
from ..services import documents as document_service
from ..services import redlines as redline_service
from ..services import word as word_service
from .comments import clause_page
from .loaders import load_clause, load_document, load_version, redline_pair, require

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/<slug>")
def document(slug):
    document = load_document(slug)
    return render_template("documents/document.html", document=document, versions=list(reversed(document.versions)))


@bp.get("/<slug>/versions/<int:number>")
def version(slug, number):
    document, version = load_version(slug, number)
    return version_page(document, version)


def version_page(document, version, *, form=None, status=200):
    """The version with its clauses and its general comments; shared with a general comment that failed."""

    from .comments import new_comment_form

    general = comment_service.general_comments(version, current_user, page=page_arg(), per_page=page_size())
    # The text comes rendered from the cache; the viewer's counts and questions are filled in on every request.
    text = fragments.version_text(
        document,
        version,
        counts=comment_service.version_comment_counts(version, current_user),
        questions=comment_service.version_questions(version, current_user),
    )
    return render_template(
        "documents/version.html",
        document=document,
        version=version,
        version_text=text,
        has_source_docx=permissions.can_download_version_source(current_user, version)
        and document_service.version_has_source_docx(version),
        general=general,
        general_form=form or new_comment_form(),
    ), status


@bp.post("/<slug>/versions/<int:number>/general-comments")
@login_required
def post_general_comment(slug, number):
    from ..forms.comments import CommentForm

    document, version = load_version(slug, number)
    require(permissions.can_comment)
    form = CommentForm()
    earlier = comment_service.find_by_submission_token(form.submission_token.data)
    if earlier is not None and earlier.author_id == current_user.id:
        return redirect(url_for("comments.receipt", receipt=earlier.receipt))  # a replay: same receipt
    # Every attempt counts, the failed ones too, as on a clause.
    refused = comment_service.attempt_refused(current_user)
    if refused is not None:
        show_error(form, refused, "body")
        return version_page(document, version, form=form, status=429)
    if not form.validate_on_submit():
        return version_page(document, version, form=form, status=400)
    try:
        comment = comment_service.post_comment(
            author=current_user,
            clause=None,
            version=version,
            type_=form.type.data,
            body=form.body.data,
            visibility=form.visibility.data,
            stance=form.stance.data,
            proposed_wording=None,
            submission_token=form.submission_token.data,
            token_unused=earlier is None,
        )
    except ServiceError as exc:
        show_error(form, exc, "body")
        return version_page(document, version, form=form, status=exc.status)
    flash(_("Comment received — receipt %(receipt)s", receipt=comment.receipt), "success")
    return redirect(url_for("comments.receipt", receipt=comment.receipt))


@bp.get("/<slug>/versions/<int:number>/clauses/<key>")
def clause(slug, number, key):
    return clause_page(*load_clause(slug, number, key))


def _publish(document=None):
    """Shared by 'new document' and 'next version': preview first, publish on confirmation."""
    require(permissions.can_publish_version, document)
    form = PublishForm()
    preview = None
    if form.validate_on_submit():
        upload = form.upload.data
        data = upload.read() if upload and getattr(upload, "filename", "") else None
        if data is None:
            data = word_service.text_or_stashed(current_user, form.docx_token.data, form.markdown.data or "")
        slug = document.slug if document else (form.slug.data or "").strip()
        try:
            if word_service.looks_like_docx(data):
                form.markdown.data = word_service.draft_source(data)[0]  # shown back: what will be published
                if not form.confirm.data:
                    form.docx_token.data = word_service.stash_upload(current_user, data)
            else:
                form.docx_token.data = ""
                if isinstance(data, bytes):
                    form.markdown.data = data.decode("utf-8-sig", errors="replace")  # shown back, never saved as is
            preview, opens_at, closes_at = document_service.check_publication(
                document=document, slug=slug, data=data, opens_at=form.opens_at.data, closes_at=form.closes_at.data
            )
            if form.confirm.data:
                version = document_service.publish_version(
                    slug=slug,
                    data=data,
                    title=form.title.data,
                    label=form.label.data,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    actor=current_user,
                    close_previous=not form.keep_previous_open.data,
                )
                word_service.drop_upload(current_user, form.docx_token.data)
                flash(
                    ngettext(
                        "Published %(label)s with %(num)d clause.",
                        "Published %(label)s with %(num)d clauses.",
                        version.clause_count,
                        label=version.label,
                    ),
                    "success",
                )
                return redirect(url_for("documents.version", slug=slug, number=version.number))
        except ServiceError as exc:
            show_error(form, exc, "markdown")
            preview = None
    failed = any(f.errors for f in form)
    matching = document_service.match_previous(document, preview) if preview and document else None
    return render_template(
        "documents/publish.html",
        form=form,
        document=document,
        preview=preview,
        tree=document_service.parsed_tree(preview) if preview else None,
        matching=matching,
    ), 400 if failed else 200


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_document():
    return _publish(None)


@bp.route("/<slug>/versions/new", methods=["GET", "POST"])
@login_required
def new_version(slug):
    return _publish(load_document(slug))


@bp.get("/<slug>/redline")
def redline(slug):
    document = load_document(slug)
    old, new = redline_pair(document)
    view = "side" if request.args.get("view") == "side" else "inline"
    changes_only = request.args.get("changes") == "1"
    result = redline_service.build_redline(
        old,
        new,
        ops=False,
        html=True,
        format_note=_("formatting changed"),
        compact=changes_only,
        skip_note=_("[unchanged text left out]"),
        rest_note=_("[the rest is in the full redline]"),
    )
    entries = redline_service.changes_only(result.entries) if changes_only else result.entries
    return render_template(
        "documents/redline.html",
        document=document,
        result=result,
        entries=entries,
        view=view,
        changes_only=changes_only,
        render=redline_render,
        summary_keys=redline_service.SUMMARY_KEYS,
    )
