"""A drafter's analysis desk: the three real dockets imported as comments, campaigns and themes, one disposition for a
campaign, the exported table."""

import csv
import io

import pytest

from tests.browser.conftest import sign_in, unique

pytestmark = pytest.mark.browser

DOCKETS = ("EPA-R06-OAR-2020-0510-0001.csv", "EPA-HQ-OLEM-2019-0361-0001.csv", "EPA-HQ-OPP-2017-0433-0001.csv")
COLUMNS = (
    "external_id",
    "received_at",
    "clause",
    "author_name",
    "organisation",
    "group",
    "type",
    "stance",
    "visibility",
    "body",
    "proposed_wording",
    "channel",
)
DRAFT = """# Air code

## Measure 1. Permits {#permits}

Permits limit emissions.

## Measure 2. Chemicals {#chemicals}

Chemicals are assessed together.
"""


def test_drafter_imports_three_dockets_and_works_through_campaigns_and_themes(
    live_server, new_page, check_page, shared_data, tmp_path
):
    slug = unique("air-code")
    draft = tmp_path / "draft.md"
    draft.write_text(DRAFT, encoding="utf-8")
    live_server.flask("import-draft", str(draft), "--document", slug, "--opens", "2026-01-01T00:00:00Z")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    groups = ("civil-society", "other", "industry", "academia")
    for d, name in enumerate(DOCKETS):
        text = (shared_data / "regulations-gov-comments" / name).read_text(encoding="utf-8")
        for i, row in enumerate(csv.DictReader(io.StringIO(text))):
            clause = "permits" if d == 0 else ("chemicals" if d == 2 else "")
            writer.writerow(
                [
                    row["name"] + f"-{d}",
                    "2026-02-01T12:00:00Z",
                    clause,
                    "",
                    "",
                    groups[i % 4],
                    "remark",
                    "oppose",
                    "confidential" if i % 10 == 0 else "public",
                    row["text"],
                    "",
                    "regulations.gov",
                ]
            )
    path = tmp_path / "dockets.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = live_server.flask("import-comments", str(path), "--document", slug, "--version", "1")
    assert '"imported": 721' in result.stdout
    live_server.flask("analysis", "refresh", "--document", slug, "--version", "1")

    drafter = new_page(accept_downloads=True)
    sign_in(drafter, live_server, *live_server.accounts["drafter"])
    base = f"{live_server.url}/documents/{slug}/versions/1/review"
    drafter.goto(base)
    drafter.get_by_role("link", name="Campaigns").first.click()
    check_page(drafter, "analysis-campaigns")
    drafter.locator("#campaigns a").first.click()
    check_page(drafter, "analysis-campaign")
    drafter.select_option("#status", "noted")
    drafter.fill("#response", "Thank you: your letter was read and weighed with every other.")
    drafter.get_by_role("button", name="Apply to the whole campaign").click()
    assert "marked" in drafter.locator(".flash, .panel, [role=status]").first.inner_text()
    drafter.get_by_role("link", name="Themes").first.click()
    check_page(drafter, "analysis-themes")
    drafter.locator("#themes h2 a").first.click()
    check_page(drafter, "analysis-theme")
    drafter.get_by_role("link", name="Summaries").first.click()
    check_page(drafter, "analysis-summaries")
    drafter.goto(base + "/balance?count=positions")
    check_page(drafter, "analysis-balance-positions", picture=False)
    drafter.goto(base)
    with drafter.expect_download() as download:
        drafter.get_by_role("link", name="CSV (spreadsheet)").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.count("Thank you: your letter was read") >= 2
    assert "Theme" in text.splitlines()[0]
