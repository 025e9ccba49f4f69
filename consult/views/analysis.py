"""The analysis desk in the review workspace: campaigns, themes and clause summaries (staff only).

Every page here reads stored results (services/analysis.py); computing them is `flask analysis refresh`'s job.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..forms.analysis import CampaignDispositionForm, ThemeLabelForm, ThemeMergeForm, ThemeMoveForm
from ..forms.base import options, show_error
from ..forms.comments import ConfirmForm
from ..pagination import page_size, paginate
from ..params import page_arg
from ..permissions import can_analyse, can_edit_analysis
from ..redline import EQUAL, diff_words, render_html
from ..services import ServiceError
from ..services import analysis as analysis_service
from ..services import documents as document_service
from ..services import review as review_service
from ..vocabulary import DISPOSITIONS, STAKEHOLDER_GROUPS
from .loaders import campaign_of, load_version, require, theme_of
from .review import BASE

bp = Blueprint("analysis", __name__)


def _load_staff(slug, number):
    """The version, for staff: anonymous visitors go to sign-in, other accounts get 403."""
    return load_version(slug, number, permit=can_analyse)


def _require_edit():
    require(can_edit_analysis)


CONTEXT_WORDS = 8


def changes_only(ops, context: int = CONTEXT_WORDS) -> str:
    """A member's redline against the template, cut to its changes and a few words around each ("" if identical):
    a campaign of 500 copies should not print the letter 500 times."""
    if all(kind == EQUAL for kind, _text in ops):
        return ""
    trimmed = []
    for n, (kind, text) in enumerate(ops):
        if kind != EQUAL:
            trimmed.append((kind, text))
            continue
        words = text.split(" ")
        keep_head = n > 0  # words after the previous change
        keep_tail = n < len(ops) - 1  # words before the next change
        if len(words) <= 2 * context + 1:
            trimmed.append((kind, text))
            continue
        head = " ".join(words[:context]) + " … " if keep_head else "… "
        tail = " ".join(words[-context:]) if keep_tail else ""
        trimmed.append((kind, head + (tail if keep_tail else "")))
    return render_html(trimmed)


# --- campaigns --------------------------------------------------------------------------------------------


@bp.get(BASE + "/review/campaigns")
def campaigns(slug, number):
    document, version = _load_staff(slug, number)
    found = analysis_service.campaigns(version)
    return render_template(
        "analysis/campaigns.html",
        document=document,
        version=version,
        campaigns=found,
        breakdowns=analysis_service.group_breakdowns(version),
        run=analysis_service.last_run(version),
        groups=list(STAKEHOLDER_GROUPS),
    )


def _campaign_page(document, version, campaign, form=None, status=200):
    members = analysis_service.campaign_comments(campaign, page=page_arg(), per_page=page_size())
    template = campaign.representative
    redlines = {c.id: changes_only(diff_words(template.body, c.body)) for c in members.items if c.id != template.id}
    return render_template(
        "analysis/campaign.html",
        document=document,
        version=version,
        campaign=campaign,
        template=template,
        members=members,
        redlines=redlines,
        breakdown=analysis_service.group_breakdowns(version).get(campaign.id, {}),
        groups=list(STAKEHOLDER_GROUPS),
        form=form or CampaignDispositionForm(),
        can_edit=can_edit_analysis(current_user),
    ), status


@bp.get(BASE + "/review/campaigns/<int:campaign_id>")
def campaign(slug, number, campaign_id):
    document, version = _load_staff(slug, number)
    found = campaign_of(version, campaign_id)
    return _campaign_page(document, version, found)


@bp.post(BASE + "/review/campaigns/<int:campaign_id>/disposition")
def dispose_campaign(slug, number, campaign_id):
    document, version = _load_staff(slug, number)
    _require_edit()
    found = campaign_of(version, campaign_id)
    form = CampaignDispositionForm()
    if form.validate_on_submit():
        try:
            n = analysis_service.dispose_campaign(found, current_user, form.status.data, form.response.data)
            flash(
                ngettext(
                    "%(num)d comment of the campaign marked “%(status)s”.",
                    "%(num)d comments of the campaign marked “%(status)s”.",
                    n,
                    status=DISPOSITIONS[form.status.data],
                ),
                "success",
            )
            return redirect(url_for("analysis.campaign", slug=slug, number=number, campaign_id=found.id))
        except ServiceError as exc:
            show_error(form, exc, "status")
    return _campaign_page(document, version, found, form=form, status=400)


# --- themes -----------------------------------------------------------------------------------------------


@bp.get(BASE + "/review/themes")
def themes(slug, number):
    document, version = _load_staff(slug, number)
    # ?clause=KEY: the themes of one clause's comments, sized and split by that clause's comments only.
    key = (request.args.get("clause") or "").strip()[:80]
    clause = document_service.get_clause(version, key) if key else None
    found = analysis_service.themes(version, clause)
    groups, stances = analysis_service.theme_breakdowns(version, clause)
    return render_template(
        "analysis/themes.html",
        document=document,
        version=version,
        themes=found,
        groups=groups,
        stances=stances,
        examples=analysis_service.theme_examples(version, clause=clause),
        clause=clause,
        outline=document_service.version_outline(version),
        run=analysis_service.last_run(version),
        group_names=list(STAKEHOLDER_GROUPS),
        can_edit=can_edit_analysis(current_user),
    )


def _theme_page(document, version, theme, *, label_form=None, merge_form=None, move_form=None, status=200):
    others = [t for t in analysis_service.themes(version) if t.id != theme.id]
    merge_form = merge_form or ThemeMergeForm()
    merge_form.others.choices = options((str(t.id), t.label) for t in others)
    move_form = move_form or ThemeMoveForm()
    move_form.target.choices = options([("", _("Choose…"))] + [(str(t.id), t.label) for t in others])
    label_form = label_form or ThemeLabelForm(label=theme.label)
    members = paginate(
        review_service.review_statement(version, review_service.ReviewFilters(theme=str(theme.id)), current_user),
        page_arg(),
        page_size(),
    )
    return render_template(
        "analysis/theme.html",
        document=document,
        version=version,
        theme=theme,
        members=members,
        label_form=label_form,
        merge_form=merge_form,
        move_form=move_form,
        can_edit=can_edit_analysis(current_user),
        confirm_form=ConfirmForm(),
        selected={int(i) for i in request.form.getlist("ids") if i.isdigit()},
    ), status


@bp.get(BASE + "/review/themes/<int:theme_id>")
def theme(slug, number, theme_id):
    document, version = _load_staff(slug, number)
    return _theme_page(document, version, theme_of(version, theme_id))


@bp.post(BASE + "/review/themes/<int:theme_id>/rename")
def rename_theme(slug, number, theme_id):
    document, version = _load_staff(slug, number)
    _require_edit()
    found = theme_of(version, theme_id)
    form = ThemeLabelForm()
    if form.validate_on_submit():
        try:
            analysis_service.rename_theme(found, current_user, form.label.data)
            flash(_("The theme is now called “%(label)s”.", label=found.label), "success")
            return redirect(url_for("analysis.theme", slug=slug, number=number, theme_id=found.id))
        except ServiceError as exc:
            show_error(form, exc, "label")
    return _theme_page(document, version, found, label_form=form, status=400)


@bp.post(BASE + "/review/themes/<int:theme_id>/merge")
def merge_themes(slug, number, theme_id):
    document, version = _load_staff(slug, number)
    _require_edit()
    found = theme_of(version, theme_id)
    form = ThemeMergeForm()
    form.others.choices = options((str(t.id), t.label) for t in analysis_service.themes(version) if t.id != found.id)
    if form.validate_on_submit():
        try:
            others = [t for t in (analysis_service.get_theme(version, i) for i in form.others.data) if t]
            analysis_service.merge_themes(found, others, current_user)
            flash(ngettext_themes(len(others)), "success")
            return redirect(url_for("analysis.theme", slug=slug, number=number, theme_id=found.id))
        except ServiceError as exc:
            show_error(form, exc, "others")
    return _theme_page(document, version, found, merge_form=form, status=400)


def ngettext_themes(n: int) -> str:
    from flask_babel import ngettext

    return ngettext("%(num)d theme merged into this one.", "%(num)d themes merged into this one.", n)


@bp.post(BASE + "/review/themes/<int:theme_id>/move")
def move_comments(slug, number, theme_id):
    document, version = _load_staff(slug, number)
    _require_edit()
    found = theme_of(version, theme_id)
    form = ThemeMoveForm()
    form.target.choices = options(
        [("", "")] + [(str(t.id), t.label) for t in analysis_service.themes(version) if t.id != found.id]
    )
    ids = request.form.getlist("ids")
    if form.validate_on_submit():
        try:
            if form.new_label.data.strip():
                new = analysis_service.split_theme(found, ids, current_user, form.new_label.data)
                flash(_("A new theme “%(label)s” holds the selected comments.", label=new.label), "success")
            else:
                target = analysis_service.get_theme(version, form.target.data)
                if target is None:
                    raise ServiceError(_("Choose a theme, or name a new one."), field="target")
                comments = review_service.comments_by_ids(version, ids)
                if not comments:
                    raise ServiceError(_("Select at least one comment."), field="target")
                for comment in comments:
                    analysis_service.move_comment(comment, target, current_user)
                flash(_("Moved to “%(label)s”.", label=target.label), "success")
            return redirect(url_for("analysis.theme", slug=slug, number=number, theme_id=found.id))
        except ServiceError as exc:
            show_error(form, exc, "target", aliases={"label": "new_label"})
    return _theme_page(document, version, found, move_form=form, status=400)


@bp.route(BASE + "/review/themes/<int:theme_id>/delete", methods=["GET", "POST"])
def delete_theme(slug, number, theme_id):
    document, version = _load_staff(slug, number)
    _require_edit()
    found = theme_of(version, theme_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        analysis_service.delete_theme(found, current_user)
        flash(_("The theme “%(label)s” is deleted; its comments have no theme now.", label=found.label), "success")
        return redirect(url_for("analysis.themes", slug=slug, number=number))
    return render_template("analysis/theme_delete.html", document=document, version=version, theme=found, form=form)


# --- summaries --------------------------------------------------------------------------------------------


@bp.get(BASE + "/review/summaries")
def summaries(slug, number):
    document, version = _load_staff(slug, number)
    found = analysis_service.summaries(version)
    clause_ids = {s.clause_id for s in found if s.clause_id}
    clauses = {c.id: c for c in version.clauses if c.id in clause_ids}
    return render_template(
        "analysis/summaries.html",
        document=document,
        version=version,
        summaries=found,
        clauses=clauses,
        form=ConfirmForm(),
        can_edit=can_edit_analysis(current_user),
        run=analysis_service.last_run(version),
    )


@bp.post(BASE + "/review/summaries/<int:summary_id>/approval")
def approve_summary(slug, number, summary_id):
    _document, version = _load_staff(slug, number)
    _require_edit()
    summary = next((s for s in analysis_service.summaries(version) if s.id == summary_id), None)
    if summary is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    approve = request.form.get("approve") == "1"
    analysis_service.approve_summary(summary, current_user, approve)
    flash(
        _("Summary approved: readers of the clause now see it.")
        if approve
        else _("Approval withdrawn: only staff see the summary."),
        "success",
    )
    return redirect(url_for("analysis.summaries", slug=slug, number=number, _anchor=f"summary-{summary.id}"))
