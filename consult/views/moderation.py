"""The moderation console: registrations, users, reports, invitations and the audit log."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.routing import BuildError

from .. import permissions
from ..forms.base import show_error
from ..forms.moderation import AuditFilterForm, ConfirmForm, InvitationForm, ReasonForm, RoleForm, UserFilterForm
from ..models import utcnow
from ..pagination import page_size
from ..params import page_arg
from ..services import ServiceError
from ..services import moderation as service
from ..vocabulary import ROLES
from ..web import external_url
from .loaders import load_comment, require

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.before_request
def _moderators_only():
    require(permissions.can_moderate)


def _load_user(user_id: int):
    user = service.get_user(user_id)
    if user is None:
        abort(404)
    return user


def _fail(exc: ServiceError, form=None) -> None:
    """A refused action is a 403; a conflict that concerns no field of the form (a 409: already approved, already
    hidden) is a message at the top of the page; anything else goes beside its field."""
    if exc.status == 403:
        abort(403)
    if form is None or (exc.field not in form and exc.status != 400):
        flash(exc.message, "error")
    else:
        show_error(form, exc)


def _mail_notice(sent: bool) -> None:
    if not sent:
        flash(
            _(
                "The decision is recorded, but the email to the account holder could not be sent. "
                "The error is in the server log."
            ),
            "warning",
        )


# --- the console home -------------------------------------------------------------------------------------


@bp.get("/")
def home():
    counts = service.console_counts()
    # One entry per section; the reports on comments will be one more entry here.
    sections = [
        {
            "title": _("Pending registrations"),
            "url": url_for("moderation.registrations"),
            "count": ngettext("%(num)d account waiting", "%(num)d accounts waiting", counts["pending"]),
            "text": _("Accounts waiting for approval: approve them or reject them with a reason."),
        },
        {
            "title": _("Users"),
            "url": url_for("moderation.users"),
            "count": ngettext("%(num)d account", "%(num)d accounts", counts["users"]),
            "text": _("Find accounts, change roles, suspend or reactivate them, verify organisations."),
        },
        {
            "title": _("Reports"),
            "url": url_for("moderation.reports"),
            "count": ngettext("%(num)d open report", "%(num)d open reports", service.open_report_count()),
            "text": _("Comments people reported: hide them with a public reason, restore them, or dismiss the report."),
        },
        {
            "title": _("Invitations"),
            "url": url_for("moderation.invitations"),
            "count": ngettext("%(num)d open invitation", "%(num)d open invitations", counts["invitations"]),
            "text": _("Create single-use links that open an account with a chosen role."),
        },
    ]
    if permissions.can_view_audit(current_user):
        sections.append(
            {
                "title": _("Audit log"),
                "url": url_for("moderation.audit"),
                "count": ngettext("%(num)d entry", "%(num)d entries", counts["audit"]),
                "text": _("Every moderator and administrator action, newest first."),
            }
        )
    return render_template("moderation/home.html", sections=sections)


# --- registrations ----------------------------------------------------------------------------------------


@bp.get("/registrations")
def registrations():
    page = service.pending_registrations(page_arg(), page_size())
    return render_template("moderation/registrations.html", page=page, form=ConfirmForm())


@bp.post("/registrations/<int:user_id>/approve")
def approve(user_id):
    user = _load_user(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            sent = service.approve_registration(current_user, user)
        except ServiceError as exc:
            _fail(exc)
        else:
            flash(
                _("%(name)s's account is approved and they have been told by email.", name=user.display_name), "success"
            )
            _mail_notice(sent)
    return redirect(url_for("moderation.registrations"))


@bp.post("/registrations/approve")
def approve_selected():
    form = ConfirmForm()
    if form.validate_on_submit():
        users = service.pending_by_ids(request.form.getlist("ids"))
        if not users:
            flash(_("Select at least one account to approve."), "error")
            return redirect(url_for("moderation.registrations"))
        approved, told = service.approve_registrations(current_user, users)
        flash(
            ngettext(
                "%(num)d account is approved and told by email.",
                "%(num)d accounts are approved and told by email.",
                approved,
            ),
            "success",
        )
        _mail_notice(told == approved)
    return redirect(url_for("moderation.registrations"))


@bp.route("/registrations/<int:user_id>/reject", methods=["GET", "POST"])
def reject(user_id):
    user = _load_user(user_id)
    try:
        service.check_awaiting_approval(user)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("moderation.registrations"))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            sent = service.reject_registration(current_user, user, form.reason.data)
        except ServiceError as exc:
            _fail(exc, form)
        else:
            flash(
                _("%(name)s's registration is rejected and they have been told why by email.", name=user.display_name),
                "success",
            )
            _mail_notice(sent)
            return redirect(url_for("moderation.registrations"))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/reject.html", user=user, form=form), status


# --- users ------------------------------------------------------------------------------------------------


@bp.get("/users")
def users():
    filters = UserFilterForm(request.args)
    if request.args and not filters.validate():
        return render_template("moderation/users.html", filters=filters, page=None), 400
    page = service.search_users(
        q=filters.q.data or "",
        role=filters.role.data or "",
        status=filters.status.data or "",
        group=filters.group.data or "",
        organisation=filters.organisation.data or "",
        page=page_arg(),
        per_page=page_size(),
    )
    return render_template("moderation/users.html", filters=filters, page=page)


def _user_page(user, status: int = 200, **forms):
    roles = service.grantable_roles(current_user, user)
    forms.setdefault("role_form", RoleForm(prefix="role", roles=roles, formdata=None))
    forms.setdefault("reactivate_form", ReasonForm(prefix="reactivate", formdata=None))
    forms.setdefault("confirm_form", ConfirmForm(formdata=None))
    from ..services import comments as comment_service

    recent = comment_service.user_contributions(user, per_page=20)  # the page says "the 20 most recent"
    return render_template(
        "moderation/user.html",
        user=user,
        roles=roles,
        contributions=recent.items,
        contributions_total=recent.total,
        open_sessions=service.open_session_count(user),
        **forms,
    ), status


@bp.get("/users/<int:user_id>")
def user(user_id):
    return _user_page(_load_user(user_id))


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    target = _load_user(user_id)
    form = RoleForm(prefix="role", roles=service.grantable_roles(current_user, target))
    if form.validate_on_submit():
        # The rule is checked for the value sent, not only for the options shown.
        if not permissions.can_grant_role(current_user, target, form.role.data):
            abort(403)
        try:
            service.change_role(current_user, target, form.role.data, form.reason.data)
        except ServiceError as exc:
            _fail(exc, form)
        else:
            flash(
                _(
                    "%(name)s is now: %(role)s.",
                    name=target.display_name,
                    role=ROLES.get(form.role.data, form.role.data),
                ),
                "success",
            )
            return redirect(url_for("moderation.user", user_id=target.id))
    return _user_page(target, 400, role_form=form)


@bp.route("/users/<int:user_id>/suspend", methods=["GET", "POST"])
def suspend(user_id):
    target = _load_user(user_id)
    if not permissions.can_suspend(current_user, target):
        abort(403)
    try:
        service.check_suspendable(target)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("moderation.user", user_id=target.id))
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            ended = service.suspend(current_user, target, form.reason.data)
        except ServiceError as exc:
            _fail(exc, form)
        else:
            flash(
                ngettext(
                    "%(name)s's account is suspended; %(num)d open session was ended.",
                    "%(name)s's account is suspended; %(num)d open sessions were ended.",
                    ended,
                    name=target.display_name,
                ),
                "success",
            )
            return redirect(url_for("moderation.user", user_id=target.id))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/suspend.html", user=target, form=form), status


@bp.post("/users/<int:user_id>/reactivate")
def reactivate(user_id):
    target = _load_user(user_id)
    if not permissions.can_suspend(current_user, target):
        abort(403)
    form = ReasonForm(prefix="reactivate")
    if form.validate_on_submit():
        try:
            service.reactivate(current_user, target, form.reason.data)
        except ServiceError as exc:
            _fail(exc, form)
            if not exc.field:
                return redirect(url_for("moderation.user", user_id=target.id))
        else:
            flash(_("%(name)s's account is active again.", name=target.display_name), "success")
            return redirect(url_for("moderation.user", user_id=target.id))
    return _user_page(target, 400, reactivate_form=form)


@bp.post("/users/<int:user_id>/verify-organisation")
def verify_organisation(user_id):
    target = _load_user(user_id)
    if target.organisation is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.verify_organisation(current_user, target.organisation)
        except ServiceError as exc:
            _fail(exc)
        else:
            flash(_("%(org)s is marked as verified.", org=target.organisation.name), "success")
    return redirect(url_for("moderation.user", user_id=target.id))


# --- invitations ------------------------------------------------------------------------------------------


def invitation_url(token: str) -> str:
    """The absolute link of an invitation, from the sign-up page's endpoint when it is registered."""
    for endpoint in ("auth.invitation", "auth.invite"):
        if endpoint in current_app.view_functions:
            try:
                return external_url(endpoint, token=token)
            except BuildError:
                continue
    return request.host_url + "auth/invite/" + token


_NEW_INVITATION = "new_invitation"  # session key: the link of the invitation just created, until it is shown


@bp.route("/invitations", methods=["GET", "POST"])
def invitations():
    roles = service.invitable_roles(current_user)
    form = InvitationForm(roles=roles)
    if form.validate_on_submit():
        if not service.can_invite_as(current_user, form.role.data):
            abort(403)
        try:
            invitation, token = service.create_invitation(
                current_user, email=form.email.data, role=form.role.data, days=form.days.data
            )
        except ServiceError as exc:
            _fail(exc, form)
        else:
            # The token is stored only as a hash. It passes once through the signed session to the page that shows
            # it, so reloading that page cannot post the form again and create a second invitation.
            session[_NEW_INVITATION] = {"id": invitation.id, "link": invitation_url(token)}
            if invitation.email and not service.mail_invitation(invitation, invitation_url(token)):
                flash(
                    _(
                        "The invitation is created, but the email could not be sent: give the link below "
                        "to the person yourself."
                    ),
                    "warning",
                )
            return redirect(url_for("moderation.invitation_created", invitation_id=invitation.id))
    page = service.list_invitations(page_arg(), page_size())
    people = service.users_by_id([i.created_by_id for i in page.items] + [i.used_by_id for i in page.items])
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/invitations.html", form=form, page=page, people=people, now=utcnow()), status


@bp.get("/invitations/<int:invitation_id>/created")
def invitation_created(invitation_id):
    invitation = service.get_invitation(invitation_id)
    if invitation is None:
        abort(404)
    pending = session.get(_NEW_INVITATION)
    link = session.pop(_NEW_INVITATION)["link"] if pending and pending.get("id") == invitation.id else None
    response = current_app.make_response(
        render_template("moderation/invitation_created.html", invitation=invitation, link=link)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["GET", "POST"])
def revoke_invitation(invitation_id):
    invitation = service.get_invitation(invitation_id)
    if invitation is None:
        abort(404)
    try:
        service.check_revocable(invitation)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("moderation.invitations"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            service.revoke_invitation(current_user, invitation, request.form.get("reason"))
        except ServiceError as exc:
            _fail(exc)
        else:
            flash(_("The invitation is revoked: its link no longer works."), "success")
        return redirect(url_for("moderation.invitations"))
    return render_template("moderation/revoke_invitation.html", invitation=invitation, form=form)


# --- the audit log (read-only: no route edits or deletes a row) ----------------------------------------------


@bp.get("/audit")
def audit():
    require(permissions.can_view_audit)
    actions, target_types = service.audit_choices()
    filters = AuditFilterForm(request.args, actions=actions, target_types=target_types)
    if request.args and not filters.validate():
        return render_template("moderation/audit.html", filters=filters, page=None), 400
    page = service.audit_log(
        action=filters.action.data or "",
        actor=filters.actor.data or "",
        target_type=filters.target_type.data or "",
        date_from=filters.date_from.data,
        date_to=filters.date_to.data,
        page=page_arg(),
        per_page=page_size(),
    )
    return render_template(
        "moderation/audit.html",
        filters=filters,
        page=page,
        targets=service.audit_targets(page.items),
        changes=service.audit_changes,
    )


@bp.get("/audit.csv")
def audit_csv():
    require(permissions.can_view_audit)
    actions, target_types = service.audit_choices()
    filters = AuditFilterForm(request.args, actions=actions, target_types=target_types)
    if request.args and not filters.validate():
        abort(400)
    rows = service.audit_rows(
        action=filters.action.data or "",
        actor=filters.actor.data or "",
        target_type=filters.target_type.data or "",
        date_from=filters.date_from.data,
        date_to=filters.date_to.data,
    )
    return Response(
        stream_with_context(service.audit_csv(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


# --- reports on comments ----------------------------------------------------------------------------------


@bp.get("/reports")
def reports():
    status = request.args.get("status", "open")
    page = service.reports_page(status, page_arg(), page_size())
    if page is None:
        abort(400)
    return render_template("moderation/reports.html", page=page, status=status, confirm_form=ConfirmForm())


@bp.route("/comments/<int:comment_id>/hide", methods=["GET", "POST"])
def hide(comment_id):
    comment = load_comment(comment_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            service.hide_comment(current_user, comment, form.reason.data)
        except ServiceError as exc:
            _fail(exc, form)
        else:
            flash(_("The comment is hidden. The public sees a placeholder with your reason."), "success")
            return redirect(url_for("moderation.reports"))
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/hide.html", comment=comment, form=form), status


@bp.post("/comments/<int:comment_id>/restore")
def restore(comment_id):
    comment = load_comment(comment_id)
    if ConfirmForm().validate_on_submit():
        try:
            service.restore_comment(current_user, comment)
            flash(_("The comment is visible again."), "success")
        except ServiceError as exc:
            _fail(exc)
    return redirect(url_for("moderation.reports", status="hidden"))


@bp.post("/reports/<int:report_id>/dismiss")
def dismiss(report_id):
    report = service.get_report(report_id)
    if report is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            service.dismiss_report(current_user, report)
            flash(_("The report is dismissed; the comment stays as it is."), "success")
        except ServiceError as exc:
            _fail(exc)
    return redirect(url_for("moderation.reports"))
