"""Notifications: every event, preferences, following, digests, unsubscribe, and what never leaks into mail."""

import email
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask_babel import refresh

from consult.extensions import db
from consult.models import Follow, MailOutbox, Notification, utcnow
from consult.services import comments as comment_service
from consult.services import moderation as moderation_service
from consult.services import notifications as notification_service
from consult.services import review as review_service
from tests.factories import csrf_token, make_user, publish, sign_in

pytestmark = pytest.mark.usefixtures("app")


def open_version(**kwargs):
    return publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10), **kwargs)


def clause_of(version, key="measure-i-1-1"):
    return next(c for c in version.clauses if c.key == key)


def comment(author, clause, body="Records should name their sources.", visibility="public", parent=None, fan_out=True):
    """Post a comment; then, as after a response, tell the others (unless fan_out=False)."""
    posted = comment_service.post_comment(
        author=author, clause=clause, type_="concern", body=body, visibility=visibility, parent=parent
    )
    if fan_out:
        notification_service.fan_out_pending()
    return posted


def notes(user, kind=None):
    stmt = db.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return db.session.scalars(stmt).all()


def mails_to(user):
    return db.session.scalars(
        db.select(MailOutbox).where(MailOutbox.to_address == user.email).order_by(MailOutbox.id)
    ).all()


def test_posting_gives_an_immediate_receipt_with_text_receipt_and_link_and_follows_the_clause():
    version = open_version()
    author = make_user()
    c = comment(author, clause_of(version))
    [note] = notes(author, "receipt")
    assert c.receipt in note.subject and "Records should name their sources." in note.text
    assert note.link == f"/comments/{c.id}" and note.delivery == "immediately"
    [mail] = mails_to(author)
    assert c.receipt in mail.subject and "Records should name their sources." in mail.text_body
    assert f"/comments/{c.id}" in mail.text_body and mail.html_body and "<p>" in mail.html_body
    assert "List-Unsubscribe" in mail.headers and "One-Click" in mail.headers
    assert notification_service.is_following(author, "clause", c.clause_id)


def test_autofollow_can_be_turned_off():
    version = open_version()
    author = make_user()
    notification_service.save_preferences(author, {}, language="en", autofollow=False)
    comment(author, clause_of(version))
    assert not notification_service.is_following(author, "clause", clause_of(version).id)


def test_a_reply_tells_the_parent_author_but_a_confidential_reply_does_not():
    version = open_version()
    first, second = make_user(), make_user(name="Bea Replier")
    parent = comment(first, clause_of(version))
    comment(second, clause_of(version), body="I agree, and sources should be dated.", parent=parent)
    [note] = notes(first, "reply")
    assert "Bea Replier" in note.text and "sources should be dated" in note.text and note.delivery == "daily"
    comment(second, clause_of(version), body="SECRET confidential reply", visibility="confidential", parent=parent)
    assert len(notes(first, "reply")) == 1
    assert all("SECRET" not in n.text for n in notes(first))


def test_clause_followers_hear_of_public_comments_only_and_never_a_pseudonymous_name():
    version = open_version()
    follower, author = make_user(), make_user(name="Named Person")
    clause = clause_of(version)
    notification_service.set_follow(follower, "clause", clause.id, True)
    comment(author, clause, body="SECRET drafters only", visibility="confidential")
    comment(author, clause, body="A pseudonymous view", visibility="pseudonymous", fan_out=False)
    assert notes(follower, "clause_activity") == []  # told after the response, not in the request
    assert notification_service.fan_out_pending() == 1
    assert notification_service.fan_out_pending() == 0  # each event once
    [note] = notes(follower, "clause_activity")
    assert "A pseudonymous view" in note.text and "Named Person" not in note.text
    assert all("SECRET" not in n.text for n in notes(follower))


def test_disposition_and_published_review_reach_the_author():
    version = publish(opens_at=utcnow() - timedelta(days=5), closes_at=utcnow() + timedelta(days=1))
    author, drafter = make_user(), make_user("drafter")
    c = comment(author, clause_of(version))
    review_service.set_disposition(c, drafter, "accepted", "We now require dated sources.")
    [note] = notes(author, "disposition")
    assert "Accepted" in note.text and "dated sources" in note.text
    version.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    review_service.publish_review(version, drafter)
    [note] = notes(author, "review")
    assert note.link.endswith("/feedback")


def test_hidden_and_restored_comments_tell_the_author_with_the_public_reason():
    version = open_version()
    author, moderator = make_user(), make_user("moderator")
    c = comment(author, clause_of(version))
    moderation_service.hide_comment(moderator, c, "Personal attack")
    moderation_service.restore_comment(moderator, c)
    hidden, restored = notes(author, "moderated")
    assert "Personal attack" in hidden.text and c.receipt in restored.subject


def test_account_decisions_are_mailed_at_once_with_the_reason():
    moderator = make_user("moderator")
    user = make_user()
    moderation_service.suspend(moderator, user, "Spam links")
    [note] = notes(user, "account")
    assert "Spam links" in note.text and note.delivery == "immediately"
    assert "Spam links" in mails_to(user)[-1].text_body
    moderation_service.reactivate(moderator, user, "Appeal accepted")
    assert "Appeal accepted" in notes(user, "account")[-1].text


def test_new_version_and_window_changes_reach_document_followers():
    version = open_version()
    follower = make_user()
    notification_service.set_follow(follower, "document", version.document_id, True)
    from tests.integration.test_publish_lineage import NEXT_DRAFT

    publish(text=NEXT_DRAFT, opens_at=utcnow(), closes_at=utcnow() + timedelta(days=30))
    kinds = [n.kind for n in notes(follower)]
    assert "new_version" in kinds and "window" in kinds  # the first version closed when the second opened


def test_a_comment_hidden_before_the_fan_out_is_not_announced():
    version = open_version()
    follower, author, moderator = make_user(), make_user(), make_user("moderator")
    notification_service.set_follow(follower, "clause", clause_of(version).id, True)
    c = comment(author, clause_of(version), body="Soon hidden", fan_out=False)
    moderation_service.hide_comment(moderator, c, "Off topic")
    notification_service.fan_out_pending()
    assert notes(follower, "clause_activity") == []


def test_preferences_never_and_weekly_are_respected():
    version = open_version()
    author = make_user()
    notification_service.save_preferences(author, {"receipt": "never"}, language="en", autofollow=True)
    comment(author, clause_of(version))
    assert mails_to(author) == [] and notes(author, "receipt")[0].delivery == "never"  # still on the site


def test_weekly_digest_is_built_once_and_in_the_persons_language():
    version = open_version()
    parent_author, replier = make_user(), make_user()
    notification_service.save_preferences(
        parent_author, {"reply": "weekly", "receipt": "never"}, language="fr", autofollow=True
    )
    parent = comment(parent_author, clause_of(version))
    for i in range(3):
        comment(replier, clause_of(version), body=f"Reply number {i}", parent=parent)
    result = notification_service.run_scheduled()
    assert result["weekly"] == 1
    [digest] = mails_to(parent_author)
    assert "3" in digest.subject and "Reply number 2" in digest.text_body
    assert "hebdomadaire" in digest.subject  # French
    assert notification_service.run_scheduled()["weekly"] == 0  # not twice in one week
    assert all(n.mailed_at for n in notes(parent_author, "reply"))


def test_window_closing_soon_is_announced_once_to_followers():
    version = publish(opens_at=utcnow() - timedelta(days=5), closes_at=utcnow() + timedelta(hours=20))
    follower = make_user()
    notification_service.set_follow(follower, "document", version.document_id, True)
    assert notification_service.run_scheduled()["windows"] == 1
    assert notification_service.run_scheduled()["windows"] == 0
    [note] = notes(follower, "window")
    assert "closes" in note.subject


def test_moderators_get_one_daily_summary_when_work_waits():
    moderator = make_user("moderator")
    make_user(status="pending")
    assert notification_service.run_scheduled()["moderation"] == 1
    assert notification_service.run_scheduled()["moderation"] == 0
    [note] = notes(moderator, "moderation_summary")
    assert "1 registration awaits approval." in note.text


def test_the_unsubscribe_link_works_without_signing_in_get_confirms_post_unsubscribes(client):
    version = open_version()
    author = make_user()
    comment(author, clause_of(version))
    [mail] = mails_to(author)
    url = re.search(r"<([^>]+)>", mail.headers).group(1)
    path = url.split("5000", 1)[1] if "5000" in url else url
    page = client.get(path)
    assert page.status_code == 200 and "<form" in page.get_data(as_text=True)
    assert notification_service.preferences(author.id)["receipt"] == "immediately"  # GET changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # as a mail client sends it: no CSRF token
    assert done.status_code == 200
    assert notification_service.preferences(author.id)["receipt"] == "never"
    assert client.get(path.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404  # a forged token


def test_the_notifications_page_lists_unread_and_saves_preferences(app, client):
    version = open_version()
    author = make_user()
    comment(author, clause_of(version))
    sign_in(client, author.email)
    html = client.get("/my/notifications").get_data(as_text=True)
    assert "Comment received" in html and "notification--unread" in html
    token = csrf_token(client, "/my/notifications")
    data = {
        "csrf_token": token,
        "language": "en",
        "autofollow": "y",
        **{f"kind_{k}": "weekly" for k in notification_service.DEFAULTS if k != "moderation_summary"},
    }
    assert client.post("/my/notifications", data=data).status_code == 302
    assert notification_service.preferences(author.id)["reply"] == "weekly"
    bad = client.post("/my/notifications", data={**data, "kind_reply": "hourly"})
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    client.post("/my/notifications/read", data={"csrf_token": token})
    assert notification_service.unread_count(author) == 0


def test_follow_buttons_follow_and_unfollow(client):
    version = open_version()
    user = make_user()
    sign_in(client, user.email)
    clause = clause_of(version)
    page = f"/documents/sample-code/versions/1/clauses/{clause.key}"
    assert "Follow this clause" in client.get(page).get_data(as_text=True)
    token = csrf_token(client, page)
    r = client.post(f"/my/follow/clause/{clause.id}", data={"csrf_token": token, "follow": "1", "next": page})
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    assert notification_service.is_following(user, "clause", clause.id)
    client.post(f"/my/follow/clause/{clause.id}", data={"csrf_token": token, "follow": "0", "next": page})
    assert db.session.scalar(db.select(db.func.count(Follow.id))) == 0


def test_receipt_mail_is_delivered_after_the_request_as_an_eml(app, client):
    open_version()
    author = make_user()
    sign_in(client, author.email)
    path = "/documents/sample-code/versions/1/clauses/measure-i-1-1"
    html = client.get(path).get_data(as_text=True)
    sub = re.search(r'name="submission_token"[^>]*value="([^"]+)"', html)
    client.post(
        path + "/comments",
        data={
            "csrf_token": csrf_token(client, path),
            "type": "concern",
            "body": "Receipt please.",
            "visibility": "public",
            "submission_token": sub.group(1) if sub else "",
        },
    )
    files = list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    assert files
    message = email.message_from_bytes(files[-1].read_bytes())
    assert message["To"] == author.email and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}


def test_a_closed_account_gets_nothing():
    open_version()
    author = make_user()
    from consult.services import selfservice

    selfservice.close_account(author, "a sturdy passphrase for tests 91", "keep")
    assert notification_service.notify(author, "receipt", lambda: ("s", "t")) == 0


def test_settings_row_made_by_a_simultaneous_request_is_taken_not_a_failure(app, monkeypatch):
    """Two first comments at once: the second finds no row, then the first writes it; no IntegrityError."""
    from consult.models import NotificationSettings
    from consult.services import notifications as notification_service

    user_id = make_user().id
    db.session.add(NotificationSettings(user_id=user_id, language="fr", autofollow=False))
    db.session.commit()
    db.session.expunge_all()
    real_get = db.session.get
    calls = []

    def get_as_if_not_yet_there(model, key, *args, **kwargs):
        calls.append(model)
        return None if len(calls) == 1 else real_get(model, key, *args, **kwargs)

    monkeypatch.setattr(db.session, "get", get_as_if_not_yet_there)
    row = notification_service.settings_for(user_id, create=True)
    db.session.commit()
    assert row.language == "fr" and row.autofollow is False  # the row the other request wrote, untouched


def test_a_first_comment_from_a_french_page_gets_its_receipt_in_french_after_the_response(app):
    """The receipt is written after the response, from the comment's event: the event keeps the request's language,
    so a person with no settings yet gets the receipt (and their settings) in the language they commented in."""
    version = open_version()
    author = make_user()
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        refresh()  # the test's app context already chose a locale; this request's is French
        posted = comment(author, clause_of(version), fan_out=False)
        assert notes(author) == [] and mails_to(author) == []  # nothing but the event in the comment's request
    notification_service.fan_out_pending()
    [note] = notes(author, "receipt")
    [mail] = mails_to(author)
    assert "accusé de réception" in note.subject and posted.receipt in mail.subject
    assert notification_service.settings_for(author.id).language == "fr"


def test_a_general_comment_gets_its_receipt_and_does_not_stop_the_events_after_it():
    version = open_version()
    author, other = make_user(), make_user()
    general = comment_service.post_comment(
        author=author, clause=None, version=version, type_="remark", body="On the whole draft.", visibility="public"
    )
    later = comment(other, clause_of(version), fan_out=False)
    notification_service.fan_out_pending()
    assert general.receipt in notes(author, "receipt")[0].subject
    assert later.receipt in notes(other, "receipt")[0].subject
    assert not db.session.scalars(db.select(Follow).where(Follow.user_id == author.id)).all()
