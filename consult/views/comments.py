"""Commenting: posting, replies, answers, edits, withdrawal, endorsements, reports, receipts and contributions."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import fragments, permissions
from ..forms.base import show_error
from ..forms.comments import CommentForm, ConfirmForm, EditCommentForm, QuestionForm, ReportForm
from ..pagination import page_size
from ..params import int_arg, page_arg, parse_id
from ..services import ServiceError
from ..services import analysis as analysis_service
from ..services import comments as comment_service
from ..web import safe_next
from .loaders import load_clause, load_comment, load_receipt, require

bp = Blueprint("comments", __name__)


def new_comment_form(**kwargs) -> CommentForm:
    """A comment form carrying a fresh one-time submission token."""
    form = CommentForm(**kwargs)
    if not form.submission_token.data:
        form.submission_token.data = comment_service.new_submission_token()
    return form


def clause_page(document, version, clause, *, form=None, status=200):
    """Render a clause with its comments; shared by the clause view and a comment form that failed."""
    page = page_arg()
    sort = request.args.get("sort", "newest")
    comments = comment_service.clause_comments(
        clause,
        current_user,
        type_=request.args.get("type") or None,
        group=request.args.get("group") or None,
        sort=sort,
        page=page,
        per_page=page_size(),
    )
    return render_template(
        "documents/clause.html",
        document=document,
        version=version,
        clause=clause,
        comments=comments,
        earlier=comment_service.earlier_comments(clause, current_user),
        sort=sort,
        comment_summary=analysis_service.visible_summary(version, clause, current_user),
        form=form or new_comment_form(proposed_wording=clause.body, question_id=str(int_arg("question") or "")),
        question_form=QuestionForm(),
        confirm_form=ConfirmForm(),
        **fragments.clause_context(version, clause),
    ), status


def _posted_parent(form, clause):
    if not form.parent_id.data:
        return None
    parent_id = parse_id(form.parent_id.data)
    if parent_id is None:
        abort(404)
    return load_comment(parent_id)


def _posted_question(form, clause):
    if not form.question_id.data:
        return None
    question = comment_service.question_for(clause, parse_id(form.question_id.data))
    if question is None:
        abort(404)
    return question


@bp.post("/documents/<slug>/versions/<int:number>/clauses/<key>/comments")
@login_required
def post(slug, number, key):
    document, version, clause = load_clause(slug, number, key)
    form = CommentForm()
    earlier = comment_service.find_by_submission_token(form.submission_token.data)
    if earlier is not None and earlier.author_id == current_user.id:
        return redirect(url_for("comments.receipt", receipt=earlier.receipt))  # a replay: same receipt
    refused = comment_service.attempt_refused(current_user)  # every attempt counts, the refused ones too
    if refused is not None:
        show_error(form, refused, "body")
        return clause_page(document, version, clause, form=form, status=429)
    if not form.validate_on_submit():
        return clause_page(document, version, clause, form=form, status=400)
    try:
        comment = comment_service.post_comment(
            author=current_user,
            clause=clause,
            type_=form.type.data,
            body=form.body.data,
            visibility=form.visibility.data,
            stance=form.stance.data,
            proposed_wording=form.proposed_wording.data,
            parent=_posted_parent(form, clause),
            question=_posted_question(form, clause),
            submission_token=form.submission_token.data or None,
            token_unused=earlier is None,
        )
    except ServiceError as exc:
        show_error(form, exc, "body")
        return clause_page(document, version, clause, form=form, status=exc.status)
    flash(_("Comment received — receipt %(receipt)s", receipt=comment.receipt), "success")
    return redirect(url_for("comments.receipt", receipt=comment.receipt))


@bp.post("/documents/<slug>/versions/<int:number>/clauses/<key>/questions")
@login_required
def add_question(slug, number, key):
    document, version, clause = load_clause(slug, number, key)
    require(permissions.can_ask_question)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            comment_service.add_question(clause, current_user, form.text.data)
            flash(_("Open question added."), "success")
            return redirect(url_for("documents.clause", slug=slug, number=number, key=key, _anchor="questions"))
        except ServiceError as exc:
            show_error(form, exc, "text")
    return render_template(
        "comments/question_error.html", document=document, version=version, clause=clause, form=form
    ), 400


@bp.get("/comments/<int:comment_id>")
def show(comment_id):
    comment = load_comment(comment_id)
    form = new_comment_form(parent_id=str(comment.id), type="remark")
    return render_template(
        "comments/show.html",
        comment=comment,
        form=form,
        confirm_form=ConfirmForm(),
        endorsed=comment_service.has_endorsed(comment, current_user),
        replies=comment_service.replies_to(comment, current_user),
        revisions=comment_service.revisions_of(comment, current_user),
    )


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(comment_id):
    comment = load_comment(comment_id, permit=permissions.can_edit_comment)
    form = EditCommentForm(obj=comment) if request.method == "GET" else EditCommentForm()
    if request.method == "GET":
        form.stance.data = comment.stance or ""
    refused = comment_service.attempt_refused(current_user) if request.method == "POST" else None
    if refused is not None:
        show_error(form, refused, "body")
        return render_template("comments/edit.html", comment=comment, form=form), 429
    if form.validate_on_submit():
        try:
            comment_service.edit_comment(
                comment,
                current_user,
                type_=form.type.data,
                body=form.body.data,
                visibility=form.visibility.data,
                stance=form.stance.data,
                proposed_wording=form.proposed_wording.data,
            )
            flash(_("Your comment was updated. The earlier text is kept in its history."), "success")
            return redirect(url_for("comments.show", comment_id=comment.id))
        except ServiceError as exc:
            show_error(form, exc, "body")
    return render_template("comments/edit.html", comment=comment, form=form), 400 if request.method == "POST" else 200


@bp.route("/comments/<int:comment_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(comment_id):
    comment = load_comment(comment_id, permit=permissions.can_withdraw_comment)
    form = ConfirmForm()
    if form.validate_on_submit():
        comment_service.withdraw_comment(comment, current_user)
        flash(_("Your comment was withdrawn. It stays in the record, marked as withdrawn by its author."), "success")
        return redirect(url_for("comments.show", comment_id=comment.id))
    return render_template("comments/withdraw.html", comment=comment, form=form)


@bp.post("/comments/<int:comment_id>/endorse")
@login_required
def endorse(comment_id):
    comment = load_comment(comment_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    endorse = request.form.get("endorse", "1") == "1"
    # Back where the reader pressed the button (the clause page, its filters and page), at the comment itself.
    back = safe_next(request.form.get("next"), url_for("comments.show", comment_id=comment.id)).split("#")[0]
    back += f"#comment-{comment.id}"
    try:
        comment_service.set_endorsement(comment, current_user, endorse)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back, 303)
    flash(_("You endorse this comment.") if endorse else _("Your endorsement was withdrawn."), "success")
    return redirect(back, 303)


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
def report(comment_id):
    comment = load_comment(comment_id, permit=permissions.can_report)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            comment_service.report_comment(comment, current_user, form.reason.data, form.category.data or "other")
            flash(_("Thank you. The moderators will look at this comment."), "success")
            return redirect(url_for("comments.show", comment_id=comment.id))
        except ServiceError as exc:
            show_error(form, exc, "reason")
            return render_template("comments/report.html", comment=comment, form=form), exc.status
    return render_template("comments/report.html", comment=comment, form=form), 400 if request.method == "POST" else 200


@bp.get("/receipts/<receipt>")
@login_required
def receipt(receipt):
    return render_template("comments/receipt.html", comment=load_receipt(receipt))


@bp.get("/my/contributions")
@login_required
def contributions():
    page = comment_service.user_contributions(current_user, page=page_arg(), per_page=page_size())
    return render_template("comments/contributions.html", page=page)
