"""One page-size setting (CONSULT_PAGE_SIZE) and the one Page for every long list, the API's included."""

from datetime import timedelta

from consult.extensions import db
from consult.models import utcnow
from consult.pagination import page_size
from consult.services import comments as comment_service
from tests.factories import make_user, publish, sign_in


def _comments(n):
    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=9))
    author = make_user()
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    for i in range(n):
        comment_service.post_comment(
            author=author, clause=clause, type_="remark", body=f"Remark number {i}.", visibility="public"
        )
    db.session.commit()
    return author


def test_the_setting_is_read_in_one_place(app):
    assert page_size() == 50  # the default, as README says
    app.config["CONSULT_PAGE_SIZE"] = 7
    assert page_size() == 7


def test_my_contributions_use_the_setting_and_the_shared_pagination(app):
    author = _comments(3)
    app.config["CONSULT_PAGE_SIZE"] = 2
    client = app.test_client()
    sign_in(client, author.email)
    first = client.get("/my/contributions").get_data(as_text=True)
    assert first.count('<th scope="row">') == 2
    assert 'href="/my/contributions?page=2"' in first and 'rel="next"' in first
    assert "3 comments, newest first" in first
    second = client.get("/my/contributions?page=2").get_data(as_text=True)
    assert second.count('<th scope="row">') == 1 and 'aria-current="page"' in second
    past = client.get("/my/contributions?page=9").get_data(as_text=True)
    assert past.count('<th scope="row">') == 1  # a page past the end shows the last one, as every list does


def test_the_api_reads_pages_until_one_is_empty(app):
    _comments(3)
    client = app.test_client()
    body = client.get("/api/documents/sample-code/versions/1/comments").get_json()
    assert (len(body["comments"]), body["total"], body["page"]) == (3, 3, 1)
    past = client.get("/api/documents/sample-code/versions/1/comments?page=2").get_json()
    assert (past["comments"], past["total"], past["page"]) == ([], 3, 2)
