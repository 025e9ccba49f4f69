"""The analysis pages as drafters use them, and what they never show to others."""

import re

from consult.extensions import db
from consult.models import Comment, Disposition, Theme
from consult.services import analysis as analysis_service
from tests.factories import csrf_token, make_user, publish, sign_in
from tests.integration.test_analysis import TEMPLATE, load

BASE = "/documents/sample-code/versions/1"


def setup(app, confidential_campaign=False):
    version = publish()
    load(version, confidential_campaign=confidential_campaign)
    analysis_service.refresh(version)
    drafter = make_user("drafter")
    client = app.test_client()
    sign_in(client, drafter.email)
    return version, client


def test_campaign_pages_show_template_redlines_and_take_one_disposition(app):
    version, client = setup(app)
    listing = client.get(BASE + "/review/campaigns")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    campaign_id = analysis_service.campaigns(version)[0].id
    assert f"/review/campaigns/{campaign_id}" in html and "Civil society" in html
    page = client.get(f"{BASE}/review/campaigns/{campaign_id}").get_data(as_text=True)
    assert "<ins>" in page and "Personal" in page  # what a sender added, against the template
    url = f"{BASE}/review/campaigns/{campaign_id}/disposition"
    bad = client.post(url, data={"csrf_token": csrf_token(client, BASE + "/review/campaigns"), "status": ""})
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    done = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, BASE + "/review/campaigns"),
            "status": "noted",
            "response": "Thank you all.",
        },
    )
    assert done.status_code == 302
    members = analysis_service.campaigns_json(version)[0]["comment_ids"]
    db.session.expire_all()
    statuses = db.session.scalars(db.select(Disposition.status).where(Disposition.comment_id.in_(members))).all()
    assert statuses == ["noted"] * len(members)
    export = client.get(BASE + "/review/export.csv").get_data(as_text=True)
    assert export.count("Thank you all.") == len(members)


def test_theme_pages_rename_delete_and_filter(app):
    version, client = setup(app)
    theme = analysis_service.themes(version)[0]
    assert client.get(BASE + "/review/themes").status_code == 200
    page = BASE + f"/review/themes/{theme.id}"
    assert client.get(page).status_code == 200
    empty = client.post(page + "/rename", data={"csrf_token": csrf_token(client, page), "label": ""})
    assert empty.status_code == 400
    renamed = client.post(page + "/rename", data={"csrf_token": csrf_token(client, page), "label": "Air quality"})
    assert renamed.status_code == 302
    filtered = client.get(BASE + f"/review?theme={theme.id}").get_data(as_text=True)
    assert re.search(r"(\d+) comments? matching the filters", filtered)
    export = client.get(BASE + "/review/export.csv").get_data(as_text=True)
    assert "Air quality" in export.splitlines()[1] or "Air quality" in export
    confirm = client.get(page + "/delete")
    assert confirm.status_code == 200 and "Delete the theme" in confirm.get_data(as_text=True)
    assert client.post(page + "/delete", data={"csrf_token": csrf_token(client, page)}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).deleted_at is not None


def test_balance_counts_a_campaign_as_one_position(app):
    _version, client = setup(app)
    every = client.get(BASE + "/review/balance").get_data(as_text=True)
    once = client.get(BASE + "/review/balance?count=positions").get_data(as_text=True)
    assert "21 comments" in every  # 6 copies + 15 others
    assert "16 comments" in once  # the campaign counts once
    assert "one position each" in every


def test_summaries_are_staff_only_until_approved(app):
    version, client = setup(app)
    clause_url = BASE + "/clauses/measure-i-1-2"
    summary = analysis_service.summary_for(version, version.clauses[4])
    assert summary is not None
    assert "What the comments say" in client.get(clause_url).get_data(as_text=True)
    anonymous = app.test_client()
    assert "What the comments say" not in anonymous.get(clause_url).get_data(as_text=True)
    page = BASE + "/review/summaries"
    assert client.get(page).status_code == 200
    client.post(f"{page}/{summary.id}/approval", data={"csrf_token": csrf_token(client, page), "approve": "1"})
    html = anonymous.get(clause_url).get_data(as_text=True)
    assert "What the comments say" in html and "Automatically extracted" in html


def test_participants_learn_nothing_of_confidential_campaigns(app):
    setup(app, confidential_campaign=True)
    participant = app.test_client()
    sign_in(participant, make_user().email)
    for path in ("/review/campaigns", "/review/themes", "/review/summaries", "/review/balance"):
        assert participant.get(BASE + path).status_code == 403
    clause_page = participant.get(BASE + "/clauses/measure-i-1-1").get_data(as_text=True)
    assert "facility" not in clause_page and "What the comments say" not in clause_page
    version_page = participant.get(BASE).get_data(as_text=True)
    assert "facility" not in version_page
    confidential = db.session.scalars(db.select(Comment).where(Comment.visibility == "confidential")).all()
    assert confidential and all(participant.get(f"/comments/{c.id}").status_code == 404 for c in confidential)
    search = participant.get("/search?q=facility").get_data(as_text=True)
    assert TEMPLATE[:40] not in search


def test_an_approved_summary_drops_sentences_whose_sources_are_hidden(app):
    version, client = setup(app)
    summary = analysis_service.summary_for(version, version.clauses[4])
    analysis_service.approve_summary(summary, make_user("drafter"))
    public = analysis_service.visible_summary(version, version.clauses[4], None)
    assert public is not None and public.sentences
    for sentence in summary.sentences:
        for cid in sentence["comment_ids"]:
            db.session.get(Comment, cid).status = "hidden"
    db.session.commit()
    assert analysis_service.visible_summary(version, version.clauses[4], None) is None
    assert analysis_service.visible_summary(version, version.clauses[4], make_user("drafter")) is not None


def test_themes_of_one_clause(app):
    version, client = setup(app)
    everything = client.get(BASE + "/review/themes").get_data(as_text=True)
    one = client.get(BASE + "/review/themes?clause=measure-i-1-2")
    assert one.status_code == 200
    html = one.get_data(as_text=True)
    sizes = [int(n) for n in re.findall(r"(\d+) comments?</span>", html)]
    assert sizes and sum(sizes) == 5  # the five comments on that clause
    assert sum(int(n) for n in re.findall(r"(\d+) comments?</span>", everything)) > 5
