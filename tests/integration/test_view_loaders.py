"""The route loaders (consult/views/loaders.py): unknown things are 404, hidden things stay hidden (404, not 403),
refused readers get sign-in or 403, and a sign-in redirect is raised rather than returned."""

from datetime import timedelta

import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden, HTTPException, NotFound

from consult import permissions
from consult.extensions import db
from consult.models import utcnow
from consult.services import comments as comment_service
from consult.views import loaders
from tests.factories import make_user, publish, sign_in

CLAUSE = "/documents/sample-code/versions/1/clauses/measure-i-1-1"


@pytest.fixture
def world(app):
    version = publish(
        label="First draft", opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=9)
    )
    author, other, drafter = make_user(), make_user(), make_user("drafter")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    secret = comment_service.post_comment(
        author=author, clause=clause, type_="concern", body="Only for drafters.", visibility="confidential"
    )
    public = comment_service.post_comment(
        author=author, clause=clause, type_="remark", body="For everyone.", visibility="public"
    )
    db.session.commit()
    return {
        "version": version,
        "author": author,
        "other": other,
        "drafter": drafter,
        "secret": secret.id,
        "public": public.id,
    }


def _client(app, user=None):
    client = app.test_client()
    if user is not None:
        sign_in(client, user.email)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/documents/no-such-code",
        "/documents/no-such-code/versions/1",
        "/documents/sample-code/versions/9",
        "/documents/sample-code/versions/1/clauses/no-such-clause",
        "/documents/sample-code/versions/1/clauses/x/history",
        "/documents/sample-code/versions/9/review",
        "/documents/sample-code/versions/9/comments",
        "/documents/sample-code/versions/1/review/comments/999999",
        "/documents/sample-code/versions/1/review/themes/9",
        "/documents/no-such-code/settings",
        "/documents/sample-code/versions/9/settings",
        "/comments/999999",
        "/receipts/CP-0000-0000",
    ],
)
def test_unknown_things_are_404_even_for_staff(app, world, path):
    assert _client(app, world["drafter"]).get(path).status_code == 404


def test_unknown_things_in_the_api_are_json_404(app, world):
    for path in ("/api/documents/no-such-code", "/api/documents/sample-code/versions/9/clauses"):
        response = app.test_client().get(path)
        assert response.status_code == 404 and "error" in response.get_json()


def test_a_confidential_comment_is_hidden_as_missing_from_other_participants(app, world):
    other, author, drafter = _client(app, world["other"]), _client(app, world["author"]), _client(app, world["drafter"])
    secret = f"/comments/{world['secret']}"
    for path in (secret, secret + "/edit", secret + "/report"):
        assert other.get(path).status_code == 404, path  # 404, as if it did not exist: not 403
    assert app.test_client().get(secret).status_code == 404
    assert author.get(secret).status_code == 200 and drafter.get(secret).status_code == 200
    assert "Only for drafters." not in other.get(CLAUSE).get_data(as_text=True)


def test_a_visible_thing_the_reader_may_not_touch_is_403_or_sign_in(app, world):
    other = _client(app, world["other"])
    assert other.get(f"/comments/{world['public']}/edit").status_code == 403
    assert other.get("/documents/sample-code/versions/1/review").status_code == 403
    assert other.get("/documents/sample-code/settings").status_code == 403
    response = app.test_client().get("/documents/sample-code/versions/1/review?clause=measure-i-1-1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in?next=")
    assert "review" in response.headers["Location"]
    api = app.test_client().get("/api/documents/sample-code/versions/1/campaigns")
    assert api.status_code == 401 and "error" in api.get_json()
    assert other.get("/api/documents/sample-code/versions/1/campaigns").status_code == 403


def test_a_review_comment_must_belong_to_the_version_named(app, world):
    publish(text="# Sample Code\n\n## Chapter I. Scope\n\nNew words.\n", label="Second draft")
    drafter = _client(app, world["drafter"])
    assert drafter.get(f"/documents/sample-code/versions/1/review/comments/{world['public']}").status_code == 200
    assert drafter.get(f"/documents/sample-code/versions/2/review/comments/{world['public']}").status_code == 404


def test_an_unpublished_review_is_hidden_from_the_public_and_its_export_from_everyone(app, world):
    assert app.test_client().get("/documents/sample-code/versions/1/feedback").status_code == 404
    drafter = _client(app, world["drafter"])
    assert drafter.get("/documents/sample-code/versions/1/feedback").status_code == 200
    assert drafter.get("/documents/sample-code/versions/1/feedback/export.csv").status_code == 404


def test_loaders_raise_instead_of_returning_an_answer(app, world):
    with app.test_request_context("/documents/sample-code/versions/1/review"):
        with pytest.raises(NotFound):
            loaders.load_version("sample-code", 9)
        with pytest.raises(NotFound):
            loaders.load_clause("sample-code", 1, "no-such-clause")
        with pytest.raises(HTTPException) as raised:  # anonymous: the sign-in redirect travels in the exception
            loaders.load_version("sample-code", 1, permit=permissions.can_review)
        assert raised.value.response.status_code == 302
        assert "/auth/sign-in" in raised.value.response.headers["Location"]
    with app.test_request_context("/api/documents/sample-code/versions/1/themes"):
        with pytest.raises(HTTPException) as raised:
            loaders.require(permissions.can_analyse)
        assert raised.value.code == 401
    with app.test_request_context("/"):
        login_user(world["other"])
        document, version = loaders.load_version("sample-code", 1)
        assert version.document is document and version.number == 1
        with pytest.raises(Forbidden):
            loaders.require(permissions.can_review, version)
        with pytest.raises(NotFound):
            loaders.load_comment(world["secret"])
        with pytest.raises(Forbidden):
            loaders.load_comment(world["public"], permit=permissions.can_edit_comment)
        loaders.require(permissions.can_comment)  # allowed: nothing raised
