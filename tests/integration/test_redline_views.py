"""The document redline page and its JSON API."""

import pytest

from consult import redline
from tests.factories import publish
from tests.integration.test_publish_lineage import NEXT_DRAFT

pytestmark = pytest.mark.usefixtures("app")


def test_api_redline_summary_and_ops_rebuild_both_texts(client):
    publish()
    publish(text=NEXT_DRAFT)
    data = client.get("/api/documents/sample-code/redline?from=1&to=2").get_json()
    summary = data["summary"]
    assert (summary["added"], summary["removed"], summary["modified"]) == (1, 1, 1)
    # Renumbered counts every continuing clause whose number changed, the modified one included.
    assert summary["renumbered"] == 4 and summary["unchanged"] == 1
    assert summary["words_inserted"] > 0 and summary["words_deleted"] > 0
    modified = next(c for c in data["clauses"] if c["status"] == "modified")
    assert (modified["old"]["number"], modified["new"]["number"]) == ("I.1.2", "1.1.1")
    old_text, new_text = redline.rebuild([tuple(op) for op in modified["ops"]])
    assert "ten years" in old_text and "twelve years" in new_text
    removed = next(c for c in data["clauses"] if c["status"] == "removed")
    assert removed["new"] is None and removed["old"]["key"] == "measure-i-1-1"
    # Removed clauses stand at their old place: right after the clause that continues their old predecessor.
    order = [(c["new"] or c["old"])["key"] for c in data["clauses"]]
    assert order.index("measure-i-1-1") == order.index("commitment-1-1") + 1


def test_api_redline_same_version_is_all_unchanged(client):
    publish()
    publish(text=NEXT_DRAFT)
    data = client.get("/api/documents/sample-code/redline?from=2&to=2").get_json()
    assert data["summary"]["unchanged"] == 6
    assert all(c["status"] == "unchanged" for c in data["clauses"])
    assert data["summary"]["words_inserted"] == data["summary"]["words_deleted"] == 0


def test_api_redline_missing_version_is_json_404(client):
    publish()
    response = client.get("/api/documents/sample-code/redline?from=1&to=5")
    assert response.status_code == 404 and "error" in response.get_json()
    assert client.get("/api/documents/nope/redline").status_code == 404


def test_redline_page_defaults_to_previous_and_latest_with_views(client):
    publish()
    publish(text=NEXT_DRAFT)
    html = client.get("/documents/sample-code/redline").get_data(as_text=True)
    assert "<ins>twelve</ins>" in html and "<del>ten</del>" in html
    assert "was Measure I.1.2" in html
    assert "Summary of changes" in html
    changes = client.get("/documents/sample-code/redline?changes=1").get_data(as_text=True)
    assert changes.count('class="redline-clause ') == 6  # the unchanged preamble is left out
    side = client.get("/documents/sample-code/redline?view=side").get_data(as_text=True)
    assert 'class="side-by-side"' in side
    assert client.get("/documents/sample-code/redline?from=1&to=9").status_code == 404


def test_redline_is_linked_from_document_and_version_pages(client):
    publish()
    publish(text=NEXT_DRAFT)
    assert "/documents/sample-code/redline" in client.get("/documents/sample-code").get_data(as_text=True)
    assert "/documents/sample-code/redline?from=1&amp;to=2" in client.get("/documents/sample-code/versions/2").get_data(
        as_text=True
    )


def test_redline_links_changed_clauses_to_their_earlier_comments(client):
    from datetime import timedelta

    from consult.models import utcnow
    from consult.services import comments as comment_service
    from tests.factories import make_user

    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=1))
    author = make_user("participant")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-2")
    for body in ("Too short", "Far too short"):
        comment_service.post_comment(author=author, clause=clause, type_="concern", body=body, visibility="public")
    comment_service.post_comment(author=author, clause=clause, type_="concern", body="Hush", visibility="confidential")
    publish(text=NEXT_DRAFT)
    html = client.get("/documents/sample-code/redline").get_data(as_text=True)
    assert "2 comments on Version 1" in html
    assert "/documents/sample-code/versions/1/clauses/measure-i-1-2#comments" in html
