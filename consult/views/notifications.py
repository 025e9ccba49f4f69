"""A person's notifications and preferences, following, the one-click unsubscribe, and account self-service."""

from flask import Blueprint, Response, abort, current_app, flash, json, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from .. import permissions
from ..extensions import csrf, db
from ..forms.base import show_error
from ..forms.comments import ConfirmForm
from ..forms.settings import CloseAccountForm, ProfileForm, preferences_form
from ..models import Clause, Document
from ..pagination import page_size
from ..params import page_arg
from ..services import ServiceError, selfservice
from ..services import notifications as notification_service
from ..web import safe_next
from .loaders import require

bp = Blueprint("notifications", __name__, url_prefix="/my")


def _require_follow():
    require(permissions.can_follow)


def _preferences_form():
    choices = notification_service.preferences(current_user.id)
    kinds = [k for k in choices if k != "moderation_summary" or permissions.can_moderate(current_user)]
    settings = notification_service.settings_for(current_user.id)
    form = preferences_form(
        choices,
        kinds,
        settings.language if settings and settings.language else str(current_app.config["BABEL_DEFAULT_LOCALE"]),
        settings.autofollow if settings else True,
    )
    return form, kinds


def _index(form, kinds, status=200):
    page = notification_service.user_notifications(current_user, page_arg(), page_size())
    return render_template(
        "notifications/index.html",
        page=page,
        form=form,
        kinds=kinds,
        unread=notification_service.unread_count(current_user),
        follows=notification_service.user_follows(current_user.id),
        read_form=ConfirmForm(),
    ), status


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def index():
    _require_follow()
    form, kinds = _preferences_form()
    if request.method == "POST":
        if form.validate_on_submit():
            notification_service.save_preferences(
                current_user,
                {k: getattr(form, f"kind_{k}").data for k in kinds},
                language=form.language.data,
                autofollow=form.autofollow.data,
            )
            flash(_("Your notification choices are saved."), "success")
            return redirect(url_for("notifications.index"))
        return _index(form, kinds, 400)
    return _index(form, kinds)


@bp.post("/notifications/read")
@login_required
def mark_read():
    _require_follow()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notification_service.mark_all_read(current_user)
    flash(_("Every notification is marked read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" with no form token; the token signs it
def unsubscribe(token):
    found = notification_service.read_unsubscribe_token(token)
    if found is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    user, kinds = found
    if request.method == "POST":
        notification_service.unsubscribe(user, kinds)
        return render_template("notifications/unsubscribe.html", done=True, kinds=kinds)
    return render_template("notifications/unsubscribe.html", kinds=kinds, token=token)


@bp.post("/follow/<target_type>/<int:target_id>")
@login_required
def follow(target_type, target_id):
    _require_follow()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    model = {"document": Document, "clause": Clause}.get(target_type)
    target = db.session.get(model, target_id) if model else None
    if target is None:
        abort(404)
    following = request.form.get("follow") == "1"
    notification_service.set_follow(current_user, target_type, target_id, following)
    if following:
        flash(_("You follow this now. Choose how often you hear of it on “My notifications”."), "success")
    else:
        flash(_("You no longer follow this."), "success")
    return redirect(safe_next(request.form.get("next"), url_for("notifications.index")))


# --- self-service -------------------------------------------------------------------------------------------


def _profile_form():
    form = ProfileForm()
    if request.method == "GET":
        form.display_name.data = current_user.display_name
        form.organisation.data = current_user.organisation.name if current_user.organisation else ""
    return form


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    _require_follow()
    form = _profile_form()
    if form.validate_on_submit():
        try:
            selfservice.update_profile(
                current_user, display_name=form.display_name.data, organisation=form.organisation.data
            )
        except ServiceError as exc:
            show_error(form, exc, "display_name")
        else:
            flash(_("Your details are saved."), "success")
            return redirect(url_for("notifications.profile"))
    status = 400 if request.method == "POST" else 200
    return render_template("notifications/profile.html", form=form), status


@bp.get("/data.json")
@login_required
def data():
    _require_follow()
    body = json.dumps(selfservice.export_data(current_user), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-consult-data.json"', "Cache-Control": "no-store"},
    )


@bp.route("/close", methods=["GET", "POST"])
@login_required
def close_account():
    _require_follow()
    form = CloseAccountForm()
    if form.validate_on_submit():
        try:
            selfservice.close_account(current_user, form.password.data, form.comments.data)
        except ServiceError as exc:
            show_error(form, exc, "password")
        else:
            logout_user()
            flash(_("Your account is closed. Thank you for taking part."), "success")
            return redirect(url_for("public.home"))
    form.password.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("notifications/close.html", form=form), status


@bp.app_template_global()
def is_following(target_type: str, target_id: int) -> bool:
    """For the follow buttons: whether the signed-in person follows this document or clause."""
    return notification_service.is_following(current_user, target_type, target_id)


@bp.app_template_global()
def unread_notifications() -> int:
    """For the header: how many notifications the signed-in person has not read."""
    if not permissions.can_follow(current_user):
        return 0
    return notification_service.unread_count(current_user)
