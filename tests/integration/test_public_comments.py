"""The public view of all feedback on a version (/documents/<slug>/versions/<n>/comments) and its open data."""

import csv
import io
import json
from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import Organisation, utcnow
from consult.services import comments as comment_service
from consult.services import moderation as moderation_service
from tests.factories import make_user, publish, sign_in

URL = "/documents/sample-code/versions/1/comments"


@pytest.fixture
def world(app):
    version = publish(label="First draft", opens_at=utcnow() - timedelta(days=1))
    clauses = {c.key: c for c in version.clauses}
    records, retention = clauses["measure-i-1-1"], clauses["measure-i-1-2"]
    named = make_user(group="civil-society", name="Jane Doe")
    named.organisation = Organisation(name="AI Safety Watch")
    masked = make_user(group="industry", name="Hidden Person")
    masked.organisation = Organisation(name="Secret Widgets Ltd")
    db.session.commit()
    post = comment_service.post_comment
    c = {
        "public": post(
            author=named,
            clause=records,
            type_="concern",
            stance="oppose",
            visibility="public",
            body="PUBLIC-TEXT keep fewer records.",
            proposed_wording="Records list sources.",
        ),
        "pseudo": post(
            author=masked,
            clause=retention,
            type_="suggestion",
            stance="support-with-changes",
            visibility="pseudonymous",
            body="PSEUDO-TEXT five years is enough.",
        ),
        "confidential": post(
            author=masked,
            clause=records,
            type_="remark",
            visibility="confidential",
            body="CONFIDENTIAL-TEXT our trade secret.",
        ),
        "hidden": post(author=named, clause=records, type_="remark", visibility="public", body="HIDDEN-TEXT rude."),
        "withdrawn": post(
            author=named, clause=retention, type_="remark", visibility="public", body="WITHDRAWN-TEXT changed my mind."
        ),
    }
    c["reply"] = post(
        author=named,
        clause=records,
        type_="remark",
        visibility="public",
        parent=c["public"],
        body="REPLY-TEXT I agree.",
    )
    moderator = make_user("moderator")
    moderation_service.hide_comment(moderator, c["hidden"], "Abusive language")
    comment_service.withdraw_comment(c["withdrawn"], named)
    users = {
        "participant": make_user(),
        "author": masked,
        "drafter": make_user("drafter"),
        "moderator": moderator,
        "admin": make_user("admin"),
        "pending": make_user(status="pending"),
    }
    return version, c, users


def _client(app, users, role):
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, users[role].email)
    return client


@pytest.mark.parametrize("role", ["anonymous", "pending", "participant", "author", "drafter", "moderator", "admin"])
def test_every_role_sees_the_same_public_list(app, world, role):
    _version, _c, users = world
    html = _client(app, users, role).get(URL).get_data(as_text=True)
    html = html[html.index("<main") : html.index("</main>")]  # the header names the signed-in user
    assert "PUBLIC-TEXT" in html and "PSEUDO-TEXT" in html and "REPLY-TEXT" in html
    for secret in ("CONFIDENTIAL-TEXT", "HIDDEN-TEXT", "WITHDRAWN-TEXT", "Hidden Person", "Secret Widgets"):
        assert secret not in html, (role, secret)
    assert "Jane Doe, AI Safety Watch" in html
    assert "3 public comments, and 1 confidential comment, counted but not shown." in html


def test_pseudonymous_comment_shows_only_its_group(client, world):
    html = client.get(URL + "?clause=measure-i-1-2").get_data(as_text=True)
    assert "PSEUDO-TEXT" in html and "Downstream providers and industry" in html
    assert "Hidden Person" not in html and "Secret Widgets" not in html
    assert "1 public comment matches these filters." in html
    assert "confidential" not in html.split('id="public-count"')[1].split("</p>")[0]  # none on this clause


def test_filters_counts_sorting_and_pagination(app, client, world):
    html = client.get(URL + "?group=civil-society").get_data(as_text=True)
    assert "PUBLIC-TEXT" in html and "PSEUDO-TEXT" not in html
    # Each filter counts what its values would show given the other filters.
    assert "Civil society (2)" in html and "Downstream providers and industry (1)" in html
    assert "AI Safety Watch (2)" in html and "Concern (1)" in html and "General remark (1)" in html
    assert "Secret Widgets" not in html  # the organisation of pseudonymous comments is never a filter value
    html = client.get(URL + "?organisation=Secret+Widgets+Ltd").get_data(as_text=True)
    assert "PSEUDO-TEXT" not in html and "No public comment matches these filters." in html
    html = client.get(URL + "?stance=oppose&type=concern").get_data(as_text=True)
    assert "PUBLIC-TEXT" in html and "REPLY-TEXT" not in html
    newest = client.get(URL + "?sort=newest").get_data(as_text=True)
    assert newest.index("REPLY-TEXT") < newest.index("PUBLIC-TEXT")
    app.config["CONSULT_PAGE_SIZE"] = 2
    first, second = client.get(URL).get_data(as_text=True), client.get(URL + "?page=2").get_data(as_text=True)
    assert "Showing 1 to 2 of 3" in first and "Showing 3 to 3 of 3" in second
    assert ("PSEUDO-TEXT" in first) != ("PSEUDO-TEXT" in second)
    assert client.get(URL + "?group=nonsense&sort=nonsense&page=99").status_code == 200


def test_open_data_csv_and_json_carry_the_same_public_fields(client, world):
    _version, c, _users = world
    response = client.get(URL + ".csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "creativecommons.org/licenses/by/4.0" in response.headers["Link"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert {r["id"] for r in rows} == {str(c[k].id) for k in ("public", "pseudo", "reply")}
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[c["public"].id]["author"] == "Jane Doe"
    assert by_id[c["public"].id]["organisation"] == "AI Safety Watch"
    assert by_id[c["public"].id]["proposed_wording"] == "Records list sources."
    assert by_id[c["pseudo"].id]["author"] == "" and by_id[c["pseudo"].id]["organisation"] == ""
    assert by_id[c["pseudo"].id]["stakeholder_group"] == "industry"
    assert by_id[c["reply"].id]["in_reply_to"] == str(c["public"].id)
    text = response.get_data(as_text=True)
    for secret in ("CONFIDENTIAL", "HIDDEN", "WITHDRAWN", "Hidden Person", "Secret Widgets"):
        assert secret not in text
    data = json.loads(client.get(URL + ".json").get_data(as_text=True))
    assert data["licence"]["id"] == "CC-BY-4.0" and data["confidential_comments"] == 1
    assert data["fields"] == list(rows[0].keys())
    assert [d["id"] for d in data["comments"]] == [int(r["id"]) for r in rows]
    assert sorted(d["author"] for d in data["comments"]) == ["", "Jane Doe", "Jane Doe"]
    filtered = json.loads(client.get(URL + ".json?clause=measure-i-1-2").get_data(as_text=True))
    assert [d["id"] for d in filtered["comments"]] == [c["pseudo"].id] and filtered["confidential_comments"] == 0


def test_dispositions_appear_only_once_the_review_is_published(client, world):
    version, c, _users = world
    from consult.models import Disposition

    db.session.add(
        Disposition(
            comment_id=c["public"].id, status="rejected", response="RESPONSE-TEXT", response_html="<p>RESPONSE-TEXT</p>"
        )
    )
    db.session.commit()
    assert "RESPONSE-TEXT" not in client.get(URL).get_data(as_text=True)
    assert "RESPONSE-TEXT" not in client.get(URL + ".csv").get_data(as_text=True)
    version.review_published_at = utcnow()
    db.session.commit()
    assert "RESPONSE-TEXT" in client.get(URL).get_data(as_text=True)
    assert "RESPONSE-TEXT" in client.get(URL + ".csv").get_data(as_text=True)


def test_linked_from_the_version_page_and_empty_state(client, world):
    html = client.get("/documents/sample-code/versions/1").get_data(as_text=True)
    assert f'href="{URL}"' in html
    publish(label="Second draft")
    html = client.get("/documents/sample-code/versions/2/comments").get_data(as_text=True)
    assert "No public comments on this version yet." in html
    assert client.get("/documents/sample-code/versions/9/comments").status_code == 404
    assert client.get("/documents/nope/versions/1/comments.json").status_code == 404
