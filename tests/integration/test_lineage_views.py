"""Clause history, the drafters' lineage review and corrections, and the printable redline."""

import json

import pytest

from consult.extensions import db
from consult.models import AuditEntry, Clause, Lineage, Version
from tests.factories import csrf_token, make_user, publish, sign_in
from tests.integration.test_publish_lineage import NEXT_DRAFT

pytestmark = pytest.mark.usefixtures("app")

LINEAGE = "/documents/sample-code/versions/2/lineage"


def clauses_of(version_id):
    db.session.expire_all()
    return {c.key: c for c in db.session.scalars(db.select(Clause).where(Clause.version_id == version_id))}


def two_versions():
    v1, v2 = publish(), publish(text=NEXT_DRAFT)
    return v1.id, v2.id


def as_drafter(client):
    user = make_user("drafter")
    sign_in(client, user.email)
    return user


def post(client, data, token=None):
    token = token or csrf_token(client, LINEAGE)
    return client.post(LINEAGE, data={"csrf_token": token, "confirm": "1", **data})


def api_status(client, new_key=None, old_key=None):
    """The status the redline API gives the entry for new_key (or the removed entry for old_key)."""
    data = client.get("/api/documents/sample-code/redline?from=1&to=2").get_json()
    for c in data["clauses"]:
        if new_key and c["new"] and c["new"]["key"] == new_key:
            return c["status"], c["old"] and c["old"]["key"]
        if old_key and c["old"] and c["old"]["key"] == old_key and c["new"] is None:
            return c["status"], None
    return None


# --- history ------------------------------------------------------------------


def test_history_shows_every_version_and_the_redline_between_them(client):
    publish()
    publish(text=NEXT_DRAFT)
    html = client.get("/documents/sample-code/versions/2/clauses/measure-1-1-1/history").get_data(as_text=True)
    assert "Version 1" in html and "Version 2" in html
    assert "Records are kept for ten years." in html and "Records are kept for twelve years." in html
    assert "<del>ten</del>" in html and "<ins>twelve</ins>" in html
    assert "Changes from version 1 to version 2" in html and "was Measure I.1.2" in html
    assert 'href="/documents/sample-code/versions/1/clauses/measure-i-1-2"' in html
    assert 'href="/documents/sample-code/versions/2/clauses/measure-1-1-1"' in html
    # The same history from the old end of the lineage.
    old = client.get("/documents/sample-code/versions/1/clauses/measure-i-1-2/history").get_data(as_text=True)
    assert "<ins>twelve</ins>" in old


def test_history_names_gaps_and_removal(client):
    publish()
    publish(text=NEXT_DRAFT)
    publish()  # the third version brings the first text back
    # A clause removed in version 2 and linked again in version 3 skips version 2.
    v3 = db.session.scalar(db.select(Version).where(Version.number == 3))
    v1 = db.session.scalar(db.select(Version).where(Version.number == 1))
    first = clauses_of(v1.id)["measure-i-1-1"]
    third = clauses_of(v3.id)["measure-i-1-1"]
    third.lineage_id = first.lineage_id
    db.session.commit()
    html = client.get("/documents/sample-code/versions/3/clauses/measure-i-1-1/history").get_data(as_text=True)
    assert "Not in Version 2." in html
    removed = client.get("/documents/sample-code/versions/2/clauses/measure-1-1-2/history").get_data(as_text=True)
    # A label that already says its number is not repeated ("Version 3 (version 3)").
    assert "Removed in Version 3." in removed and "first appears in Version 2." in removed
    assert "(version 3)" not in removed and "(version 2)" not in removed


def test_history_404s(client):
    publish()
    assert client.get("/documents/sample-code/versions/1/clauses/nope/history").status_code == 404
    assert client.get("/documents/sample-code/versions/7/clauses/preamble/history").status_code == 404
    assert client.get("/documents/nope/versions/1/clauses/preamble/history").status_code == 404


# --- lineage review: permissions --------------------------------------------


def test_lineage_page_is_for_drafters_only(client):
    two_versions()
    response = client.get(LINEAGE)
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    participant = make_user("participant")
    sign_in(client, participant.email)
    assert client.get(LINEAGE).status_code == 403
    token = csrf_token(client, "/documents/sample-code")
    assert (
        client.post(LINEAGE, data={"csrf_token": token, "action": "unlink", "new_key": "chapter-1"}).status_code == 403
    )


def test_lineage_page_lists_pairs_removed_and_added_with_links(client):
    two_versions()
    as_drafter(client)
    html = client.get(LINEAGE).get_data(as_text=True)
    assert "5 linked clauses, least confident first" in html
    assert html.count('type="radio"') >= 6 and "score 1.00" in html  # the likeliest earlier clauses, scored
    assert "Removed: in Version 1, not continued (1)" in html and "Added: new in Version 2 (1)" in html
    assert "Changed since the previous version" in html and "Same heading" in html
    assert "/documents/sample-code/versions/2/clauses/measure-1-1-1/history" in html
    assert "/documents/sample-code/redline?from=1&amp;to=2" in html
    assert "/documents/sample-code/redline/print?from=1&amp;to=2" in html
    assert "<style" not in html and "style=" not in html
    first = client.get("/documents/sample-code/versions/1/lineage").get_data(as_text=True)
    assert "nothing to match" in first
    assert client.get("/documents/sample-code/versions/9/lineage").status_code == 404


def test_a_correction_asks_for_confirmation_first(client):
    two_versions()
    as_drafter(client)
    token = csrf_token(client, LINEAGE)
    response = client.post(
        LINEAGE,
        data={
            "csrf_token": token,
            "action": "link",
            "new_key": "measure-1-1-2",
            "old_key": "-",
            "other_key": "measure-i-1-1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Change the link" in html and 'name="confirm" value="1"' in html
    assert "After the change: continues" in html
    # Nothing changed yet: the clause is still new.
    page = client.get(LINEAGE).get_data(as_text=True)
    assert "Added: new in Version 2 (1)" in page


# --- corrections -------------------------------------------------------------


def test_link_an_added_clause_to_a_removed_one(client):
    v1, v2 = two_versions()
    as_drafter(client)
    response = post(client, {"action": "link", "new_key": "measure-1-1-2", "old_key": "measure-i-1-1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/lineage#c-measure-1-1-2")
    old, new = clauses_of(v1), clauses_of(v2)
    assert new["measure-1-1-2"].lineage_id == old["measure-i-1-1"].lineage_id
    assert (new["measure-1-1-2"].lineage_status, new["measure-1-1-2"].lineage_method) == ("modified", "manual")
    assert api_status(client, new_key="measure-1-1-2") == ("modified", "measure-i-1-1")
    assert api_status(client, old_key="measure-i-1-1") is None  # no longer removed
    page = client.get(LINEAGE).get_data(as_text=True)
    assert "now continues" in page and "Set by a drafter" in page
    audit = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "lineage-relink"))
    assert json.loads(audit.after)["old_key"] == "measure-i-1-1" and json.loads(audit.before)["old_key"] is None


def test_unlink_gives_a_fresh_lineage_and_carries_later_versions_along(client):
    v1, v2 = two_versions()
    v3 = publish(text=NEXT_DRAFT).id
    as_drafter(client)
    before = clauses_of(v2)["measure-1-1-1"].lineage_id
    lineages = db.session.scalar(db.select(db.func.count(Lineage.id)))
    response = post(client, {"action": "unlink", "new_key": "measure-1-1-1"})
    assert response.status_code == 302
    old, new, later = clauses_of(v1), clauses_of(v2), clauses_of(v3)
    assert new["measure-1-1-1"].lineage_id != before
    assert new["measure-1-1-1"].lineage_id not in {c.lineage_id for c in old.values()}
    assert (new["measure-1-1-1"].lineage_status, new["measure-1-1-1"].lineage_method) == ("added", "manual")
    assert old["measure-i-1-2"].lineage_id == before
    # Version 3 still continues the clause of version 2.
    assert later["measure-1-1-1"].lineage_id == new["measure-1-1-1"].lineage_id
    assert db.session.scalar(db.select(db.func.count(Lineage.id))) == lineages + 1
    assert api_status(client, new_key="measure-1-1-1") == ("added", None)
    assert api_status(client, old_key="measure-i-1-2") == ("removed", None)


def test_relink_moves_a_pair_to_another_old_clause(client):
    v1, v2 = two_versions()
    as_drafter(client)
    response = post(client, {"action": "relink", "new_key": "measure-1-1-1", "old_key": "measure-i-1-1"})
    assert response.status_code == 302
    old, new = clauses_of(v1), clauses_of(v2)
    assert new["measure-1-1-1"].lineage_id == old["measure-i-1-1"].lineage_id
    assert new["measure-1-1-1"].lineage_method == "manual"
    assert api_status(client, new_key="measure-1-1-1") == ("modified", "measure-i-1-1")
    assert api_status(client, old_key="measure-i-1-2") == ("removed", None)
    # The old clause that was let go can now be linked to the added clause.
    assert post(client, {"action": "link", "new_key": "measure-1-1-2", "old_key": "measure-i-1-2"}).status_code == 302
    assert api_status(client, new_key="measure-1-1-2") == ("modified", "measure-i-1-2")


def test_linking_an_old_clause_twice_is_refused_and_changes_nothing(client):
    v1, v2 = two_versions()
    as_drafter(client)
    snapshot = {k: (c.lineage_id, c.lineage_status, c.lineage_method) for k, c in clauses_of(v2).items()}
    # Publishing v2 closed v1's window, which is audited; the refused correction must add nothing to that.
    audited = db.session.scalar(db.select(db.func.count(AuditEntry.id)))
    response = post(client, {"action": "link", "new_key": "measure-1-1-2", "old_key": "measure-i-1-2"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and "is already linked to" in html and "unlink" in html
    assert {k: (c.lineage_id, c.lineage_status, c.lineage_method) for k, c in clauses_of(v2).items()} == snapshot
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == audited


def test_correction_without_csrf_token_is_refused(client):
    v1, v2 = two_versions()
    as_drafter(client)
    before = clauses_of(v2)["measure-1-1-1"].lineage_id
    response = client.post(LINEAGE, data={"action": "unlink", "new_key": "measure-1-1-1"})
    assert response.status_code == 400
    assert clauses_of(v2)["measure-1-1-1"].lineage_id == before


def test_correcting_an_unknown_clause_is_404_and_first_version_is_refused(client):
    two_versions()
    as_drafter(client)
    assert post(client, {"action": "unlink", "new_key": "nope"}).status_code == 404
    token = csrf_token(client, LINEAGE)
    response = client.post(
        "/documents/sample-code/versions/1/lineage",
        data={"csrf_token": token, "action": "unlink", "new_key": "preamble"},
    )
    assert response.status_code == 400
    assert post(client, {"action": "link", "new_key": "measure-1-1-2", "old_key": ""}).status_code == 400


# --- printable redline --------------------------------------------------------


def test_printable_redline_has_its_own_styles_and_a_csp_allowing_them(client):
    two_versions()
    response = client.get("/documents/sample-code/redline/print?from=1&to=2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<!doctype html>") and "<style>" in html and "skip-link" not in html
    assert "<ins>twelve</ins>" in html and "<del>ten</del>" in html
    assert "text-decoration: underline" in html and "line-through" in html
    assert "Summary of changes" in html and "UTC" in html
    assert "<script" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "script-src 'self';" in csp + ";" and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    # Changes only by default; every clause with ?all=1.
    assert "Opening words of the sample code." not in html
    assert "Opening words of the sample code." in client.get(
        "/documents/sample-code/redline/print?from=1&to=2&all=1"
    ).get_data(as_text=True)
    # Other pages keep the strict policy.
    assert "unsafe-inline" not in client.get("/documents/sample-code/redline").headers["Content-Security-Policy"]
    assert client.get("/documents/sample-code/redline/print?from=1&to=9").status_code == 404
