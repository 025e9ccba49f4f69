"""Publishing a next version links each clause to its earlier self (lineage), even when renumbered."""

import pytest

from consult.extensions import db
from consult.models import Clause, Lineage
from tests.factories import publish

pytestmark = pytest.mark.usefixtures("app")

NEXT_DRAFT = """# Sample Code

Opening words of the sample code.

## Chapter 1. Scope

Who the code is for.

### Commitment 1.1. Keeping records

Signatories keep records.

#### Measure 1.1.1. Retention

Records are kept for twelve years.

#### Measure 1.1.2. Publication

A summary of the records is published every year.

## Chapter 2. Reporting

Reports go to the Office.
"""


def clauses_of(version):
    return {c.key: c for c in db.session.scalars(db.select(Clause).where(Clause.version_id == version.id))}


def test_first_version_gets_one_new_lineage_per_clause():
    version = publish()
    clauses = clauses_of(version)
    assert len({c.lineage_id for c in clauses.values()}) == len(clauses) == 6
    assert all(c.lineage_status is None for c in clauses.values())


def test_next_version_carries_lineage_across_renumbering_and_marks_changes():
    old = clauses_of(publish())
    new = clauses_of(publish(text=NEXT_DRAFT))
    assert new["chapter-1"].lineage_id == old["chapter-i"].lineage_id
    assert new["chapter-1"].lineage_status == "renumbered"
    assert new["commitment-1-1"].lineage_id == old["commitment-i-1"].lineage_id
    # Measure I.1.2 "Retention" became Measure 1.1.1 with a changed text.
    assert new["measure-1-1-1"].lineage_id == old["measure-i-1-2"].lineage_id
    assert new["measure-1-1-1"].lineage_status == "modified"
    # A new measure gets a lineage of its own; the removed one keeps its lineage only in the old version.
    assert new["measure-1-1-2"].lineage_status == "added"
    assert new["measure-1-1-2"].lineage_id not in {c.lineage_id for c in old.values()}
    assert old["measure-i-1-1"].lineage_id not in {c.lineage_id for c in new.values()}
    assert new["preamble"].lineage_status == "unchanged"
    assert db.session.scalar(db.select(db.func.count(Lineage.id))) == 7


def test_real_third_draft_to_final_keeps_lineage_by_heading(shared_data):
    folder = shared_data / "gpai-cop"
    v3 = clauses_of(publish(slug="ss", text=(folder / "v3-third-draft-2025-03-11_3-safety-security.md").read_text()))
    v4 = clauses_of(publish(slug="ss", text=(folder / "v4-final-2025-07-10_3-safety-security.md").read_text()))
    assert v4["measure-3-5"].lineage_id == v3["measure-ii-4-14"].lineage_id  # Post-market monitoring
    assert v4["commitment-1"].lineage_id == v3["commitment-ii-1"].lineage_id  # Safety and Security Framework
    # Numbers alone are no proof: the final Measure 1.1 is not the third draft's Measure I.1.1 or II.1.1.
    assert v4["measure-1-1"].lineage_id != v3["measure-ii-1-1"].lineage_id or v4["measure-1-1"].lineage_method != "key"


def test_version_page_marks_changed_and_new_clauses(client):
    publish()
    publish(text=NEXT_DRAFT)
    html = client.get("/documents/sample-code/versions/2").get_data(as_text=True)
    assert html.count("change-note--added") == 1
    assert html.count("change-note--modified") == 1
    assert "New in this version" in html and "Changed since the previous version" in html


SPLIT_V1 = """# Split Code

## Measure 1. Security and incidents

Model weights shall be stored encrypted at rest, every access shall be logged, and staff with access shall be
vetted and trained at least once a year.

Serious incidents shall be reported to the office within fifteen days, with a description of their causes, their
effects and the corrective actions taken.
"""

SPLIT_V2 = """# Split Code

## Measure 1. Security

Model weights shall be stored encrypted at rest, every access shall be logged, and staff with access shall be
vetted and trained at least once a year.

## Measure 2. Incident reporting

Serious incidents shall be reported to the office within fifteen days, with a description of their causes, their
effects and the corrective actions taken.
"""


def test_a_split_is_stored_as_links_and_comments_carry_over_to_every_part(client):
    from consult.models import ClauseLink, Comment
    from consult.services import comments as comment_service
    from tests.factories import make_user

    v1 = publish(slug="split", text=SPLIT_V1, closes_at=None)
    old = next(iter(clauses_of(v1).values()))
    author = make_user("participant")
    comment_service.post_comment(
        author=author, clause=old, type_="remark", body="Keep these together.", visibility="public"
    )
    v2 = publish(slug="split", text=SPLIT_V2)
    parts = clauses_of(v2)
    links = db.session.scalars(db.select(ClauseLink).where(ClauseLink.old_clause_id == old.id)).all()
    assert sorted(parts[k].id for k in ("measure-1", "measure-2")) == sorted(lk.new_clause_id for lk in links)
    assert {lk.relation for lk in links} == {"split"} and sum(lk.primary for lk in links) == 1
    assert {c.lineage_status for c in parts.values()} == {"split"}
    for key in ("measure-1", "measure-2"):
        assert [c.body for c in comment_service.earlier_comments(parts[key], None)] == ["Keep these together."]
        page = client.get(f"/documents/split/versions/2/clauses/{key}").get_data(as_text=True)
        assert "Carried over" in page and "Keep these together." in page
    api = client.get("/api/documents/split/redline?from=1&to=2").get_json()
    assert [(c["old"]["key"], c["new"]["key"], c["status"]) for c in api["clauses"]] == [
        ("measure-1", "measure-1", "split"),
        ("measure-1", "measure-2", "split"),
    ]
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 1
