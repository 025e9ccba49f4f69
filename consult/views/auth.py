"""Sign-in, sign-out, registration, invitations, password reset and the account page."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from ..forms.auth import (
    ChangeEmailForm,
    ChangePasswordForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignInForm,
)
from ..forms.base import show_error
from ..services import ServiceError
from ..services import accounts as account_service
from ..web import renew_session, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _blank_passwords(form) -> None:
    """Never send a password back to the browser."""
    for f in form:
        if f.type == "PasswordField":
            f.data = ""


def _render(template: str, status: int | None = None, **context):
    forms = [v for v in context.values() if hasattr(v, "csrf_token")]
    for form in forms:
        _blank_passwords(form)
    if status is None:
        status = 400 if request.method == "POST" else 200
    return render_template(template, **context), status


# --- sign-in and sign-out ---------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        refused = account_service.sign_in_refused(form.email.data, request.remote_addr)
        if refused is not None:
            show_error(
                form,
                ngettext(
                    "Too many failed sign-in attempts. Try again in %(num)d minute, or reset your password now: "
                    "a reset link also lifts this wait for your account.",
                    "Too many failed sign-in attempts. Try again in %(num)d minutes, or reset your password now: "
                    "a reset link also lifts this wait for your account.",
                    account_service.minutes_left(refused),
                ),
                "email",
            )
            return _render("auth/sign_in.html", 429, form=form)
        user = account_service.authenticate(form.email.data, form.password.data)
        if user is not None:
            account_service.sign_in_succeeded(user)
            renew_session()
            account_service.start_session(user, remember=form.remember.data)
            login_user(user, remember=form.remember.data, fresh=True)
            flash(_("You are signed in."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("public.home")))
        slowed = account_service.sign_in_failed(form.email.data, request.remote_addr)
        from ..services.selfservice import blocked_sign_in

        blocked = blocked_sign_in(form.email.data, form.password.data)
        if blocked is not None:  # the right password: say why the account may not sign in, not "wrong password"
            show_error(
                form,
                _("Your account is suspended. Reason: %(reason)s", reason=blocked.status_reason or "—")
                if blocked.status == "suspended"
                else _("Your registration was not approved. Reason: %(reason)s", reason=blocked.status_reason or "—"),
                "email",
            )
            return _render("auth/sign_in.html", 403, form=form)
        show_error(form, _("The email address or password is not right."), "password")
        if slowed:
            show_error(
                form,
                _(
                    "After several failed attempts, sign-in is slowed down; a few more and it will be "
                    "refused for a while."
                ),
                "password",
            )
    return _render("auth/sign_in.html", form=form)


@bp.post("/sign-out")
@login_required
def sign_out():
    account_service.end_session(current_user)
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.home"))


# --- registration and invitations -------------------------------------------------------------------------


def _account_fields(form) -> dict:
    return dict(
        password=form.password.data,
        display_name=form.display_name.data.strip(),
        stakeholder_group=form.stakeholder_group.data,
        organisation_name=form.organisation.data,
        transparency_register_id=form.transparency_register_id.data,
    )


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "GET" and request.args.get("sent"):
        return render_template("auth/register_sent.html")
    form = RegisterForm()
    if form.validate_on_submit():
        refused = account_service.register_refused_for_address(request.remote_addr)
        if refused is not None:
            show_error(
                form,
                ngettext(
                    "Too many registrations from your network. Try again in %(num)d minute.",
                    "Too many registrations from your network. Try again in %(num)d minutes.",
                    account_service.minutes_left(refused),
                ),
                "email",
            )
            return _render("auth/register.html", 429, form=form)
        try:
            account_service.register(email=form.email.data, **_account_fields(form))
        except ServiceError as exc:
            show_error(form, exc)
        else:
            # The same answer whether the address was new or already registered.
            return redirect(url_for("auth.register", sent=1))
    return _render("auth/register.html", form=form)


def _invalid_invitation():
    return render_template("auth/invitation_invalid.html"), 404


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invitation(token):
    invite = account_service.find_invitation(token)
    if invite is None:
        return _invalid_invitation()
    form = RegisterForm()
    if invite.email:
        form.email.render_kw = {"readonly": True}
        if request.method == "GET":
            form.email.data = invite.email
    if form.validate_on_submit():
        try:
            user = account_service.accept_invitation(token, email=form.email.data, **_account_fields(form))
        except ServiceError as exc:
            if exc.field is None:
                return _invalid_invitation()
            show_error(form, exc)
        else:
            if current_user.is_authenticated:
                account_service.end_session(current_user)
                logout_user()
            renew_session()
            account_service.start_session(user)
            login_user(user, fresh=True)
            flash(_("Your account is ready. Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(url_for("public.home"))
    return _render("auth/invitation.html", form=form, invite=invite, token=token)


# --- password reset ---------------------------------------------------------------------------------------


@bp.route("/reset", methods=["GET", "POST"])
def reset():
    form = ResetRequestForm()
    if request.method == "GET" and request.args.get("sent"):
        return render_template("auth/reset_sent.html")
    if form.validate_on_submit():
        refused = account_service.reset_refused_for_address(request.remote_addr)
        if refused is not None:
            show_error(
                form,
                _(
                    "Too many password reset requests from your network. Try again in %(n)d minutes.",
                    n=account_service.minutes_left(refused),
                ),
                "email",
            )
            return _render("auth/reset.html", 429, form=form)
        account_service.request_password_reset(form.email.data)
        # Known or unknown address: the same redirect, and nothing in the session that names the address.
        return redirect(url_for("auth.reset", sent=1))
    return _render("auth/reset.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_with_token(token):
    if account_service.find_reset_token(token) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            account_service.reset_password(token, form.password.data)
        except ServiceError as exc:
            if exc.field is None:
                return render_template("auth/reset_invalid.html"), 404
            show_error(form, exc)
        else:
            renew_session()
            if current_user.is_authenticated:
                logout_user()
            flash(
                _(
                    "Your password has been changed, and every device signed in to your account has been signed "
                    "out. Sign in with your new password."
                ),
                "success",
            )
            return redirect(url_for("auth.sign_in"))
    return _render("auth/reset_password.html", form=form, token=token)


# --- the account page -------------------------------------------------------------------------------------


def _account_forms():
    return ChangePasswordForm(prefix="pw"), ChangeEmailForm(prefix="em")


@bp.get("/account")
@login_required
def account():
    password_form, email_form = _account_forms()
    return _render("auth/account.html", 200, password_form=password_form, email_form=email_form)


@bp.post("/account/password")
@login_required
def change_password():
    password_form, email_form = _account_forms()
    if password_form.validate_on_submit():
        try:
            account_service.change_password(
                current_user, password_form.current_password.data, password_form.new_password.data
            )
        except ServiceError as exc:
            show_error(password_form, exc)
            return _render("auth/account.html", exc.status, password_form=password_form, email_form=email_form)
        else:
            flash(
                _("Your password has been changed. Other devices signed in to your account have been signed out."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return _render("auth/account.html", password_form=password_form, email_form=email_form)


@bp.post("/account/email")
@login_required
def change_email():
    password_form, email_form = _account_forms()
    if email_form.validate_on_submit():
        try:
            account_service.change_email(current_user, email_form.email.data, email_form.password.data)
        except ServiceError as exc:
            show_error(email_form, exc)
            return _render("auth/account.html", exc.status, password_form=password_form, email_form=email_form)
        else:
            flash(_("Your email address has been changed. Use the new one to sign in."), "success")
            return redirect(url_for("auth.account"))
    return _render("auth/account.html", password_form=password_form, email_form=email_form)
