"""End-to-end journeys in Chromium against the real server: every page visited goes through axe-core (WCAG 2.1
A/AA), a CSP check and a screenshot, and its HTML is kept for the Nu HTML checker at the end of the session."""

import csv
import io
import random
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    DOC,
    OPEN_VERSION,
    comment_id_from,
    create_participant,
    follow,
    post_comment,
    sign_in,
    strong_password,
    unique,
)

pytestmark = pytest.mark.browser

DOC_TITLE = "Transparency Code of Practice for Providers of General-Purpose AI Models"


def register(page, live_server, check, *, name: str, email: str, password: str, group: str, organisation: str):
    """A visitor finds the registration form from the home page and registers."""
    page.goto(live_server.url + "/")
    check(page, "home")
    follow(page.locator("header").get_by_role("link", name="Sign in"))
    check(page, "sign-in")
    follow(page.get_by_role("link", name="Register to take part"))
    check(page, "register")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    page.get_by_label("Stakeholder group").select_option(group)
    page.get_by_label("Organisation", exact=True).fill(organisation)
    page.get_by_label("I have read the privacy notice").check()
    follow(page.get_by_role("button", name="Create account"))
    expect(page.get_by_role("heading", level=1, name="Check your email")).to_be_visible()
    check(page, "register-sent")


def approve(page, live_server, check, name: str):
    """The moderator approves a pending registration from the console."""
    sign_in(page, live_server, *live_server.accounts["moderator"])
    follow(page.locator("header").get_by_role("link", name="Moderation"))
    check(page, "moderation-home")
    follow(page.get_by_role("link", name="Pending registrations"))
    check(page, "moderation-registrations")
    follow(page.get_by_role("button", name=f"Approve {name}"))
    expect(page.get_by_role("status").filter(has_text=f"{name}'s account is approved")).to_be_visible()
    check(page, "moderation-registration-approved", picture=False)


def test_journey_1_register_approve_comment_receipt_contributions(live_server, new_page, check_page):
    name, email, password = unique("Civil Person"), f"{unique('civil')}@journeys.example", strong_password()
    visitor = new_page()
    register(
        visitor,
        live_server,
        check_page,
        name=name,
        email=email,
        password=password,
        group="civil-society",
        organisation="Open Rights Watch",
    )
    # Pending: signed in, can read, cannot comment yet.
    sign_in(visitor, live_server, email, password)
    visitor.goto(f"{live_server.url}{OPEN_VERSION}/clauses/incident-contact-point")
    expect(visitor.get_by_text("Your account awaits approval by a moderator")).to_be_visible()
    check_page(visitor, "clause-pending-account", picture=False)

    approve(new_page(), live_server, check_page, name)

    participant = visitor
    participant.goto(live_server.url + "/")
    follow(participant.get_by_role("link", name=DOC_TITLE))
    check_page(participant, "document")
    follow(participant.get_by_role("link", name="Second draft", exact=True))
    check_page(participant, "version")
    follow(participant.get_by_role("link", name="Open this clause II.2.1", exact=True))
    assert participant.get_by_role("heading", level=1).inner_text().startswith("Measure II.2.1")
    check_page(participant, "clause")

    participant.get_by_label("Kind of contribution").select_option("suggestion")
    participant.get_by_label("Your comment").fill("The contact point should answer within one working day.")
    participant.get_by_label("Proposed wording (optional)").fill(
        "Signatories will name a contact point for incidents that answers within one working day."
    )
    participant.get_by_label("Your stance on this clause (optional)").select_option("support-with-changes")
    follow(participant.get_by_role("button", name="Send my comment"))
    expect(participant.get_by_role("heading", level=1, name="Comment received")).to_be_visible()
    receipt = participant.locator(".receipt strong").inner_text()
    assert re.fullmatch(r"CP-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt)
    expect(participant.get_by_role("status").filter(has_text=f"Comment received — receipt {receipt}")).to_be_visible()
    check_page(participant, "receipt")

    follow(participant.get_by_role("link", name="See your comment"))
    comment = participant.locator("article.comment").first
    assert comment.get_by_text("Proposed wording, compared with the clause").is_visible()
    check_page(participant, "comment")

    follow(participant.locator("header").get_by_role("link", name="My contributions"))
    row = participant.get_by_role("row").filter(has_text=receipt)
    expect(row.get_by_role("link", name="Measure II.2.1", exact=False)).to_be_visible()
    assert "Not yet answered" in row.inner_text()
    check_page(participant, "my-contributions")


def test_journey_2_endorse_reply_report_and_hide(live_server, new_page, check_page):
    author_email, author_password = create_participant(live_server, "civil-society", unique("Author"))
    author = new_page()
    sign_in(author, live_server, author_email, author_password)
    post_comment(author, live_server, "measure-i-1-3", "Ten years of retention is longer than most records need.")
    endorsed_id = comment_id_from(author)
    post_comment(author, live_server, "measure-i-1-3", "An off-topic remark that someone will report.")
    reported_id = comment_id_from(author)

    second_name = unique("Second")
    second_email, second_password = create_participant(live_server, "academia", second_name)
    second = new_page()
    sign_in(second, live_server, second_email, second_password)
    second.goto(f"{live_server.url}/comments/{endorsed_id}")
    check_page(second, "comment-before-endorsing", picture=False)
    card = second.locator(f"#comment-{endorsed_id}")
    follow(card.get_by_role("button", name="Endorse"))
    card = second.locator(f"#comment-{endorsed_id}")
    assert "1 endorsement" in card.inner_text()
    expect(card.get_by_role("button", name="Withdraw my endorsement")).to_be_visible()

    reply = second.locator("#reply")
    reply.get_by_label("Your comment").fill("Agreed: five years would match the audit cycle.")
    follow(reply.get_by_role("button", name="Send my reply"))
    expect(second.get_by_role("heading", level=1, name="Comment received")).to_be_visible()
    follow(second.get_by_role("link", name="See your comment"))
    expect(second.get_by_role("link", name="In reply to an earlier comment")).to_be_visible()
    second.goto(f"{live_server.url}/comments/{endorsed_id}")
    expect(second.get_by_role("heading", name="Replies")).to_be_visible()
    expect(second.get_by_text("Agreed: five years would match the audit cycle.")).to_be_visible()
    check_page(second, "comment-with-reply")

    second.goto(f"{live_server.url}/comments/{reported_id}")
    follow(second.locator(f"#comment-{reported_id}").get_by_role("link", name="Report"))
    check_page(second, "report-comment")
    second.get_by_label("Off-topic: not about this clause or the code").check()
    second.get_by_label("Anything the moderators should know").fill("Off topic for this measure.")
    follow(second.get_by_role("button", name="Send the report"))
    assert second.get_by_role("status").first.is_visible()

    moderator = new_page()
    sign_in(moderator, live_server, *live_server.accounts["moderator"])
    moderator.goto(live_server.url + "/moderation/")
    follow(moderator.get_by_role("link", name="Reports", exact=True))
    check_page(moderator, "moderation-reports")
    row = moderator.get_by_role("row").filter(has_text="Off topic for this measure.")
    follow(row.get_by_role("link", name=re.compile(r"^Hide")))
    check_page(moderator, "moderation-hide")
    moderator.get_by_label("Reason").fill("Off topic.")
    follow(moderator.get_by_role("button", name="Hide the comment"))
    expect(moderator.get_by_role("status").filter(has_text="The comment is hidden")).to_be_visible()

    public = new_page()
    public.goto(f"{live_server.url}/comments/{reported_id}")
    card = public.locator(f"#comment-{reported_id}")
    assert "This comment was hidden by a moderator. Reason: Off topic." in card.inner_text()
    assert "off-topic remark" not in card.inner_text()
    check_page(public, "hidden-comment-public")
    public.goto(f"{live_server.url}{OPEN_VERSION}/clauses/measure-i-1-3")
    expect(public.locator(f"#comment-{reported_id} .comment__placeholder")).to_be_visible()
    expect(public.locator(f"#comment-{endorsed_id}").get_by_text("1 endorsement")).to_be_visible()


NEXT_DRAFT = """# Journey Code

## Chapter 1. Scope {#scope}

This code applies to every provider that places a model on the market.

## Chapter 2. Records {#records}

### Measure 2.1. Keeping records {#keeping-records}

Providers keep records of training runs for ten years, and show them to the Office on request.

### Measure 2.2. Reporting incidents {#reporting-incidents}

Providers report serious incidents within five working days.
"""


def test_journey_3_drafter_reviews_exports_publishes_and_compares(live_server, new_page, check_page, tmp_path):
    slug = unique("journey-code")
    first = tmp_path / "v1.md"
    first.write_text(
        NEXT_DRAFT.replace("ten years", "five years").replace(
            "### Measure 2.2. Reporting incidents {#reporting-incidents}\n\nProviders report serious incidents within "
            "five working days.\n",
            "",
        ),
        encoding="utf-8",
    )
    live_server.flask("import-draft", str(first), "--document", slug, "--label", "First draft")
    version1 = f"/documents/{slug}/versions/1"

    civil_email, civil_password = create_participant(live_server, "civil-society", unique("Civil"))
    civil = new_page()
    sign_in(civil, live_server, civil_email, civil_password)
    civil_receipt = post_comment(
        civil,
        live_server,
        "keeping-records",
        "Five years is too short for records.",
        wording="Providers keep records of training runs for ten years.",
        kind="concern",
        version=version1,
    )
    industry_email, industry_password = create_participant(live_server, "industry", unique("Industry"))
    industry = new_page()
    sign_in(industry, live_server, industry_email, industry_password)
    industry_receipt = post_comment(
        industry, live_server, "scope", "The scope is clear.", kind="support", version=version1
    )

    drafter = new_page(accept_downloads=True)
    sign_in(drafter, live_server, *live_server.accounts["drafter"])
    drafter.goto(live_server.url + version1)
    follow(drafter.get_by_role("link", name="Review comments"))
    check_page(drafter, "review-workspace")
    drafter.locator(".filters-panel > summary").click()  # the filters fold under the results' heading
    drafter.get_by_label("Stakeholder group").select_option("civil-society")
    follow(drafter.get_by_role("button", name="Apply", exact=True))
    assert "group=civil-society" in drafter.url
    table = drafter.locator("table.review-table")
    assert civil_receipt in table.inner_text() and industry_receipt not in table.inner_text()
    check_page(drafter, "review-workspace-filtered")

    follow(table.get_by_role("link", name=f"Respond {civil_receipt}"))
    check_page(drafter, "review-comment")
    drafter.get_by_label("Disposition", exact=True).select_option("accepted")
    drafter.get_by_label("Response to the stakeholder").fill("Agreed: the next draft keeps records for ten years.")
    follow(drafter.get_by_role("button", name="Save the disposition"))
    assert drafter.get_by_role("status").first.is_visible()

    drafter.goto(live_server.url + version1 + "/review")
    row = drafter.get_by_role("row").filter(has_text=industry_receipt)
    follow(row.get_by_role("link", name=re.compile("^Respond")))
    drafter.get_by_label("Disposition", exact=True).select_option("noted")
    follow(drafter.get_by_role("button", name="Save the disposition"))

    drafter.goto(live_server.url + version1 + "/review")
    with drafter.expect_download() as download_info:
        drafter.get_by_role("link", name="CSV (spreadsheet)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    text = "\n".join(",".join(r) for r in rows)
    assert civil_receipt in text and industry_receipt in text
    assert "Agreed: the next draft keeps records for ten years." in text and "Accepted" in text

    # The next version, through the browser: paste, preview, publish.
    drafter.goto(f"{live_server.url}/documents/{slug}")
    check_page(drafter, "document-as-drafter", picture=False)
    follow(drafter.get_by_role("link", name="Publish the next version"))
    check_page(drafter, "publish-form")
    drafter.get_by_label("Version label").fill("Second draft")
    drafter.get_by_label("Draft text (Markdown)").fill(NEXT_DRAFT)
    follow(drafter.get_by_role("button", name="Preview the clauses"))
    expect(drafter.get_by_role("heading", name="Preview: 4 clauses")).to_be_visible()
    check_page(drafter, "publish-preview")
    follow(drafter.get_by_role("button", name="Publish this version"))
    expect(drafter.get_by_role("status").filter(has_text="Published Second draft with 4 clauses")).to_be_visible()
    assert re.search(rf"/documents/{slug}/versions/2$", drafter.url)
    check_page(drafter, "published-version", picture=False)

    follow(drafter.get_by_role("link", name="Review and correct the lineage of this version"))
    check_page(drafter, "lineage-review")
    assert drafter.get_by_role("row").filter(has_text="Measure 2.1").first.is_visible()
    follow(drafter.get_by_role("link", name=re.compile("^Redline from First draft to Second draft")))
    check_page(drafter, "redline")
    assert drafter.locator("ins").filter(has_text="ten").first.is_visible()
    assert drafter.locator("del").filter(has_text="five").first.is_visible()
    drafter.get_by_label("Layout").select_option("side")
    follow(drafter.get_by_role("button", name="Show"))
    check_page(drafter, "redline-side-by-side")

    civil.goto(live_server.url + "/my/contributions")
    row = civil.get_by_role("row").filter(has_text=civil_receipt)
    assert "Accepted" in row.inner_text()
    assert "Agreed: the next draft keeps records for ten years." in row.inner_text()
    check_page(civil, "my-contributions-with-disposition")


def made_up_word() -> str:
    """A pronounceable word no draft contains, so that a search for it finds only this journey's comments."""
    letters = "".join(random.choice("bdfgklmprstvz") + random.choice("aeiou") for _ in range(4))
    return f"zor{letters}an"


def test_journey_4_search_stems_and_respects_confidentiality(live_server, new_page, check_page):
    word = made_up_word()
    author_email, author_password = create_participant(live_server, "civil-society", unique("Searcher"))
    author = new_page()
    sign_in(author, live_server, author_email, author_password)
    post_comment(author, live_server, "measure-i-2-1", f"Independent auditors are {word}ing the documentation.")
    author_comment = comment_id_from(author)
    secret = made_up_word()
    post_comment(
        author,
        live_server,
        "measure-i-2-2",
        f"Our internal sign-off {secret} is confidential.",
        visibility="confidential",
    )

    # "…ed" finds "…ing": both stem to the same word.
    author.locator("header").get_by_label("Search clauses and comments").fill(f"{word}ed")
    follow(author.locator("header").get_by_role("button", name="Search"))
    check_page(author, "search-results")
    expect(author.locator("#results-title")).to_have_text("1 result")
    results = author.locator("ol.card-list")
    expect(results.locator(f"a[href$='/comments/{author_comment}']")).to_have_count(1)
    expect(results).to_contain_text(f"{word}ing")
    author.goto(f"{live_server.url}/search?q={secret}")
    expect(author.locator("#results-title")).to_have_text("1 result")  # the author finds her confidential comment

    other_email, other_password = create_participant(live_server, "industry", unique("Other"))
    other = new_page()
    sign_in(other, live_server, other_email, other_password)
    other.goto(f"{live_server.url}/search?q={secret}")
    expect(other.locator("#results-title")).to_have_text("0 results")
    expect(other.get_by_text("Nothing matches")).to_be_visible()
    expect(other.locator("main ol.card-list")).to_have_count(0)
    check_page(other, "search-no-results")
    other.goto(f"{live_server.url}/search?q={word}")
    expect(other.locator("#results-title")).to_have_text("1 result")  # the public comment, for everyone


# --- journey 5: journey 1 with the keyboard alone -------------------------------------------------------------

FOCUS_STYLE = r"""() => {
  const el = document.activeElement, s = getComputedStyle(el);
  const text = el.innerText || el.value || el.getAttribute('aria-label') || '';
  return {tag: el.tagName, text: text.replace(/\s+/g, ' ').trim().slice(0, 80),
          id: el.id, outline: s.outlineStyle, outlineWidth: s.outlineWidth, shadow: s.boxShadow};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUS_STYLE)


def assert_focus_visible(page) -> None:
    f = focused(page)
    visible = (f["outline"] != "none" and f["outlineWidth"] not in ("0px", "")) or f["shadow"] not in ("none", "")
    assert visible, f"no visible focus on {f}"


def tab_to(page, match, limit: int = 400, backwards: bool = False) -> dict:
    """Press Tab until the focused element matches: a callable on the focus info, or the exact text or id."""
    test = match if callable(match) else (lambda f: f["text"] == match or f["id"] == match)
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        f = focused(page)
        if test(f):
            return f
    raise AssertionError(f"Tab never reached {match!r}; last focus {focused(page)}")


def type_into(page, field_id: str, text: str) -> None:
    tab_to(page, field_id)
    page.keyboard.type(text)


def keyboard_sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/")
    tab_to(page, "Sign in")
    follow(page, key="Enter")
    page.wait_for_url("**/auth/sign-in**")
    type_into(page, "email", email)
    type_into(page, "password", password)
    tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Sign in")
    follow(page, key="Enter")
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_journey_5_journey_1_by_keyboard_alone(live_server, new_page, check_page):
    name, email, password = unique("Keyboard Person"), f"{unique('kbd')}@journeys.example", strong_password()
    visitor = new_page()
    visitor.goto(live_server.url + "/")
    tab_to(visitor, "Sign in")
    assert_focus_visible(visitor)
    follow(visitor, key="Enter")
    tab_to(visitor, "Register to take part")
    assert_focus_visible(visitor)
    follow(visitor, key="Enter")
    visitor.wait_for_url("**/auth/register")
    type_into(visitor, "email", email)
    assert_focus_visible(visitor)
    type_into(visitor, "display_name", name)
    type_into(visitor, "password", password)
    type_into(visitor, "password_confirm", password)
    tab_to(visitor, "stakeholder_group")
    visitor.keyboard.type("Civil")
    assert visitor.locator("#stakeholder_group").input_value() == "civil-society"
    type_into(visitor, "organisation", "Keyboard Rights Network")
    tab_to(visitor, "consent")
    assert_focus_visible(visitor)
    visitor.keyboard.press("Space")
    assert visitor.locator("#consent").is_checked()
    tab_to(visitor, "Create account")
    assert_focus_visible(visitor)
    follow(visitor, key="Enter")
    expect(visitor.get_by_role("heading", level=1, name="Check your email")).to_be_visible()

    moderator = new_page()
    keyboard_sign_in(moderator, live_server, *live_server.accounts["moderator"])
    tab_to(moderator, "Moderation")
    follow(moderator, key="Enter")
    moderator.wait_for_url("**/moderation/")
    tab_to(moderator, "Pending registrations")
    follow(moderator, key="Enter")
    moderator.wait_for_url("**/moderation/registrations")
    tab_to(moderator, f"Approve {name}")
    assert_focus_visible(moderator)
    follow(moderator, key="Enter")
    moderator.wait_for_load_state("load")
    expect(moderator.get_by_text(f"{name}'s account is approved")).to_be_visible()

    participant = new_page()
    keyboard_sign_in(participant, live_server, email, password)
    tab_to(participant, DOC_TITLE)
    follow(participant, key="Enter")
    participant.wait_for_url(f"**{DOC}")
    tab_to(participant, "Second draft")
    follow(participant, key="Enter")
    participant.wait_for_url(f"**{OPEN_VERSION}")
    tab_to(participant, "Open this clause II.2.2")
    assert_focus_visible(participant)
    follow(participant, key="Enter")
    participant.wait_for_url("**/clauses/measure-ii-2-2")
    tab_to(participant, "type")
    participant.keyboard.type("Sugg")
    assert participant.locator("#type").input_value() == "suggestion"
    type_into(participant, "body", "Requests should get an acknowledgement within two working days.")
    assert_focus_visible(participant)
    type_into(participant, "proposed_wording", "Signatories acknowledge each request within two working days.")
    tab_to(participant, "Send my comment")
    assert_focus_visible(participant)
    follow(participant, key="Enter")
    participant.wait_for_load_state("load")
    expect(participant.get_by_role("heading", level=1, name="Comment received")).to_be_visible()
    receipt = participant.locator(".receipt strong").inner_text()
    tab_to(participant, "All my contributions")
    assert_focus_visible(participant)
    follow(participant, key="Enter")
    participant.wait_for_url("**/my/contributions")
    expect(participant.get_by_role("row").filter(has_text=receipt)).to_be_visible()
    check_page(participant, "my-contributions-keyboard", picture=False)
