"""Word in and out through the command line, the publishing form and the download routes."""

import io
import json
import re
import zipfile
from datetime import timedelta
from io import BytesIO

import pytest
from docx import Document as WordDocument

from consult.drafts.parse import parse_draft
from consult.extensions import db
from consult.models import Clause, Document, Version, utcnow
from consult.services import comments as comment_service
from consult.word.reader import docx_to_markdown
from tests.factories import SAMPLE_DRAFT, csrf_token, make_user, publish, sign_in
from tests.word_helpers import clauses_words, docx_bytes, need_pandoc, pandoc_text, rezip, tree, words

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def counts():
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (Document, Version, Clause))


def small_draft(extra: str = "") -> bytes:
    """A draft as a drafter writes it in Word: Title, Heading 1 and Heading 2 styles."""
    document = WordDocument()
    document.add_paragraph("Word Code", style="Title")
    document.add_heading("Commitment 1 Transparency", level=1)
    document.add_paragraph("Signatories document their models.")
    document.add_heading("Measure 1.1 Model documentation", level=2)
    document.add_paragraph("Signatories keep the documentation for ten years." + extra)
    document.add_heading("Measure 1.2 Updates", level=2)
    document.add_paragraph("Signatories update the documentation.")
    return docx_bytes(document)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


# --- import ----------------------------------------------------------------------------------------------------


def test_import_draft_takes_a_docx_by_its_content_and_keeps_it(app, tmp_path):
    path = tmp_path / "draft-without-extension"
    path.write_bytes(small_draft())
    result = run(app, "import-draft", str(path), "--document", "word-code")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"document": "word-code", "version": 1, "clauses": 3}
    version = db.session.scalar(db.select(Version))
    assert version.document.title == "Word Code"
    assert version.source_docx == path.read_bytes()
    assert version.source_markdown.startswith("# Word Code\n\n## Commitment 1 Transparency")
    assert [c.number for c in version.clauses] == ["1", "1.1", "1.2"]


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("not-a-zip.docx", lambda: b"PK\x03\x04garbage", "not a valid zip"),
        ("no-document.docx", lambda: rezip(small_draft(), drop=("word/document.xml",)), "no word/document.xml"),
        ("protected.docx", lambda: bytes.fromhex("d0cf11e0a1b11ae1") + bytes(2048), "password-protected"),
        ("macros.docm", lambda: rezip(small_draft(), add={"word/vbaProject.bin": b"\x00"}), "macros"),
    ],
)
def test_import_draft_refuses_a_bad_word_file_and_writes_nothing(app, tmp_path, name, make, message):
    path = tmp_path / name
    path.write_bytes(make())
    result = run(app, "import-draft", str(path), "--document", "bad")
    assert result.exit_code == 2
    assert message in result.stderr and str(path) in result.stderr
    assert counts() == (0, 0, 0)


def test_import_draft_refuses_a_zip_bomb(app, tmp_path):
    from tests.word_helpers import zip_bomb

    path = tmp_path / "bomb.docx"
    path.write_bytes(zip_bomb())
    result = run(app, "import-draft", str(path), "--document", "bad")
    assert result.exit_code == 2 and "expands to more than 200 MB" in result.stderr
    assert counts() == (0, 0, 0)


def _form(client, path, **fields):
    data = {
        "csrf_token": csrf_token(client, path),
        "slug": "",
        "title": "",
        "label": "",
        "opens_at": "",
        "closes_at": "",
        "markdown": "",
        "docx_token": "",
    }
    data.update(fields)
    return client.post(path, data=data, content_type="multipart/form-data")


def test_drafter_uploads_a_docx_previews_it_then_publishes_it(client):
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    data = small_draft()
    preview = _form(
        client, "/documents/new", slug="word-code", label="First draft", upload=(BytesIO(data), "draft.docx")
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Preview: 3 clauses" in html and "Measure 1.1 Model documentation" in html
    assert "Converted from your Word file" in html
    assert counts() == (0, 0, 0)
    token = re.search(r'name="docx_token" type="hidden" value="([^"]+)"', html).group(1)
    markdown = re.search(r'<textarea[^>]*name="markdown"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    import html as html_lib

    done = _form(
        client,
        "/documents/new",
        slug="word-code",
        label="First draft",
        docx_token=token,
        markdown=html_lib.unescape(markdown).strip(),
        confirm="y",
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    version = db.session.scalar(db.select(Version))
    assert version.source_docx == data and version.clause_count == 3
    page = client.get("/documents/word-code/versions/1").get_data(as_text=True)
    assert "/documents/word-code/versions/1/source.docx" in page
    source = client.get("/documents/word-code/versions/1/source.docx")
    assert source.status_code == 200 and source.data == data and source.mimetype == DOCX
    participant = make_user("participant")
    client.post("/auth/sign-out", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, participant.email)
    assert "source.docx" not in client.get("/documents/word-code/versions/1").get_data(as_text=True)
    assert client.get("/documents/word-code/versions/1/source.docx").status_code == 403


def test_editing_the_converted_text_publishes_the_text_without_the_word_file(client):
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    preview = _form(client, "/documents/new", slug="edited", upload=(BytesIO(small_draft()), "draft.docx"))
    token = re.search(r'name="docx_token" type="hidden" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    done = _form(
        client,
        "/documents/new",
        slug="edited",
        docx_token=token,
        confirm="y",
        markdown="# Edited\n\n## Only clause\n\nChanged by hand.\n",
    )
    assert done.status_code == 302
    version = db.session.scalar(db.select(Version))
    assert version.source_docx is None and version.clause_count == 1


def test_a_bad_word_upload_keeps_the_form_and_writes_nothing(client):
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    response = _form(
        client,
        "/documents/new",
        slug="bad",
        label="Kept label",
        confirm="y",
        upload=(BytesIO(rezip(small_draft(), add={"word/vbaProject.bin": b"\x00"})), "d.docm"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html and "contains macros" in html and 'value="Kept label"' in html
    assert counts() == (0, 0, 0)


# --- export ----------------------------------------------------------------------------------------------------


def test_version_download_is_linked_named_and_imports_back_to_the_same_clauses(client, app):
    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=30))
    page = client.get("/documents/sample-code/versions/1").get_data(as_text=True)
    assert "/documents/sample-code/versions/1/download.docx" in page
    # Linked at the deployment's address (CONSULT_BASE_URL), as mail links are.
    assert f'href="{app.config["CONSULT_BASE_URL"]}/documents/sample-code/versions/1/download.docx"' in page
    response = client.get("/documents/sample-code/versions/1/download.docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    date = version.published_at.date().isoformat()
    assert f'filename="sample-code-version-1-{date}.docx"' in response.headers["Content-Disposition"]
    again = parse_draft(docx_to_markdown(response.data))
    original = parse_draft(SAMPLE_DRAFT)
    assert again.title == "Sample Code"
    assert tree(again.clauses) == tree(original.clauses)
    assert clauses_words(again.clauses) == clauses_words(original.clauses)
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        xml = archive.read("word/document.xml").decode()
    assert "Consultation open from" in xml and "UTC" in xml and 'w:val="Heading1"' in xml


def test_real_third_draft_to_final_redline_accepts_to_the_final_and_rejects_to_the_third(client, shared_data, tmp_path):
    need_pandoc()
    folder = shared_data / "gpai-cop"
    third = publish(
        slug="safety", text=(folder / "v3-third-draft-2025-03-11_3-safety-security.md").read_text(), label="Third draft"
    )
    final = publish(
        slug="safety", text=(folder / "v4-final-2025-07-10_3-safety-security.md").read_text(), label="Final"
    )
    page = client.get("/documents/safety/redline?from=1&to=2").get_data(as_text=True)
    assert "/documents/safety/redline.docx?from=1&amp;to=2" in page
    response = client.get("/documents/safety/redline.docx?from=1&to=2")
    assert response.status_code == 200 and response.mimetype == DOCX
    assert len(response.data) < 2 * 1024 * 1024
    assert "safety-redline-1-to-2-" in response.headers["Content-Disposition"]
    assert words(pandoc_text(response.data, tmp_path, "accept")) == clauses_words(final.clauses)
    assert words(pandoc_text(response.data, tmp_path, "reject")) == clauses_words(third.clauses)


def test_a_word_draft_and_its_changed_version_give_a_redline_that_accepts_to_the_new_text(client, tmp_path):
    need_pandoc()
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    for n, data in enumerate((small_draft(), small_draft(" Longer periods apply to large models."))):
        path = "/documents/new" if n == 0 else "/documents/word-code/versions/new"
        done = _form(client, path, slug="word-code", confirm="y", upload=(BytesIO(data), "draft.docx"))
        assert done.status_code == 302
    response = client.get("/documents/word-code/redline.docx?from=1&to=2")
    accepted = pandoc_text(response.data, tmp_path, "accept")
    assert "ten years. Longer periods apply to large models." in accepted
    assert "Longer" not in pandoc_text(response.data, tmp_path, "reject")


def test_review_export_docx_follows_the_filters_and_the_rules(client):
    version = publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=30))
    author = make_user("participant")
    clause = next(c for c in version.clauses if c.key == "measure-i-1-2")
    comment_service.post_comment(
        author=author,
        clause=clause,
        type_="concern",
        body="Ten years is too long.",
        visibility="public",
        stance="oppose",
    )
    comment_service.post_comment(author=author, clause=clause, type_="support", body="Fine by us.", visibility="public")
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    page = client.get("/documents/sample-code/versions/1/review?type=concern").get_data(as_text=True)
    assert "/documents/sample-code/versions/1/review/export.docx?type=concern" in page
    response = client.get("/documents/sample-code/versions/1/review/export.docx?type=concern")
    assert response.status_code == 200 and response.mimetype == DOCX
    table = WordDocument(io.BytesIO(response.data)).tables[0]
    cells = [[cell.text for cell in row.cells] for row in table.rows]
    assert cells[0][:3] == ["Clause number", "Clause heading", "Comment receipt"]
    assert len(cells) == 2 and "Ten years is too long." in cells[1]
    assert cells[0][5:8] == ["Type", "Stance", "Comment"] and cells[1][6] == "Oppose"
    anonymous = client.application.test_client()
    assert anonymous.get("/documents/sample-code/versions/1/review/export.docx").status_code == 302


@pytest.mark.parametrize("query", ["from=²&to=1", "from=1&to=99999999999999999999", "from=x"])
def test_redline_docx_refuses_a_version_number_that_is_not_one(client, query):
    publish()
    response = client.get(f"/documents/sample-code/redline.docx?{query}")
    assert response.status_code == 400
