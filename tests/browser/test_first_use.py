"""What a first-time user meets, in Chromium at a phone's 375 px and a laptop's 1280 px: the public comments of a
version and their open data, the header and breadcrumb on a phone, counts and open questions, endorsing, bulk
dispositions and wide tables. Each page is checked by axe (0 violations) and pictured in tests/browser/screenshots/.
"""

import re

import pytest

from tests.browser.conftest import DOC, OPEN_VERSION, create_participant, follow, sign_in

pytestmark = pytest.mark.browser

WIDTHS = {"375px": {"width": 375, "height": 812}, "1280px": {"width": 1280, "height": 900}}


@pytest.fixture(params=list(WIDTHS))
def width(request):
    return request.param


def open_page(new_page, live_server, width, who=None):
    page = new_page(viewport=WIDTHS[width])
    if who:
        sign_in(page, live_server, *live_server.accounts[who])
    return page


def test_17_a_visitor_reads_every_public_comment_filters_and_downloads(live_server, new_page, check_page, width):
    page = open_page(new_page, live_server, width)
    page.goto(live_server.url + DOC + "/versions/1")
    follow(page.get_by_role("link", name="All public comments on this version"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Public comments")
    lead = page.locator("#public-count").inner_text()
    assert "public comment" in lead and "confidential comment" in lead and "counted but not shown" in lead
    cards = page.locator("ol.public-comments > li")
    total = cards.count()
    assert total > 0
    assert page.locator("ol.public-comments").get_by_text("Can a provider share the confidential parts").count() == 0
    check_page(page, f"firstuse-17-public-comments-{width}")
    # Filter by a stakeholder group through the GET form: the URL keeps the choice, the count follows it.
    option = page.locator("#f-group option").filter(has_text="Civil society")
    page.locator("#f-group").select_option(option.get_attribute("value"))
    follow(page.get_by_role("button", name="Apply"))
    assert "group=civil-society" in page.url
    expected = int(option.inner_text().rsplit("(", 1)[1].rstrip(")"))
    assert page.locator("ol.public-comments > li").count() == min(expected, 50)
    assert "match" in page.locator("#public-count").inner_text()
    check_page(page, f"firstuse-17-public-comments-filtered-{width}")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    with open(download.value.path(), encoding="utf-8-sig") as fh:
        text = fh.read()
    assert text.splitlines()[0].startswith("id,url,clause_key") and len(text.splitlines()) > 1
    assert page.get_by_role("link", name="Creative Commons Attribution 4.0 International").is_visible()


CLAUSE = OPEN_VERSION + "/clauses/measure-ii-2-2"


def test_1_and_18_header_register_link_folded_menu_and_clause_heading_on_the_first_screen(
    live_server, new_page, check_page, width
):
    page = open_page(new_page, live_server, width)
    page.goto(live_server.url + CLAUSE)
    check_page(page, f"firstuse-18-clause-anonymous-{width}")
    register = page.locator("header").get_by_role("link", name="Register", include_hidden=True)
    if width == "375px":
        assert not register.is_visible()  # folded in the menu
        page.locator(".site-menu__toggle").click()
        assert register.is_visible() and page.get_by_role("searchbox").is_visible()
        page.locator(".site-menu__toggle").click()
        heading = page.locator("h1").bounding_box()
        assert heading["y"] + heading["height"] <= 812 * 0.5, heading  # the heading in the top half of the phone
        crumbs = page.get_by_role("navigation", name="Breadcrumb").bounding_box()
        assert crumbs["height"] < 40, crumbs  # one line: only the way up
    else:
        assert register.is_visible() and not page.locator(".site-menu__toggle").is_visible()
    follow(register) if register.is_visible() else page.goto(live_server.url + "/auth/register")
    assert page.get_by_role("heading", level=1).inner_text() == "Register to take part"


def test_18_staff_header_stays_on_one_line_in_english_and_french(live_server, new_page, check_page, width):
    page = open_page(new_page, live_server, width, who="admin")
    page.goto(live_server.url + OPEN_VERSION)
    one_line = page.locator(".site-name").bounding_box()["height"] + 30
    if width == "1280px":
        assert page.locator(".site-header").bounding_box()["height"] <= one_line
        follow(page.get_by_role("button", name="Français"))
        assert page.locator(".site-header").bounding_box()["height"] <= one_line
        check_page(page, f"firstuse-18-header-admin-french-{width}")
        follow(page.get_by_role("button", name="English"))
    else:
        assert page.locator(".site-header").bounding_box()["height"] <= one_line  # folded
        check_page(page, f"firstuse-18-header-admin-{width}")


def test_3_and_4_counts_agree_and_open_questions_are_flagged_and_answerable(live_server, new_page, check_page, width):
    page = open_page(new_page, live_server, width, who="academic@demo.consult.example")
    page.goto(live_server.url + OPEN_VERSION)
    contents = page.locator("nav.toc-panel")
    assert (
        contents.locator("li", has=page.locator("a[href='#measure-ii-1-3']"))
        .first.get_by_text("open question")
        .is_visible()
    )
    section = page.locator("section#measure-ii-1-3")
    assert section.get_by_text("Question from the drafters:").is_visible()
    answers_link = section.get_by_role("link", name=re.compile(r"\d+ answers? to the drafters' questions?"))
    answers = int(answers_link.inner_text().split()[0])
    comments_text = section.locator(".clause__links").inner_text()
    listed = int(re.search(r"(\d+) comments?", comments_text).group(1)) if "no comments yet" not in comments_text else 0
    check_page(page, f"firstuse-04-version-open-question-{width}")
    follow(section.get_by_role("link", name=re.compile("Answer this question")))
    assert page.locator(".question").first.get_by_text(f"{answers} answer").is_visible()
    assert page.locator("#comments-title").inner_text().endswith(f"({listed})")
    follow(page.locator(".question").first.get_by_role("link", name="Answer this question"))
    assert page.locator("#question_id").input_value() != ""  # the question is chosen in the form
    check_page(page, f"firstuse-04-clause-answer-{width}")


def test_6_endorsing_returns_to_the_comment_on_the_clause_page(live_server, new_page, check_page, width):
    email, password = create_participant(live_server)
    page = new_page(viewport=WIDTHS[width])
    sign_in(page, live_server, email, password)
    page.goto(live_server.url + CLAUSE + "?sort=oldest")
    card = page.locator("article.comment", has=page.get_by_role("button", name="Endorse")).first
    comment_id = card.get_attribute("id")
    follow(card.get_by_role("button", name="Endorse"))
    assert page.url.endswith(f"{CLAUSE}?sort=oldest#{comment_id}")
    assert page.locator(f"#{comment_id}").get_by_role("button", name="Withdraw my endorsement").is_visible()
    check_page(page, f"firstuse-06-endorsed-{width}")
    follow(page.locator(f"#{comment_id}").get_by_role("button", name="Withdraw my endorsement"))
    assert page.url.endswith(f"#{comment_id}")


def _inside(page, locator) -> bool:
    return all(
        box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1
        for box in (locator.nth(i).bounding_box() for i in range(locator.count()))
    )


def test_19_wide_tables_become_cards_on_phones(live_server, new_page, check_page, width):
    page = open_page(new_page, live_server, width, who="civil@demo.consult.example")
    page.goto(live_server.url + "/my/contributions")
    cells = page.locator("table.table--stack td")
    assert cells.count() > 0 and _inside(page, cells)
    status = page.locator("table.table--stack tbody tr").first.locator("td").nth(2)
    assert status.is_visible()
    check_page(page, f"firstuse-19-contributions-{width}")
    page.goto(live_server.url + DOC + "/redline?from=1&to=2")
    cells = page.locator("table.summary-table td")
    assert cells.count() == 10 and _inside(page, cells)  # added … merged, unchanged, words in, words out
    if width == "375px":
        assert (
            "Removed" in cells.nth(1).inner_text()
            or cells.nth(1).evaluate("e => getComputedStyle(e, '::before').content").strip('"') == "Removed"
        )
    screenshot_name = f"firstuse-19-redline-summary-{width}"
    check_page(page, screenshot_name)


def test_10_bulk_disposition_with_nothing_selected_is_summarised_at_the_top(live_server, new_page, check_page, width):
    page = open_page(new_page, live_server, width, who="drafter")
    page.goto(live_server.url + OPEN_VERSION + "/review")
    assert page.locator("table.review-table").is_visible()
    page.locator(".filters-panel > summary").click()
    page.get_by_label("Stakeholder group").select_option("industry")
    follow(page.get_by_role("button", name="Apply", exact=True))
    assert "group=industry" in page.url
    assert page.locator(".chips").get_by_role("link", name=re.compile("Stakeholder group")).is_visible()
    page.get_by_label("Disposition for the selected comments").select_option("noted")
    follow(page.get_by_role("button", name="Apply the disposition"))
    summary = page.get_by_role("alert")
    assert "Select at least one comment." in summary.inner_text()
    box = summary.bounding_box()
    assert box["y"] < WIDTHS[width]["height"]  # on the first screen, where the browser shows the page from
    assert page.url.split("?")[0].endswith("/review") and "group=industry" in page.url
    check_page(page, f"firstuse-10-bulk-error-{width}")
    follow(page.get_by_role("link", name="Select all on this page"))
    boxes = page.locator("input[name=ids]")
    assert boxes.count() > 0 and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    check_page(page, f"firstuse-10-select-all-{width}")


def test_16_moderator_revokes_an_invitation_after_a_confirmation(live_server, new_page, check_page):
    page = open_page(new_page, live_server, "1280px", who="moderator")
    page.goto(live_server.url + "/moderation/invitations")
    email = f"guest-{re.sub(r'[^0-9]', '', page.evaluate('Date.now().toString()'))}@example.org"
    page.get_by_label("Email address (optional)").fill(email)
    follow(page.get_by_role("button", name="Create the invitation"))
    page.goto(live_server.url + "/moderation/invitations")
    row = page.get_by_role("row").filter(has_text=email)
    follow(row.get_by_role("link", name=re.compile("^Revoke")))
    check_page(page, "firstuse-16-revoke-invitation-1280px")
    follow(page.get_by_role("button", name="Revoke the invitation"))
    assert page.get_by_role("row").filter(has_text=email).get_by_text("revoked").is_visible()
    page.goto(live_server.url + "/moderation/audit")
    assert page.get_by_role("cell", name="Invitation revoked").first.is_visible()
    check_page(page, "firstuse-16-audit-1280px")
