"""Moderation: registrations, accounts, invitations and the audit log. Each action commits once, audit row included."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _

from .. import permissions
from ..extensions import db
from ..logs import get_logger
from ..mail import send_mail
from ..models import AuditEntry, Comment, Invitation, Organisation, Report, User, UserSession, utcnow
from ..pagination import Page, paginate
from ..permissions import Role
from ..vocabulary import AUDIT_ACTIONS, AUDIT_FIELDS, AUDIT_TARGET_TYPES, AUDIT_VALUES
from . import ServiceError, exports, notifications
from .accounts import hash_token, new_token

log = get_logger("consult.moderation")

INVITATION_DAYS_DEFAULT, INVITATION_DAYS_MAX = 14, 90


def _refused(message: str | None = None) -> ServiceError:
    return ServiceError(message or _("You are not allowed to do this."), status=403)


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip()
    if required and not reason:
        raise ServiceError(_("Give a reason."), field="reason")
    return reason or None


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def record(
    actor,
    action: str,
    target_type: str,
    target_id: int | None,
    before: dict | None,
    after: dict | None,
    reason: str | None = None,
) -> AuditEntry:
    """Add an audit row to the session; the calling service commits it with the change it describes."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=_json(before),
        after=_json(after),
        reason=reason,
    )
    db.session.add(entry)
    return entry


def _mail(to: str, subject: str, body: str) -> bool:
    """Send a notice after the commit; a mail failure must not undo a decision already recorded."""
    try:
        send_mail(to, subject, body)
    except Exception:  # SMTP errors are many; the decision stands and the log says why
        log.exception("mail to %s failed (subject %r)", to, subject)
        return False
    return True


# --- the console home -------------------------------------------------------------------------------------


def open_report_count() -> int:
    """Reports waiting for a moderator."""
    return db.session.scalar(db.select(db.func.count(Report.id)).where(Report.status == "open"))


def console_counts() -> dict[str, int]:
    """The numbers the console home shows: pending registrations, accounts, open invitations, audit rows."""
    count = db.func.count
    now = utcnow()
    return {
        "pending": db.session.scalar(db.select(count(User.id)).where(User.status == "pending")) or 0,
        "users": db.session.scalar(db.select(count(User.id))) or 0,
        "invitations": db.session.scalar(
            db.select(count(Invitation.id)).where(Invitation.used_at.is_(None), Invitation.expires_at > now)
        )
        or 0,
        "audit": db.session.scalar(db.select(count(AuditEntry.id))) or 0,
    }


# --- registrations ----------------------------------------------------------------------------------------


def get_user(user_id: int) -> User | None:
    """The account with this id, or None."""
    return db.session.get(User, user_id)


def pending_registrations(page: int, per_page: int) -> Page:
    """Accounts awaiting approval, oldest first, so the longest wait is handled first."""
    stmt = db.select(User).where(User.status == "pending").order_by(User.created_at, User.id)
    return paginate(stmt, page, per_page)


def check_awaiting_approval(user: User) -> None:
    """Refuse a decision on a registration that is not pending (already decided, or never needed one)."""
    if user.status != "pending":
        raise ServiceError(_("This account is not awaiting approval."), status=409)


def approve_registration(actor, user: User) -> bool:
    """Make a pending account active, record it, and tell its owner; returns whether the mail went out."""
    if not permissions.can_moderate(actor):
        raise _refused()
    check_awaiting_approval(user)
    user.status, user.approved_at, user.status_reason = "active", utcnow(), None
    record(actor, "approve", "user", user.id, {"status": "pending"}, {"status": "active"})
    notifications.account_changed(user, "approved")  # queued with the decision, sent by the outbox
    db.session.commit()
    log.info("registration approved user=%s by=%s", user.id, actor.id)
    return True


def reject_registration(actor, user: User, reason: str) -> bool:
    """Refuse a pending account with a reason the owner is told; returns whether the mail went out."""
    if not permissions.can_moderate(actor):
        raise _refused()
    reason = _reason(reason, required=True)
    check_awaiting_approval(user)
    user.status, user.status_reason = "rejected", reason
    record(actor, "reject", "user", user.id, {"status": "pending"}, {"status": "rejected"}, reason)
    notifications.account_changed(user, "rejected", reason)
    db.session.commit()
    log.info("registration rejected user=%s by=%s", user.id, actor.id)
    return True


# --- accounts ---------------------------------------------------------------------------------------------


def _contains(column, text: str):
    """A case-insensitive substring test; LIKE's wildcards in the text match themselves."""
    return db.func.lower(column).contains(text.lower(), autoescape=True)


def search_users(
    *,
    q: str = "",
    role: str = "",
    status: str = "",
    group: str = "",
    organisation: str = "",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Accounts matching a search (name, email or organisation) and filters, by name."""
    stmt = db.select(User).outerjoin(Organisation, User.organisation_id == Organisation.id)
    q, organisation = (q or "").strip(), (organisation or "").strip()
    if q:
        stmt = stmt.where(
            db.or_(_contains(User.display_name, q), _contains(User.email, q), _contains(Organisation.name, q))
        )
    if role:
        stmt = stmt.where(User.role == role)
    if status:
        stmt = stmt.where(User.status == status)
    if group:
        stmt = stmt.where(User.stakeholder_group == group)
    if organisation:
        stmt = stmt.where(_contains(Organisation.name, organisation))
    stmt = stmt.order_by(db.func.lower(User.display_name), User.id)
    return paginate(stmt, page, per_page)


def open_session_count(user: User) -> int:
    """How many server-side sessions of the account are still open."""
    return (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        )
        or 0
    )


def grantable_roles(actor, user: User) -> list[str]:
    """The roles the actor may give this account, other than the one it holds."""
    return [r.value for r in Role if r.value != user.role and permissions.can_grant_role(actor, user, r.value)]


def change_role(actor, user: User, role: str, reason: str | None = None) -> None:
    """Give an account another role, within what the actor may grant."""
    if role not in {r.value for r in Role}:
        raise ServiceError(_("Choose a role."), field="role")
    if not permissions.can_grant_role(actor, user, role):
        raise _refused()
    if role == user.role:
        raise ServiceError(_("The account already has this role."), field="role")
    before = user.role
    user.role = role
    record(actor, "role", "user", user.id, {"role": before}, {"role": role}, _reason(reason, required=False))
    db.session.commit()
    log.info("role changed user=%s %s->%s by=%s", user.id, before, role, actor.id)


def check_suspendable(user: User) -> None:
    """Refuse to suspend an account that is not active."""
    if user.status != "active":
        raise ServiceError(_("Only an active account can be suspended."), status=409)


def suspend(actor, user: User, reason: str) -> int:
    """Suspend an active account and end its open sessions in the same transaction; returns how many ended."""
    if not permissions.can_suspend(actor, user):
        raise _refused()
    reason = _reason(reason, required=True)
    check_suspendable(user)
    user.status, user.status_reason = "suspended", reason
    ended = db.session.execute(
        db.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    record(actor, "suspend", "user", user.id, {"status": "active"}, {"status": "suspended"}, reason)
    notifications.account_changed(user, "suspended", reason)
    db.session.commit()
    log.info("account suspended user=%s by=%s sessions_ended=%s", user.id, actor.id, ended)
    return ended


def reactivate(actor, user: User, reason: str) -> None:
    """Make a suspended or rejected account active again, with a reason."""
    if not permissions.can_suspend(actor, user):
        raise _refused()
    reason = _reason(reason, required=True)
    if user.status not in ("suspended", "rejected"):
        raise ServiceError(_("Only a suspended or rejected account can be reactivated."), status=409)
    before = user.status
    user.status, user.status_reason = "active", None
    user.approved_at = user.approved_at or utcnow()
    record(actor, "reactivate", "user", user.id, {"status": before}, {"status": "active"}, reason)
    notifications.account_changed(user, "reactivated", reason)
    db.session.commit()
    log.info("account reactivated user=%s by=%s", user.id, actor.id)


def verify_organisation(actor, organisation: Organisation, reason: str | None = None) -> None:
    """Mark an organisation as checked by a moderator."""
    if not permissions.can_moderate(actor):
        raise _refused()
    if organisation.verified:
        raise ServiceError(_("This organisation is already verified."), status=409)
    organisation.verified = True
    record(
        actor,
        "verify-organisation",
        "organisation",
        organisation.id,
        {"verified": False},
        {"verified": True},
        _reason(reason, required=False),
    )
    db.session.commit()
    log.info("organisation verified organisation=%s by=%s", organisation.id, actor.id)


# --- invitations ------------------------------------------------------------------------------------------


def can_invite_as(actor, role: str) -> bool:
    """The role rule for invitations: the same as granting that role to a fresh participant account."""
    newcomer = SimpleNamespace(id=None, role=Role.PARTICIPANT.value)
    return permissions.can_grant_role(actor, newcomer, role)


def invitable_roles(actor) -> list[str]:
    """The roles the actor may put on an invitation."""
    return [r.value for r in Role if can_invite_as(actor, r.value)]


def create_invitation(
    actor, *, email: str | None, role: str, days: int = INVITATION_DAYS_DEFAULT
) -> tuple[Invitation, str]:
    """Create a single-use invitation and return it with its token, which is stored only as a hash."""
    if role not in {r.value for r in Role}:
        raise ServiceError(_("Choose a role."), field="role")
    if not can_invite_as(actor, role):
        raise _refused()
    if not isinstance(days, int) or not 1 <= days <= INVITATION_DAYS_MAX:
        raise ServiceError(_("Choose between 1 and %(n)d days.", n=INVITATION_DAYS_MAX), field="days")
    email = User.normalise_email(email) or None
    if email and db.session.scalar(db.select(User.id).where(User.email == email)) is not None:
        raise ServiceError(_("An account with this email already exists."), field="email")
    token = new_token()
    invitation = Invitation(
        token_hash=hash_token(token),
        email=email,
        role=role,
        created_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    record(
        actor,
        "invitation",
        "invitation",
        invitation.id,
        None,
        {"email": email, "role": role, "expires_at": invitation.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    db.session.commit()
    log.info("invitation created invitation=%s role=%s by=%s", invitation.id, role, actor.id)
    return invitation, token


def mail_invitation(invitation: Invitation, link: str) -> bool:
    """Send an invitation bound to an address its link (after the commit; False if the mail failed)."""
    if not invitation.email:
        return False
    days = max(1, round((invitation.expires_at - utcnow()).total_seconds() / 86400))
    body = ngettext(
        "You are invited to take part in a consultation on Consult.\n\nOpen this link to create your account "
        "(it works once, for %(num)d day): %(link)s\n\nIf you did not expect this, ignore this message.",
        "You are invited to take part in a consultation on Consult.\n\nOpen this link to create your account "
        "(it works once, for %(num)d days): %(link)s\n\nIf you did not expect this, ignore this message.",
        days,
        link=link,
    )
    return _mail(invitation.email, _("Your invitation to Consult"), body)


def check_revocable(invitation: Invitation) -> None:
    """Refuse to revoke an invitation that was used or revoked already."""
    if invitation.used_at is not None or invitation.revoked_at is not None:
        raise ServiceError(_("Only an unused invitation can be revoked."), status=409)


def revoke_invitation(actor, invitation: Invitation, reason: str | None = None) -> None:
    """Take back an unused invitation: its link stops working at once; audited."""
    if not permissions.can_moderate(actor):
        raise _refused()
    check_revocable(invitation)
    invitation.revoked_at = utcnow()
    record(
        actor,
        "revoke-invitation",
        "invitation",
        invitation.id,
        {"email": invitation.email},
        {"revoked_at": invitation.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        _reason(reason, required=False),
    )
    db.session.commit()


def approve_registrations(actor, users: list[User]) -> tuple[int, int]:
    """Approve several pending accounts, each as its own audited decision; (approved, told by mail)."""
    approved = told = 0
    for user in users:
        if user.status != "pending":
            continue
        told += bool(approve_registration(actor, user))
        approved += 1
    return approved, told


def pending_by_ids(ids) -> list[User]:
    """The pending accounts with these ids."""
    wanted = {int(i) for i in ids if str(i).isdigit()}
    if not wanted:
        return []
    return list(
        db.session.scalars(
            db.select(User).where(User.id.in_(wanted), User.status == "pending").order_by(User.created_at)
        )
    )


def get_invitation(invitation_id: int) -> Invitation | None:
    """An invitation by id, or None."""
    return db.session.get(Invitation, invitation_id)


def list_invitations(page: int, per_page: int) -> Page:
    """Invitations, newest first."""
    return paginate(db.select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id.desc()), page, per_page)


def users_by_id(ids) -> dict[int, User]:
    """The accounts with these ids, in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(ids)))}


# --- the audit log ----------------------------------------------------------------------------------------


def audit_choices() -> tuple[list[str], list[str]]:
    """The actions and target types to offer as filters: the known ones and any the log holds."""
    actions = set(AUDIT_ACTIONS) | set(db.session.scalars(db.select(AuditEntry.action).distinct()))
    targets = set(AUDIT_TARGET_TYPES) | set(db.session.scalars(db.select(AuditEntry.target_type).distinct()))
    return sorted(actions), sorted(targets)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_log(
    *,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Audit rows matching the filters, newest first; the dates are whole UTC days, both included."""
    return paginate(
        audit_statement(action=action, actor=actor, target_type=target_type, date_from=date_from, date_to=date_to),
        page,
        per_page,
    )


def audit_rows(**filters):
    """Every audit row matching the filters, newest first, fetched in windows (for the CSV export)."""
    return db.session.scalars(audit_statement(**filters).execution_options(yield_per=500))


def audit_statement(
    *,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
):
    """The audit rows the filters select, newest first."""
    stmt = db.select(AuditEntry)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    actor = (actor or "").strip()
    if actor:
        stmt = stmt.where(AuditEntry.actor_id.in_(db.select(User.id).where(_contains(User.email, actor))))
    if date_from:
        stmt = stmt.where(AuditEntry.created_at >= _day_start(date_from))
    if date_to:
        stmt = stmt.where(AuditEntry.created_at < _day_start(date_to + timedelta(days=1)))
    return stmt.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


AUDIT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _audit_value(value):
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str) and AUDIT_TIME.match(value):  # a time, as people read it (the zone named)
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return format_datetime(moment, "d MMMM y, HH:mm") + " UTC"
    if isinstance(value, str) and value in AUDIT_VALUES:
        return AUDIT_VALUES[value]
    return value


def audit_changes(entry: AuditEntry) -> list[tuple[str, object, object]]:
    """The fields an audit row changed, as (field, before, after), labelled for people where the words are known."""
    before = json.loads(entry.before) if entry.before else {}
    after = json.loads(entry.after) if entry.after else {}
    return [
        (AUDIT_FIELDS.get(key, key), _audit_value(before.get(key)), _audit_value(after.get(key)))
        for key in sorted(set(before) | set(after))
    ]


def audit_csv(entries) -> Iterator[str]:
    """The audit rows as CSV pieces, for people: labels for actions and targets, each change as "field: a → b"."""
    header = [
        _("Time (UTC)"),
        _("Actor"),
        _("Actor's email"),
        _("Action"),
        _("Target"),
        _("Target id"),
        _("Change"),
        _("Reason"),
    ]
    return exports.csv_chunks(header, (_audit_csv_row(entry) for entry in entries))


def _audit_csv_row(entry: AuditEntry) -> list:
    change = "; ".join(
        f"{name}: {'—' if b is None else b} → {'—' if a is None else a}" for name, b, a in audit_changes(entry)
    )
    return [
        entry.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        entry.actor.display_name if entry.actor else "",
        entry.actor.email if entry.actor else "",
        AUDIT_ACTIONS.get(entry.action, entry.action),
        AUDIT_TARGET_TYPES.get(entry.target_type, entry.target_type),
        entry.target_id,
        change,
        entry.reason or "",
    ]


def audit_targets(entries) -> dict[tuple[str, int], object]:
    """The users and organisations that audit rows name, loaded in two queries."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        if entry.target_id is not None:
            wanted.setdefault(entry.target_type, set()).add(entry.target_id)
    found: dict[tuple[str, int], object] = {}
    for user in users_by_id(wanted.get("user", ())).values():
        found[("user", user.id)] = user
    if wanted.get("organisation"):
        for org in db.session.scalars(db.select(Organisation).where(Organisation.id.in_(wanted["organisation"]))):
            found[("organisation", org.id)] = org
    return found


# --- reports on comments ----------------------------------------------------------------------------------

REPORT_LISTS = ("open", "actioned", "dismissed", "hidden")  # the reports page's tabs: three states, hidden comments


def reports_page(status: str, page: int, per_page: int) -> Page | None:
    """One page of a reports tab: the reports with that status, or the hidden comments; None for no such tab."""
    if status not in REPORT_LISTS:
        return None
    return hidden_comments(page, per_page) if status == "hidden" else report_queue(status, page, per_page)


def report_queue(status: str, page: int, per_page: int) -> Page:
    """Reports with this status ("open", "actioned", "dismissed"), oldest open first."""
    order = Report.created_at if status == "open" else Report.resolved_at.desc()
    return paginate(db.select(Report).where(Report.status == status).order_by(order, Report.id), page, per_page)


def hidden_comments(page: int, per_page: int) -> Page:
    """Comments moderators have hidden, most recent first (to restore them)."""
    return paginate(
        db.select(Comment).where(Comment.status == "hidden").order_by(Comment.hidden_at.desc()), page, per_page
    )


def get_report(report_id: int) -> Report | None:
    """A report by id."""
    return db.session.get(Report, report_id)


def _resolve_open_reports(actor, comment: Comment, status: str) -> None:
    now = utcnow()
    for report in db.session.scalars(db.select(Report).where(Report.comment_id == comment.id, Report.status == "open")):
        report.status, report.resolved_at, report.resolved_by_id = status, now, actor.id


def hide_comment(actor, comment: Comment, reason: str) -> None:
    """Hide a comment from the public with a public reason; its open reports are marked as acted on."""
    if not permissions.can_moderate(actor):
        raise _refused()
    reason = _reason(reason, required=True)
    if comment.status != "visible":
        raise ServiceError(_("Only a visible comment can be hidden."), status=409)
    comment.status, comment.status_reason, comment.hidden_at = "hidden", reason, utcnow()
    _resolve_open_reports(actor, comment, "actioned")
    record(actor, "hide", "comment", comment.id, {"status": "visible"}, {"status": "hidden"}, reason)
    notifications.comment_moderated(comment, hidden=True)
    db.session.commit()
    log.info("comment hidden comment=%s by=%s", comment.id, actor.id)


def restore_comment(actor, comment: Comment, reason: str | None = None) -> None:
    """Show a hidden comment again."""
    if not permissions.can_moderate(actor):
        raise _refused()
    if comment.status != "hidden":
        raise ServiceError(_("Only a hidden comment can be restored."), status=409)
    comment.status, comment.status_reason, comment.hidden_at = "visible", None, None
    record(
        actor,
        "restore",
        "comment",
        comment.id,
        {"status": "hidden"},
        {"status": "visible"},
        _reason(reason, required=False),
    )
    notifications.comment_moderated(comment, hidden=False)
    db.session.commit()
    log.info("comment restored comment=%s by=%s", comment.id, actor.id)


def dismiss_report(actor, report: Report, reason: str | None = None) -> None:
    """Close a report without acting on the comment."""
    if not permissions.can_moderate(actor):
        raise _refused()
    if report.status != "open":
        raise ServiceError(_("This report is already closed."), status=409)
    report.status, report.resolved_at, report.resolved_by_id = "dismissed", utcnow(), actor.id
    record(
        actor,
        "dismiss",
        "report",
        report.id,
        {"status": "open"},
        {"status": "dismissed"},
        _reason(reason, required=False),
    )
    db.session.commit()
    log.info("report dismissed report=%s by=%s", report.id, actor.id)
