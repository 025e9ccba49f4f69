"""Journeys of the consultation lifecycle and notifications, in Chromium against the real server."""

import email
import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
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


def outbox_messages(live_server, to: str, wait: float = 10.0) -> list:
    """The mails written for `to` in the live server's outbox (sent after the response, so poll a little)."""
    folder = Path(live_server.env["CONSULT_INSTANCE_PATH"]) / "outbox"
    deadline = time.monotonic() + wait
    while True:
        found = (
            [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.is_dir() else []
        )
        found = [m for m in found if m["To"] == to]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def text_part(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()


def test_drafter_schedules_extends_and_closes_a_window(live_server, new_page, check_page):
    drafter = new_page()
    sign_in(drafter, live_server, *live_server.accounts["drafter"])
    drafter.goto(live_server.url + OPEN_VERSION)
    follow(drafter.get_by_role("link", name="Settings: label and consultation window"))
    check_page(drafter, "version-settings")
    expect(drafter.get_by_text("Times are in UTC")).to_be_visible()
    drafter.get_by_label("Closes on (date)").fill("2031-06-30")
    drafter.get_by_label("Closes at (time, UTC)").fill("17:00")
    follow(drafter.get_by_role("button", name="Save"))
    expect(drafter.get_by_role("status").filter(has_text="settings are saved")).to_be_visible()
    expect(drafter.get_by_text("Open until 30 June 2031, 17:00 UTC")).to_be_visible()

    drafter.get_by_label("Number of days").fill("7")
    follow(drafter.get_by_role("button", name="Extend the consultation"))
    expect(drafter.get_by_role("status").filter(has_text="2031-07-07 17:00 UTC")).to_be_visible()

    follow(drafter.get_by_role("link", name="Close the consultation now"))
    check_page(drafter, "version-close-confirm")
    follow(drafter.get_by_role("button", name="Close the consultation now"))
    expect(drafter.get_by_role("status").filter(has_text="is closed")).to_be_visible()
    drafter.goto(live_server.url + OPEN_VERSION)
    expect(drafter.locator(".status--closed").first).to_be_visible()

    # Open it again for the other journeys, from the same page.
    drafter.goto(live_server.url + OPEN_VERSION + "/settings")
    drafter.get_by_label("Number of days").fill("60")
    follow(drafter.get_by_role("button", name="Open the consultation for comments"))
    expect(drafter.get_by_role("status").filter(has_text="open again")).to_be_visible()
    # The document page shows the open version's deadline prominently.
    drafter.goto(live_server.url + OPEN_VERSION.rsplit("/versions", 1)[0])
    expect(drafter.locator(".panel--deadline")).to_contain_text("comments close on")
    follow(drafter.get_by_role("link", name="Settings: title, summary, landing text and windows"))
    check_page(drafter, "document-settings")
    drafter.get_by_label("Summary").fill("The transparency chapter, open for comments.")
    follow(drafter.get_by_role("button", name="Save"))
    expect(drafter.get_by_role("status").filter(has_text="settings are saved")).to_be_visible()


def test_participant_follows_gets_receipt_and_reply_switches_to_weekly_and_unsubscribes(
    live_server, new_page, check_page
):
    email_a, password_a = create_participant(live_server, "civil-society", unique("Follower"))
    person = new_page()
    sign_in(person, live_server, email_a, password_a)
    person.goto(f"{live_server.url}{OPEN_VERSION}/clauses/measure-i-1-2")
    follow(person.get_by_role("button", name="Follow this clause"))
    expect(person.get_by_role("button", name="Following: stop")).to_be_visible()
    receipt = post_comment(person, live_server, "measure-i-1-2", "Please say who may read the records.")
    comment_id = comment_id_from(person)

    [mail] = outbox_messages(live_server, email_a)
    assert receipt in mail["Subject"] and mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = text_part(mail)
    assert "Please say who may read the records." in body and f"/comments/{comment_id}" in body
    assert {p.get_content_type() for p in mail.walk()} >= {"text/plain", "text/html"}

    # Someone replies; the on-site list shows it, unread.
    email_b, password_b = create_participant(live_server, "academia", unique("Replier"))
    other = new_page()
    sign_in(other, live_server, email_b, password_b)
    other.goto(f"{live_server.url}/comments/{comment_id}")
    reply = other.locator("#reply")
    reply.get_by_label("Your comment").fill("The auditors should, at least.")
    follow(reply.get_by_role("button", name="Send my reply"))

    deadline = time.monotonic() + 10
    while True:  # the reply notice is made just after the reply's response
        person.goto(live_server.url + "/my/notifications")
        if person.get_by_text("A reply to your comment").count() or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    check_page(person, "my-notifications")
    expect(person.locator(".notification--unread").filter(has_text="A reply to your comment")).to_be_visible()

    # Replies in a weekly digest from now on.
    person.locator("fieldset").filter(has_text="Replies to my comments").get_by_label("In a weekly digest").check()
    follow(person.get_by_role("button", name="Save my choices"))
    expect(person.get_by_role("status").filter(has_text="choices are saved")).to_be_visible()
    expect(
        person.locator("fieldset").filter(has_text="Replies to my comments").get_by_label("In a weekly digest")
    ).to_be_checked()

    # The receipt mail's unsubscribe link works without signing in.
    url = re.search(r"<([^>]+)>", mail["List-Unsubscribe"]).group(1)
    path = "/my/" + url.split("/my/", 1)[1]
    stranger = new_page()
    stranger.goto(live_server.url + path)
    check_page(stranger, "unsubscribe-confirm")
    follow(stranger.get_by_role("button", name="Stop these mails"))
    expect(stranger.get_by_role("status").filter(has_text="no more mails")).to_be_visible()
    person.goto(live_server.url + "/my/notifications")
    expect(
        person.locator("fieldset").filter(has_text="Receipt of each comment").get_by_label("Never by mail")
    ).to_be_checked()
    follow(person.get_by_role("link", name="My details and data"))
    check_page(person, "my-profile")
    follow(person.get_by_role("link", name="Close my account"))
    check_page(person, "my-close-account")


def test_a_suspended_user_sees_why(live_server, new_page, check_page):
    email_s, password_s = f"{unique('s')}@journeys.example", strong_password()
    created = json.loads(
        live_server.flask(
            "create-user",
            email_s,
            "--role",
            "participant",
            "--name",
            unique("Suspended"),
            "--password-stdin",
            stdin=password_s + "\n",
        ).stdout
    )
    moderator = new_page()
    sign_in(moderator, live_server, *live_server.accounts["moderator"])
    moderator.goto(f"{live_server.url}/moderation/users/{created['id']}/suspend")
    moderator.get_by_label("Reason").fill("Posting the same advertisement on every clause")
    follow(moderator.get_by_role("button", name="Suspend the account"))

    person = new_page()
    person.goto(live_server.url + "/auth/sign-in")
    person.get_by_label("Email address").fill(email_s)
    person.get_by_label("Password", exact=True).fill(password_s)
    follow(person.locator("main").get_by_role("button", name="Sign in"))
    check_page(person, "sign-in-suspended")
    expect(person.get_by_role("alert")).to_contain_text("Your account is suspended")
    expect(person.get_by_role("alert")).to_contain_text("Posting the same advertisement on every clause")
