"""A visitor reads the demo draft in Chromium: home → document → version → clause, by mouse and by keyboard."""

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_visitor_reads_the_open_draft_down_to_a_clause(live_server, page):
    page.goto(live_server.url + "/")
    assert "Consult" in page.title()
    screenshot(page, "home")
    page.get_by_role("link", name="Transparency Code of Practice for Providers of General-Purpose AI Models").click()
    page.get_by_role("link", name="Second draft", exact=True).click()
    assert page.locator("nav.toc-panel").is_visible()
    screenshot(page, "version")
    page.locator("section.clause").nth(4).get_by_role("link", name="Open this clause").click()
    assert page.locator("h1.clause__heading").is_visible()
    assert page.get_by_role("navigation", name="Breadcrumb").is_visible()
    screenshot(page, "clause")
    assert page.console_errors == []  # no CSP violations or script errors


def test_skip_link_is_first_in_tab_order_and_visible_on_focus(live_server, page):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    box = page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_phone_width_has_no_horizontal_scroll(live_server, browser):
    context = browser.new_context(viewport={"width": 320, "height": 700})
    page = context.new_page()
    page.goto(live_server.url + "/documents/transparency-code/versions/2")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "version-320px")
    context.close()
