"""The drafters' settings: a document's title, summary and landing text; a version's label and window."""

from datetime import UTC, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.base import show_error
from ..forms.comments import ConfirmForm
from ..forms.settings import DaysForm, DocumentSettingsForm, VersionSettingsForm
from ..services import ServiceError, lifecycle
from .loaders import load_document, version_of

bp = Blueprint("settings", __name__, url_prefix="/documents")


def _load(slug, number=None):
    """The document (and its version `number`) whose settings a drafter changes: 404 when missing, else 403 for
    anyone but drafters, before the version is looked up."""
    document = load_document(slug, permit=permissions.can_edit_settings)
    return document, version_of(document, number) if number is not None else None


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@login_required
def document(slug):
    document, _version = _load(slug)
    form = DocumentSettingsForm()
    if request.method == "GET":
        form.title.data, form.summary.data = document.title, document.summary
        form.landing.data = document.landing_markdown
    elif form.validate_on_submit():
        try:
            lifecycle.update_document(
                document, current_user, title=form.title.data, summary=form.summary.data, landing=form.landing.data
            )
        except ServiceError as exc:
            show_error(form, exc, "title")
        else:
            flash(_("The document's settings are saved."), "success")
            return redirect(url_for("documents.document", slug=slug))
    status = 400 if request.method == "POST" else 200
    return render_template("settings/document.html", document=document, form=form), status


def _combine(day, at, default: time):
    if day is None:
        return None
    return datetime.combine(day, at or default, tzinfo=UTC)


def _version_page(document, version, form, days_form=None, status=200):
    return render_template(
        "settings/version.html",
        document=document,
        version=version,
        form=form,
        days_form=days_form or DaysForm(),
        overlapping=lifecycle.open_versions_overlapping(version),
        status=version.status(),
    ), status


@bp.route("/<slug>/versions/<int:number>/settings", methods=["GET", "POST"])
@login_required
def version(slug, number):
    document, version = _load(slug, number)
    form = VersionSettingsForm()
    if request.method == "GET":
        form.label.data = version.label
        if version.opens_at:
            form.opens_date.data, form.opens_time.data = version.opens_at.date(), version.opens_at.time()
        if version.closes_at:
            form.closes_date.data, form.closes_time.data = version.closes_at.date(), version.closes_at.time()
        return _version_page(document, version, form)
    if form.validate_on_submit():
        try:
            lifecycle.set_window(
                version,
                current_user,
                label=form.label.data,
                opens_at=_combine(form.opens_date.data, form.opens_time.data, time(0, 0)),
                closes_at=_combine(form.closes_date.data, form.closes_time.data, time(23, 59)),
                close_previous=form.close_previous.data,
            )
        except ServiceError as exc:
            show_error(form, exc, "label")
        else:
            flash(_("The version's settings are saved."), "success")
            return redirect(url_for("settings.version", slug=slug, number=number))
    return _version_page(document, version, form, status=400)


def _days_action(slug, number, action, done_message):
    document, version = _load(slug, number)
    days_form = DaysForm()
    if days_form.validate_on_submit():
        try:
            action(version, current_user, days_form.days.data)
        except ServiceError as exc:
            show_error(days_form, exc, "days")
        else:
            flash(done_message(version), "success")
            return redirect(url_for("settings.version", slug=slug, number=number))
    form = VersionSettingsForm(formdata=None, label=version.label)
    return _version_page(document, version, form, days_form=days_form, status=400)


@bp.post("/<slug>/versions/<int:number>/settings/extend")
@login_required
def extend(slug, number):
    return _days_action(
        slug,
        number,
        lifecycle.extend,
        lambda v: _("The consultation now closes on %(when)s UTC.", when=v.closes_at.strftime("%Y-%m-%d %H:%M")),
    )


@bp.post("/<slug>/versions/<int:number>/settings/reopen")
@login_required
def reopen(slug, number):
    return _days_action(
        slug,
        number,
        lifecycle.reopen,
        lambda v: _("The consultation is open again until %(when)s UTC.", when=v.closes_at.strftime("%Y-%m-%d %H:%M")),
    )


@bp.route("/<slug>/versions/<int:number>/settings/close", methods=["GET", "POST"])
@login_required
def close(slug, number):
    document, version = _load(slug, number)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            lifecycle.close_now(version, current_user)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The consultation on %(label)s is closed.", label=version.label), "success")
        return redirect(url_for("settings.version", slug=slug, number=number))
    return render_template("settings/close.html", document=document, version=version, form=form)


@bp.app_template_global()
def newer_version(version):
    """For the superseded notice: the latest later version of the same document, or None."""
    return lifecycle.newer_version(version)


@bp.app_template_global()
def open_version(document):
    """For the document page: the version open for comments now, or None."""
    return lifecycle.open_version(document)
