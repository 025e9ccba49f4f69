"""The consultation lifecycle in the browser, self-service and data rights, and the refused sign-in's reason."""

import json
from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import AuditEntry, Comment, User, Version, utcnow
from consult.services import comments as comment_service
from consult.services import lifecycle
from consult.services import moderation as moderation_service
from consult.services import notifications as notification_service
from tests.factories import PASSWORD, csrf_token, make_user, publish, sign_in
from tests.integration.test_publish_lineage import NEXT_DRAFT

pytestmark = pytest.mark.usefixtures("app")


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def drafter_client(app):
    drafter = make_user("drafter")
    client = app.test_client()
    sign_in(client, drafter.email)
    return drafter, client


def test_document_settings_edit_title_summary_and_landing_text_rendered_safely(app):
    publish()
    drafter, client = drafter_client(app)
    path = "/documents/sample-code/settings"
    token = csrf_token(client, path)
    r = client.post(
        path,
        data={
            "csrf_token": token,
            "title": "Sample Code of Practice",
            "summary": "A short summary.",
            "landing": "## Background\n\nContact: <script>alert(1)</script>office@example.org",
        },
    )
    assert r.status_code == 302
    page = client.get("/documents/sample-code").get_data(as_text=True)
    assert "Sample Code of Practice" in page and "Background" in page and "<script>alert" not in page
    assert "A short summary." in client.get("/").get_data(as_text=True)
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "document-settings")).all()
    assert entry.actor_id == drafter.id and "Sample Code of Practice" in entry.after
    bad = client.post(path, data={"csrf_token": token, "title": "", "summary": "kept", "landing": ""})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'role="alert"' in html and "kept" in html


def test_settings_are_for_drafters_only(app, client):
    publish()
    user = make_user()
    sign_in(client, user.email)
    assert client.get("/documents/sample-code/settings").status_code == 403
    assert client.get("/documents/sample-code/versions/1/settings").status_code == 403


def test_version_window_with_date_and_time_fields_in_utc_audited(app):
    version = publish()
    drafter, client = drafter_client(app)
    path = "/documents/sample-code/versions/1/settings"
    page = client.get(path).get_data(as_text=True)
    assert 'type="date"' in page and 'type="time"' in page and "UTC" in page
    token = csrf_token(client, path)
    r = client.post(
        path,
        data={
            "csrf_token": token,
            "label": "First draft",
            "opens_date": "2030-03-01",
            "opens_time": "09:00",
            "closes_date": "2030-04-01",
            "closes_time": "17:30",
            "close_previous": "y",
        },
    )
    assert r.status_code == 302
    v = fresh(Version, version.id)
    assert v.label == "First draft" and v.opens_at.isoformat() == "2030-03-01T09:00:00+00:00"
    assert v.closes_at.isoformat() == "2030-04-01T17:30:00+00:00"
    assert db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "window")).all()
    bad = client.post(
        path,
        data={"csrf_token": token, "label": "First draft", "opens_date": "2030-03-01", "closes_date": "2030-02-01"},
    )
    assert bad.status_code == 400 and "close after it opens" in bad.get_data(as_text=True)


def test_close_now_goes_through_a_confirmation_then_extend_and_reopen(app):
    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=3))
    drafter, client = drafter_client(app)
    close = "/documents/sample-code/versions/1/settings/close"
    assert client.get(close).status_code == 200 and fresh(Version, version.id).status() == "open"
    client.post(close, data={"csrf_token": csrf_token(client, close)})
    assert fresh(Version, version.id).status() == "closed"
    settings = "/documents/sample-code/versions/1/settings"
    token = csrf_token(client, settings)
    assert client.post(settings + "/reopen", data={"csrf_token": token, "days": "5"}).status_code == 302
    v = fresh(Version, version.id)
    assert v.status() == "open" and timedelta(days=4) < v.closes_at - utcnow() <= timedelta(days=5)
    before = v.closes_at
    client.post(settings + "/extend", data={"csrf_token": token, "days": "7"})
    assert fresh(Version, version.id).closes_at == before + timedelta(days=7)
    bad = client.post(settings + "/extend", data={"csrf_token": token, "days": "0"})
    assert bad.status_code == 400


def test_a_version_with_no_closing_date_can_be_closed_and_reviewed():
    version = publish(opens_at=utcnow() - timedelta(days=1))
    drafter = make_user("drafter")
    assert version.status() == "open" and version.closes_at is None
    lifecycle.close_now(version, drafter)
    assert version.status() == "closed"
    from consult.services import review as review_service

    review_service.publish_review(version, drafter)
    assert version.review_published_at is not None


def test_publishing_the_next_version_closes_the_previous_unless_chosen_otherwise(app):
    first = publish(opens_at=utcnow() - timedelta(days=1))
    drafter, client = drafter_client(app)
    path = "/documents/sample-code/versions/new"
    token = csrf_token(client, path)
    preview = client.post(path, data={"csrf_token": token, "markdown": NEXT_DRAFT})
    assert "its consultation closes at that moment" in preview.get_data(as_text=True)
    client.post(path, data={"csrf_token": token, "markdown": NEXT_DRAFT, "confirm": "y"})
    assert fresh(Version, first.id).status() == "closed"
    html = client.get("/documents/sample-code/versions/1").get_data(as_text=True)
    assert "A newer version of this document exists" in html and "redline?from=1&amp;to=2" in html
    # Kept open on request.
    client.post(path, data={"csrf_token": token, "markdown": NEXT_DRAFT, "confirm": "y", "keep_previous_open": "y"})
    assert fresh(Version, first.id + 1).status() == "open"


def test_document_page_shows_the_open_deadline_prominently(app, client):
    publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=3))
    html = client.get("/documents/sample-code").get_data(as_text=True)
    assert "Open for comments:" in html and "comments close on" in html and "UTC" in html


def test_review_publication_warns_of_comments_without_response_and_the_page_is_honest(app):
    version = publish(opens_at=utcnow() - timedelta(days=3), closes_at=utcnow() + timedelta(days=1))
    author = make_user()
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    for body in ("first", "second"):
        comment_service.post_comment(author=author, clause=clause, type_="concern", body=body, visibility="public")
    drafter, client = drafter_client(app)
    lifecycle.close_now(version, drafter)
    html = client.get("/documents/sample-code/versions/1/review").get_data(as_text=True)
    assert "2 comments have no response yet" in html
    from consult.services import review as review_service

    review_service.publish_review(version, drafter)
    page = client.get("/documents/sample-code/versions/1/feedback").get_data(as_text=True)
    assert "response to every comment" not in page and "0 of these public comments have a response" in page


def test_a_suspended_or_rejected_account_is_told_why_at_sign_in(app, client):
    moderator = make_user("moderator")
    user = make_user()
    moderation_service.suspend(moderator, user, "Repeated spam")
    token = csrf_token(client, "/auth/sign-in")
    r = client.post("/auth/sign-in", data={"csrf_token": token, "email": user.email, "password": PASSWORD})
    html = r.get_data(as_text=True)
    assert r.status_code == 403 and "suspended" in html and "Repeated spam" in html
    wrong = client.post("/auth/sign-in", data={"csrf_token": token, "email": user.email, "password": "nope" * 4})
    assert "Repeated spam" not in wrong.get_data(as_text=True)  # only the right password learns the reason


def test_profile_edit_and_data_export(app, client):
    version = publish(opens_at=utcnow() - timedelta(days=1))
    user = make_user()
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    c = comment_service.post_comment(author=user, clause=clause, type_="concern", body="old text", visibility="public")
    notification_service.fan_out_pending()  # as after the response: the receipt
    comment_service.edit_comment(
        c, user, type_="concern", body="new text", visibility="public", stance=None, proposed_wording=None
    )
    sign_in(client, user.email)
    token = csrf_token(client, "/my/profile")
    r = client.post("/my/profile", data={"csrf_token": token, "display_name": "Ada L.", "organisation": "Acme"})
    assert r.status_code == 302 and fresh(User, user.id).display_name == "Ada L."
    export = client.get("/my/data.json")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    data = json.loads(export.get_data(as_text=True))
    assert data["account"]["organisation"] == "Acme" and data["comments"][0]["body"] == "new text"
    assert data["comments"][0]["history"][0]["body"] == "old text"
    assert data["notifications"] and "preferences" in data


@pytest.mark.parametrize("choice", ["keep", "withdraw"])
def test_closing_an_account_pseudonymises_or_withdraws_and_is_audited(app, client, choice):
    version = publish(opens_at=utcnow() - timedelta(days=1))
    user = make_user(name="Ada Lovelace")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    c = comment_service.post_comment(author=user, clause=clause, type_="concern", body="my view", visibility="public")
    sign_in(client, user.email)
    token = csrf_token(client, "/my/close")
    wrong = client.post("/my/close", data={"csrf_token": token, "comments": choice, "password": "wrong" * 3})
    assert wrong.status_code == 400 and fresh(User, user.id).status == "active"
    r = client.post("/my/close", data={"csrf_token": token, "comments": choice, "password": PASSWORD})
    assert r.status_code == 302
    closed = fresh(User, user.id)
    assert closed.status == "closed" and "Ada" not in closed.display_name and "@closed.invalid" in closed.email
    assert fresh(Comment, c.id).status == ("visible" if choice == "keep" else "withdrawn")
    page = client.get(f"/comments/{c.id}").get_data(as_text=True)
    assert "Ada Lovelace" not in page
    if choice == "keep":
        assert "a former participant" in page
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "close-account")).all()
    assert choice in entry.after
    assert client.get("/my/notifications").status_code == 302  # signed out


def test_a_closed_accounts_name_is_shown_translated_on_every_page_that_names_the_author(app):
    version = publish(opens_at=utcnow() - timedelta(days=1))
    user = make_user(name="Ada Lovelace")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    c = comment_service.post_comment(author=user, clause=clause, type_="concern", body="my view", visibility="public")
    client = app.test_client()
    sign_in(client, user.email)
    token = csrf_token(client, "/my/close")
    assert (
        client.post("/my/close", data={"csrf_token": token, "comments": "keep", "password": PASSWORD}).status_code
        == 302
    )
    moderator = make_user("moderator")
    staff = app.test_client()
    sign_in(staff, moderator.email)
    french = {"Accept-Language": "fr"}
    pages = [
        f"/comments/{c.id}",
        f"/documents/sample-code/versions/{version.number}/review/comments/{c.id}",
        f"/moderation/users/{user.id}",
    ]
    for path in pages:
        r = staff.get(path, headers=french)
        text = r.get_data(as_text=True)
        assert r.status_code == 200, path
        assert "un ancien participant" in text and "a former participant" not in text, path
