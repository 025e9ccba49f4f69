"""Accounts through the pages, with CSRF on: registration, invitations, sign-in, reset, sessions, the account page."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from consult import permissions
from consult.extensions import db
from consult.models import Invitation, OneTimeToken, Organisation, User, UserSession, utcnow
from consult.services import accounts as account_service
from tests.factories import PASSWORD, csrf_token, make_user, sign_in

NEW_PASSWORD = "another quite sturdy phrase 2024 owl"


# --- helpers ------------------------------------------------------------------------------------------------


def post_form(client, path: str, data: dict, *, page: str | None = None):
    """POST a form with the CSRF token of the page that shows it."""
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def registration(**overrides) -> dict:
    data = {
        "email": "ada@example.org",
        "display_name": "Ada Example",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "stakeholder_group": "civil-society",
        "organisation": "Open Rights Lab",
        "transparency_register_id": "123456789012-34",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def mails(app) -> list:
    """The messages in the test outbox, oldest first."""
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    files = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if outbox.exists() else []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def mail_body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message, pattern: str) -> str:
    match = re.search(pattern, mail_body(message))
    assert match, mail_body(message)
    return match.group(0)


def signed_in(client) -> bool:
    """Whether the client's cookies carry a live session (the account page answers only then)."""
    return client.get("/auth/account").status_code == 200


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.email == email.lower()))


def make_invitation(*, email: str | None = None, role: str = "drafter", expires_in=timedelta(days=7)) -> str:
    token = account_service.new_token()
    db.session.add(
        Invitation(
            token_hash=account_service.hash_token(token), email=email, role=role, expires_at=utcnow() + expires_in
        )
    )
    db.session.commit()
    return token


def request_reset(client, email: str):
    return post_form(client, "/auth/reset", {"email": email})


def time_travel(monkeypatch, delta: timedelta) -> None:
    """Move the accounts service's clock forward."""
    later = utcnow() + delta
    monkeypatch.setattr("consult.services.accounts.utcnow", lambda: later)


# --- registration -------------------------------------------------------------------------------------------


def test_register_creates_pending_account(client, app):
    response = post_form(client, "/auth/register", registration())
    assert response.status_code == 302 and response.headers["Location"] == "/auth/register?sent=1"
    assert "Check your email" in client.get(response.headers["Location"]).get_data(as_text=True)
    user = user_by_email("ada@example.org")
    assert user.status == "pending" and user.role == "participant" and user.consented_at is not None
    assert user.stakeholder_group == "civil-society"
    assert user.organisation.name == "Open Rights Lab"
    assert user.organisation.transparency_register_id == "123456789012-34"
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)
    [message] = mails(app)
    assert message["To"] == "ada@example.org" and "moderator" in mail_body(message)


def test_register_weak_password_keeps_input_not_password(client):
    weak = "password1234"
    response = post_form(client, "/auth/register", registration(password=weak, password_confirm=weak))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html and "too easy to guess" in html
    assert 'value="ada@example.org"' in html and 'value="Ada Example"' in html and 'value="Open Rights Lab"' in html
    assert weak not in html and PASSWORD not in html
    assert 'aria-describedby="password-hint password-error"' in html
    assert user_by_email("ada@example.org") is None


def test_register_short_password_refused(client):
    response = post_form(client, "/auth/register", registration(password="Xq7#kLm2!", password_confirm="Xq7#kLm2!"))
    assert response.status_code == 400 and "at least 12 characters" in response.get_data(as_text=True)


def test_register_duplicate_email_answers_like_success(client, app):
    existing = make_user(email="ada@example.org", name="Ada Original")
    fresh = post_form(client, "/auth/register", registration(email="new@example.org"))
    duplicate = post_form(client, "/auth/register", registration(email="ADA@Example.org", display_name="Someone"))
    assert duplicate.status_code == fresh.status_code == 302
    assert duplicate.headers["Location"] == fresh.headers["Location"]
    assert duplicate.get_data() == fresh.get_data()
    assert db.session.scalar(db.select(db.func.count(User.id)).where(User.email == "ada@example.org")) == 1
    assert user_by_email("ada@example.org").display_name == "Ada Original"
    assert user_by_email("ada@example.org").check_password(PASSWORD) and existing.id
    warning = [m for m in mails(app) if m["To"] == "ada@example.org"]
    assert len(warning) == 1 and "tried" in warning[0]["Subject"]


def test_register_invalid_transparency_id(client):
    response = post_form(client, "/auth/register", registration(transparency_register_id="12345-6"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "123456789012-34" in html
    assert 'value="12345-6"' in html
    assert 'aria-describedby="transparency_register_id-hint transparency_register_id-error"' in html
    assert user_by_email("ada@example.org") is None
    for bad in ("١٢٣٤٥٦٧٨٩-٠١", "123456789-01x", "1234567890123-45", "123456789-1"):
        response = post_form(client, "/auth/register", registration(transparency_register_id=bad))
        assert response.status_code == 400, bad
    spaced = registration(transparency_register_id=" 123456789-01 ")
    assert post_form(client, "/auth/register", spaced).status_code == 302
    assert user_by_email("ada@example.org").organisation.transparency_register_id == "123456789-01"


def test_register_organisation_required_except_for_group_other(client):
    response = post_form(client, "/auth/register", registration(organisation=""))
    assert response.status_code == 400 and "name of your organisation" in response.get_data(as_text=True)
    response = post_form(
        client, "/auth/register", registration(organisation="", stakeholder_group="other", transparency_register_id="")
    )
    assert response.status_code == 302
    assert user_by_email("ada@example.org").organisation is None


def test_register_needs_consent_to_privacy_notice(client):
    html = client.get("/auth/register").get_data(as_text=True)
    assert 'href="/privacy"' in html
    response = post_form(client, "/auth/register", registration(consent=None))
    assert response.status_code == 400 and "Agree to the privacy notice" in response.get_data(as_text=True)
    assert user_by_email("ada@example.org") is None


def test_pending_user_sees_notice_and_cannot_comment(client, app):
    post_form(client, "/auth/register", registration())
    sign_in(client, "ada@example.org")
    user = user_by_email("ada@example.org")
    assert user.status == "pending" and not permissions.can_comment(user)
    account_page = client.get("/auth/account").get_data(as_text=True)
    assert "Awaiting approval" in account_page
    # The notice partial, as base.html includes it on every page.
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context("/"):
        user.current_session_token = "x"
        login_user(user)
        assert "awaiting approval" in render_template("auth/_pending_notice.html")
    with app.test_request_context("/"):
        active = make_user()
        active.current_session_token = "x"
        login_user(active)
        assert render_template("auth/_pending_notice.html").strip() == ""
    # base.html includes it, so it shows on every page.
    assert "awaiting approval" in client.get("/").get_data(as_text=True)
    assert "awaiting approval" in client.get("/privacy").get_data(as_text=True)


def test_auto_approve(client, app):
    app.config["CONSULT_AUTO_APPROVE"] = True
    assert post_form(client, "/auth/register", registration()).status_code == 302
    user = user_by_email("ada@example.org")
    assert user.status == "active" and user.approved_at is not None and permissions.can_comment(user)


def test_long_password_64_and_128_accepted(client):
    for n, length in enumerate((64, 128)):
        password = ("correct horse battery staple violet quartz " * 4)[:length]
        assert len(password) == length
        email = f"long{n}@example.org"
        response = post_form(
            client, "/auth/register", registration(email=email, password=password, password_confirm=password)
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
        sign_in(client, email, password)
        assert signed_in(client)
        client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
    too_long = "x7 " * 43 + "z"
    response = post_form(
        client, "/auth/register", registration(email="long3@example.org", password=too_long, password_confirm=too_long)
    )
    assert len(too_long) == 130 and response.status_code == 400 and "at most 128" in response.get_data(as_text=True)


# --- invitations --------------------------------------------------------------------------------------------


def test_invitation_creates_active_account_once(client, app):
    token = make_invitation(role="drafter")
    path = f"/auth/invite/{token}"
    assert client.get(path).status_code == 200
    response = post_form(client, path, registration(email="inv@example.org"))
    assert response.status_code == 302, response.get_data(as_text=True)
    user = user_by_email("inv@example.org")
    assert user.status == "active" and user.role == "drafter" and user.consented_at is not None
    invitation = db.session.scalar(db.select(Invitation))
    assert invitation.used_at is not None and invitation.used_by_id == user.id
    assert signed_in(client)
    other = app.test_client()
    again = other.get(path)
    assert again.status_code == 404 and "not valid or has expired" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_expired_invitation_refused(client):
    token = make_invitation(expires_in=timedelta(minutes=-1))
    response = client.get(f"/auth/invite/{token}")
    assert response.status_code == 404 and "not valid or has expired" in response.get_data(as_text=True)
    assert client.get("/auth/invite/not-a-token").status_code == 404


def test_bound_invitation_wrong_email_refused(client):
    token = make_invitation(email="bound@example.org", role="participant")
    path = f"/auth/invite/{token}"
    html = client.get(path).get_data(as_text=True)
    assert 'value="bound@example.org"' in html and "readonly" in html
    response = post_form(client, path, registration(email="intruder@example.org"))
    assert response.status_code == 400 and "different email address" in response.get_data(as_text=True)
    assert user_by_email("intruder@example.org") is None
    assert db.session.scalar(db.select(Invitation)).used_at is None
    assert post_form(client, path, registration(email="Bound@example.org")).status_code == 302
    assert user_by_email("bound@example.org").status == "active"


# --- sign-in, sign-out and sessions -------------------------------------------------------------------------


def test_signin_wrong_password_and_unknown_email_answer_alike(client):
    make_user(email="known@example.org")
    wrong = post_form(client, "/auth/sign-in", {"email": "known@example.org", "password": "not the password at all"})
    unknown = post_form(client, "/auth/sign-in", {"email": "nobody@example.org", "password": "not the password at all"})
    assert wrong.status_code == unknown.status_code == 400
    message = "The email address or password is not right."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert "not the password at all" not in wrong.get_data(as_text=True)


def test_signin_throttled_after_failures(client, app, monkeypatch):
    app.config["CONSULT_SIGNIN_DELAY_SECONDS"] = 0.01
    pauses = []
    monkeypatch.setattr("consult.services.accounts.time.sleep", pauses.append)
    make_user(email="target@example.org")
    for attempt in range(1, 6):
        response = post_form(client, "/auth/sign-in", {"email": "target@example.org", "password": "wrong guess 123"})
        assert response.status_code == 400
        # Past the third failure each attempt is slowed, and the page says so.
        assert ("sign-in is slowed down" in response.get_data(as_text=True)) == (attempt > 3)
    assert pauses == [0.01, 0.01]
    response = post_form(client, "/auth/sign-in", {"email": "Target@example.org", "password": PASSWORD})
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes, or reset your password now" in html
    assert 'value="Target@example.org"' in html and PASSWORD not in html
    assert not signed_in(client)


def test_signin_success_clears_account_failures(client):
    make_user(email="forgetful@example.org")
    for _ in range(4):
        post_form(client, "/auth/sign-in", {"email": "forgetful@example.org", "password": "wrong guess 123"})
    sign_in(client, "forgetful@example.org")
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
    for _ in range(4):
        response = post_form(client, "/auth/sign-in", {"email": "forgetful@example.org", "password": "wrong 12345"})
        assert response.status_code == 400


def test_signin_throttled_per_address(client, app):
    app.config["CONSULT_SIGNIN_IP_LIMIT"] = 3
    for n in range(3):
        post_form(client, "/auth/sign-in", {"email": f"guess{n}@example.org", "password": "wrong guess 123"})
    response = post_form(client, "/auth/sign-in", {"email": "guess9@example.org", "password": "wrong guess 123"})
    assert response.status_code == 429 and "Too many failed sign-in attempts" in response.get_data(as_text=True)


def test_signin_without_csrf_is_400(client):
    make_user(email="csrf@example.org")
    response = client.post("/auth/sign-in", data={"email": "csrf@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_session_cookie_httponly_samesite_lax(client):
    make_user(email="cookie@example.org")
    response = post_form(
        client, "/auth/sign-in", {"email": "cookie@example.org", "password": PASSWORD, "remember": "y"}
    )
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]


def test_signin_issues_fresh_session(client):
    make_user(email="fresh@example.org")
    client.get("/auth/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    sign_in(client, "fresh@example.org")
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session


def test_signout_ends_server_session_and_remember_cookie(client, app):
    user = make_user(email="leaver@example.org")
    post_form(client, "/auth/sign-in", {"email": "leaver@example.org", "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    # The remember-me cookie alone signs a new browser in while the session lives...
    probe = app.test_client()
    probe.set_cookie("remember_token", remember)
    assert signed_in(probe)
    assert client.get("/auth/sign-out").status_code == 405
    response = client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and not signed_in(client)
    db.session.expire_all()
    assert all(
        row.ended_at is not None
        for row in db.session.scalars(db.select(UserSession).where(UserSession.user_id == user.id))
    )
    # ...and no longer once the user has signed out.
    stolen = app.test_client()
    stolen.set_cookie("remember_token", remember)
    assert not signed_in(stolen)
    assert "Sign in" in stolen.get("/").get_data(as_text=True)


def test_next_redirect_only_local(client):
    make_user(email="next@example.org")
    for target in ("//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)"):
        token = csrf_token(client, "/auth/sign-in")
        response = client.post(
            "/auth/sign-in",
            query_string={"next": target},
            data={"csrf_token": token, "email": "next@example.org", "password": PASSWORD},
        )
        assert response.status_code == 302 and response.headers["Location"] == "/", target
        client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client, "/auth/sign-in")
    response = client.post(
        "/auth/sign-in",
        query_string={"next": "/auth/account"},
        data={"csrf_token": token, "email": "next@example.org", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/auth/account"


def test_suspended_user_session_stops_at_next_request(client):
    user = make_user(email="suspend@example.org")
    sign_in(client, user.email)
    assert signed_in(client)
    db.session.get(User, user.id).status = "suspended"
    db.session.commit()
    assert not signed_in(client)
    response = post_form(client, "/auth/sign-in", {"email": user.email, "password": PASSWORD})
    # With the right password, the person is told the account is suspended (issue #17), not "wrong password".
    assert response.status_code == 403 and "Your account is suspended" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_idle_and_absolute_timeouts(client, app, monkeypatch):
    make_user(email="idle@example.org")
    sign_in(client, "idle@example.org")
    time_travel(monkeypatch, timedelta(minutes=59))
    assert signed_in(client)
    time_travel(monkeypatch, timedelta(minutes=59 + 61))
    assert not signed_in(client)

    monkeypatch.undo()
    app.config.update(CONSULT_SESSION_IDLE_MINUTES=10**6, CONSULT_SESSION_ABSOLUTE_HOURS=12)
    sign_in(client, "idle@example.org")
    time_travel(monkeypatch, timedelta(hours=11))
    assert signed_in(client)
    time_travel(monkeypatch, timedelta(hours=12, minutes=1))
    assert not signed_in(client)


def test_auth_events_logged_without_passwords(client, caplog):
    make_user(email="logged@example.org")
    with caplog.at_level(logging.INFO, logger="consult.auth"):
        post_form(client, "/auth/sign-in", {"email": "logged@example.org", "password": "a wrong password 77"})
        sign_in(client, "logged@example.org")
        client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
        request_reset(client, "logged@example.org")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "consult.auth")
    for event in ("sign-in failed", "sign-in user=", "sign-out", "reset requested"):
        assert event in text
    assert PASSWORD not in text and "a wrong password 77" not in text


# --- password reset -----------------------------------------------------------------------------------------


def test_reset_same_answer_known_and_unknown(client, app):
    make_user(email="known@example.org")
    known = request_reset(client, "known@example.org")
    unknown = request_reset(client, "unknown@example.org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/auth/reset?sent=1"
    assert len(known.get_data()) == len(unknown.get_data())
    assert known.get_data() == unknown.get_data()
    page = client.get("/auth/reset?sent=1").get_data(as_text=True)
    assert "known@example.org" not in page and "unknown@example.org" not in page
    assert [m["To"] for m in mails(app)] == ["known@example.org"]


def test_reset_token_single_use_and_ends_sessions(client, app):
    user = make_user(email="reset@example.org")
    elsewhere = app.test_client()
    sign_in(elsewhere, user.email)
    assert signed_in(elsewhere)
    request_reset(client, user.email)
    base = app.config["CONSULT_BASE_URL"]  # mail links come from the configuration, not the request
    link = link_in(mails(app)[0], re.escape(base) + r"/auth/reset/[A-Za-z0-9_-]+")
    path = link.removeprefix(base)
    assert client.get(path).status_code == 200
    response = post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/sign-in"
    assert "Sign in with your new password" in client.get("/auth/sign-in").get_data(as_text=True)
    assert not signed_in(elsewhere)
    assert db.session.scalar(db.select(OneTimeToken)).used_at is not None
    again = client.get(path)
    assert again.status_code == 404 and "not valid or has expired" in again.get_data(as_text=True)
    sign_in(client, user.email, NEW_PASSWORD)
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert post_form(client, "/auth/sign-in", {"email": user.email, "password": PASSWORD}).status_code == 400


def test_reset_weak_password_refused_and_token_kept(client, app):
    make_user(email="weak@example.org")
    request_reset(client, "weak@example.org")
    path = link_in(mails(app)[0], r"/auth/reset/[A-Za-z0-9_-]+")
    response = post_form(client, path, {"password": "password1234", "password_confirm": "password1234"})
    assert response.status_code == 400 and "password1234" not in response.get_data(as_text=True)
    assert client.get(path).status_code == 200


def test_reset_token_expired(client, app, monkeypatch):
    make_user(email="late@example.org")
    request_reset(client, "late@example.org")
    path = link_in(mails(app)[0], r"/auth/reset/[A-Za-z0-9_-]+")
    time_travel(monkeypatch, timedelta(minutes=app.config["CONSULT_RESET_TOKEN_MINUTES"] + 1))
    response = client.get(path)
    assert response.status_code == 404 and "not valid or has expired" in response.get_data(as_text=True)
    assert 'href="/auth/reset"' in response.get_data(as_text=True)


def test_reset_requests_throttled(client, app):
    make_user(email="often@example.org")
    for _ in range(4):
        assert request_reset(client, "often@example.org").headers["Location"] == "/auth/reset?sent=1"
    assert len(mails(app)) == 3  # the account limit refuses silently
    assert request_reset(client, "someone@example.org").status_code == 302
    refused = request_reset(client, "someone@example.org")
    assert refused.status_code == 429 and "Too many password reset requests" in refused.get_data(as_text=True)
    assert 'value="someone@example.org"' in refused.get_data(as_text=True)


# --- the account page ---------------------------------------------------------------------------------------


def test_account_page_needs_sign_in_and_shows_account(client):
    response = client.get("/auth/account")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    org = Organisation(name="Stellar Models", transparency_register_id="123456789-01")
    account_service.create_user(
        "acct@example.org",
        PASSWORD,
        display_name="Acct",
        stakeholder_group="gpai-provider",
        organisation=org,
        role="drafter",
    )
    sign_in(client, "acct@example.org")
    html = client.get("/auth/account").get_data(as_text=True)
    for text in ("Active", "Drafter", "GPAI model providers", "Stellar Models", "123456789-01"):
        assert text in html


def test_password_change_ends_other_sessions(client, app):
    user = make_user(email="change@example.org")
    other = app.test_client()
    sign_in(other, user.email)
    sign_in(client, user.email)
    wrong = post_form(
        client,
        "/auth/account/password",
        {
            "pw-current_password": "not my password 11",
            "pw-new_password": NEW_PASSWORD,
            "pw-new_password_confirm": NEW_PASSWORD,
        },
        page="/auth/account",
    )
    assert wrong.status_code == 400 and NEW_PASSWORD not in wrong.get_data(as_text=True)
    assert signed_in(other)
    response = post_form(
        client,
        "/auth/account/password",
        {"pw-current_password": PASSWORD, "pw-new_password": NEW_PASSWORD, "pw-new_password_confirm": NEW_PASSWORD},
        page="/auth/account",
    )
    assert response.status_code == 302
    assert signed_in(client) and not signed_in(other)
    assert user_by_email(user.email).check_password(NEW_PASSWORD)


def test_change_email_needs_password(client, app):
    user = make_user(email="old@example.org")
    make_user(email="taken@example.org")
    sign_in(client, user.email)
    wrong = post_form(
        client,
        "/auth/account/email",
        {"em-email": "new@example.org", "em-password": "wrong pass 99"},
        page="/auth/account",
    )
    assert wrong.status_code == 400 and 'value="new@example.org"' in wrong.get_data(as_text=True)
    assert user_by_email("old@example.org") is not None
    taken = post_form(
        client, "/auth/account/email", {"em-email": "Taken@example.org", "em-password": PASSWORD}, page="/auth/account"
    )
    assert taken.status_code == 400 and "This email cannot be used" in taken.get_data(as_text=True)
    done = post_form(
        client, "/auth/account/email", {"em-email": "New@example.org", "em-password": PASSWORD}, page="/auth/account"
    )
    assert done.status_code == 302
    assert user_by_email("new@example.org").id == user.id and user_by_email("old@example.org") is None
    assert any(m["To"] == "old@example.org" for m in mails(app))


# --- pages --------------------------------------------------------------------------------------------------


def test_auth_pages_linked_and_without_inline_scripts(client):
    sign_in_page = client.get("/auth/sign-in").get_data(as_text=True)
    assert 'href="/auth/register"' in sign_in_page and 'href="/auth/reset"' in sign_in_page
    assert "Forgot your password?" in sign_in_page
    make_user(email="pages@example.org")
    pages = [
        "/auth/sign-in",
        "/auth/register",
        "/auth/register?sent=1",
        "/auth/reset",
        "/auth/reset?sent=1",
        f"/auth/invite/{make_invitation()}",
        "/auth/invite/nope",
        "/auth/reset/nope",
    ]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert html.count("<h1") == 1, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and not re.search(r"\son[a-z]+=", html), path
    sign_in(client, "pages@example.org")
    html = client.get("/auth/account").get_data(as_text=True)
    assert html.count("<h1") == 1 and not re.search(r"\son[a-z]+=", html)


def test_without_smtp_a_reset_mail_is_in_the_outbox_folder_when_the_page_answers(app):
    """The file outbox is written before the response, not when the response is closed (a client that never
    closes it, or reads the folder at once, still finds the message)."""
    from flask.testing import FlaskClient

    make_user(email="prompt@example.org")
    client = FlaskClient(app, use_cookies=True)  # the plain client: responses are not closed for us
    response = client.post(
        "/auth/reset", data={"csrf_token": csrf_token(client, "/auth/reset"), "email": "prompt@example.org"}
    )
    assert response.status_code == 302
    assert [m["To"] for m in mails(app)] == ["prompt@example.org"]
