"""Accessibility and security in the browser: announced form errors, narrow screens and zoom, redlines without
colour, landmarks, and the CSP (with proof that a violation would be caught)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DOC, OPEN_VERSION, follow, sign_in

pytestmark = pytest.mark.browser

CIVIL = "civil@demo.consult.example"
CLAUSE = OPEN_VERSION + "/clauses/measure-ii-2-2"

# (who, path): the main pages of the journeys, as the person who uses them.
MAIN_PAGES = [
    (None, "/"),
    (None, DOC),
    (None, OPEN_VERSION),
    (None, CLAUSE),
    (None, DOC + "/redline?from=1&to=2"),
    (None, DOC + "/redline?from=1&to=2&view=side"),
    (None, OPEN_VERSION + "/clauses/measure-ii-2-2/history"),
    (None, DOC + "/versions/1/feedback"),
    (None, DOC + "/versions/1/comments"),
    (None, "/search?q=documentation"),
    (None, "/auth/sign-in"),
    (None, "/auth/register"),
    (CIVIL, CLAUSE),
    (CIVIL, "/my/contributions"),
    ("drafter", OPEN_VERSION + "/review"),
    ("drafter", OPEN_VERSION + "/review/balance"),
    ("drafter", OPEN_VERSION + "/lineage"),
    ("drafter", DOC + "/versions/new"),
    ("moderator", "/moderation/"),
    ("moderator", "/moderation/registrations"),
    ("moderator", "/moderation/reports"),
]

LAYOUTS = {
    "phone-320px": {"viewport": {"width": 320, "height": 700}},
    # 1280 css px at 200% zoom: a 640 css px viewport drawn with two device pixels per css pixel.
    "zoom-200pc": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}


def _name(who, path):
    return f"{who or 'public'}{path}".replace("/", "-").replace("?", "-").replace("&", "-").replace("=", "-")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_main_pages_reflow_without_horizontal_scrolling(live_server, new_page, check_page, layout):
    pages, too_wide = {}, []
    for who, path in MAIN_PAGES:
        if who not in pages:
            pages[who] = new_page(**LAYOUTS[layout])
            if who:
                sign_in(pages[who], live_server, *live_server.accounts[who])
        page = pages[who]
        page.goto(live_server.url + path)
        assert page.document_response.ok, f"{path}: {page.document_response.status}"
        overflow = page.evaluate("""() => {
          const doc = document.documentElement, wide = [];
          if (doc.scrollWidth > window.innerWidth + 1) {
            for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.right > window.innerWidth + 1 && !el.closest('.table-scroll, .visually-hidden, .skip-link'))
                wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
            }
          }
          return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, wide: wide.slice(0, 8)};
        }""")
        if overflow["scrollWidth"] > overflow["innerWidth"] + 1:
            too_wide.append(f"{who or 'public'} {path}: {overflow}")
        if layout == "phone-320px":
            check_page(page, f"{layout}{_name(who, path)}")
    assert too_wide == [], f"horizontal scrolling at {layout}:\n" + "\n".join(too_wide)


def test_empty_comment_is_refused_with_an_announced_error_summary(live_server, page, check_page):
    sign_in(page, live_server, *live_server.accounts["academic@demo.consult.example"])
    page.goto(live_server.url + CLAUSE)
    follow(page.get_by_role("button", name="Send my comment"))
    assert page.document_response.status == 400
    summary = page.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    link = summary.get_by_role("link", name="Your comment: Write your comment.")
    expect(link).to_have_attribute("href", "#body")
    body = page.get_by_label("Your comment")
    described = (body.get_attribute("aria-describedby") or "").split()
    assert "body-error" in described and "body-hint" in described
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#body-error")).to_contain_text("Write your comment.")
    assert page.get_by_role("alert").count() == 1
    check_page(page, "comment-form-error")
    link.click()
    assert page.evaluate("document.activeElement.id") == "body"


def test_redlines_are_readable_without_colour(live_server, page):
    for view in ("inline", "side"):
        page.goto(f"{live_server.url}{DOC}/redline?from=1&to=2&view={view}")
        styles = page.evaluate("""() => ['ins', 'del'].map(tag => {
          const el = document.querySelector('main ' + tag);
          return el && getComputedStyle(el).textDecorationLine;
        })""")
        assert styles == ["underline", "line-through"], (view, styles)
    expect(page.get_by_text("Insertions are underlined, deletions are struck through.")).to_be_visible()


def test_every_page_has_one_h1_landmarks_and_a_skip_link(live_server, page):
    for _who, path in MAIN_PAGES:
        if _who:
            continue
        page.goto(live_server.url + path)
        assert page.locator("h1").count() == 1, path
        for role in ("banner", "main", "contentinfo"):
            assert page.get_by_role(role).count() == 1, (path, role)
        expect(page.get_by_role("navigation", name="Main")).to_have_count(1)
        expect(page.locator("a.skip-link")).to_have_attribute("href", "#main")


def test_pages_keep_working_under_the_csp_and_a_violation_would_be_caught(live_server, page):
    response = page.goto(live_server.url + CLAUSE)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert page.csp_violations == []
    # The same listener that watches every journey page reports an inline script the policy blocks.
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                             document.body.append(s); }""")
    for _ in range(20):
        if page.csp_violations:
            break
        page.wait_for_timeout(50)
    assert page.csp_violations and "script-src" in page.csp_violations[0]
    assert page.evaluate("window.ran") is None
