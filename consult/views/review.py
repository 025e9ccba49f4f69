"""The drafters' review of a version's comments, its balance by group, "you said, we did" and the exports."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..forms.base import options, show_error
from ..forms.comments import ConfirmForm
from ..forms.review import AdoptForm, AssignForm, BulkDispositionForm, DispositionForm
from ..pagination import page_size, paginate
from ..params import page_arg, parse_id
from ..permissions import can_dispose, can_download_feedback, can_publish_review, can_review, can_view_feedback
from ..services import ServiceError, lifecycle
from ..services import comments as comment_service
from ..services import documents as document_service
from ..services import review as review_service
from ..services.review import ReviewFilters
from ..vocabulary import DISPOSITIONS, STAKEHOLDER_GROUPS
from .loaders import clause_of, comment_of, load_version, require

bp = Blueprint("review", __name__)

BASE = "/documents/<slug>/versions/<int:number>"


def _load_for_review(slug, number):
    """The version, for staff only: anonymous visitors go to sign-in, others get 403."""
    return load_version(slug, number, permit=can_review)


def _require_dispose():
    require(can_dispose)


def _workspace_url(document, version, **args):
    return url_for("review.workspace", slug=document.slug, number=version.number, **args)


# --- the workspace ----------------------------------------------------------------------------------------


def _workspace(document, version, *, bulk_form=None, status=200):
    filters = ReviewFilters.from_args(request.args)
    page = review_service.review_page(version, filters, current_user, page=page_arg(), per_page=page_size())
    return render_template(
        "review/workspace.html",
        document=document,
        version=version,
        filters=filters,
        result=page,
        outline=document_service.version_outline(version),
        organisations=review_service.organisations(version),
        bulk_form=bulk_form or BulkDispositionForm(),
        confirm_form=ConfirmForm(),
        can_dispose=can_dispose(current_user),
        can_publish=can_publish_review(current_user, version),
        unanswered=lifecycle.unanswered_count(version) if can_publish_review(current_user, version) else 0,
        selected={i for i in map(parse_id, request.form.getlist("ids")) if i is not None}
        | ({c.id for c in page.page.items} if request.args.get("select") == "page" else set()),
        drafters=review_service.drafters() if filters.clause and can_dispose(current_user) else [],
        export_args=filters.as_args(),
        themes=_themes(version),
    ), status


def _themes(version):
    from ..services import analysis as analysis_service

    return analysis_service.themes(version)


@bp.get(BASE + "/review")
def workspace(slug, number):
    document, version = _load_for_review(slug, number)
    return _workspace(document, version)


@bp.post(BASE + "/review/bulk")
@bp.post(BASE + "/review")  # the form posts to the list's own address, so an error keeps the URL and filters
def bulk_dispose(slug, number):
    document, version = _load_for_review(slug, number)
    _require_dispose()
    form = BulkDispositionForm()
    filters = ReviewFilters.from_args(request.args)
    ids = (
        review_service.matching_ids(version, filters, current_user)
        if form.bulk_scope.data == "matching"
        else request.form.getlist("ids")
    )
    comments = review_service.comments_by_ids(version, ids)
    if form.validate_on_submit():
        try:
            n = review_service.bulk_dispose(comments, current_user, form.bulk_status.data, form.bulk_response.data)
            flash(
                ngettext(
                    "%(num)d comment marked “%(status)s”.",
                    "%(num)d comments marked “%(status)s”.",
                    n,
                    status=DISPOSITIONS[form.bulk_status.data],
                ),
                "success",
            )
            return redirect(_workspace_url(document, version, **ReviewFilters.from_args(request.args).as_args()))
        except ServiceError as exc:
            show_error(form, exc, "bulk_response", aliases={"status": "bulk_status", "ids": "bulk_status"})
    return _workspace(document, version, bulk_form=form, status=400)


@bp.post(BASE + "/review/publish")
def publish(slug, number):
    document, version = _load_for_review(slug, number)
    _require_dispose()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        review_service.publish_review(version, current_user)
    except ServiceError as exc:
        flash(exc.message, "error")
        return _workspace(document, version, status=exc.status)
    flash(_("The review is published: anyone can now read “You said, we did”."), "success")
    return redirect(url_for("review.feedback", slug=slug, number=number))


# --- one comment ------------------------------------------------------------------------------------------


def _disposition_form(document, version, comment, form=None):
    form = form or DispositionForm()
    # A comment is addressed by a later version than the one it was made on; the next appears once published.
    form.addressed_in.choices = options(
        [("", _("Not yet"))]
        + [
            (str(v.id), _("Version %(n)d: %(label)s", n=v.number, label=v.label))
            for v in review_service.addressing_versions(version)
        ]
    )
    return form


def _assign_form(form=None):
    form = form or AssignForm()
    form.assignee.choices = options(
        [("", _("Choose…"))] + [(str(u.id), u.display_name) for u in review_service.drafters()]
    )
    return form


def _comment_page(document, version, comment, *, form=None, assign_form=None, adopt_form=None, status=200):
    if form is None:
        form = DispositionForm()
        d = comment.disposition
        if d is not None:
            form.status.data, form.response.data = d.status, d.response
            form.addressed_in.data = str(d.addressed_in_version_id or "")
            form.duplicate_of.data = ""
            if d.duplicate_of_id:
                duplicate = comment_service.get_comment(d.duplicate_of_id)
                form.duplicate_of.data = duplicate.receipt if duplicate else ""
    adopted = review_service.adopted_by_clause(version)
    return render_template(
        "review/comment.html",
        document=document,
        version=version,
        comment=comment,
        form=_disposition_form(document, version, comment, form),
        assign_form=_assign_form(assign_form),
        adopt_form=adopt_form or AdoptForm(),
        history=review_service.history(comment),
        assignments=review_service.assignments_for(version, comment),
        adopted=adopted.get(comment.clause_id) == comment.id,
        clause_adopted_from=adopted.get(comment.clause_id),
        can_dispose=can_dispose(current_user),
        addressed=review_service.addressed_label(
            version, comment.disposition, adopted.get(comment.clause_id) == comment.id
        ),
    ), status


@bp.get(BASE + "/review/comments/<int:comment_id>")
def comment(slug, number, comment_id):
    document, version = _load_for_review(slug, number)
    return _comment_page(document, version, comment_of(version, comment_id))


@bp.post(BASE + "/review/comments/<int:comment_id>/disposition")
def dispose(slug, number, comment_id):
    document, version = _load_for_review(slug, number)
    _require_dispose()
    comment = comment_of(version, comment_id)
    form = _disposition_form(document, version, comment)
    if form.validate_on_submit():
        try:
            review_service.dispose(
                comment,
                current_user,
                form.status.data,
                form.response.data,
                addressed_in=form.addressed_in.data or "",
                duplicate_of=form.duplicate_of.data or "",
            )
            flash(_("Disposition saved for %(receipt)s.", receipt=comment.receipt), "success")
            if request.form.get("then") == "next":
                following = review_service.next_without_disposition(version, comment)
                if following is None:
                    flash(_("Every comment on this version has a disposition."), "success")
                    return redirect(_workspace_url(document, version))
                return redirect(url_for("review.comment", slug=slug, number=number, comment_id=following.id))
            return redirect(url_for("review.comment", slug=slug, number=number, comment_id=comment.id))
        except ServiceError as exc:
            show_error(form, exc, "status")
    return _comment_page(document, version, comment, form=form, status=400)


@bp.post(BASE + "/review/comments/<int:comment_id>/assign")
def assign_comment(slug, number, comment_id):
    return _assign(slug, number, comment_id=comment_id)


@bp.post(BASE + "/review/clauses/<key>/assign")
def assign_clause(slug, number, key):
    return _assign(slug, number, key=key)


def _assign(slug, number, *, comment_id=None, key=None):
    document, version = _load_for_review(slug, number)
    _require_dispose()
    comment = comment_of(version, comment_id) if comment_id else None
    clause = clause_of(version, key) if key else None
    form = _assign_form()
    if form.validate_on_submit():
        try:
            assignee = review_service.assign_by_id(
                version, current_user, form.assignee.data, clause=clause, comment=comment
            )
            flash(_("Assigned to %(name)s.", name=assignee.display_name), "success")
            if comment is not None:
                return redirect(url_for("review.comment", slug=slug, number=number, comment_id=comment.id))
            return redirect(_workspace_url(document, version, clause=clause.key, subtree="1"))
        except ServiceError as exc:
            show_error(form, exc, "assignee")
    if comment is not None:
        return _comment_page(document, version, comment, assign_form=form, status=400)
    flash(form.assignee.errors[0] if form.assignee.errors else _("Choose a drafter."), "error")
    return redirect(_workspace_url(document, version, clause=clause.key, subtree="1"))


@bp.post(BASE + "/review/comments/<int:comment_id>/assignments/<int:assignment_id>/remove")
def unassign(slug, number, comment_id, assignment_id):
    _document, version = _load_for_review(slug, number)
    _require_dispose()
    comment = comment_of(version, comment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        assignee = review_service.unassign(version, current_user, assignment_id, comment)
        flash(_("%(name)s is no longer assigned.", name=assignee.display_name), "success")
    except ServiceError as exc:
        flash(exc.message, "error")
    return redirect(url_for("review.comment", slug=slug, number=number, comment_id=comment.id))


@bp.post(BASE + "/review/comments/<int:comment_id>/adopt")
def adopt(slug, number, comment_id):
    document, version = _load_for_review(slug, number)
    _require_dispose()
    comment = comment_of(version, comment_id)
    form = AdoptForm()
    if form.validate_on_submit():
        try:
            review_service.adopt_wording(comment, current_user, form.adopt_response.data)
            flash(
                _(
                    "The proposed wording is now the starting text of %(clause)s in the next draft; the comment is "
                    "marked accepted.",
                    clause=comment.clause.number,
                ),
                "success",
            )
            return redirect(url_for("review.comment", slug=slug, number=number, comment_id=comment.id))
        except ServiceError as exc:
            show_error(form, exc, "adopt_response", aliases={"response": "adopt_response"})
    return _comment_page(document, version, comment, adopt_form=form, status=400)


@bp.get(BASE + "/review/next-draft.md")
def next_draft(slug, number):
    document, version = _load_for_review(slug, number)
    text, _replaced = review_service.next_draft_markdown(version)
    return Response(
        text,
        mimetype="text/markdown",
        headers={
            "Content-Disposition": f'attachment; filename="{document.slug}-version-{version.number + 1}-draft.md"'
        },
    )


# --- balance by stakeholder group -------------------------------------------------------------------------


@bp.get(BASE + "/review/balance")
def balance(slug, number):
    document, version = _load_for_review(slug, number)
    # ?count=positions counts each campaign once (its template), as one position instead of N submissions.
    from ..services import analysis as analysis_service

    positions = request.args.get("count") == "positions"
    exclude = analysis_service.campaign_members_of(version) if positions else None
    heat = review_service.heat_map(version, exclude)
    return render_template(
        "review/balance.html",
        document=document,
        version=version,
        heat=heat,
        stances=review_service.stances(version, exclude),
        summary=review_service.summary(version, heat, exclude=exclude),
        groups=list(STAKEHOLDER_GROUPS),
        positions=positions,
    )


# --- "you said, we did" -----------------------------------------------------------------------------------


@bp.get(BASE + "/feedback")
def feedback(slug, number):
    document, version = load_version(slug, number, view=can_view_feedback)
    clause_key = (request.args.get("clause") or "").strip()[:80]
    page = paginate(review_service.feedback_statement(version, clause_key), page_arg(), page_size())
    return render_template(
        "review/feedback.html",
        document=document,
        version=version,
        page=page,
        counts=review_service.feedback_counts(version),
        clause_key=clause_key,
        preview=version.review_published_at is None,
    )


@bp.get(BASE + "/feedback/export.csv")
def feedback_export_csv(slug, number):
    document, version = load_version(slug, number, view=can_download_feedback)
    rows = review_service.public_export_rows(version)
    # The public table has no theme column: themes are the drafters' working labels.
    return _csv_response(rows, f"{document.slug}-version-{version.number}-feedback.csv", public=True)


# --- exports ----------------------------------------------------------------------------------------------


def _csv_response(rows, filename: str, public: bool = False) -> Response:
    return Response(
        stream_with_context(review_service.export_csv(rows, public)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _export_source(slug, number):
    document, version = _load_for_review(slug, number)
    filters = ReviewFilters.from_args(request.args)
    return document, version, review_service.export_rows(version, filters, current_user)


@bp.get(BASE + "/review/export.csv")
def export_csv(slug, number):
    document, version, rows = _export_source(slug, number)
    return _csv_response(rows, f"{document.slug}-version-{version.number}-comments.csv")


@bp.get(BASE + "/review/export.json")
def export_json(slug, number):
    document, version, rows = _export_source(slug, number)
    filename = f"{document.slug}-version-{version.number}-comments.json"
    return Response(
        stream_with_context(review_service.export_json(version, rows)),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get(BASE + "/review/export.html")
def export_html(slug, number):
    document, version, rows = _export_source(slug, number)
    template = current_app.jinja_env.get_template("review/export.html")
    context = {
        "document": document,
        "version": version,
        "headers": review_service.export_headers(),
        "columns": review_service.EXPORT_COLUMNS,
        "rows": map(review_service.labelled, rows),
        "filters": ReviewFilters.from_args(request.args),
    }
    current_app.update_template_context(context)
    return Response(stream_with_context(template.generate(context)), mimetype="text/html")
