"""Commenting on clauses: services and views through the test client (CSRF on)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from consult.extensions import db
from consult.models import Comment, CommentRevision, Endorsement, OpenQuestion, SearchOutbox, utcnow
from consult.services import ServiceError
from consult.services import comments as comment_service
from tests.factories import csrf_token, make_user, publish, sign_in
from tests.integration.test_publish_lineage import NEXT_DRAFT

pytestmark = pytest.mark.usefixtures("app")

CLAUSE = "/documents/sample-code/versions/1/clauses/measure-i-1-1"
RECEIPT_RE = re.compile(r"CP-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def open_version(**kwargs):
    return publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10), **kwargs)


def clause_of(version, key="measure-i-1-1"):
    return next(c for c in version.clauses if c.key == key)


def form_data(client, path=CLAUSE, **fields):
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', html)
    data = {
        "csrf_token": csrf_token(client, path),
        "submission_token": token.group(1) if token else "",
        "type": "concern",
        "body": "The retention period is too short.",
        "proposed_wording": "",
        "stance": "",
        "visibility": "public",
        "parent_id": "",
    }
    data.update(fields)
    return data


def post(client, data, path=CLAUSE):
    return client.post(path + "/comments", data=data)


def participant_client(app, **kwargs):
    user = make_user("participant", group=kwargs.pop("group", "civil-society"), **kwargs)
    client = app.test_client()
    sign_in(client, user.email)
    return user, client


# --- posting ------------------------------------------------------------------------------------------------


def test_post_comment_gives_a_receipt_and_queues_search(app):
    open_version()
    user, client = participant_client(app)
    response = post(client, form_data(client, proposed_wording="Records list every data source."))
    assert response.status_code == 302 and "/receipts/CP-" in response.headers["Location"]
    comment = db.session.scalar(db.select(Comment))
    assert RECEIPT_RE.fullmatch(comment.receipt)
    assert (comment.author_id, comment.type, comment.visibility, comment.author_group) == (
        user.id,
        "concern",
        "public",
        "civil-society",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert comment.receipt in page and "Comment received" in page
    # The outbox row written with the comment was drained into the index after the request.
    from consult.search import search

    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 0
    assert [r.comment.id for r in search(user, "retention").items if r.comment] == [comment.id]


def test_receipts_are_random_not_sequential():
    receipts = {comment_service.new_receipt() for _ in range(500)}
    assert len(receipts) == 500 and all(RECEIPT_RE.fullmatch(r) for r in receipts)


def test_replayed_form_creates_one_comment_and_shows_the_same_receipt(app):
    open_version()
    _, client = participant_client(app)
    data = form_data(client)
    first, second = post(client, data), post(client, data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 1


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("body", "B" * 10_001, "10,000"),
        ("body", "   ", "Write your comment"),
        ("type", "rant", "Not a valid choice"),
        ("visibility", "secret", "Not a valid choice"),
    ],
)
def test_bad_input_is_400_with_the_text_kept(app, field, value, message):
    open_version()
    _, client = participant_client(app)
    data = form_data(client, proposed_wording="My kept wording")
    data[field] = value
    response = post(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'role="alert"' in html and "My kept wording" in html
    if field == "body" and value.strip():
        assert value in html
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_closed_consultation_refuses_and_shows_the_text_back(app):
    publish(opens_at=utcnow() - timedelta(days=5), closes_at=utcnow() - timedelta(days=1))
    _, client = participant_client(app)
    data = form_data(client, body="Words I do not want to lose")
    response = post(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "closed" in html and "Words I do not want to lose" in html
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_pending_account_cannot_comment(app):
    open_version()
    _, client = participant_client(app, status="pending")
    assert "awaits approval" in client.get(CLAUSE).get_data(as_text=True)
    response = post(client, form_data(client))
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_anonymous_post_goes_to_sign_in(client):
    open_version()
    response = client.post(CLAUSE + "/comments", data=form_data(client))
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_post_without_csrf_is_refused(app):
    open_version()
    _, client = participant_client(app)
    data = form_data(client)
    del data["csrf_token"]
    assert post(client, data).status_code == 400


def test_rate_limit_keeps_the_text(app):
    app.config.update(CONSULT_COMMENT_LIMIT=2, CONSULT_COMMENT_WINDOW=60)
    open_version()
    _, client = participant_client(app)
    for i in range(2):
        assert post(client, form_data(client, body=f"Comment {i}")).status_code == 302
    response = post(client, form_data(client, body="The third one, kept"))
    assert response.status_code == 429
    assert "The third one, kept" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 2


# --- threads, answers, questions ---------------------------------------------------------------------------


def test_replies_nest_three_levels_and_not_deeper(app):
    version = open_version()
    user, client = participant_client(app)
    clause = clause_of(version)
    top = comment_service.post_comment(author=user, clause=clause, type_="remark", body="Top", visibility="public")
    reply = comment_service.post_comment(
        author=user, clause=clause, type_="remark", body="R1", visibility="public", parent=top
    )
    deeper = comment_service.post_comment(
        author=user, clause=clause, type_="remark", body="R2", visibility="public", parent=reply
    )
    assert (top.depth, reply.depth, deeper.depth) == (0, 1, 2)
    response = post(client, form_data(client, body="R3", parent_id=str(deeper.id)))
    assert response.status_code == 400 and "three levels" in response.get_data(as_text=True)


def test_reply_to_a_withdrawn_comment_is_refused(app):
    version = open_version()
    user, client = participant_client(app)
    top = comment_service.post_comment(
        author=user, clause=clause_of(version), type_="remark", body="Top", visibility="public"
    )
    comment_service.withdraw_comment(top, user)
    response = post(client, form_data(client, body="late reply", parent_id=str(top.id)))
    assert response.status_code == 409
    assert "hidden or withdrawn" in response.get_data(as_text=True)


def test_reply_must_be_on_the_same_clause(app):
    version = open_version()
    user, client = participant_client(app)
    other = comment_service.post_comment(
        author=user, clause=clause_of(version, "measure-i-1-2"), type_="remark", body="Elsewhere", visibility="public"
    )
    response = post(client, form_data(client, body="misplaced", parent_id=str(other.id)))
    assert response.status_code == 400 and "same clause" in response.get_data(as_text=True)


def test_drafter_adds_open_question_and_participants_answer(app):
    version = open_version()
    drafter = make_user("drafter")
    dclient = app.test_client()
    sign_in(dclient, drafter.email)
    response = dclient.post(
        CLAUSE + "/questions", data={"csrf_token": csrf_token(dclient, CLAUSE), "text": "Is ten years long enough?"}
    )
    assert response.status_code == 302
    question = db.session.scalar(db.select(OpenQuestion))
    _, client = participant_client(app)
    assert "Is ten years long enough?" in client.get(CLAUSE).get_data(as_text=True)
    assert (
        client.post(
            CLAUSE + "/questions", data={"csrf_token": csrf_token(client, CLAUSE), "text": "Me too"}
        ).status_code
        == 403
    )
    post(client, form_data(client, body="Twelve would be better.", question_id=str(question.id)))
    answer = db.session.scalar(db.select(Comment))
    assert answer.question_id == question.id
    html = client.get(CLAUSE).get_data(as_text=True)
    assert "1 answer" in html and "Twelve would be better." in html
    assert version


# --- editing, withdrawing, endorsing -----------------------------------------------------------------------


def test_author_edits_and_history_is_kept(app):
    version = open_version()
    user, client = participant_client(app)
    comment = comment_service.post_comment(
        author=user, clause=clause_of(version), type_="remark", body="First text", visibility="public"
    )
    path = f"/comments/{comment.id}/edit"
    data = {
        "csrf_token": csrf_token(client, path),
        "type": "suggestion",
        "body": "Second text",
        "proposed_wording": "",
        "stance": "oppose",
        "visibility": "public",
    }
    assert client.post(path, data=data).status_code == 302
    db.session.expire_all()
    comment = db.session.get(Comment, comment.id)
    assert (comment.body, comment.type, comment.stance) == ("Second text", "suggestion", "oppose")
    assert comment.edited_at is not None
    assert db.session.scalar(db.select(CommentRevision.body)) == "First text"
    page = client.get(f"/comments/{comment.id}").get_data(as_text=True)
    assert "edited" in page and "First text" in page
    _, other = participant_client(app)
    assert other.get(path).status_code == 403


def test_withdraw_needs_confirmation_and_keeps_the_comment(app):
    version = open_version()
    user, client = participant_client(app)
    comment = comment_service.post_comment(
        author=user, clause=clause_of(version), type_="remark", body="Soon withdrawn", visibility="public"
    )
    path = f"/comments/{comment.id}/withdraw"
    assert "Withdraw your comment?" in client.get(path).get_data(as_text=True)
    assert db.session.get(Comment, comment.id).status == "visible"
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status == "withdrawn"
    public = app.test_client().get(CLAUSE).get_data(as_text=True)
    assert "withdrawn by its author" in public and "Soon withdrawn" not in public


def test_endorse_once_and_withdraw(app):
    version = open_version()
    author, _ = participant_client(app)
    comment = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="support", body="Good clause", visibility="public"
    )
    _, client = participant_client(app)
    path = f"/comments/{comment.id}/endorse"
    for _ in range(2):
        client.post(path, data={"csrf_token": csrf_token(client, f"/comments/{comment.id}"), "endorse": "1"})
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).endorsement_count == 1
    assert "1 endorsement" in client.get(f"/comments/{comment.id}").get_data(as_text=True)
    client.post(path, data={"csrf_token": csrf_token(client, f"/comments/{comment.id}"), "endorse": "0"})
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).endorsement_count == 0
    assert db.session.scalar(db.select(Endorsement)).withdrawn_at is not None


def test_cannot_endorse_own_or_confidential_comment(app):
    version = open_version()
    author, _ = participant_client(app)
    other, _ = participant_client(app)
    own = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="Mine", visibility="public"
    )
    secret = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="Secret", visibility="confidential"
    )
    with pytest.raises(ServiceError):
        comment_service.set_endorsement(own, author, True)
    with pytest.raises(ServiceError):
        comment_service.set_endorsement(secret, other, True)


# --- visibility --------------------------------------------------------------------------------------------


def test_confidential_comments_only_for_author_and_staff(app):
    version = open_version()
    author, author_client = participant_client(app)
    comment = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="concern", body="Confidential worry", visibility="confidential"
    )
    _, other = participant_client(app)
    drafter = make_user("drafter")
    drafter_client = app.test_client()
    sign_in(drafter_client, drafter.email)
    anonymous = app.test_client()
    for client in (other, anonymous):
        assert "Confidential worry" not in client.get(CLAUSE).get_data(as_text=True)
        assert client.get(f"/comments/{comment.id}").status_code == 404
    for client in (author_client, drafter_client):
        assert "Confidential worry" in client.get(CLAUSE).get_data(as_text=True)
    assert other.get(f"/receipts/{comment.receipt}").status_code == 404
    assert author_client.get(f"/receipts/{comment.receipt}").status_code == 200
    api = anonymous.get("/api/documents/sample-code/versions/1/comments").get_json()
    assert api["total"] == 0 and api["comments"] == []


def test_pseudonymous_comment_hides_the_name_from_the_public(app):
    version = open_version()
    author, _ = participant_client(app, name="Zelda Quietname")
    comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="Quiet words", visibility="pseudonymous"
    )
    public = app.test_client().get(CLAUSE).get_data(as_text=True)
    assert "Quiet words" in public and "Zelda Quietname" not in public and "Civil society" in public
    api = app.test_client().get("/api/documents/sample-code/versions/1/comments?clause=measure-i-1-1").get_json()
    assert api["comments"][0]["author"] is None and api["comments"][0]["stakeholder_group"] == "civil-society"


def test_hidden_comment_is_a_placeholder_for_the_public_but_readable_by_staff(app):
    version = open_version()
    author, _ = participant_client(app)
    comment = comment_service.post_comment(
        author=author, clause=clause_of(version), type_="remark", body="Rude words", visibility="public"
    )
    comment.status, comment.status_reason = "hidden", "Personal attack."
    db.session.commit()
    public = app.test_client().get(CLAUSE).get_data(as_text=True)
    assert "hidden by a moderator" in public and "Personal attack." in public and "Rude words" not in public
    moderator = make_user("moderator")
    mclient = app.test_client()
    sign_in(mclient, moderator.email)
    assert "Rude words" in mclient.get(CLAUSE).get_data(as_text=True)
    assert app.test_client().get("/api/documents/sample-code/versions/1/comments").get_json()["total"] == 0


# --- reading -----------------------------------------------------------------------------------------------


def test_my_contributions_lists_receipts(app):
    version = open_version()
    user, client = participant_client(app)
    comment = comment_service.post_comment(
        author=user, clause=clause_of(version), type_="remark", body="Listed", visibility="confidential"
    )
    html = client.get("/my/contributions").get_data(as_text=True)
    assert comment.receipt in html and "Not yet answered" in html


def test_version_page_shows_counts_by_group(app):
    version = open_version()
    civil, _ = participant_client(app, group="civil-society")
    academic, _ = participant_client(app, group="academia")
    for user in (civil, civil, academic):
        comment_service.post_comment(
            author=user, clause=clause_of(version), type_="remark", body="x", visibility="public"
        )
    html = app.test_client().get("/documents/sample-code/versions/1").get_data(as_text=True)
    assert "3 comments" in html and "Civil society: 2" in html and "Academia and independent experts: 1" in html


def test_clause_filters_sorts_and_pages(app):
    app.config["CONSULT_PAGE_SIZE"] = 5
    version = open_version()
    user, client = participant_client(app)
    for i in range(7):
        comment_service.post_comment(
            author=user,
            clause=clause_of(version),
            type_="remark" if i % 2 else "concern",
            body=f"Numbered comment {i}",
            visibility="public",
        )
    html = client.get(CLAUSE).get_data(as_text=True)
    assert "Page 1 of 2" in html and "Numbered comment 6" in html and "Numbered comment 0" not in html
    assert "Numbered comment 0" in client.get(CLAUSE + "?page=2").get_data(as_text=True)
    oldest = client.get(CLAUSE + "?sort=oldest").get_data(as_text=True)
    assert oldest.index("Numbered comment 0") < oldest.index("Numbered comment 1")
    concerns = client.get(CLAUSE + "?type=concern").get_data(as_text=True)
    assert "Numbered comment 1" not in concerns and "Numbered comment 2" in concerns


def test_earlier_draft_comments_carry_over(app):
    version = open_version()
    user, _ = participant_client(app)
    top = comment_service.post_comment(
        author=user,
        clause=clause_of(version, "measure-i-1-2"),
        type_="concern",
        body="Ten years is short",
        visibility="public",
    )
    comment_service.post_comment(
        author=user,
        clause=clause_of(version, "measure-i-1-2"),
        type_="remark",
        body="A reply about retention",
        visibility="public",
        parent=top,
    )
    publish(text=NEXT_DRAFT, opens_at=utcnow(), closes_at=utcnow() + timedelta(days=3))
    html = app.test_client().get("/documents/sample-code/versions/2/clauses/measure-1-1-1").get_data(as_text=True)
    earlier = html[html.index("On earlier drafts") :]
    assert "Ten years is short" in earlier and "Version 1" in earlier
    assert earlier.count("Ten years is short") == 1 and "A reply about retention" not in earlier  # top level only


def test_clause_page_query_count_does_not_grow_with_comments(app):
    version = open_version()
    users = [make_user("participant", group=g) for g in ("civil-society", "academia", "industry")]
    clause = clause_of(version)

    def add(n):
        db.session.execute(
            db.insert(Comment),
            [
                {
                    "clause_id": clause.id,
                    "version_id": version.id,
                    "author_id": users[i % 3].id,
                    "type": "remark",
                    "visibility": "public",
                    "body": f"Bulk {i}",
                    "body_html": f"<p>Bulk {i}</p>",
                    "author_group": users[i % 3].stakeholder_group,
                    "receipt": comment_service.new_receipt(),
                    "status": "visible",
                    "depth": 0,
                    "endorsement_count": 0,
                    "created_at": utcnow(),
                }
                for i in range(n)
            ],
        )
        db.session.commit()

    def count_queries():
        client = app.test_client()
        sign_in(client, users[0].email)
        statements = []

        def listener(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(CLAUSE).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    add(10)
    count_queries()  # the first clause page of a process also reads the version's outline, once
    few = count_queries()
    add(990)
    many = count_queries()
    assert many == few, (few, many)
    assert many <= 15
