"""The drafters' review: workspace, dispositions, assignments, adopted wording, balance, feedback and exports."""

import csv
import io
import json
import os
from datetime import timedelta

import pytest
from sqlalchemy import event

from consult.extensions import db
from consult.models import Assignment, AuditEntry, Comment, Disposition, DispositionHistory, SearchOutbox, utcnow
from consult.services import ServiceError
from consult.services import comments as comment_service
from consult.services import review as review_service
from consult.services.exports import excel_safe
from tests.factories import csrf_token, make_user, publish, sign_in

pytestmark = pytest.mark.usefixtures("app")

V1 = "/documents/sample-code/versions/1"
REVIEW = V1 + "/review"


def closed_version(**kwargs):
    return publish(opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(days=1), **kwargs)


def open_version(**kwargs):
    return publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10), **kwargs)


def clause_of(version, key):
    return next(c for c in version.clauses if c.key == key)


def add_comment(version, key, author, *, organisation=None, minutes=0, **fields):
    """A comment written straight to the database (the window may be closed already)."""
    clause = clause_of(version, key)
    body = fields.pop("body", f"Comment on {key}")
    values = dict(
        type="remark", visibility="public", stance=None, proposed_wording=None, status="visible", endorsement_count=0
    )
    values.update(fields)
    comment = Comment(
        clause_id=clause.id,
        version_id=version.id,
        author_id=author.id,
        body=body,
        body_html=f"<p>{body}</p>",
        author_group=author.stakeholder_group,
        author_organisation=organisation,
        receipt=comment_service.new_receipt(),
        created_at=utcnow() - timedelta(days=2) + timedelta(minutes=minutes),
        **values,
    )
    db.session.add(comment)
    db.session.commit()
    return comment


def signed_in(app, role, **kwargs):
    user = make_user(role, **kwargs)
    client = app.test_client()
    sign_in(client, user.email)
    return user, client


def html_of(response):
    return response.get_data(as_text=True)


@pytest.fixture
def world(app):
    """A closed version with comments from several groups, a drafter, a moderator and a participant."""
    version = closed_version()
    civil = make_user("participant", group="civil-society")
    academic = make_user("participant", group="academia")
    provider = make_user("participant", group="gpai-provider")
    comments = {
        "a": add_comment(
            version,
            "measure-i-1-1",
            civil,
            organisation="Open Rights",
            type="concern",
            stance="oppose",
            body="Alpha concern",
            minutes=1,
            endorsement_count=2,
        ),
        "b": add_comment(
            version,
            "measure-i-1-2",
            academic,
            organisation="Uni Lab",
            type="suggestion",
            stance="support-with-changes",
            body="Bravo suggestion",
            proposed_wording="Records are kept for twenty years.",
            minutes=2,
            endorsement_count=5,
        ),
        "c": add_comment(
            version,
            "commitment-i-1",
            provider,
            organisation="Model Co",
            type="remark",
            visibility="confidential",
            body="Charlie confidential",
            minutes=3,
        ),
        "d": add_comment(
            version,
            "chapter-ii",
            civil,
            organisation="Open Rights",
            type="concern",
            visibility="pseudonymous",
            stance="support",
            body="Delta pseudonymous",
            minutes=4,
        ),
        "e": add_comment(
            version, "measure-i-1-1", academic, organisation="Uni Lab", status="hidden", body="Echo hidden", minutes=5
        ),
        "f": add_comment(
            version,
            "measure-i-1-1",
            provider,
            organisation="Model Co",
            status="withdrawn",
            body="Foxtrot withdrawn",
            minutes=6,
        ),
    }
    return version, comments


def receipts_in(html, comments):
    return {name for name, c in comments.items() if c.receipt in html}


# --- permissions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/review",
        "/review/export.csv",
        "/review/export.json",
        "/review/export.html",
        "/review/balance",
        "/review/next-draft.md",
    ],
)
def test_participants_get_403_and_anonymous_go_to_sign_in(app, world, path):
    assert app.test_client().get(V1 + path).status_code == 302
    _, client = signed_in(app, "participant")
    assert client.get(V1 + path).status_code == 403


def test_moderator_views_but_cannot_dispose(app, world):
    version, comments = world
    _, client = signed_in(app, "moderator")
    assert client.get(REVIEW).status_code == 200
    assert client.get(f"{REVIEW}/comments/{comments['a'].id}").status_code == 200
    token = csrf_token(client, REVIEW)
    for path, data in [
        (f"/comments/{comments['a'].id}/disposition", {"status": "noted"}),
        ("/bulk", {"ids": [comments["a"].id], "bulk_status": "noted"}),
        (f"/comments/{comments['b'].id}/adopt", {}),
        ("/publish", {}),
        (f"/comments/{comments['a'].id}/assign", {"assignee": "1"}),
    ]:
        assert client.post(REVIEW + path, data={"csrf_token": token, **data}).status_code == 403, path
    assert db.session.scalar(db.select(db.func.count(Disposition.id))) == 0


def test_posts_without_csrf_token_are_refused(app, world):
    _, comments = world
    _, client = signed_in(app, "drafter")
    response = client.post(f"{REVIEW}/comments/{comments['a'].id}/disposition", data={"status": "noted"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Disposition.id))) == 0


# --- the workspace: filters, sorts, pagination ---------------------------------------------------------------


def test_filters_combine(app, world):
    version, comments = world
    drafter, client = signed_in(app, "drafter")

    def shown(query):
        response = client.get(REVIEW + query)
        assert response.status_code == 200
        return receipts_in(html_of(response), comments)

    assert shown("") == {"a", "b", "c", "d"}  # visible comments, confidential included for drafters
    assert shown("?clause=commitment-i-1") == {"c"}
    assert shown("?clause=commitment-i-1&subtree=1") == {"a", "b", "c"}
    assert shown("?clause=chapter-i&subtree=1&group=academia") == {"b"}
    assert shown("?group=civil-society&type=concern") == {"a", "d"}
    assert shown("?group=civil-society&type=concern&stance=oppose") == {"a"}
    assert shown("?org=Model+Co") == {"c"}
    assert shown("?visibility=pseudonymous") == {"d"}
    assert shown("?wording=1") == {"b"}
    assert shown("?state=hidden") == {"e"}
    assert shown("?state=withdrawn") == {"f"}
    review_service.set_disposition(comments["a"], drafter, "accepted", "Done.")
    assert shown("?status=accepted") == {"a"}
    assert shown("?status=none") == {"b", "c", "d"}
    assert shown("?status=none&group=civil-society") == {"d"}
    assert shown("?assigned=me") == set()
    review_service.assign(version, drafter, drafter, clause=clause_of(version, "measure-i-1-2"))
    review_service.assign(version, drafter, drafter, comment=comments["d"])
    assert shown("?assigned=me") == {"b", "d"}
    assert shown("?assigned=me&type=concern") == {"d"}
    assert shown("?group=nonsense") == {"a", "b", "c", "d"}  # unknown values are ignored


@pytest.mark.parametrize(
    "backend", ["whoosh"] + (["postgres"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])
)
def test_full_text_filter_goes_through_search(app, world, backend):
    from consult.search import reindex

    app.config["SEARCH_BACKEND"] = backend  # the review's filter asks whichever search backend is configured
    _, comments = world
    reindex()  # the world's comments were written straight to the database, without outbox rows
    _, client = signed_in(app, "drafter")
    html = html_of(client.get(REVIEW + "?q=bravo+OR+charlie"))
    assert receipts_in(html, comments) == {"b", "c"}  # drafters' search includes the confidential one
    assert 'value="bravo OR charlie"' in html and "q=bravo" in html  # kept in the form and the export links
    assert receipts_in(html_of(client.get(REVIEW + "?q=delta&type=remark")), comments) == set()
    assert receipts_in(html_of(client.get(REVIEW + "?q=nothingmatches")), comments) == set()
    csv_text = client.get(REVIEW + "/export.csv?q=alpha").get_data(as_text=True)
    assert comments["a"].receipt in csv_text and comments["b"].receipt not in csv_text


def test_sorts(app, world):
    _, comments = world
    _, client = signed_in(app, "drafter")

    def order(sort):
        html = html_of(client.get(f"{REVIEW}?sort={sort}"))
        return [
            name
            for name, _ in sorted(
                ((n, html.index(c.receipt)) for n, c in comments.items() if c.receipt in html), key=lambda t: t[1]
            )
        ]

    assert order("clause") == ["c", "a", "b", "d"]  # commitment I.1, measure I.1.1, I.1.2, chapter II
    assert order("newest") == ["d", "c", "b", "a"]
    assert order("oldest") == ["a", "b", "c", "d"]
    assert order("endorsed")[:2] == ["b", "a"]


def test_pagination_shows_total_and_keeps_filters(app):
    version = closed_version()
    author = make_user("participant", group="academia")
    for i in range(60):
        add_comment(version, "measure-i-1-1", author, minutes=i, body=f"Numbered {i:02d}")
    app.config["CONSULT_PAGE_SIZE"] = 25
    _, client = signed_in(app, "drafter")
    html = html_of(client.get(REVIEW + "?group=academia&sort=oldest&page=3"))
    assert "60 comments" in html and "Showing 51 to 60 of 60" in html
    assert "Numbered 50" in html and "Numbered 49" not in html
    assert "group=academia" in html and "page=2" in html


# --- dispositions -------------------------------------------------------------------------------------------


def test_set_disposition_keeps_history_and_queues_search(app, world):
    _, comments = world
    drafter, client = signed_in(app, "drafter")
    path = f"{REVIEW}/comments/{comments['a'].id}"
    token = csrf_token(client, path)
    response = client.post(
        path + "/disposition",
        data={
            "csrf_token": token,
            "status": "noted",
            "response": "We *noted* it.",
            "addressed_in": "",
            "duplicate_of": "",
        },
    )
    assert response.status_code == 302
    client.post(
        path + "/disposition",
        data={
            "csrf_token": token,
            "status": "accepted",
            "response": "Changed.",
            "addressed_in": "",
            "duplicate_of": "",
        },
    )
    db.session.expire_all()
    disposition = db.session.scalar(db.select(Disposition).where(Disposition.comment_id == comments["a"].id))
    assert (disposition.status, disposition.response, disposition.decided_by_id) == ("accepted", "Changed.", drafter.id)
    history = db.session.scalars(db.select(DispositionHistory).order_by(DispositionHistory.id)).all()
    assert [(h.status, h.actor_id) for h in history] == [("noted", drafter.id), ("accepted", drafter.id)]
    assert all(h.created_at for h in history)
    # The change reached the search index through the outbox (drained after the request): staff can find it.
    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 0
    from consult.search import search

    hits = search(drafter, "disposition:accepted")
    assert comments["a"].id in [r.comment.id for r in hits.items if r.comment]
    html = html_of(client.get(path))
    assert "Noted" in html and "Accepted" in html and "History of the disposition" in html


def test_bad_disposition_is_400_with_input_kept(app, world):
    _, comments = world
    _, client = signed_in(app, "drafter")
    path = f"{REVIEW}/comments/{comments['a'].id}"
    response = client.post(
        path + "/disposition",
        data={
            "csrf_token": csrf_token(client, path),
            "status": "maybe",
            "response": "Text I keep",
            "addressed_in": "",
            "duplicate_of": "",
        },
    )
    html = html_of(response)
    assert response.status_code == 400 and 'role="alert"' in html and "Text I keep" in html


def test_bulk_dispose_marks_every_selected_comment(app, world):
    _, comments = world
    drafter, client = signed_in(app, "drafter")
    token = csrf_token(client, REVIEW)
    ids = [comments[n].id for n in "abd"]
    response = client.post(
        REVIEW + "/bulk?group=civil-society",
        data={"csrf_token": token, "ids": ids, "bulk_status": "noted", "bulk_response": "Thank you, noted."},
    )
    assert response.status_code == 302 and "group=civil-society" in response.headers["Location"]
    db.session.expire_all()
    rows = db.session.scalars(db.select(Disposition).order_by(Disposition.comment_id)).all()
    assert [(r.comment_id, r.status, r.response) for r in rows] == [(i, "noted", "Thank you, noted.") for i in ids]
    assert db.session.scalar(db.select(db.func.count(DispositionHistory.id))) == 3
    empty = client.post(
        REVIEW + "/bulk", data={"csrf_token": token, "bulk_status": "noted", "bulk_response": "Kept response"}
    )
    assert empty.status_code == 400 and "Select at least one comment" in html_of(empty)
    assert "Kept response" in html_of(empty)


def test_duplicate_must_name_another_comment_of_the_same_document(app, world):
    version, comments = world
    drafter = make_user("drafter")
    other_doc = publish(
        slug="other-code", opens_at=utcnow() - timedelta(days=3), closes_at=utcnow() - timedelta(days=1)
    )
    foreign = add_comment(other_doc, "measure-i-1-1", drafter)
    with pytest.raises(ServiceError, match="same document"):
        review_service.set_disposition(comments["a"], drafter, "duplicate", "", duplicate_of=foreign)
    with pytest.raises(ServiceError, match="itself"):
        review_service.set_disposition(comments["a"], drafter, "duplicate", "", duplicate_of=comments["a"])
    with pytest.raises(ServiceError, match="receipt"):
        review_service.set_disposition(comments["a"], drafter, "duplicate", "")
    with pytest.raises(ServiceError, match="disposition"):
        review_service.set_disposition(comments["a"], drafter, "shelved", "")
    review_service.set_disposition(comments["a"], drafter, "duplicate", "See the other.", duplicate_of=comments["d"])
    assert comments["a"].disposition.duplicate_of_id == comments["d"].id
    _, client = signed_in(app, "drafter")
    path = f"{REVIEW}/comments/{comments['b'].id}"
    response = client.post(
        path + "/disposition",
        data={
            "csrf_token": csrf_token(client, path),
            "status": "duplicate",
            "response": "",
            "addressed_in": "",
            "duplicate_of": foreign.receipt,
        },
    )
    assert response.status_code == 400 and "No comment on this document" in html_of(response)
    ok = client.post(
        path + "/disposition",
        data={
            "csrf_token": csrf_token(client, path),
            "status": "duplicate",
            "response": "",
            "addressed_in": "",
            "duplicate_of": comments["a"].receipt.lower(),
        },
    )
    assert ok.status_code == 302


# --- assignment ---------------------------------------------------------------------------------------------


def test_assign_comment_and_clause_then_filter_assigned_to_me(app, world):
    version, comments = world
    drafter, client = signed_in(app, "drafter")
    colleague = make_user("drafter", name="Colleague Cleo")
    participant = make_user("participant")
    path = f"{REVIEW}/comments/{comments['a'].id}"
    token = csrf_token(client, path)
    assert client.post(path + "/assign", data={"csrf_token": token, "assignee": str(colleague.id)}).status_code == 302
    assert "Colleague Cleo" in html_of(client.get(path))
    refused = client.post(path + "/assign", data={"csrf_token": token, "assignee": str(participant.id)})
    assert refused.status_code == 400
    response = client.post(
        f"{REVIEW}/clauses/measure-i-1-2/assign", data={"csrf_token": token, "assignee": str(drafter.id)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 2
    assert receipts_in(html_of(client.get(REVIEW + "?assigned=me")), comments) == {"b"}
    cleo_client = app.test_client()
    sign_in(cleo_client, colleague.email)
    assert receipts_in(html_of(cleo_client.get(REVIEW + "?assigned=me")), comments) == {"a"}


def test_unassign_from_the_comment_page(app, world):
    version, comments = world
    drafter, client = signed_in(app, "drafter")
    colleague = make_user("drafter", name="Colleague Cleo")
    own = review_service.assign(version, drafter, colleague, comment=comments["a"])
    whole_clause = review_service.assign(version, drafter, drafter, clause=clause_of(version, "measure-i-1-1"))
    elsewhere = review_service.assign(version, drafter, colleague, comment=comments["b"])
    own_id, clause_id, elsewhere_id = own.id, whole_clause.id, elsewhere.id
    path = f"{REVIEW}/comments/{comments['a'].id}"
    page = html_of(client.get(path))
    assert f"{path}/assignments/{own_id}/remove" in page and f"{path}/assignments/{clause_id}/remove" in page
    token = csrf_token(client, path)

    assert client.post(f"{path}/assignments/{own_id}/remove").status_code == 400  # no CSRF token
    response = client.post(f"{path}/assignments/{own_id}/remove", data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and "Colleague Cleo is no longer assigned." in html_of(response)
    # An assignment that this page does not show is not removed through it.
    stray = client.post(f"{path}/assignments/{elsewhere_id}/remove", data={"csrf_token": token}, follow_redirects=True)
    assert "This assignment no longer exists." in html_of(stray)
    assert client.post(f"{path}/assignments/{clause_id}/remove", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(db.select(Assignment.id))) == {elsewhere_id}
    assert "Nobody yet" in html_of(client.get(path))

    participant, other = signed_in(app, "participant")
    refused = other.post(
        f"{REVIEW}/comments/{comments['b'].id}/assignments/{elsewhere_id}/remove",
        data={"csrf_token": csrf_token(other, "/")},
    )
    assert refused.status_code == 403
    with pytest.raises(ServiceError):
        review_service.unassign(version, participant, elsewhere_id, comments["b"])
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 1


# --- adopted wording ----------------------------------------------------------------------------------------


def test_adopting_wording_produces_the_next_draft_and_accepts_the_comment(app, world):
    version, comments = world
    drafter, client = signed_in(app, "drafter")
    path = f"{REVIEW}/comments/{comments['b'].id}"
    response = client.post(path + "/adopt", data={"csrf_token": csrf_token(client, path), "adopt_response": ""})
    assert response.status_code == 302
    db.session.expire_all()
    disposition = db.session.scalar(db.select(Disposition).where(Disposition.comment_id == comments["b"].id))
    assert disposition.status == "accepted" and disposition.addressed_in_version_id is None
    assert "next draft" in disposition.response
    download = client.get(REVIEW + "/next-draft.md")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    assert "#### Measure I.1.2. Retention\n\nRecords are kept for twenty years.\n" in text
    assert "Records are kept for ten years." not in text
    assert "Records list the model's training data sources." in text  # other clauses untouched
    from consult.drafts.parse import parse_draft

    parsed = {c.key: c.body for c in parse_draft(text).clauses}
    assert parsed["measure-i-1-2"] == "Records are kept for twenty years."
    assert "2 (next draft)" in html_of(client.get(path))
    csv_text = client.get(REVIEW + "/export.csv").get_data(as_text=True)
    assert "2 (next draft)" in csv_text
    # a comment without wording cannot be adopted
    path_a = f"{REVIEW}/comments/{comments['a'].id}"
    assert client.post(path_a + "/adopt", data={"csrf_token": csrf_token(client, path_a)}).status_code == 400
    # changing the disposition away from accepted drops the adoption
    review_service.set_disposition(comments["b"], drafter, "rejected", "On reflection, no.")
    assert "Records are kept for ten years." in client.get(REVIEW + "/next-draft.md").get_data(as_text=True)


def test_adoption_is_stored_on_the_disposition_and_the_latest_of_a_clause_wins(app, world):
    version, comments = world
    drafter = make_user("drafter")
    other = add_comment(version, "measure-i-1-2", make_user(), body="Golf", proposed_wording="Kept for five years.")
    review_service.adopt_wording(comments["b"], drafter)
    assert comments["b"].disposition.adopted_at == comments["b"].disposition.decided_at
    review_service.adopt_wording(other, drafter)
    clause_id = comments["b"].clause_id
    assert review_service.adopted_by_clause(version) == {clause_id: other.id}
    review_service.adopt_wording(comments["b"], drafter)  # adopted again: it wins again
    assert review_service.adopted_by_clause(version) == {clause_id: comments["b"].id}
    # Read from the disposition, not reconstructed from the audit log.
    db.session.execute(db.delete(AuditEntry))
    db.session.commit()
    assert review_service.adopted_by_clause(version) == {clause_id: comments["b"].id}
    assert "Records are kept for twenty years." in review_service.next_draft_markdown(version)[0]


def test_migration_0012_moves_adoptions_from_the_audit_log(app, world):
    from flask_migrate import downgrade, upgrade

    version, comments = world
    review_service.adopt_wording(comments["b"], make_user("drafter"))
    adopted_at = db.session.scalar(db.select(AuditEntry.created_at).where(AuditEntry.action == "adopt-wording"))
    review_service.set_disposition(comments["a"], make_user("drafter"), "noted", "")  # no adoption
    adopted, noted, clause_id = comments["b"].id, comments["a"].id, comments["b"].clause_id
    db.session.remove()
    downgrade(revision="0012_page_counts")  # the column goes; the audit rows stay
    try:
        assert "adopted_at" not in {c["name"] for c in db.inspect(db.engine).get_columns("disposition")}
    finally:
        db.engine.dispose()
        upgrade()
    db.session.remove()
    stored = dict(db.session.execute(db.select(Disposition.comment_id, Disposition.adopted_at)).all())
    assert stored == {adopted: adopted_at, noted: None}
    assert review_service.adopted_by_clause(db.session.merge(version)) == {clause_id: adopted}


# --- balance by group ---------------------------------------------------------------------------------------


def test_heat_map_counts_links_and_stances(app, world):
    version, comments = world
    extra = make_user("participant", group="civil-society")
    add_comment(version, "measure-i-1-1", extra, stance="oppose")
    _, client = signed_in(app, "drafter")
    html = html_of(client.get(REVIEW + "/balance"))
    heat = review_service.heat_map(version)
    clause = clause_of(version, "measure-i-1-1")
    assert heat.counts[clause.id] == {"civil-society": 2}  # hidden and withdrawn not counted
    assert heat.maximum == 2 and heat.level(2) == 4 and heat.level(1) == 2 and heat.level(0) == 0
    assert 'class="heat heat--4"' in html
    assert "/review?clause=measure-i-1-1&amp;group=civil-society" in html
    assert "<caption>" in html and 'scope="row"' in html and 'scope="col"' in html
    stances = review_service.stances(version)
    assert stances[clause.id]["civil-society"]["oppose"] == 2
    assert "Oppose: 2" in html


def test_summary_figures(app, world):
    version, comments = world
    drafter = make_user("drafter")
    review_service.set_disposition(comments["a"], drafter, "accepted", "")
    review_service.set_disposition(comments["d"], drafter, "noted", "")
    summary = review_service.summary(version)
    assert summary.total == 4
    assert summary.by_group == {"civil-society": 2, "academia": 1, "gpai-provider": 1}
    assert summary.by_type == {"concern": 2, "suggestion": 1, "remark": 1}
    assert summary.by_disposition == {"none": 2, "accepted": 1, "noted": 1}
    assert (summary.disposed, summary.progress) == (2, 50)
    assert {c.key for c, _ in summary.busiest} == {"measure-i-1-1", "measure-i-1-2", "commitment-i-1", "chapter-ii"}
    assert {c.key for c in summary.uncommented} == {"preamble", "chapter-i"}
    _, client = signed_in(app, "drafter")
    html = html_of(client.get(REVIEW + "/balance"))
    assert "2 with a disposition (50%)" in html and "Clauses no group commented on" in html


# --- "you said, we did" -------------------------------------------------------------------------------------


def test_feedback_is_404_before_publication_and_a_preview_for_staff(app, world):
    assert app.test_client().get(V1 + "/feedback").status_code == 404
    _, participant = signed_in(app, "participant")
    assert participant.get(V1 + "/feedback").status_code == 404
    assert participant.get(V1 + "/feedback/export.csv").status_code == 404
    _, drafter = signed_in(app, "drafter")
    response = drafter.get(V1 + "/feedback")
    assert response.status_code == 200 and "Preview" in html_of(response)


def test_publishing_the_review_is_refused_while_the_window_is_open(app):
    version = open_version()
    _, client = signed_in(app, "drafter")
    response = client.post(REVIEW + "/publish", data={"csrf_token": csrf_token(client, REVIEW)})
    assert response.status_code == 409 and "once the consultation has closed" in html_of(response)
    db.session.expire_all()
    assert db.session.get(type(version), version.id).review_published_at is None
    with pytest.raises(ServiceError):
        review_service.publish_review(version, make_user("drafter"))


def test_published_feedback_shows_public_comments_with_responses(app, world):
    version, comments = world
    drafter, client = signed_in(app, "drafter")
    for name in "abcdef":
        review_service.set_disposition(comments[name], drafter, "noted", f"Response to {name.upper()}")
    assert client.post(REVIEW + "/publish", data={"csrf_token": csrf_token(client, REVIEW)}).status_code == 302
    response = app.test_client().get(V1 + "/feedback")
    html = html_of(response)
    assert response.status_code == 200
    assert receipts_in(html, comments) == {"a", "b", "d"}
    assert "Response to A" in html and "Response to D" in html
    for hidden in ("Charlie", "Echo", "Foxtrot", "Response to C", "Response to E", "Response to F"):
        assert hidden not in html
    assert comments["a"].author.display_name in html  # public: named
    delta = html[html.index(f'id="comment-{comments["d"].id}"') :]
    delta = delta[: delta.index("</article>")]
    assert comments["d"].author.display_name not in delta and "Open Rights" not in delta  # pseudonymous: group
    assert "Civil society" in delta
    assert 'class="confidential-count">1<' in html  # the confidential one is counted


# --- exports ------------------------------------------------------------------------------------------------


def read_csv(response):
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_neutralises_formulas(app, world):
    version, _ = world
    author = make_user("participant", group="other")
    add_comment(
        version,
        "measure-i-1-1",
        author,
        body='=HYPERLINK("http://evil.example","click")',
        proposed_wording="+1 more",
        organisation="@org",
    )
    _, client = signed_in(app, "drafter")
    rows = read_csv(client.get(REVIEW + "/export.csv"))
    assert rows[0][:3] == ["Clause number", "Clause heading", "Comment receipt"]
    row = next(r for r in rows if "HYPERLINK" in r[6])
    assert row[6] == '\'=HYPERLINK("http://evil.example","click")'
    assert row[7] == "'+1 more" and row[4] == "'@org"
    assert excel_safe("\tx") == "'\tx" and excel_safe("-2") == "'-2"
    assert excel_safe("\rx") == "'\rx" and excel_safe("fine") == "fine"


def test_exports_honour_the_filters(app, world):
    _, comments = world
    _, client = signed_in(app, "drafter")
    query = "?group=civil-society&type=concern"
    rows = read_csv(client.get(REVIEW + "/export.csv" + query))
    assert {r[2] for r in rows[1:]} == {comments["a"].receipt, comments["d"].receipt}
    data = json.loads(client.get(REVIEW + "/export.json" + query).get_data(as_text=True))
    assert {r["receipt"] for r in data["comments"]} == {comments["a"].receipt, comments["d"].receipt}
    assert data["comments"][0]["stakeholder_group"] == "civil-society"
    html = html_of(client.get(REVIEW + "/export.html" + query))
    assert receipts_in(html, comments) == {"a", "d"} and "<caption>" in html
    everything = read_csv(client.get(REVIEW + "/export.csv"))
    assert len(everything) == 1 + 4


def test_public_feedback_export_excludes_confidential_and_hidden(app, world):
    version, comments = world
    drafter = make_user("drafter")
    review_service.publish_review(version, drafter)
    response = app.test_client().get(V1 + "/feedback/export.csv")
    assert response.status_code == 200
    rows = read_csv(response)
    assert {r[2] for r in rows[1:]} == {comments[n].receipt for n in "abd"}
    pseudonymous = next(r for r in rows if r[2] == comments["d"].receipt)
    assert pseudonymous[4] == ""  # organisation only for public comments


def test_exports_stream(app, world):
    _, client = signed_in(app, "drafter")
    for suffix in ("csv", "json", "html"):
        response = client.get(f"{REVIEW}/export.{suffix}")
        assert response.status_code == 200 and response.is_streamed, suffix
        assert response.get_data()  # read to the end, so the stream closes its context in order
        response.close()


# --- bounded queries ----------------------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_comments(app):
    version = closed_version()
    drafter = make_user("drafter")
    users = [make_user("participant", group=g) for g in ("civil-society", "academia", "industry")]
    clause_ids = [c.id for c in version.clauses]

    def add(n):
        db.session.execute(
            db.insert(Comment),
            [
                {
                    "clause_id": clause_ids[i % len(clause_ids)],
                    "version_id": version.id,
                    "author_id": users[i % 3].id,
                    "type": "remark",
                    "visibility": "public",
                    "body": f"Bulk {i}",
                    "body_html": f"<p>Bulk {i}</p>",
                    "author_group": users[i % 3].stakeholder_group,
                    "receipt": comment_service.new_receipt(),
                    "stance": "support",
                    "status": "visible",
                    "depth": 0,
                    "endorsement_count": 0,
                    "created_at": utcnow(),
                }
                for i in range(n)
            ],
        )
        db.session.commit()
        for comment in db.session.scalars(db.select(Comment).limit(5)):
            review_service.assign(version, drafter, drafter, comment=comment)

    client = app.test_client()
    sign_in(client, drafter.email)

    def count(path):
        statements = []

        def listener(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = client.get(path)
            assert response.status_code == 200
            response.get_data()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    paths = [
        REVIEW,
        REVIEW + "?sort=endorsed&assigned=me",
        REVIEW + "/balance",
        REVIEW + "/export.csv",
        REVIEW + "/export.json",
        REVIEW + "/export.html",
    ]
    add(10)
    few = [count(p) for p in paths]
    add(290)
    many = [count(p) for p in paths]
    assert many == few, (few, many)
    assert max(many) <= 20


def test_publishing_the_next_draft_ties_adopted_wording_to_it(app, world):
    version, comments = world
    drafter, client = signed_in(app, "drafter")
    path = f"{REVIEW}/comments/{comments['b'].id}"
    client.post(path + "/adopt", data={"csrf_token": csrf_token(client, path), "adopt_response": ""})
    text = client.get(REVIEW + "/next-draft.md").get_data(as_text=True)
    new_version = publish(text=text, label="Second draft")
    db.session.expire_all()
    disposition = db.session.scalar(db.select(Disposition).where(Disposition.comment_id == comments["b"].id))
    assert (disposition.status, disposition.addressed_in_version_id) == ("accepted", new_version.id)
    history = db.session.scalars(
        db.select(DispositionHistory)
        .where(DispositionHistory.comment_id == comments["b"].id)
        .order_by(DispositionHistory.id)
    ).all()
    assert [h.addressed_in_version_id for h in history] == [None, new_version.id]
    # Once tied to a published version, the wording is no longer "adopted for the next draft".
    assert review_service.adopted_by_clause(version) == {}
