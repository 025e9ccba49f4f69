"""A drafter's Word journey in Chromium: publish a .docx draft, publish a changed one, download the redline as Word
and read it with pandoc."""

import re

import pytest
from docx import Document
from playwright.sync_api import expect

from tests.browser.conftest import follow, sign_in, unique
from tests.word_helpers import need_pandoc, pandoc_text

pytestmark = pytest.mark.browser


def word_draft(tmp_path, name: str, changed: bool) -> str:
    """A small draft written with Word's heading styles."""
    document = Document()
    document.add_paragraph("Code of Practice on Model Cards", style="Title")
    document.add_heading("Commitment 1 Documentation", level=1)
    document.add_paragraph("Signatories document each general-purpose AI model they place on the market.")
    document.add_heading("Measure 1.1 Model cards", level=2)
    document.add_paragraph(
        "Signatories publish a model card "
        + ("at least two weeks before" if changed else "before")
        + " the model is placed on the market."
    )
    document.add_heading("Measure 1.2 Updates", level=2)
    document.add_paragraph("Signatories update the card when the model changes.")
    path = tmp_path / name
    document.save(str(path))
    return str(path)


def test_drafter_publishes_word_drafts_and_downloads_the_redline_as_word(live_server, new_page, check_page, tmp_path):
    need_pandoc()
    slug = unique("model-cards")
    drafter = new_page(accept_downloads=True)
    sign_in(drafter, live_server, *live_server.accounts["drafter"])
    for number, changed in ((1, False), (2, True)):
        path = "/documents/new" if number == 1 else f"/documents/{slug}/versions/new"
        drafter.goto(live_server.url + path)
        if number == 1:
            drafter.get_by_label("Document slug (used in addresses)").fill(slug)
        drafter.get_by_label("Version label").fill(f"Draft {number}")
        drafter.get_by_label("Or upload a Markdown or Word (.docx) file").set_input_files(
            word_draft(tmp_path, f"draft-{number}.docx", changed)
        )
        follow(drafter.get_by_role("button", name="Preview the clauses"))
        expect(drafter.get_by_role("heading", name="Preview: 3 clauses")).to_be_visible()
        expect(drafter.get_by_text("Converted from your Word file")).to_be_visible()
        check_page(drafter, f"publish-word-preview-{number}")
        follow(drafter.get_by_role("button", name="Publish this version"))
        published = drafter.get_by_role("status").filter(has_text=f"Published Draft {number} with 3 clauses")
        expect(published).to_be_visible()
    assert re.search(rf"/documents/{slug}/versions/2$", drafter.url)
    check_page(drafter, "published-word-version", picture=False)
    with drafter.expect_download() as download_info:
        drafter.get_by_role("link", name="the changes since the previous version as Word, with tracked changes").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"{slug}-redline-1-to-2-")
    data = download.path().read_bytes()
    accepted = pandoc_text(data, tmp_path, "accept")
    assert "Signatories publish a model card at least two weeks before the model is placed on the market." in accepted
    assert "a model card before the model" in pandoc_text(data, tmp_path, "reject")
    with drafter.expect_download() as download_info:
        drafter.get_by_role("link", name="the Word file it was published from").click()
    assert download_info.value.suggested_filename == f"{slug}-version-2-source.docx"
    assert download_info.value.path().read_bytes()[:2] == b"PK"
