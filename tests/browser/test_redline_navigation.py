"""The redline as a stakeholder reads it: the contents of changes, previous and next change links, the lineage
review, and the real third draft -> final Safety and Security chapter (with pictures for reviewers)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DOC, SCREENSHOTS, follow, sign_in
from tests.conftest import SHARED_DATA, require

pytestmark = pytest.mark.browser

REAL = "gpai-safety"
OLD = SHARED_DATA / "gpai-cop" / "v3-third-draft-2025-03-11_3-safety-security.md"
NEW = SHARED_DATA / "gpai-cop" / "v4-final-2025-07-10_3-safety-security.md"


def in_view(page, anchor: str) -> bool:
    """Whether the element with this id is scrolled into the viewport."""
    return page.evaluate(
        """(id) => { const r = document.getElementById(id).getBoundingClientRect();
      return r.top >= -2 && r.top < window.innerHeight; }""",
        anchor,
    )


def test_contents_of_changes_and_previous_next_links(live_server, page):
    page.goto(f"{live_server.url}{DOC}/redline?from=1&to=2")
    contents = page.get_by_role("navigation", name="Contents of changes")
    expect(contents).to_be_visible()
    entries = contents.locator(".redline-contents__entries a")
    assert entries.count() >= 2
    second = entries.nth(1)
    anchor = second.get_attribute("href").lstrip("#")
    second.click()
    page.wait_for_function("(id) => location.hash === '#' + id", arg=anchor)
    assert in_view(page, anchor)
    section = page.locator(f"#{anchor}")
    previous = section.get_by_role("link", name="Previous change")
    before = previous.get_attribute("href").lstrip("#")
    previous.click()
    page.wait_for_function("(id) => location.hash === '#' + id", arg=before)
    assert in_view(page, before)
    following = page.locator(f"#{before}").get_by_role("link", name="Next change")
    assert following.get_attribute("href") == f"#{anchor}"
    following.click()
    page.wait_for_function("(id) => location.hash === '#' + id", arg=anchor)
    # "Changes only" folds unchanged clauses into one link that leads back to them in the full redline.
    follow(contents.get_by_role("link", name="Show changes only"))
    collapsed = page.locator(".redline-collapsed a")
    if collapsed.count():
        expect(collapsed.first).to_contain_text("unchanged clause")


def test_redline_and_lineage_pages_have_no_axe_violations(live_server, page, check_page):
    page.goto(f"{live_server.url}{DOC}/redline?from=1&to=2")
    check_page(page, "redline-demo", picture=False)
    page.goto(f"{live_server.url}{DOC}/redline?from=1&to=2&changes=1")
    check_page(page, "redline-demo-changes-only", picture=False)
    sign_in(page, live_server, *live_server.accounts["drafter"])
    page.goto(f"{live_server.url}{DOC}/versions/2/lineage")
    check_page(page, "lineage-demo", picture=False)


@pytest.fixture(scope="module")
def real_pair(live_server):
    """The third draft and the final chapter, imported as a drafter would from the command line."""
    require(OLD.exists() and NEW.exists(), "../shared/data/gpai-cop is not present")
    live_server.flask("import-draft", str(OLD), "--document", REAL, "--label", "Third draft")
    live_server.flask("import-draft", str(NEW), "--document", REAL, "--label", "Final version")
    return f"/documents/{REAL}"


def shoot(page, name: str, selector: str | None = None) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if selector:
        page.locator(selector).first.scroll_into_view_if_needed()
        page.evaluate("(s) => document.querySelector(s).scrollIntoView()", selector)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_real_redline_reads_as_rendered_text_and_navigates(live_server, page, check_page, real_pair):
    page.goto(f"{live_server.url}{real_pair}/redline?from=1&to=2")
    check_page(page, "redline-real", picture=False)
    shoot(page, "redline-real-top")
    # Rendered text: no quote marks or heading hashes in the changes, boxes render as quotes.
    changed = page.evaluate("""() => [...document.querySelectorAll('main .redline ins, main .redline del')]
      .filter(el => !el.closest('pre')).map(el => el.textContent).join('\\n')""")
    assert "####" not in changed and "**" not in changed
    split = page.locator(".redline-clause--split").first
    expect(split).to_contain_text("Split:")
    shoot(page, "redline-real-split", ".redline-clause--split")
    expect(page.locator(".redline-clause--removed").first).to_be_visible()
    shoot(page, "redline-real-removed", ".redline-clause--removed")
    # The summary counts continuing clauses whose number changed as renumbered.
    renumbered = int(page.locator("table.summary-table tbody td").nth(3).inner_text())
    assert renumbered > 30
    page.goto(f"{live_server.url}{real_pair}/redline?from=1&to=2&changes=1")
    check_page(page, "redline-real-changes-only", picture=False)


def test_real_lineage_review_lists_least_confident_first(live_server, page, check_page, real_pair):
    sign_in(page, live_server, *live_server.accounts["drafter"])
    page.goto(f"{live_server.url}{real_pair}/versions/2/lineage")
    check_page(page, "lineage-real", picture=False)
    values = page.locator(".lineage-table .confidence").all_inner_texts()
    numbers = [int(v.strip(" %")) for v in values]
    assert numbers == sorted(numbers) and len(numbers) > 30
    shoot(page, "lineage-real-review")


@pytest.mark.parametrize("width", [320, 768, 1024, 1200, 1280, 1440, 1920])
def test_margin_numbers_never_overlap_the_contents(live_server, new_page, real_pair, width):
    page = new_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}{real_pair}/versions/2")
    overlaps = page.evaluate("""() => {
      const toc = document.querySelector('.toc-panel');
      if (!toc) return [];
      const t = toc.getBoundingClientRect();
      return [...document.querySelectorAll('.clause__number')].filter(el => {
        const r = el.getBoundingClientRect();
        return r.width && r.left < t.right && r.right > t.left && r.top < t.bottom + window.scrollY && r.bottom > t.top;
      }).map(el => el.textContent);
    }""")
    assert overlaps == [], (width, overlaps[:5])
