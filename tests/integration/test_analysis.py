"""Campaigns, themes and summaries: refresh, drafters' edits that survive it, and who may see what."""

import json

import pytest

from consult.extensions import db
from consult.models import Comment, Theme
from consult.services import analysis as analysis_service
from consult.services import imports as import_service
from tests.factories import make_user, publish, sign_in

TEMPLATE = (
    "The proposed facility would release thousands of tons of pollution every year into the air around the "
    "bay. It threatens the health of families, wildlife and the fishing industry that our towns depend on. "
    "I ask the agency to deny the permit, to hold a public hearing in the county, and to extend the comment "
    "period by sixty days so that residents can be heard."
)
TOPICS = {
    "records": "records training data sources dataset licence provenance auditors documentation inventory",
    "retention": "retention years storage archive deletion period small providers costs duration",
    "reporting": "reporting office quarterly templates comparable deadlines submission format notify",
}
FILLER = "we think that the code should say more about this and we would like the drafters to consider".split()


def topic_text(topic, n):
    """A comment on a topic: its words in a different order each time, so no two are copies of one letter."""
    import random

    rng = random.Random(n)
    words = TOPICS[topic].split() * 2 + rng.sample(FILLER, 8)
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def _csv(rows):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(import_service.COLUMNS)
    for row in rows:
        writer.writerow([row.get(c, "") for c in import_service.COLUMNS])
    return buffer.getvalue().encode("utf-8")


def load(version, confidential_campaign=False):
    rows = []
    for i in range(6):
        rows.append(
            {
                "external_id": f"camp-{i}",
                "clause": "measure-i-1-1",
                "group": "civil-society",
                "visibility": "confidential" if confidential_campaign else "public",
                "body": (f"Personal note number {i}, from a resident of the coast. " if i % 2 else "") + TEMPLATE,
                "channel": "email",
                "author_name": f"Resident {i}",
            }
        )
    n = 0
    for topic in TOPICS:
        for _ in range(5):
            n += 1
            rows.append(
                {
                    "external_id": f"t-{n}",
                    "clause": "measure-i-1-2" if topic == "retention" else "",
                    "group": "industry",
                    "visibility": "public",
                    "channel": "mail",
                    "body": topic_text(topic, n),
                }
            )
    import_service.import_comments(version, _csv(rows))


@pytest.fixture
def version(app):
    v = publish()
    load(v)
    return v


def test_refresh_finds_the_campaign_and_themes(app, version):
    result = app.test_cli_runner().invoke(args=["analysis", "refresh", "--document", "sample-code", "--version", "1"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["mode"] == "full" and line["campaigns"] == 1
    campaigns = analysis_service.campaigns_json(version)
    assert len(campaigns) == 1 and campaigns[0]["size"] == 6
    ids = {c.id for c in db.session.scalars(db.select(Comment).where(Comment.external_id.like("camp-%")))}
    assert set(campaigns[0]["comment_ids"]) == ids and campaigns[0]["representative_id"] in ids
    themes = analysis_service.themes_json(version)
    assert len(themes) >= 2
    themed = {i for t in themes for i in t["comment_ids"]}
    assert ids <= themed  # campaign members follow their template into a theme
    # Summaries come from non-confidential comments; staff see them before approval, others do not.
    clause = version.clauses[3]
    summary = analysis_service.summary_for(version, clause)
    assert summary is not None and summary.sentences
    assert analysis_service.visible_summary(version, clause, make_user()) is None
    analysis_service.approve_summary(summary, make_user("drafter"))
    assert analysis_service.visible_summary(version, clause, make_user()) is not None


def test_incremental_refresh_files_new_copies_into_the_campaign(app, version):
    analysis_service.refresh(version)
    import_service.import_comments(
        version,
        _csv(
            [
                {
                    "external_id": "late-1",
                    "clause": "measure-i-1-1",
                    "body": TEMPLATE + " Sent late, sorry.",
                    "channel": "mail",
                }
            ]
        ),
    )
    result = analysis_service.refresh(version)
    assert result.mode == "incremental" and result.new == 1
    assert analysis_service.campaigns_json(version)[0]["size"] == 7


def test_drafters_theme_edits_survive_recomputation(app, version):
    drafter = make_user("drafter")
    analysis_service.refresh(version)
    themes = analysis_service.themes(version)
    first, third_id = themes[0].id, themes[-1].id
    first = themes[0]
    analysis_service.rename_theme(first, drafter, "Our own name")
    moved = db.session.get(Comment, analysis_service.themes_json(version)[1]["comment_ids"][0])
    analysis_service.move_comment(moved, first, drafter)
    third = db.session.get(Theme, third_id)
    deleted_members = set(analysis_service.themes_json(version)[-1]["comment_ids"])
    analysis_service.delete_theme(third, drafter)
    analysis_service.refresh(version, full=True)
    kept = db.session.get(Theme, first.id)
    assert kept.label == "Our own name" and kept.deleted_at is None
    assert analysis_service.theme_of([moved.id])[moved.id].id == first.id
    assert db.session.get(Theme, third_id).deleted_at is not None
    assert not set(analysis_service.theme_of(deleted_members)) - {moved.id}


def test_merge_and_split(app, version):
    drafter = make_user("drafter")
    analysis_service.refresh(version)
    a, b = analysis_service.themes(version)[:2]
    b_members = analysis_service.themes_json(version)[1]["comment_ids"]
    analysis_service.merge_themes(a, [b], drafter)
    assert db.session.get(Theme, b.id).deleted_at is not None
    assert set(b_members) <= set(analysis_service.theme_of(b_members)) and {
        t.id for t in analysis_service.theme_of(b_members).values()
    } == {a.id}
    new = analysis_service.split_theme(a, b_members[:2], drafter, "Split out")
    assert {t.id for t in analysis_service.theme_of(b_members[:2]).values()} == {new.id}


@pytest.mark.parametrize("kind", ["campaigns", "themes"])
def test_analysis_apis_are_for_staff_only(app, client, version, kind):
    analysis_service.refresh(version)
    url = f"/api/documents/sample-code/versions/1/{kind}"
    response = client.get(url)
    assert response.status_code == 401 and "error" in response.get_json()
    participant = make_user()
    sign_in(client, participant.email)
    response = client.get(url)
    assert response.status_code == 403 and "error" in response.get_json()
    client.post("/auth/sign-out")
    for role in ("drafter", "moderator", "admin"):
        other = app.test_client()
        sign_in(other, make_user(role).email)
        body = other.get(url).get_json()
        assert kind in body
        if kind == "campaigns":
            assert body["campaigns"][0]["size"] == 6
            assert set(body["campaigns"][0]) == {"id", "size", "representative_id", "comment_ids"}
        else:
            assert set(body["themes"][0]) == {"id", "label", "key_terms", "comment_ids"}
    assert app.test_client().get("/api/documents/sample-code/versions/9/campaigns").status_code == 404


def test_summaries_never_use_confidential_comments(app):
    version = publish()
    load(version, confidential_campaign=True)
    analysis_service.refresh(version)
    summary = analysis_service.summary_for(version, version.clauses[3])
    assert summary is None or all("facility" not in s["text"] for s in summary.sentences)
