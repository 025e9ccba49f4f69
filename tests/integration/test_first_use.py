"""What a first-time user trips over (issue #21), through the pages with CSRF on: one test per rough edge."""

import re
from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import Organisation, utcnow
from consult.services import comments as comment_service
from tests.factories import PASSWORD, csrf_token, make_user, publish, sign_in
from tests.integration.test_auth import post_form, registration

VERSION = "/documents/sample-code/versions/1"
CLAUSE = VERSION + "/clauses/measure-i-1-1"


@pytest.fixture
def version(app):
    return publish(label="First draft", opens_at=utcnow() - timedelta(days=1))


def _clause(version, key="measure-i-1-1"):
    return next(c for c in version.clauses if c.key == key)


def _main(html):
    return html[html.index("<main") : html.index("</main>")]


def test_1_anonymous_header_offers_register(client, version):
    html = client.get("/").get_data(as_text=True)
    header = html[html.index("<header") : html.index("</header>")]
    assert 'href="/auth/register"' in header and 'href="/auth/sign-in"' in header


def test_2_registration_shows_every_error_at_once(client):
    response = post_form(
        client, "/auth/register", registration(password="abc", password_confirm="abc", organisation="")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Use at least 12 characters." in html and "Enter the name of your organisation." in html
    summary = html[html.index('role="alert"') :]
    summary = summary[: summary.index("</div>")]
    assert "#password" in summary and "#organisation" in summary


def test_2_a_good_password_is_asked_again_when_other_fields_are_wrong(client):
    html = post_form(client, "/auth/register", registration(organisation="")).get_data(as_text=True)
    assert "Your password was fine" in html and PASSWORD not in html


def test_3_counts_agree_between_version_and_clause_and_name_answers(client, version):
    clause = _clause(version)
    drafter, author = make_user("drafter"), make_user()
    question = comment_service.add_question(clause, drafter, "Is ten years right?")
    for n in range(2):
        comment_service.post_comment(
            author=author, clause=clause, type_="remark", visibility="public", body=f"Answer {n}", question=question
        )
    version_html = _main(client.get(VERSION).get_data(as_text=True))
    assert "2 answers to the drafters&#39; questions" in version_html  # the cached text escapes the apostrophe
    section = version_html[version_html.index('id="measure-i-1-1"') :]
    section = section[: section.index("</section>")]
    assert "no comments yet" in section and "2 comments" not in section
    clause_html = client.get(CLAUSE).get_data(as_text=True)
    assert re.search(r"Comments <span class=\"muted\">\(0\)", clause_html) and "2 answers" in clause_html
    # A comment (and a reply, which sits in its thread) then make one comment in both places.
    top = comment_service.post_comment(author=author, clause=clause, type_="remark", visibility="public", body="Top")
    comment_service.post_comment(
        author=make_user(), clause=clause, type_="remark", visibility="public", body="Reply", parent=top
    )
    version_html = client.get(VERSION).get_data(as_text=True)
    assert ">1 comment<" in version_html
    assert re.search(r"Comments <span class=\"muted\">\(1\)", client.get(CLAUSE).get_data(as_text=True))


def test_4_open_questions_are_flagged_with_an_answer_button(app, client, version):
    clause = _clause(version)
    question = comment_service.add_question(clause, make_user("drafter"), "Is ten years right?")
    html = client.get(VERSION).get_data(as_text=True)
    toc = html[html.index('id="toc-title"') : html.index("</nav>", html.index('id="toc-title"'))]
    assert "open question" in toc
    assert "Question from the drafters:" in html and "Is ten years right?" in html
    assert f"question={question.id}" in html and "Answer this question" in html
    participant = make_user()
    sign_in(client, participant.email)
    html = client.get(CLAUSE).get_data(as_text=True)
    assert 'class="button button--secondary button--small"' in html and "Answer this question" in html
    html = client.get(CLAUSE + f"?question={question.id}").get_data(as_text=True)
    assert re.search(rf'<option value="{question.id}"\s+selected>', html)


def test_5_receipt_repeats_the_submission_in_words(client, version):
    author = make_user()
    comment = comment_service.post_comment(
        author=author,
        clause=_clause(version),
        type_="suggestion",
        visibility="pseudonymous",
        stance="oppose",
        body="Keep *five* years.",
        proposed_wording="Records are kept for five years.",
    )
    sign_in(client, author.email)
    html = _main(client.get(f"/receipts/{comment.receipt}").get_data(as_text=True))
    assert "<em>five</em>" in html and "Records are kept for five years." in html
    assert "Public, with only my stakeholder group" in html and "Received and shown as you chose" in html
    assert ">visible<" not in html and "Oppose" in html and "print" in html


def test_6_endorsing_returns_to_the_clause_at_the_comment(client, version):
    comment = comment_service.post_comment(
        author=make_user(), clause=_clause(version), type_="remark", visibility="public", body="Worth endorsing."
    )
    sign_in(client, make_user().email)
    page = client.get(CLAUSE + "?sort=oldest").get_data(as_text=True)
    assert f'name="next" value="{CLAUSE}?sort=oldest"' in page
    token = csrf_token(client, CLAUSE)
    response = client.post(
        f"/comments/{comment.id}/endorse", data={"csrf_token": token, "endorse": "1", "next": CLAUSE + "?sort=oldest"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{CLAUSE}?sort=oldest#comment-{comment.id}"
    response = client.post(
        f"/comments/{comment.id}/endorse", data={"csrf_token": token, "endorse": "0", "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == f"/comments/{comment.id}#comment-{comment.id}"


def test_7_pseudonymous_comment_names_its_group_once(client, version):
    author = make_user(group="civil-society", name="Masked Person")
    comment_service.post_comment(
        author=author, clause=_clause(version), type_="remark", visibility="pseudonymous", body="Pseudonymous words."
    )
    html = _main(client.get(CLAUSE).get_data(as_text=True))
    head = html[html.index('class="comment__head"') : html.index("</header>", html.index('class="comment__head"'))]
    assert head.count("Civil society") == 1 and "Masked Person" not in head


def test_9_no_space_before_the_comma_and_plural_sessions(app, client, version):
    author = make_user(group="civil-society", name="Jane Doe")
    author.organisation = Organisation(name="AI Safety Watch")
    db.session.commit()
    comment_service.post_comment(
        author=author, clause=_clause(version), type_="remark", visibility="public", body="Named words."
    )
    version.closes_at = utcnow() - timedelta(minutes=1)
    version.review_published_at = utcnow()
    db.session.commit()
    for path in (CLAUSE, VERSION + "/feedback", VERSION + "/comments"):
        html = client.get(path).get_data(as_text=True)
        assert "Jane Doe, AI Safety Watch</span>" in html, path
    moderator, target = make_user("moderator"), make_user()
    sign_in(app.test_client(), target.email)
    sign_in(client, moderator.email)
    path = f"/moderation/users/{target.id}/suspend"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "Spam"}, follow_redirects=True)
    assert "1 open session was ended." in response.get_data(as_text=True)


def test_14_review_filters_use_the_drafters_words(client, version):
    sign_in(client, make_user("drafter").email)
    html = client.get(VERSION + "/review").get_data(as_text=True)
    select = html[html.index('id="f-visibility"') : html.index("</select>", html.index('id="f-visibility"'))]
    assert "Public with name" in select and "Pseudonymous" in select and ">Confidential<" in select
    assert "my name" not in select


DEEP = """# Deep

## Chapter A

### Commitment A.1

#### Measure A.1.1

Text.

###### Deep note

Five levels down in Markdown, one level down in the tree.

## Chapter B

Text.
"""


def test_20_heading_levels_follow_the_clause_tree(client, app):
    publish(slug="deep", text=DEEP)
    html = client.get("/documents/deep/versions/1").get_data(as_text=True)
    levels = re.findall(r'<h(\d) id="h-[^"]+" class="clause__heading">([^<]+)</h\1>', html)
    assert levels == [
        ("3", "Chapter A"),
        ("4", "Commitment A.1"),
        ("5", "Measure A.1.1"),
        ("6", "Deep note"),
        ("3", "Chapter B"),
    ]


def test_15_publish_form_accepts_typed_dates_and_never_shows_field_names(client):
    from consult.models import Version
    from tests.integration.test_pages import _publish_form

    sign_in(client, make_user("drafter").email)
    text = "## One\n\nA\n"
    response = _publish_form(client, "/documents/new", slug="typed", markdown=text, closes_at="31/03/2027", confirm="y")
    assert response.status_code == 302
    version = db.session.scalar(db.select(Version))
    assert version.closes_at.isoformat() == "2027-03-31T23:59:59+00:00"  # a closing date means its end
    response = _publish_form(
        client,
        "/documents/typed/versions/new",
        markdown=text,
        opens_at="1.4.2027 9h30",
        closes_at="2027-05-01 17:00",
        confirm="y",
    )
    assert response.status_code == 302
    second = db.session.scalar(db.select(Version).where(Version.number == 2))
    assert second.opens_at.isoformat() == "2027-04-01T09:30:00+00:00"
    assert second.closes_at.isoformat() == "2027-05-01T17:00:00+00:00"
    html = _publish_form(
        client, "/documents/typed/versions/new", markdown=text, closes_at="31/13/2027", confirm="y"
    ).get_data(as_text=True)
    assert "Consultation closes: enter a date like 31/03/2027" in html
    assert "closes_at:" not in html and "ISO 8601" not in html


def test_13_comment_response_csv_has_name_stance_date_visibility_and_endorsements(app, client, version):
    import csv
    import io

    named = make_user(group="civil-society", name="Jane Doe")
    masked = make_user(group="industry", name="Masked Person")
    public = comment_service.post_comment(
        author=named, clause=_clause(version), type_="concern", stance="oppose", visibility="public", body="Named."
    )
    comment_service.post_comment(
        author=masked, clause=_clause(version), type_="remark", visibility="pseudonymous", body="Masked."
    )
    comment_service.set_endorsement(public, make_user(), True)
    version.closes_at = utcnow() - timedelta(minutes=1)
    version.review_published_at = utcnow()
    db.session.commit()

    def rows(c, path):
        return list(csv.DictReader(io.StringIO(c.get(path).get_data(as_text=True).lstrip("\ufeff"))))

    public_rows = {r["Comment"]: r for r in rows(client, VERSION + "/feedback/export.csv")}
    assert public_rows["Named."]["Name"] == "Jane Doe" and public_rows["Named."]["Stance"] == "Oppose"
    assert public_rows["Named."]["Endorsements"] == "1" and public_rows["Named."]["Visibility"] == "Public with name"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", public_rows["Named."]["Received (UTC)"])
    assert public_rows["Masked."]["Name"] == "" and public_rows["Masked."]["Visibility"] == "Pseudonymous"
    drafter = app.test_client()
    sign_in(drafter, make_user("drafter").email)
    staff_rows = {r["Comment"]: r for r in rows(drafter, VERSION + "/review/export.csv")}
    assert staff_rows["Masked."]["Name"] == "Masked Person"  # the drafters may see who wrote it


def _review_world(app, version):
    from consult.models import Disposition

    for n, group in enumerate(("civil-society", "civil-society", "industry")):
        comment_service.post_comment(
            author=make_user(group=group),
            clause=_clause(version),
            type_="concern",
            visibility="public",
            body=f"Review me {n}.",
        )
    drafter = app.test_client()
    sign_in(drafter, make_user("drafter").email)
    return drafter, Disposition


def test_10_bulk_error_at_the_top_on_the_list_address_with_filters_and_select_all(app, version):
    client, Disposition = _review_world(app, version)
    review = VERSION + "/review"
    html = client.get(review + "?group=civil-society").get_data(as_text=True)
    form_action = re.search(r'<form method="post" action="([^"]+)" id="bulk"', html).group(1)
    assert form_action == review + "?group=civil-society"  # posting keeps the list's address and its filters
    token = csrf_token(client, review)
    response = client.post(
        form_action,
        data={"csrf_token": token, "bulk_status": "noted", "bulk_response": "Kept response", "bulk_scope": "selected"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Select at least one comment." in html
    assert html.index('role="alert"') < html.index('class="filters-panel"')  # the summary opens the page
    assert "Kept response" in html and "Review me 2." not in html  # the filter still applies
    # Select all on this page: every row ticked; "every comment matching the filters" acts on all pages.
    html = client.get(review + "?group=civil-society&select=page").get_data(as_text=True)
    assert len(re.findall(r'name="ids" value="\d+" id="sel-\d+" checked', html)) == 2
    app.config["CONSULT_PAGE_SIZE"] = 1
    response = client.post(
        form_action, data={"csrf_token": token, "bulk_status": "noted", "bulk_response": "", "bulk_scope": "matching"}
    )
    assert response.status_code == 302 and "group=civil-society" in response.headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Disposition.id))) == 2


def test_12_review_list_shows_clause_labels_and_filters_as_removable_chips(app, version):
    client, _ = _review_world(app, version)
    html = client.get(VERSION + "/review?group=industry&type=concern").get_data(as_text=True)
    assert ">I.1.1 Measure I.1.1. Content of records<" in html or ">Measure I.1.1. Content of records<" in html
    chips = html[html.index('class="chips"') : html.index("</ul>", html.index('class="chips"'))]
    assert "Stakeholder group: Downstream providers and industry" in chips and "Type: Concern" in chips
    assert f'href="{VERSION}/review?type=concern"' in chips  # removing the group keeps the type
    assert html.index('class="filters-panel"') < html.index('class="table review-table"')
    html = client.get(VERSION + "/review?clause=measure-i-1-1").get_data(as_text=True)
    assert "Clause: Measure I.1.1. Content of records" in html[html.index('class="chips"') :]
    assert '<details class="filters-panel">' in html  # folded: the results are on the first screen


def test_11_save_and_next_and_addressed_in_offers_later_versions(app, version):
    from tests.integration.test_publish_lineage import NEXT_DRAFT

    client, Disposition = _review_world(app, version)
    comments = db.session.scalars(db.select(comment_service.Comment).order_by(comment_service.Comment.id)).all()
    page = f"{VERSION}/review/comments/{comments[0].id}"
    html = client.get(page).get_data(as_text=True)
    options = html[html.index('id="addressed_in"') : html.index("</select>", html.index('id="addressed_in"'))]
    assert "First draft" not in options and "The next version can be chosen here once it is published." in html
    response = client.post(
        page + "/disposition",
        data={
            "csrf_token": csrf_token(client, page),
            "status": "noted",
            "response": "",
            "addressed_in": "",
            "duplicate_of": "",
            "then": "next",
        },
    )
    assert response.headers["Location"] == f"{VERSION}/review/comments/{comments[1].id}"
    from consult.services import review as review_service

    assert review_service.next_without_disposition(version, comments[1]).id == comments[2].id  # onwards, not back
    assert review_service.next_without_disposition(version, comments[2]).id == comments[1].id  # then round
    second = publish(text=NEXT_DRAFT, label="Second draft")
    html = client.get(page).get_data(as_text=True)
    options = html[html.index('id="addressed_in"') : html.index("</select>", html.index('id="addressed_in"'))]
    assert f'value="{second.id}"' in options and "Version 2: Second draft" in options and "First draft" not in options
    for c in comments[1:]:
        db.session.add(Disposition(comment_id=c.id, status="noted"))
    db.session.commit()
    response = client.post(
        page + "/disposition", data={"csrf_token": csrf_token(client, page), "status": "noted", "then": "next"}
    )
    assert response.headers["Location"] == f"{VERSION}/review"  # nothing left: back to the list


def test_8_report_form_shows_the_comment_and_offers_categories_seen_by_moderators(app, client, version):
    author = make_user(name="Reported Author")
    comment = comment_service.post_comment(
        author=author, clause=_clause(version), type_="remark", visibility="public", body="BUY CHEAP WEIGHTS here."
    )
    sign_in(client, make_user().email)
    path = f"/comments/{comment.id}/report"
    html = client.get(path).get_data(as_text=True)
    assert "BUY CHEAP WEIGHTS here." in html and "Spam or advertising" in html and 'value="personal-data"' in html
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "category": "other", "reason": " "})
    assert refused.status_code == 400 and "Say why you report this comment" in refused.get_data(as_text=True)
    assert client.post(path, data={"csrf_token": token, "category": "nonsense"}).status_code == 400
    assert client.post(path, data={"csrf_token": token, "category": "spam"}).status_code == 302  # no words needed
    moderator = app.test_client()
    sign_in(moderator, make_user("moderator").email)
    queue = moderator.get("/moderation/reports").get_data(as_text=True)
    assert "<strong>Spam or advertising</strong>" in queue
    assert "Reported Author" in queue and "Written by" in queue  # item 16: the comment's author
    assert 'class="actions-cell"' in queue


def test_16_invitations_are_mailed_and_revocable_registrations_approved_together_audit_readable(app, client):
    from consult.models import AuditEntry, Invitation, User
    from consult.services import accounts as account_service
    from tests.integration.test_auth import mails

    sign_in(client, make_user("moderator").email)
    path = "/moderation/invitations"
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client, path), "email": "guest@example.org", "role": "participant", "days": "7"},
    )
    assert response.status_code == 302
    sent = mails(app)
    assert sent and sent[-1]["To"] == "guest@example.org" and "/auth/invite/" in sent[-1].get_content()
    token = re.search(r"/auth/invite/(\S+)", sent[-1].get_content()).group(1)
    invitation = db.session.scalar(db.select(Invitation))
    assert account_service.find_invitation(token) is not None
    revoke = f"/moderation/invitations/{invitation.id}/revoke"
    assert "Revoke this invitation?" in client.get(revoke).get_data(as_text=True)  # a confirmation step first
    assert (
        client.post(revoke, data={"csrf_token": csrf_token(client, revoke), "reason": "Sent by mistake"}).status_code
        == 302
    )
    db.session.expire_all()
    assert account_service.find_invitation(token) is None
    assert client.get(f"/auth/invite/{token}").status_code == 404
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "revoke-invitation"))
    assert entry.target_id == invitation.id and entry.reason == "Sent by mistake"
    # Registrations: approve several at once.
    pending = [make_user(status="pending") for _ in range(3)]
    page = "/moderation/registrations"
    assert 'form="approve-selected"' in client.get(page).get_data(as_text=True)
    response = client.post(
        "/moderation/registrations/approve",
        data={"csrf_token": csrf_token(client, page), "ids": [pending[0].id, pending[2].id]},
        follow_redirects=True,
    )
    assert "2 accounts are approved" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [db.session.get(User, u.id).status for u in pending] == ["active", "pending", "active"]
    # The audit log shows times as people read them, and downloads as CSV.
    html = client.get("/moderation/audit").get_data(as_text=True)
    assert not re.search(r">\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", html) and " UTC" in html
    csv_text = client.get("/moderation/audit.csv").get_data(as_text=True)
    assert "Invitation revoked" in csv_text and "Sent by mistake" in csv_text
    assert 'href="/moderation/audit.csv"' in html
