"""Sign-in and sign-out."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..forms import SignInForm
from ..services import accounts as account_service
from ..web import renew_session, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        user = account_service.authenticate(form.email.data, form.password.data)
        if user is not None:
            renew_session()
            account_service.start_session(user, remember=form.remember.data)
            login_user(user, remember=form.remember.data, fresh=True)
            flash(_("You are signed in."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("public.home")))
        form.password.errors.append(_("The email address or password is not right."))
    status = 400 if request.method == "POST" else 200
    form.password.data = ""
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    account_service.end_session(current_user)
    logout_user()
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.home"))
