"""Clause history, lineage review and correction, and the printable redline."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField
from wtforms.validators import AnyOf, InputRequired, Optional

from .. import permissions
from .. import redline as redline_render
from ..forms.base import Form
from ..labels import clause_label
from ..models import utcnow
from ..services import ServiceError
from ..services import documents as document_service
from ..services import lineage as lineage_service
from ..services import redlines as redline_service
from ..web import csp_policy
from .loaders import load_clause, load_document, load_version, redline_pair, require

bp = Blueprint("lineage", __name__, url_prefix="/documents")

METHODS = {
    "key": _l("Same key"),
    "heading": _l("Same heading"),
    "similarity": _l("Similar text"),
    "manual": _l("Set by a drafter"),
    "split": _l("Part of a split"),
    "merge": _l("Merged text"),
}


class LineageForm(Form):
    """One correction: link, unlink or relink a clause of the version."""

    action = HiddenField(validators=[InputRequired(), AnyOf(["link", "unlink", "relink"])])
    new_key = HiddenField(validators=[InputRequired()])
    old_key = HiddenField(validators=[Optional()])
    other_key = HiddenField(validators=[Optional()])  # "another earlier clause", chosen from the full list
    confirm = HiddenField(validators=[Optional()])


@bp.get("/<slug>/versions/<int:number>/clauses/<key>/history")
def history(slug, number, key):
    document, version, clause = load_clause(slug, number, key)
    result = lineage_service.clause_history(clause)
    return render_template(
        "lineage/history.html", document=document, version=version, clause=clause, history=result, render=redline_render
    )


@bp.route("/<slug>/versions/<int:number>/lineage", methods=["GET", "POST"])
def review(slug, number):
    document, version = load_version(slug, number)
    require(permissions.can_publish_version, document)
    form = LineageForm()
    error = None  # (new_key, message) of a refused correction, shown beside its form
    if request.method == "POST":
        if form.validate_on_submit():
            new_key = form.new_key.data
            try:
                old_key = lineage_service.correction_target(form.action.data, form.old_key.data, form.other_key.data)
                if form.confirm.data != "1":
                    # Changing a link moves comments and the redline: say what will happen, then ask again.
                    change = lineage_service.proposed_relink(version, new_key, old_key)
                    return render_template(
                        "lineage/confirm.html",
                        document=document,
                        version=version,
                        change=change,
                        form=form,
                        old_key=old_key or "-",
                    )
                clause = lineage_service.relink(version, new_key, old_key, current_user)
            except ServiceError as exc:
                if exc.status == 404:
                    abort(404)
                error = (new_key, exc.message)
            else:
                if old_key is None:
                    message = _(
                        "“%(clause)s” no longer continues an earlier clause; it now starts a lineage of its own.",
                        clause=clause_label(clause),
                    )
                else:
                    old = document_service.get_clause(lineage_service.previous_version(version), old_key)
                    message = _(
                        "“%(clause)s” now continues “%(old)s” of the previous version.",
                        clause=clause_label(clause),
                        old=clause_label(old),
                    )
                flash(message, "success")
                return redirect(url_for("lineage.review", slug=slug, number=number, _anchor=f"c-{clause.key}"))
        else:
            error = (form.new_key.data or "", _("The correction could not be read; please try again."))
    data = lineage_service.lineage_review(version)
    return render_template(
        "lineage/review.html",
        document=document,
        version=version,
        review=data,
        methods=METHODS,
        error=error,
        submitted=form,
    ), 400 if error else 200


def _print_csp_policy() -> str:
    """The site's policy, except that this one page may carry its own print styles."""
    directives = [d.strip() for d in csp_policy().split(";") if d.strip()]
    directives = [d for d in directives if not d.startswith("style-src ")]
    return "; ".join(directives + ["style-src 'self' 'unsafe-inline'"])


@bp.get("/<slug>/redline/print")
def print_redline(slug):
    document = load_document(slug)
    old, new = redline_pair(document)
    result = redline_service.build_redline(old, new, ops=False, html=True, format_note=_("formatting changed"))
    show_all = request.args.get("all") == "1"
    entries = [e for e in result.entries if show_all or e.status != "unchanged"]
    response = make_response(
        render_template(
            "lineage/print.html",
            document=document,
            result=result,
            entries=entries,
            show_all=show_all,
            generated_at=utcnow(),
            render=redline_render,
        )
    )
    response.headers["Content-Security-Policy"] = _print_csp_policy()
    return response
