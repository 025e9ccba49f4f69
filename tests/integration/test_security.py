"""Security hardening (issue 14): each finding of the red-team trial, and its neighbours, through the pages."""

from __future__ import annotations

import logging
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from consult.extensions import db
from consult.models import Comment, Report, User
from consult.services import comments as comment_service
from consult.web import external_url, safe_next
from tests.factories import PASSWORD, csrf_token, make_user, sign_in
from tests.integration.test_auth import NEW_PASSWORD, link_in, mails, post_form, registration, request_reset
from tests.integration.test_comments import CLAUSE, clause_of, form_data, open_version, participant_client, post

pytestmark = pytest.mark.usefixtures("app")


def html_of(response) -> str:
    return response.get_data(as_text=True)


# --- 1. rendering user text -----------------------------------------------------------------------------------


def test_hostile_markdown_at_the_length_limit_is_accepted_and_rendered(app):
    open_version()
    _, client = participant_client(app)
    for body in ("[" * 10_000, "![" * 5_000, "a-a." * 2_500):
        assert post(client, form_data(client, body=body)).status_code == 302
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 3


def test_text_nested_too_deeply_is_a_400_that_keeps_the_text(app):
    open_version()
    _, client = participant_client(app)
    body = ("1. " + "   ") * 1400 + "deepest words"  # RecursionError (500) with Python-Markdown
    response = post(client, form_data(client, body=body))
    assert response.status_code == 400
    page = html_of(response)
    assert "nests quotes or lists too deeply" in page and "deepest words" in page
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_failed_comment_attempts_count_in_the_rate_limit(app):
    app.config.update(CONSULT_COMMENT_LIMIT=3, CONSULT_COMMENT_WINDOW=60)
    open_version()
    _, client = participant_client(app)
    for _ in range(3):
        assert post(client, form_data(client, body="")).status_code == 400  # empty: refused, but counted
    response = post(client, form_data(client, body="A good comment, kept"))
    assert response.status_code == 429 and "A good comment, kept" in html_of(response)


def test_edits_count_in_the_comment_rate_limit(app):
    app.config.update(CONSULT_COMMENT_LIMIT=2, CONSULT_COMMENT_WINDOW=60)
    version = open_version()
    user, client = participant_client(app)
    comment = comment_service.post_comment(
        author=user, clause=clause_of(version), type_="remark", body="First", visibility="public"
    )
    path = f"/comments/{comment.id}/edit"
    data = {"type": "remark", "body": "Edited", "visibility": "public", "stance": "", "proposed_wording": ""}
    for _ in range(2):
        client.post(path, data={"csrf_token": csrf_token(client, path), **data})
    response = client.post(path, data={"csrf_token": csrf_token(client, path), **data, "body": "Third, kept"})
    assert response.status_code == 429 and "Third, kept" in html_of(response)


def test_a_disposition_response_nested_too_deeply_is_a_400(app):
    from consult.services import ServiceError
    from consult.services import review as review_service

    version = open_version()
    user = make_user()
    drafter = make_user("drafter")
    comment = comment_service.post_comment(
        author=user, clause=clause_of(version), type_="remark", body="x", visibility="public"
    )
    with pytest.raises(ServiceError) as refused:
        review_service.set_disposition(comment, drafter, "noted", "> " * 100 + "x")
    assert refused.value.field == "response" and refused.value.status == 400
    assert comment.disposition is None


def test_a_draft_nested_too_deeply_is_refused_with_its_line(app):
    from consult.services import ServiceError
    from consult.services.documents import read_draft

    with pytest.raises(ServiceError) as refused:
        read_draft("# T\n\n## 1. One\n\nfine\n\n## 2. Two\n\n" + "> " * 40 + "x\n")
    assert refused.value.line == 7 and refused.value.field == "markdown"


# --- 2. mail links and hosts ------------------------------------------------------------------------------------


def test_a_foreign_host_header_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert (
        client.post("/auth/reset", headers={"Host": "evil.example"}, data={"email": "x@example.org"}).status_code == 400
    )
    assert client.get("/").status_code == 200  # the test client's localhost
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_reset_and_registration_mails_link_to_the_configured_site(client, app):
    app.config["CONSULT_BASE_URL"] = "https://consult.example.eu/consult"
    user = make_user(email="victim@example.org")
    request_reset(client, user.email)
    link = link_in(mails(app)[0], r"https://consult\.example\.eu/consult/auth/reset/[A-Za-z0-9_-]+")
    assert "localhost" not in link
    post_form(client, "/auth/register", registration(email="newcomer@example.org"))
    assert "https://consult.example.eu/consult/auth/sign-in" in mails(app)[-1].get_body().get_content()


def test_external_url_needs_no_request(app):
    app.config["CONSULT_BASE_URL"] = "https://consult.example.eu"
    assert external_url("auth.reset_with_token", token="abc") == "https://consult.example.eu/auth/reset/abc"


def test_trusted_hosts_and_base_url_from_the_environment(monkeypatch):
    from consult import config

    monkeypatch.setenv("CONSULT_BASE_URL", "https://consult.example.eu/")
    monkeypatch.delenv("CONSULT_TRUSTED_HOSTS", raising=False)
    assert config.base_url() == "https://consult.example.eu"
    assert config.trusted_hosts(config.base_url()) == ["consult.example.eu", "localhost", "127.0.0.1"]
    monkeypatch.setenv("CONSULT_TRUSTED_HOSTS", "a.example, b.example")
    assert config.trusted_hosts(config.base_url()) == ["a.example", "b.example"]
    monkeypatch.setenv("CONSULT_BASE_URL", "javascript:alert(1)")
    with pytest.raises(ValueError):
        config.base_url()


# --- 3. redirects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\/evil.example",
        " //evil.example",
        "\t//evil.example",
        "https://evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\x00/evil.example",
        "/ /evil.example",
        "",
        None,
    ],
)
def test_safe_next_refuses_what_a_browser_would_read_as_another_site(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/documents/x", "/comments/3?page=2#c", "/search?q=a%20b"])
def test_safe_next_keeps_paths_on_this_site(target):
    assert safe_next(target, "/home") == target


def test_sign_in_with_a_tab_in_next_stays_on_the_site(client):
    user = make_user()
    response = client.post(
        "/auth/sign-in?next=%2F%09%2Fevil.example",
        data={"csrf_token": csrf_token(client, "/auth/sign-in"), "email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_language_switch_with_a_tab_in_next_stays_on_the_site(client):
    response = client.post(
        "/language", data={"csrf_token": csrf_token(client, "/"), "lang": "fr", "next": "/\t/evil.example"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_endorse_next_goes_through_the_same_check(app):
    version = open_version()
    author = make_user()
    comment = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="x", visibility="public"
    )
    _, client = participant_client(app)
    response = client.post(
        f"/comments/{comment.id}/endorse",
        data={"csrf_token": csrf_token(client, f"/comments/{comment.id}"), "next": "/comments/\t/evil.example"},
    )
    assert response.headers["Location"] == f"/comments/{comment.id}#comment-{comment.id}"


# --- 4. proxies and lock-outs -------------------------------------------------------------------------------


def _failed_sign_in(client, forwarded_for: str, n: int):
    return client.post(
        "/auth/sign-in",
        headers={"X-Forwarded-For": forwarded_for},
        data={
            "csrf_token": csrf_token(client, "/auth/sign-in"),
            "email": f"nobody{n}@example.org",
            "password": "wrong",
        },
    )


def test_forwarded_for_is_ignored_without_trusted_proxies(app):
    app.config.update(CONSULT_SIGNIN_IP_LIMIT=2, CONSULT_SIGNIN_ACCOUNT_LIMIT=50)
    client = app.test_client()
    for n in range(2):
        assert _failed_sign_in(client, f"10.0.0.{n}", n).status_code == 400
    assert _failed_sign_in(client, "10.0.0.99", 99).status_code == 429  # a forged header changes nothing


def test_with_one_trusted_proxy_each_visitor_has_their_own_bucket(app):
    from consult import create_app

    behind = create_app(
        {
            "TESTING": True,
            "CONSULT_TRUSTED_PROXIES": 1,
            "CONSULT_SIGNIN_IP_LIMIT": 2,
            "CONSULT_SIGNIN_ACCOUNT_LIMIT": 50,
            "CONSULT_SIGNIN_DELAY_SECONDS": 0,
            "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        }
    )
    client = behind.test_client()
    with behind.app_context():
        for n in range(2):
            assert _failed_sign_in(client, "203.0.113.7", n).status_code == 400
        assert _failed_sign_in(client, "203.0.113.7", 3).status_code == 429
        assert _failed_sign_in(client, "198.51.100.4", 4).status_code == 400  # someone else is not locked out


def test_the_owner_of_a_locked_out_account_gets_in_through_a_reset_link(client, app):
    user = make_user(email="target@example.org")
    for _ in range(6):
        post_form(client, "/auth/sign-in", {"email": user.email, "password": "wrong guess"})
    refused = post_form(client, "/auth/sign-in", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429 and "reset your password" in html_of(refused)
    request_reset(client, user.email)
    path = link_in(mails(app)[-1], r"/auth/reset/[A-Za-z0-9_-]+")
    post_form(client, path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert post_form(client, "/auth/sign-in", {"email": user.email, "password": NEW_PASSWORD}).status_code == 302


# --- 5. earlier texts ----------------------------------------------------------------------------------------


def test_making_a_confidential_comment_public_does_not_publish_its_confidential_text(app):
    version = open_version()
    author, author_client = participant_client(app)
    comment = comment_service.post_comment(
        author=author,
        clause=clause_of(version),
        type_="remark",
        body="Our confidential figures",
        visibility="confidential",
    )
    comment_service.edit_comment(
        comment,
        author,
        type_="remark",
        body="A public summary",
        visibility="public",
        stance=None,
        proposed_wording=None,
    )
    comment_service.edit_comment(
        comment,
        author,
        type_="remark",
        body="A second public text",
        visibility="public",
        stance=None,
        proposed_wording=None,
    )
    public = html_of(app.test_client().get(f"/comments/{comment.id}"))
    assert "A second public text" in public and "A public summary" in public  # public at the time
    assert "Our confidential figures" not in public
    assert "Our confidential figures" in html_of(author_client.get(f"/comments/{comment.id}"))
    staff = app.test_client()
    sign_in(staff, make_user("drafter").email)
    assert "Our confidential figures" in html_of(staff.get(f"/comments/{comment.id}"))


# --- 6. reset links after other changes -----------------------------------------------------------------------


def _reset_path(client, app, email) -> str:
    request_reset(client, email)
    return link_in(mails(app)[-1], r"/auth/reset/[A-Za-z0-9_-]+")


def test_changing_the_password_voids_reset_links(client, app):
    user = make_user(email="owner@example.org")
    path = _reset_path(app.test_client(), app, user.email)
    sign_in(client, user.email)
    response = post_form(
        client,
        "/auth/account/password",
        {"pw-current_password": PASSWORD, "pw-new_password": NEW_PASSWORD, "pw-new_password_confirm": NEW_PASSWORD},
        page="/auth/account",
    )
    assert response.status_code == 302
    assert app.test_client().get(path).status_code == 404


def test_changing_the_email_voids_reset_links_and_other_sessions(client, app):
    user = make_user(email="mover@example.org")
    path = _reset_path(app.test_client(), app, user.email)
    elsewhere = app.test_client()
    sign_in(elsewhere, user.email)
    sign_in(client, user.email)
    response = post_form(
        client, "/auth/account/email", {"em-email": "moved@example.org", "em-password": PASSWORD}, page="/auth/account"
    )
    assert response.status_code == 302
    assert app.test_client().get(path).status_code == 404
    assert elsewhere.get("/auth/account").status_code == 302  # signed out
    assert client.get("/auth/account").status_code == 200  # this one stays


# --- 7. replies to confidential comments ----------------------------------------------------------------------


def test_a_reply_to_a_confidential_comment_is_confidential_whatever_the_form_says(app):
    version = open_version()
    author, client = participant_client(app)
    parent = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="Confidential", visibility="confidential"
    )
    page = html_of(client.get(f"/comments/{parent.id}"))
    assert "Your reply will be confidential" in page
    response = post(client, form_data(client, parent_id=str(parent.id), body="My reply", visibility="public"))
    assert response.status_code == 302
    reply = db.session.scalar(db.select(Comment).where(Comment.parent_id == parent.id))
    assert reply.visibility == "confidential"
    api = app.test_client().get("/api/documents/sample-code/versions/1/comments").get_json()
    assert all(c["body"] != "My reply" for c in api["comments"])
    comment_service.edit_comment(
        reply, author, type_="remark", body="Still mine", visibility="public", stance=None, proposed_wording=None
    )
    assert reply.visibility == "confidential"


# --- 8. throttles -----------------------------------------------------------------------------------------------


def test_registration_warning_mails_to_an_existing_address_are_throttled(client, app):
    make_user(email="ada@example.org")
    for _ in range(6):
        assert post_form(client, "/auth/register", registration()).status_code == 302  # the same answer
    assert len(mails(app)) == 3


def test_registrations_from_one_address_are_throttled(client, app):
    app.config.update(CONSULT_REGISTER_IP_LIMIT=2)
    for n in range(2):
        post_form(client, "/auth/register", registration(email=f"n{n}@example.org"))
    response = post_form(client, "/auth/register", registration(email="n9@example.org"))
    assert response.status_code == 429 and 'value="n9@example.org"' in html_of(response)


def test_one_open_report_per_user_and_comment(app):
    version = open_version()
    author = make_user()
    comment = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="x", visibility="public"
    )
    _, client = participant_client(app)
    path = f"/comments/{comment.id}/report"
    assert client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Spam"}).status_code == 302
    again = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Spam again"})
    assert again.status_code == 409 and "already reported" in html_of(again)
    assert db.session.scalar(db.select(db.func.count(Report.id))) == 1


def test_reports_are_rate_limited(app):
    app.config.update(CONSULT_REPORT_LIMIT=2)
    version = open_version()
    author = make_user()
    comments = [
        comment_service.post_comment(
            author=author, clause=clause_of(version), type_="remark", body=f"c{i}", visibility="public"
        )
        for i in range(3)
    ]
    _, client = participant_client(app)
    statuses = []
    for comment in comments:
        path = f"/comments/{comment.id}/report"
        statuses.append(client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Spam"}).status_code)
    assert statuses == [302, 302, 429]


def test_current_password_guesses_are_throttled(client, app):
    user = make_user(email="guessed@example.org")
    sign_in(client, user.email)
    for n in range(5):
        response = post_form(
            client,
            "/auth/account/email",
            {"em-email": "x@example.org", "em-password": f"guess{n}"},
            page="/auth/account",
        )
        assert response.status_code == 400
    right = post_form(
        client, "/auth/account/email", {"em-email": "x@example.org", "em-password": PASSWORD}, page="/auth/account"
    )
    assert right.status_code == 429 and "Too many wrong passwords" in html_of(right)
    assert db.session.get(User, user.id).email == "guessed@example.org"


# --- 9. numbers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, status",
    [
        ("/comments/99999999999999999999999", 404),
        ("/comments/2147483648", 404),
        ("/comments/²", 404),
        ("/comments/%D9%A3", 404),
        ("/documents/sample-code/versions/99999999999999999999", 404),
        ("/documents/sample-code/versions/1/clauses/measure-i-1-1?page=99999999999999999999", 400),
        ("/documents/sample-code/redline?from=99999999999999999999&to=1", 400),
        ("/documents/sample-code/redline?from=²&to=1", 400),
        ("/api/documents/sample-code/versions/1/comments?page=99999999999999999999", 400),
        ("/api/documents/sample-code/redline?from=99999999999999999999", 400),
        ("/api/documents/sample-code/versions/99999999999999999999/clauses", 404),
        ("/search?q=records&page=99999999999999999999", 400),
        ("/documents/sample-code/versions/1/clauses/measure-i-1-1?page=", 200),
    ],
)
def test_numbers_out_of_range_are_400_or_404(client, path, status):
    open_version()
    response = client.get(path)
    assert response.status_code == status, html_of(response)[:300]
    if path.startswith("/api/"):
        assert "error" in response.get_json()


def test_signed_in_pages_with_huge_numbers(app):
    open_version()
    _, client = participant_client(app)
    assert client.get("/my/contributions?page=99999999999999999999").status_code == 400
    moderator = app.test_client()
    sign_in(moderator, make_user("moderator").email)
    assert moderator.get("/moderation/users/99999999999999999999").status_code == 404
    assert moderator.get("/moderation/users?page=99999999999999999999").status_code == 400


@pytest.mark.parametrize(
    "field, value",
    [
        ("parent_id", "²"),
        ("parent_id", "99999999999999999999"),
        ("parent_id", "-1"),
        ("question_id", "abc"),
        ("question_id", "99999999999999999999"),
    ],
)
def test_bad_ids_in_the_comment_form_are_404(app, field, value):
    open_version()
    _, client = participant_client(app)
    assert post(client, form_data(client, **{field: value})).status_code == 404
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_an_empty_submission_token_twice_makes_two_comments(app):
    open_version()
    _, client = participant_client(app)
    for body in ("One", "Two"):
        assert post(client, form_data(client, submission_token="", body=body)).status_code == 302
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 2


def test_bulk_ids_that_are_not_ids_select_nothing(app):
    open_version()
    drafter = app.test_client()
    sign_in(drafter, make_user("drafter").email)
    path = "/documents/sample-code/versions/1/review"
    response = drafter.post(
        path + "/bulk",
        data={
            "csrf_token": csrf_token(drafter, path),
            "ids": ["²", "9" * 30],
            "bulk_status": "noted",
            "bulk_response": "",
        },
    )
    assert response.status_code == 400 and "Select at least one comment" in html_of(response)


# --- 10. logs ------------------------------------------------------------------------------------------------


def test_user_values_cannot_forge_a_log_line(client, caplog):
    caplog.set_level(logging.INFO)
    from consult.logs import get_logger

    get_logger("consult.auth").warning("sign-in failed account=%s ip=%r", "a@b.eu\n2026 INFO forged", "1.2.3.4")
    client.post(
        "/auth/sign-in",
        data={
            "csrf_token": csrf_token(client, "/auth/sign-in"),
            "email": "x@example.org\r\nINFO sign-in user=1",
            "password": "x",
        },
    )
    messages = [r.getMessage() for r in caplog.records]
    assert messages and all("\n" not in m and "\r" not in m for m in messages)
    assert any("a@b.eu\\n2026 INFO forged" in m for m in messages)


def test_every_module_logs_through_the_escaping_logger():
    root = os.path.join(os.path.dirname(__file__), "..", "..", "consult")
    offenders = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py") and name != "logs.py":
                with open(os.path.join(folder, name), encoding="utf-8") as fh:
                    if "logging.getLogger(" in fh.read():
                        offenders.append(name)
    assert offenders == []


# --- 11. caching ------------------------------------------------------------------------------------------------


def test_private_pages_are_not_stored_by_caches(app):
    version = open_version()
    author, client = participant_client(app)
    comment = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="x", visibility="confidential"
    )
    for path in (f"/comments/{comment.id}", "/my/contributions", "/auth/account", CLAUSE):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", path
    staff = app.test_client()
    sign_in(staff, make_user("moderator").email)
    for path in (
        "/documents/sample-code/versions/1/review",
        "/documents/sample-code/versions/1/review/export.csv",
        "/moderation/users",
        "/moderation/reports",
    ):
        response = staff.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", path
    anonymous = app.test_client()
    assert "no-store" not in anonymous.get("/").headers.get("Cache-Control", "")
    assert anonymous.get("/auth/reset").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/site.css").headers.get("Cache-Control", "")


# --- 12. files ------------------------------------------------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_instance_folder_and_files_are_owner_only(tmp_path, monkeypatch):
    from sqlalchemy import create_engine

    from consult import config
    from consult.database import configure_engine

    instance = tmp_path / "instance"
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the default: SQLite in the instance folder
    settings = config.load_config()
    assert _mode(instance) == 0o700 and _mode(instance / "secret_key") == 0o600
    engine = create_engine(settings["SQLALCHEMY_DATABASE_URI"])
    configure_engine(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert _mode(instance / "consult.db") == 0o600 and _mode(instance / "consult.db-wal") == 0o600
    engine.dispose()


def test_outbox_mail_is_owner_only(app):
    from pathlib import Path

    from consult.mail import send_mail
    from consult.services.mailqueue import deliver

    send_mail("a@example.org", "Subject", "A reset link")
    deliver()  # the outbox worker writes the .eml file
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    assert _mode(outbox) == 0o700
    assert [_mode(p) for p in outbox.glob("*.eml")] == [0o600]


# --- 13. cookies and control characters -----------------------------------------------------------------------


def test_remember_cookie_lives_as_long_as_the_server_session(client, app):
    user = make_user()
    response = post_form(client, "/auth/sign-in", {"email": user.email, "password": PASSWORD, "remember": "y"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    days = (expires - datetime.now(UTC)) / timedelta(days=1)
    assert app.config["CONSULT_REMEMBER_DAYS"] - 1 < days <= app.config["CONSULT_REMEMBER_DAYS"]


def test_control_characters_are_stripped_from_text_fields(app, client):
    open_version()
    _, pclient = participant_client(app)
    body = "Line one\x00\r\nLine\ttwo\x1b[31m\x07 end"
    assert post(pclient, form_data(pclient, body=body, proposed_wording="Words\x00 here")).status_code == 302
    comment = db.session.scalar(db.select(Comment))
    assert comment.body == "Line one\nLine\ttwo[31m end" and comment.proposed_wording == "Words here"
    post_form(
        client,
        "/auth/register",
        registration(email="ctl@example.org", display_name="Ada\x00\nEve\x1b", organisation="Org\x00\tLtd"),
    )
    user = db.session.scalar(db.select(User).where(User.email == "ctl@example.org"))
    assert user.display_name == "Ada Eve" and user.organisation.name == "Org Ltd"


def test_every_form_derives_from_the_cleaning_base():
    import importlib
    import pkgutil

    from wtforms import Form as WTForm

    import consult.forms
    import consult.views
    from consult.forms.base import Form, QueryForm

    for package in (consult.forms, consult.views):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")
    stack, found = list(WTForm.__subclasses__()), []
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("consult.") and cls not in (Form, QueryForm):
            found.append(cls)
            assert issubclass(cls, (Form, QueryForm)), (
                f"{cls.__module__}.{cls.__name__} must derive from consult.forms.base.Form or QueryForm"
            )
    assert len(found) > 15


def _sources(*folders):
    root = os.path.join(os.path.dirname(__file__), "..", "..", "consult")
    for folder in folders:
        for base, _dirs, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(base, name), encoding="utf-8") as fh:
                        yield os.path.relpath(os.path.join(base, name), root), fh.read()


def test_numbers_from_requests_go_through_the_one_parser():
    """type=int and int() on request values bypass the bounds (a 500 on 99999999999999999999, or on '²')."""
    offenders = [
        name for name, text in _sources("views") if "type=int" in text or re.search(r"int\((request|form)\.", text)
    ]
    assert offenders == []


def test_links_for_mail_are_built_from_the_base_url_not_the_request():
    """url_for(..., _external=True) takes the host from the request; services and mail use external_url."""
    offenders = [name for name, text in _sources("services") if "_external=True" in text]
    root = os.path.join(os.path.dirname(__file__), "..", "..", "consult")
    for single in ("mail.py", "cli.py"):
        with open(os.path.join(root, single), encoding="utf-8") as fh:
            if "_external=True" in fh.read():
                offenders.append(single)
    assert offenders == []
