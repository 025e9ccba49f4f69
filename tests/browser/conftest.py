"""A real server (gunicorn on a free port, fresh database) and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
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
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
                              input=stdin, capture_output=True, text=True, check=True)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn with two workers on SQLite in a fresh instance folder, loaded with the demo content."""
    require(chromium_path() is not None, "Debian's chromium is not installed")
    instance = tmp_path_factory.mktemp("live-instance")
    env = dict(os.environ, CONSULT_INSTANCE_PATH=str(instance), DATABASE_URL=f"sqlite:///{instance}/live.db",
               SECRET_KEY="browser-test-secret", PYTHONPATH=str(ROOT))
    server = LiveServer("", {}, env)
    server.flask("db", "upgrade")
    demo = server.flask("demo-data").stdout
    for role, email, password in re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s+(\S+)$", demo, re.M):
        server.accounts.setdefault(role, (email, password))
        server.accounts[email] = (email, password)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                "app:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(server.url + "/", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the live server did not start: " + process.stderr.read().decode()[-2000:])
            time.sleep(0.2)
    yield server
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    require(chromium_path() is not None, "Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Keep a picture of a page for reviewers (tests/browser/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
