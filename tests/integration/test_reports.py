"""Reports on comments: anyone signed in reports, moderators hide, restore or dismiss, and every action is audited."""

from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import AuditEntry, Comment, Report, SearchOutbox, utcnow
from consult.services import comments as comment_service
from tests.factories import csrf_token, make_user, publish, sign_in

pytestmark = pytest.mark.usefixtures("app")
CLAUSE = "/documents/sample-code/versions/1/clauses/measure-i-1-1"


@pytest.fixture
def reported(app):
    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=1))
    author = make_user("participant")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    comment = comment_service.post_comment(
        author=author, clause=clause, type_="remark", body="Offensive words here", visibility="public"
    )
    reporter = make_user("participant")
    client = app.test_client()
    sign_in(client, reporter.email)
    path = f"/comments/{comment.id}/report"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Insulting"})
    assert response.status_code == 302
    moderator = make_user("moderator")
    mclient = app.test_client()
    sign_in(mclient, moderator.email)
    return comment, mclient, moderator


def test_report_needs_a_reason(app, reported):
    comment, _, _ = reported
    user = make_user("participant")
    client = app.test_client()
    sign_in(client, user.email)
    path = f"/comments/{comment.id}/report"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": ""})
    assert response.status_code == 400 and "Say why" in response.get_data(as_text=True)


def test_anonymous_cannot_report(client, reported):
    comment, _, _ = reported
    assert client.get(f"/comments/{comment.id}/report").status_code == 302


def test_queue_lists_open_reports_and_hide_goes_through_confirmation(app, reported):
    comment, mclient, moderator = reported
    queue = mclient.get("/moderation/reports").get_data(as_text=True)
    assert "Insulting" in queue and comment.receipt in queue
    path = f"/moderation/comments/{comment.id}/hide"
    assert "Hide this comment?" in mclient.get(path).get_data(as_text=True)
    assert mclient.post(path, data={"csrf_token": csrf_token(mclient, path), "reason": ""}).status_code == 400
    assert mclient.post(path, data={"csrf_token": csrf_token(mclient, path), "reason": "Insults"}).status_code == 302
    db.session.expire_all()
    comment = db.session.get(Comment, comment.id)
    assert (comment.status, comment.status_reason) == ("hidden", "Insults")
    assert db.session.scalar(db.select(Report.status)) == "actioned"
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "hide"))
    assert (entry.actor_id, entry.target_id, entry.reason) == (moderator.id, comment.id, "Insults")
    assert '"hidden"' in entry.after and '"visible"' in entry.before
    again = mclient.get(path).get_data(as_text=True)  # no second confirmation for a hidden comment
    assert "already hidden by a moderator" in again and "Hide the comment</button>" not in again
    # The hidden state reached the index: the public no longer finds the comment, moderators still do.
    from flask_login import AnonymousUserMixin

    from consult.search import search

    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 0
    assert not [r for r in search(AnonymousUserMixin(), "offensive").items if r.comment]
    assert [r.comment.id for r in search(moderator, "offensive").items if r.comment] == [comment.id]
    public = app.test_client().get(CLAUSE).get_data(as_text=True)
    assert "Offensive words here" not in public and "Insults" in public
    assert "Offensive words here" in mclient.get(CLAUSE).get_data(as_text=True)


def test_restore_and_dismiss_are_audited(app, reported):
    comment, mclient, _ = reported
    path = f"/moderation/comments/{comment.id}/hide"
    mclient.post(path, data={"csrf_token": csrf_token(mclient, path), "reason": "Insults"})
    mclient.post(
        f"/moderation/comments/{comment.id}/restore",
        data={"csrf_token": csrf_token(mclient, "/moderation/reports?status=hidden")},
    )
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status == "visible"
    assert "Offensive words here" in app.test_client().get(CLAUSE).get_data(as_text=True)
    other = make_user("participant")
    comment_service.report_comment(comment, other, "Still rude")
    report = db.session.scalar(db.select(Report).where(Report.status == "open"))
    mclient.post(
        f"/moderation/reports/{report.id}/dismiss", data={"csrf_token": csrf_token(mclient, "/moderation/reports")}
    )
    db.session.expire_all()
    assert db.session.get(Report, report.id).status == "dismissed"
    actions = set(db.session.scalars(db.select(AuditEntry.action)))
    assert {"hide", "restore", "dismiss"} <= actions


def test_participants_cannot_reach_the_queue_or_hide(app, reported):
    comment, _, _ = reported
    user = make_user("participant")
    client = app.test_client()
    sign_in(client, user.email)
    assert client.get("/moderation/reports").status_code == 403
    response = client.post(
        f"/moderation/comments/{comment.id}/hide", data={"csrf_token": csrf_token(client, CLAUSE), "reason": "x"}
    )
    assert response.status_code == 403
    assert db.session.get(Comment, comment.id).status == "visible"
