"""The moderation console through the test client, with CSRF on."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consult.extensions import db
from consult.models import AuditEntry, Invitation, Organisation, User, UserSession, utcnow
from consult.pagination import Page
from consult.services import accounts as account_service
from consult.services import moderation as moderation_service
from tests.factories import csrf_token, make_user, sign_in

# --- helpers ----------------------------------------------------------------------------------------------


def signed_in(app, role="moderator", **kwargs):
    """A fresh client signed in as a new account with this role; returns (client, user)."""
    client = app.test_client()
    user = make_user(role, **kwargs)
    sign_in(client, user.email)
    return client, user


def post(client, path, data=None, token_from="/"):
    """POST with a CSRF token taken from a page the client can see (any page's token serves the session)."""
    payload = {"csrf_token": csrf_token(client, token_from)}
    payload.update(data or {})
    return client.post(path, data=payload)


def fresh(model, id_):
    """Read a row again from the database, not from the identity map."""
    db.session.expire_all()
    return db.session.get(model, id_)


def audit_rows(**where):
    db.session.expire_all()
    stmt = db.select(AuditEntry).order_by(AuditEntry.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditEntry, key) == value)
    return list(db.session.scalars(stmt))


def outbox(app):
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    return [p.read_text() for p in sorted(folder.glob("*.eml"))] if folder.is_dir() else []


_HASH = None


def bulk_users(n, *, prefix="bulk", role="participant", status="active", group="other", organisation=None):
    """Many accounts at once, sharing one precomputed password hash (hashing each would be slow)."""
    global _HASH
    if _HASH is None:
        probe = User(email="x@example.org", display_name="x")
        probe.set_password("not used for signing in here")
        _HASH = probe.password_hash
    users = [
        User(
            email=f"{prefix}{i:03d}@example.org",
            display_name=f"{prefix.title()} {i:03d}",
            role=role,
            status=status,
            stakeholder_group=group,
            organisation=organisation,
            password_hash=_HASH,
        )
        for i in range(n)
    ]
    db.session.add_all(users)
    db.session.commit()
    return users


def user_with_organisation(name="Acme Research", transparency_id="123456789012-34", status="pending", **kwargs):
    organisation = Organisation(name=name, transparency_register_id=transparency_id)
    return account_service.create_user(
        kwargs.pop("email", f"{name.split()[0].lower()}@example.org"),
        "a sturdy passphrase for tests 91",
        status=status,
        stakeholder_group=kwargs.pop("group", "academia"),
        display_name=kwargs.pop("display_name", f"{name} person"),
        organisation=organisation,
        **kwargs,
    )


def moderation_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("moderation.")]


def rule_path(rule, user_id):
    """A URL for the rule; ids other than the user's (comments, reports) need not exist: the guard runs first."""
    values = {name: user_id if name == "user_id" else 1 for name in rule.arguments}
    return rule.build(values)[1]


# --- access -----------------------------------------------------------------------------------------------


def test_every_moderation_route_is_listed(app):
    endpoints = {rule.endpoint for rule in moderation_rules(app)}
    assert endpoints >= {
        "moderation.home",
        "moderation.registrations",
        "moderation.approve",
        "moderation.reject",
        "moderation.users",
        "moderation.user",
        "moderation.change_role",
        "moderation.suspend",
        "moderation.reactivate",
        "moderation.verify_organisation",
        "moderation.invitations",
        "moderation.audit",
    }


def test_anonymous_visitors_are_sent_to_sign_in_from_every_page(app, client):
    target = make_user("participant", status="pending")
    token = csrf_token(client, "/")
    for rule in moderation_rules(app):
        path = rule_path(rule, target.id)
        response = client.get(path) if "GET" in rule.methods else client.post(path, data={"csrf_token": token})
        assert response.status_code == 302, path
        assert "/auth/sign-in" in response.headers["Location"], path
    assert fresh(User, target.id).status == "pending"


@pytest.mark.parametrize(
    "role,status",
    [("participant", "active"), ("drafter", "active"), ("participant", "pending"), ("moderator", "pending")],
)
def test_non_moderators_get_403_on_every_page_and_action(app, role, status):
    client, _me = signed_in(app, role, status=status)
    target = make_user("participant", status="pending")
    token = csrf_token(client, "/")
    for rule in moderation_rules(app):
        path = rule_path(rule, target.id)
        if "GET" in rule.methods:
            assert client.get(path).status_code == 403, path
        if "POST" in rule.methods:
            response = client.post(path, data={"csrf_token": token, "reason": "x", "role": "admin", "days": "3"})
            assert response.status_code == 403, path
    assert fresh(User, target.id).status == "pending"
    assert audit_rows() == [] and db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_post_without_csrf_token_is_refused(app):
    client, _mod = signed_in(app)
    pending = make_user("participant", status="pending")
    response = client.post(f"/moderation/registrations/{pending.id}/approve")
    assert response.status_code == 400
    assert fresh(User, pending.id).status == "pending" and audit_rows() == []


def test_console_home_counts_and_links(app):
    client, _mod = signed_in(app)
    make_user("participant", status="pending")
    make_user("participant", status="pending")
    html = client.get("/moderation/").get_data(as_text=True)
    assert "<h1>Moderation</h1>" in html
    assert "2 accounts waiting" in html and "3 accounts<" in html and "0 open invitations" in html
    for path in ("/moderation/registrations", "/moderation/users", "/moderation/invitations", "/moderation/audit"):
        assert f'href="{path}"' in html


def test_moderation_pages_have_no_inline_scripts_and_use_real_tables(app):
    client, _mod = signed_in(app)
    pending = user_with_organisation()
    for path in (
        "/moderation/",
        "/moderation/registrations",
        "/moderation/users",
        f"/moderation/users/{pending.id}",
        "/moderation/invitations",
        "/moderation/audit",
        f"/moderation/registrations/{pending.id}/reject",
    ):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\son[a-z]+=", html), path
    for path in ("/moderation/registrations", "/moderation/users", "/moderation/invitations", "/moderation/audit"):
        html = client.get(path).get_data(as_text=True)
        assert "<caption>" in html and 'scope="col"' in html, path


# --- registrations ----------------------------------------------------------------------------------------


def test_pending_registrations_list_the_details(app):
    client, _mod = signed_in(app)
    pending = user_with_organisation()
    make_user("participant", email="already@example.org")
    html = client.get("/moderation/registrations").get_data(as_text=True)
    assert "1 account awaiting approval" in html
    assert pending.email in html and "Acme Research" in html and "123456789012-34" in html
    assert "Academia and independent experts" in html and "UTC</time>" in html
    assert "already@example.org" not in html


def test_approve_activates_mails_and_audits(app):
    client, moderator = signed_in(app)
    pending = make_user("participant", status="pending")
    response = post(client, f"/moderation/registrations/{pending.id}/approve", token_from="/moderation/registrations")
    assert response.status_code == 302 and response.headers["Location"].endswith("/moderation/registrations")
    user = fresh(User, pending.id)
    assert user.status == "active" and user.approved_at is not None
    mails = [m for m in outbox(app) if f"To: {pending.email}" in m]
    assert len(mails) == 1 and "approved" in mails[0]
    [entry] = audit_rows(action="approve")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (moderator.id, "user", pending.id)
    assert entry.before == '{"status": "pending"}' and entry.after == '{"status": "active"}'
    # A second approval of the same account changes nothing more.
    post(client, f"/moderation/registrations/{pending.id}/approve", token_from="/moderation/registrations")
    assert len(audit_rows(action="approve")) == 1


def test_reject_goes_through_a_confirmation_with_a_required_reason(app):
    client, moderator = signed_in(app)
    pending = make_user("participant", status="pending")
    path = f"/moderation/registrations/{pending.id}/reject"
    page = client.get(path)
    assert page.status_code == 200 and '<form method="post"' in page.get_data(as_text=True)
    assert fresh(User, pending.id).status == "pending"  # the link only opens the confirmation

    missing = post(client, path, {"reason": "   "}, token_from=path)
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400 and 'role="alert"' in html and "Give a reason." in html
    assert fresh(User, pending.id).status == "pending" and audit_rows() == [] and outbox(app) == []

    done = post(client, path, {"reason": "Not a stakeholder in this consultation."}, token_from=path)
    assert done.status_code == 302
    user = fresh(User, pending.id)
    assert user.status == "rejected" and user.status_reason == "Not a stakeholder in this consultation."
    [mail] = [m for m in outbox(app) if f"To: {pending.email}" in m]
    assert "Not a stakeholder in this consultation." in mail
    [entry] = audit_rows(action="reject")
    assert entry.actor_id == moderator.id and entry.target_id == pending.id
    assert entry.before == '{"status": "pending"}' and entry.after == '{"status": "rejected"}'
    assert entry.reason == "Not a stakeholder in this consultation."


# --- users ------------------------------------------------------------------------------------------------


def test_users_list_paginates_with_total(app):
    assert app.config["CONSULT_PAGE_SIZE"] == 50
    client, _mod = signed_in(app, name="Zed Moderator")
    bulk_users(60)
    first = client.get("/moderation/users").get_data(as_text=True)
    assert "61 accounts found" in first and "Page 1 of 2" in first and "Showing 1 to 50 of 61" in first
    assert first.count('href="/moderation/users/') == 50
    assert 'rel="next" href="/moderation/users?page=2"' in first
    second = client.get("/moderation/users?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and second.count('href="/moderation/users/') == 11
    assert "Zed Moderator" in second and "Bulk 059" in second and "Bulk 000" not in second
    assert 'rel="prev"' in second


def test_users_search_and_filters_keep_their_state_in_the_url(app):
    client, _mod = signed_in(app)
    acme = Organisation(name="ACME Labs")
    bulk_users(55, prefix="worker", group="industry", organisation=acme)
    bulk_users(3, prefix="drafty", role="drafter", group="academia")
    bulk_users(2, prefix="gone", status="suspended", group="civil-society")

    html = client.get("/moderation/users?q=acme").get_data(as_text=True)  # organisation, case-insensitive
    assert "55 accounts found" in html and "Page 1 of 2" in html
    assert 'href="/moderation/users?page=2&amp;q=acme"' in html or 'href="/moderation/users?q=acme&amp;page=2"' in html
    html = client.get("/moderation/users?q=acme&page=2").get_data(as_text=True)
    assert html.count('href="/moderation/users/') == 5

    assert "3 accounts found" in client.get("/moderation/users?q=DRAFTY").get_data(as_text=True)  # email/name
    assert "1 account found" in client.get("/moderation/users?q=gone001@").get_data(as_text=True)
    assert "3 accounts found" in client.get("/moderation/users?role=drafter").get_data(as_text=True)
    assert "2 accounts found" in client.get("/moderation/users?status=suspended").get_data(as_text=True)
    assert "2 accounts found" in client.get("/moderation/users?group=civil-society").get_data(as_text=True)
    assert "55 accounts found" in client.get("/moderation/users?organisation=labs").get_data(as_text=True)
    combined = client.get("/moderation/users?role=participant&group=industry&q=worker01").get_data(as_text=True)
    assert "10 accounts found" in combined  # worker010 … worker019
    assert '<option selected value="industry">' in combined and 'value="worker01"' in combined
    assert "0 accounts found" in client.get("/moderation/users?q=100%25").get_data(as_text=True)  # % is literal


def test_users_filter_with_an_unknown_value_is_400(app):
    client, _mod = signed_in(app)
    response = client.get("/moderation/users?role=emperor")
    assert response.status_code == 400 and 'role="alert"' in response.get_data(as_text=True)


def test_user_page_shows_details_actions_and_contributions_placeholder(app):
    client, _mod = signed_in(app)
    member = user_with_organisation(status="active")
    html = client.get(f"/moderation/users/{member.id}").get_data(as_text=True)
    assert member.email in html and "Acme Research" in html and "not verified" in html
    assert "Contributions" in html and "No contributions are recorded" in html
    assert f'action="/moderation/users/{member.id}/role"' in html
    assert f'href="/moderation/users/{member.id}/suspend"' in html
    assert f'action="/moderation/users/{member.id}/verify-organisation"' in html
    options = re.findall(r'<option[^>]*value="([a-z]+)"', html)
    assert set(options) == {"drafter"}  # a moderator may not grant moderator or admin
    assert client.get("/moderation/users/999999").status_code == 404


def _role_change(client, user_id, role, reason=""):
    path = f"/moderation/users/{user_id}"
    return post(client, f"{path}/role", {"role-role": role, "role-reason": reason}, token_from=path)


def test_moderators_grant_participant_and_drafter_only(app):
    client, moderator = signed_in(app)
    member = make_user("participant")
    for role in ("moderator", "admin"):
        assert _role_change(client, member.id, role).status_code == 403
    assert fresh(User, member.id).role == "participant" and audit_rows() == []

    response = _role_change(client, member.id, "drafter", "Joins the drafting team.")
    assert response.status_code == 302
    assert fresh(User, member.id).role == "drafter"
    [entry] = audit_rows(action="role")
    assert entry.actor_id == moderator.id and entry.target_id == member.id
    assert entry.before == '{"role": "participant"}' and entry.after == '{"role": "drafter"}'
    assert entry.reason == "Joins the drafting team."
    audit = client.get("/moderation/audit").get_data(as_text=True)
    assert "<td>Role changed</td>" in audit and "Role:</span> Participant → Drafter" in audit

    admin = make_user("admin")
    assert _role_change(client, admin.id, "participant").status_code == 403  # nor touch an admin's role
    assert fresh(User, admin.id).role == "admin"
    assert _role_change(client, moderator.id, "participant").status_code == 403  # nor their own
    assert fresh(User, moderator.id).role == "moderator"


def test_admins_grant_any_role_but_not_to_themselves(app):
    client, admin = signed_in(app, "admin")
    member = make_user("participant")
    html = client.get(f"/moderation/users/{member.id}").get_data(as_text=True)
    assert set(re.findall(r'<option[^>]*value="([a-z]+)"', html)) == {"drafter", "moderator", "admin"}
    assert _role_change(client, member.id, "moderator").status_code == 302
    assert fresh(User, member.id).role == "moderator"
    assert _role_change(client, admin.id, "participant").status_code == 403
    assert fresh(User, admin.id).role == "admin"
    assert f'action="/moderation/users/{admin.id}/role"' not in client.get(f"/moderation/users/{admin.id}").get_data(
        as_text=True
    )
    bad = _role_change(client, member.id, "")
    assert bad.status_code == 400 and "Choose a role." in bad.get_data(as_text=True)
    assert len(audit_rows(action="role")) == 1


def test_suspend_ends_sessions_and_reactivate_restores(app):
    moderator_client, moderator = signed_in(app)
    member_client, member = signed_in(app, "participant")
    assert "Sign out" in member_client.get("/").get_data(as_text=True)

    path = f"/moderation/users/{member.id}/suspend"
    confirm = moderator_client.get(path)
    assert confirm.status_code == 200 and 'name="reason"' in confirm.get_data(as_text=True)
    missing = post(moderator_client, path, {"reason": ""}, token_from=path)
    assert missing.status_code == 400 and "Give a reason." in missing.get_data(as_text=True)
    assert fresh(User, member.id).status == "active"

    done = post(moderator_client, path, {"reason": "Repeated abuse of other participants."}, token_from=path)
    assert done.status_code == 302
    user = fresh(User, member.id)
    assert user.status == "suspended" and user.status_reason == "Repeated abuse of other participants."
    sessions = list(db.session.scalars(db.select(UserSession).where(UserSession.user_id == member.id)))
    assert sessions and all(s.ended_at is not None for s in sessions)
    [entry] = audit_rows(action="suspend")
    assert entry.actor_id == moderator.id and entry.target_id == member.id
    assert entry.before == '{"status": "active"}' and entry.after == '{"status": "suspended"}'
    assert entry.reason == "Repeated abuse of other participants."
    # The suspended user's browser is signed out on its next request.
    home = member_client.get("/").get_data(as_text=True)
    assert "Sign out" not in home and 'href="/auth/sign-in"' in home
    # The moderator's own session is untouched.
    assert moderator_client.get("/moderation/").status_code == 200

    user_page = f"/moderation/users/{member.id}"
    missing = post(moderator_client, f"{user_page}/reactivate", {"reactivate-reason": ""}, token_from=user_page)
    assert missing.status_code == 400 and "Give a reason." in missing.get_data(as_text=True)
    assert fresh(User, member.id).status == "suspended"
    done = post(
        moderator_client, f"{user_page}/reactivate", {"reactivate-reason": "Appeal accepted."}, token_from=user_page
    )
    assert done.status_code == 302
    assert fresh(User, member.id).status == "active"
    [entry] = audit_rows(action="reactivate")
    assert entry.before == '{"status": "suspended"}' and entry.after == '{"status": "active"}'
    assert entry.reason == "Appeal accepted."


def test_moderators_cannot_suspend_staff_above_them(app):
    client, _mod = signed_in(app)
    other = make_user("moderator")
    path = f"/moderation/users/{other.id}/suspend"
    assert client.get(path).status_code == 403
    assert post(client, path, {"reason": "No."}).status_code == 403
    assert fresh(User, other.id).status == "active" and audit_rows() == []


def test_verify_organisation(app):
    client, moderator = signed_in(app)
    member = user_with_organisation(status="active")
    path = f"/moderation/users/{member.id}"
    response = post(client, f"{path}/verify-organisation", token_from=path)
    assert response.status_code == 302
    assert fresh(Organisation, member.organisation_id).verified is True
    [entry] = audit_rows(action="verify-organisation")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        moderator.id,
        "organisation",
        member.organisation_id,
    )
    assert entry.before == '{"verified": false}' and entry.after == '{"verified": true}'
    html = client.get(path).get_data(as_text=True)
    assert "verify-organisation" not in html and ">verified<" in html
    audit = client.get("/moderation/audit").get_data(as_text=True)
    assert "<td>Organisation verified</td>" in audit and "Verified:</span> No → Yes" in audit


# --- invitations ------------------------------------------------------------------------------------------


def _invite(client, **fields):
    data = {"email": "", "role": "participant", "days": "14"}
    data.update(fields)
    return post(client, "/moderation/invitations", data, token_from="/moderation/invitations")


def test_invitation_link_is_shown_once_and_audited(app):
    client, moderator = signed_in(app)
    response = _invite(client, email="Invitee@Example.org", role="drafter", days="30")
    assert response.status_code == 302  # so that reloading the page cannot create a second invitation
    created = response.headers["Location"]
    shown = client.get(created)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    match = re.search(re.escape(app.config["CONSULT_BASE_URL"]) + r"/auth/invite/([A-Za-z0-9_-]{20,})", html)
    assert match, html
    token = match.group(1)
    invitation = db.session.scalar(db.select(Invitation))
    assert invitation.token_hash == account_service.hash_token(token) and token not in invitation.token_hash
    assert invitation.email == "invitee@example.org" and invitation.role == "drafter"
    assert timedelta(days=29, hours=23) < invitation.expires_at - utcnow() <= timedelta(days=30)
    [entry] = audit_rows(action="invitation")
    assert (entry.actor_id, entry.target_type, entry.target_id) == (moderator.id, "invitation", invitation.id)
    assert '"role": "drafter"' in entry.after and '"email": "invitee@example.org"' in entry.after

    reloaded = client.get(created).get_data(as_text=True)
    assert token not in reloaded and "cannot be shown again" in reloaded
    other_client, _other = signed_in(app)
    assert token not in other_client.get(created).get_data(as_text=True)
    assert client.get("/moderation/invitations/999999/created").status_code == 404
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 1
    listing = client.get("/moderation/invitations").get_data(as_text=True)
    assert token not in listing  # never shown again
    assert "invitee@example.org" in listing and "1 invitation, newest first" in listing
    assert client.get(f"/auth/invite/{token}").status_code == 200  # the link works


def test_invitation_roles_days_and_existing_accounts(app):
    client, _mod = signed_in(app)
    form = client.get("/moderation/invitations").get_data(as_text=True)
    assert set(re.findall(r'<option[^>]*value="([a-z]+)"', form)) == {"participant", "drafter"}
    assert _invite(client, role="moderator").status_code == 403
    assert _invite(client, role="admin").status_code == 403
    too_long = _invite(client, days="91")
    assert too_long.status_code == 400 and "between 1 and 90 days" in too_long.get_data(as_text=True)
    taken = make_user("participant")
    exists = _invite(client, email=taken.email)
    assert exists.status_code == 400 and "already exists" in exists.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0 and audit_rows() == []

    admin_client, _admin = signed_in(app, "admin")
    assert _invite(admin_client, role="moderator").status_code == 302
    assert db.session.scalar(db.select(Invitation.role)) == "moderator"
    default_days = _invite(admin_client)
    assert default_days.status_code == 302
    newest = db.session.scalar(db.select(Invitation).order_by(Invitation.id.desc()))
    assert timedelta(days=13, hours=23) < newest.expires_at - utcnow() <= timedelta(days=14)


# --- the audit log ----------------------------------------------------------------------------------------


def _entry(actor, action, target_type, when, reason=None):
    row = moderation_service.record(actor, action, target_type, 1, {"status": "a"}, {"status": "b"}, reason)
    row.created_at = when
    return row


def test_audit_log_filters_and_order(app):
    client, moderator = signed_in(app)
    other = make_user("admin", email="chief@example.org")

    def day(d):
        return datetime(2025, 3, d, 12, 0, tzinfo=UTC)

    _entry(moderator, "approve", "user", day(1), "first")
    _entry(other, "suspend", "user", day(5), "second")
    _entry(other, "verify-organisation", "organisation", day(9), "third")
    db.session.commit()

    html = client.get("/moderation/audit").get_data(as_text=True)
    assert "3 entries, newest first" in html
    assert html.index("<td>third</td>") < html.index("<td>second</td>") < html.index("<td>first</td>")
    assert "Status:</span> a → b" in html and "UTC</time>" in html
    # Actions, targets and filter choices are shown in words, not as the stored values.
    assert "<td>Account suspended</td>" in html and "<td>Organisation verified</td>" in html
    assert "<td>suspend</td>" not in html and "<td>Organisation #1" in html
    assert '<option value="verify-organisation">Organisation verified</option>' in html
    moderation_service.record(moderator, "hide", "comment", 7, {"status": "visible"}, {"status": "hidden"}, "spam")
    db.session.commit()
    html = client.get("/moderation/audit?action=hide").get_data(as_text=True)
    assert "Status:</span> Visible → Hidden by a moderator" in html and 'href="/comments/7"' in html

    def shown(query):
        text = client.get("/moderation/audit?" + query).get_data(as_text=True)
        return [r for r in ("first", "second", "third") if f"<td>{r}</td>" in text]

    assert shown("action=suspend") == ["second"]
    assert shown("actor=CHIEF@example") == ["second", "third"]
    assert shown("target_type=organisation") == ["third"]
    assert shown("date_from=2025-03-05") == ["second", "third"]
    assert shown("date_to=2025-03-05") == ["first", "second"]
    assert shown("date_from=2025-03-02&date_to=2025-03-08") == ["second"]
    assert shown("actor=chief&action=approve") == []
    backwards = client.get("/moderation/audit?date_from=2025-03-09&date_to=2025-03-01")
    assert backwards.status_code == 400 and 'role="alert"' in backwards.get_data(as_text=True)
    assert client.get("/moderation/audit?date_from=soon").status_code == 400


def test_audit_log_has_no_route_that_edits_or_deletes(app):
    read_only = {"GET", "HEAD", "OPTIONS"}
    audit_rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/moderation/audit")]
    assert audit_rules
    for rule in audit_rules:
        assert set(rule.methods) <= read_only, rule
    client, _mod = signed_in(app)
    moderation_service.record(_mod, "approve", "user", 1, None, None)
    db.session.commit()
    token = csrf_token(client, "/moderation/audit")
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)("/moderation/audit", data={"csrf_token": token})
        assert response.status_code == 405, method
    assert len(audit_rows()) == 1


def test_a_refused_suspension_changes_nothing_and_records_nothing(app):
    client, _mod = signed_in(app)
    member = make_user("participant")
    path = f"/moderation/users/{member.id}/suspend"
    post(client, path, {"reason": "x" * 3000}, token_from=path)  # too long: refused
    assert fresh(User, member.id).status == "active" and audit_rows() == []


# --- the Page helper --------------------------------------------------------------------------------------


def test_page_numbers_and_bounds(app):
    page = Page(items=list(range(10)), total=95, page=5, per_page=10)
    assert page.pages == 10 and page.has_prev and page.has_next and (page.first, page.last) == (41, 50)
    assert page.numbers() == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert Page(items=[], total=0).pages == 1 and Page(items=[], total=0).first == 0
    bulk_users(7)
    from consult.pagination import paginate

    stmt = db.select(User).order_by(User.email)
    beyond = paginate(stmt, 9, 5)
    assert (beyond.page, len(beyond.items), beyond.total) == (2, 2, 7)
    assert paginate(stmt, -3, 5).page == 1


def test_every_audit_row_is_written_through_one_function():
    """Only services/moderation.py's record() builds an AuditEntry: one place decides what a row holds."""
    root = Path(__file__).resolve().parents[2] / "consult"
    writers = sorted(
        str(path.relative_to(root)) for path in root.rglob("*.py") if "AuditEntry(" in path.read_text(encoding="utf-8")
    )
    assert writers == ["models/moderation.py", "services/moderation.py"]  # the class itself, and record()
