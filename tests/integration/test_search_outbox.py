"""The search outbox is written by one session listener: every service that changes indexed data leaves a row."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from consult.extensions import db
from consult.models import Comment, SearchOutbox, utcnow
from consult.services import comments as comment_service
from consult.services import imports as import_service
from consult.services import lineage as lineage_service
from consult.services import moderation as moderation_service
from consult.services import review as review_service
from consult.services import selfservice
from tests.factories import PASSWORD, SAMPLE_DRAFT, make_user, publish


@pytest.fixture
def world(app):
    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10))
    author, drafter, moderator = make_user(), make_user("drafter"), make_user("moderator")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-1")
    comment = comment_service.post_comment(
        author=author,
        clause=clause,
        type_="suggestion",
        body="Keep them longer.",
        visibility="public",
        proposed_wording="Records are kept for ever.",
    )
    return {
        "version": version,
        "clause": clause,
        "comment": comment,
        "author": author,
        "drafter": drafter,
        "moderator": moderator,
    }


def outbox() -> set[tuple[str, int]]:
    rows = db.session.execute(db.select(SearchOutbox.kind, SearchOutbox.object_id))
    return {(kind, object_id) for kind, object_id in rows}


def empty_outbox() -> None:
    db.session.execute(db.delete(SearchOutbox))
    db.session.commit()


def _post(w):
    made = comment_service.post_comment(
        author=w["author"], clause=w["clause"], type_="remark", body="A new one.", visibility="public"
    )
    return {("comment", made.id)}


def _post_general(w):
    made = comment_service.post_comment(
        author=w["author"],
        clause=None,
        version=w["version"],
        type_="remark",
        body="On the whole version.",
        visibility="pseudonymous",
    )
    return {("comment", made.id)}


def _edit(w):
    comment_service.edit_comment(
        w["comment"],
        w["author"],
        type_="concern",
        body="Changed words.",
        visibility="public",
        stance=None,
        proposed_wording=None,
    )
    return {("comment", w["comment"].id)}


def _withdraw(w):
    comment_service.withdraw_comment(w["comment"], w["author"])
    return {("comment", w["comment"].id)}


def _hide(w):
    moderation_service.hide_comment(w["moderator"], w["comment"], "Off topic.")
    return {("comment", w["comment"].id)}


def _restore(w):
    moderation_service.hide_comment(w["moderator"], w["comment"], "Off topic.")
    empty_outbox()
    moderation_service.restore_comment(w["moderator"], w["comment"])
    return {("comment", w["comment"].id)}


def _dispose(w):
    review_service.set_disposition(w["comment"], w["drafter"], "noted", "Thank you.")
    return {("comment", w["comment"].id)}


def _dispose_again(w):
    review_service.set_disposition(w["comment"], w["drafter"], "noted", "Thank you.")
    empty_outbox()
    review_service.set_disposition(w["comment"], w["drafter"], "rejected", "On reflection, no.")
    return {("comment", w["comment"].id)}


def _bulk_dispose(w):
    other = comment_service.post_comment(
        author=w["author"], clause=w["clause"], type_="remark", body="Another.", visibility="public"
    )
    empty_outbox()
    review_service.bulk_dispose([w["comment"], other], w["drafter"], "noted", "")
    return {("comment", w["comment"].id), ("comment", other.id)}


def _adopt(w):
    review_service.adopt_wording(w["comment"], w["drafter"])
    return {("comment", w["comment"].id)}


def _publish_next_version_ties_adoptions(w):
    review_service.adopt_wording(w["comment"], w["drafter"])
    empty_outbox()
    new = publish(text=SAMPLE_DRAFT.replace("ten years", "twelve years"))
    return {("comment", w["comment"].id)} | {("clause", c.id) for c in new.clauses}


def _import_draft(w):
    new = publish(slug="another-code")
    return {("clause", c.id) for c in new.clauses}


def _import_comments(w):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "external_id",
            "received_at",
            "clause",
            "author_name",
            "organisation",
            "group",
            "type",
            "stance",
            "visibility",
            "body",
            "proposed_wording",
            "channel",
        ]
    )
    writer.writerow(
        [
            "letter-1",
            "2026-03-01T10:00:00Z",
            "measure-i-1-2",
            "Ada Example",
            "",
            "civil-society",
            "concern",
            "",
            "public",
            "By post.",
            "",
            "mail",
        ]
    )
    import_service.import_comments(w["version"], buffer.getvalue().encode("utf-8"))
    made = db.session.scalar(db.select(Comment).where(Comment.external_id == "letter-1"))
    return {("comment", made.id)}


def _close_account_keeping_comments(w):
    w["comment"].author_organisation = "Example Foundation"  # pseudonymised: no longer named
    db.session.commit()
    empty_outbox()
    selfservice.close_account(w["author"], PASSWORD, "keep")
    return {("comment", w["comment"].id)}


def _close_account_withdrawing_comments(w):
    selfservice.close_account(w["author"], PASSWORD, "withdraw")
    return {("comment", w["comment"].id)}


def _relink(w):
    new = publish(text=SAMPLE_DRAFT.replace("ten years", "twelve years"))
    empty_outbox()
    clause = lineage_service.relink(new, "measure-i-1-2", None, w["drafter"])  # starts a lineage of its own
    return {("clause", clause.id)}


SERVICES = [
    _post,
    _post_general,
    _edit,
    _withdraw,
    _hide,
    _restore,
    _dispose,
    _dispose_again,
    _bulk_dispose,
    _adopt,
    _publish_next_version_ties_adoptions,
    _import_draft,
    _import_comments,
    _close_account_keeping_comments,
    _close_account_withdrawing_comments,
    _relink,
]


@pytest.mark.parametrize("service", SERVICES, ids=[s.__name__.strip("_") for s in SERVICES])
def test_every_service_that_changes_indexed_data_leaves_an_outbox_row(app, world, service):
    empty_outbox()
    expected = service(world)
    assert expected <= outbox()


def test_the_outbox_rows_reach_the_index(app, world):
    from consult import search

    search.reindex()
    comment_service.withdraw_comment(world["comment"], world["author"])
    assert search.drain() >= 1
    assert outbox() == set()
    assert world["comment"].id not in {i.comment.id for i in search.search(None, "longer").items if i.kind == "comment"}


def test_a_rolled_back_change_leaves_no_row(app, world):
    empty_outbox()
    world["comment"].body = "Never saved."
    db.session.flush()
    assert outbox() == {("comment", world["comment"].id)}  # written with the change, in its transaction
    db.session.rollback()
    assert outbox() == set()


def test_endorsing_changes_nothing_the_index_reads(app, world):
    empty_outbox()
    comment_service.set_endorsement(world["comment"], make_user(), True)
    assert outbox() == set()


def test_reading_leaves_no_row(app, world):
    empty_outbox()
    review_service.history(world["comment"])
    comment_service.clause_comments(world["clause"], world["drafter"])
    db.session.commit()
    assert outbox() == set()


def test_one_insert_per_flush_and_no_query_per_object(app, world):
    comments = [
        comment_service.post_comment(
            author=world["author"], clause=world["clause"], type_="remark", body=f"Comment {n}.", visibility="public"
        )
        for n in range(20)
    ]
    empty_outbox()
    comments = db.session.scalars(db.select(Comment).where(Comment.id.in_([c.id for c in comments]))).all()
    for comment in comments:
        comment.type = "concern"
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # 20 UPDATEs (one executemany on some drivers), one INSERT for the outbox, nothing read back.
    assert statements.count("INSERT") == 1
    assert "SELECT" not in statements
    assert outbox() == {("comment", c.id) for c in comments}


def test_no_code_writes_an_outbox_row_by_hand():
    root = Path(__file__).resolve().parents[2] / "consult"
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "SearchOutbox(" in path.read_text(encoding="utf-8")
    )
    assert writers == ["models/consultation.py"]  # the class itself; consult/search/outbox.py inserts the rows
