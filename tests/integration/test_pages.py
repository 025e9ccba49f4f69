"""The reading pages, the publishing flow and the JSON API, through the test client with CSRF on."""

import re
from datetime import timedelta
from html.parser import HTMLParser

from consult.extensions import db
from consult.models import Clause, Document, Version, utcnow
from tests.factories import csrf_token, make_user, publish, sign_in


def test_csrf_is_on_in_tests(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


def test_home_lists_documents_with_latest_version_status_and_clause_count(client):
    publish(label="First draft", opens_at=utcnow() - timedelta(days=9), closes_at=utcnow() - timedelta(days=1))
    publish(label="Second draft", opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=5))
    html = client.get("/").get_data(as_text=True)
    assert "Sample Code" in html and "Second draft" in html and "First draft" not in html
    assert "Open until" in html and "UTC</time>" in html
    assert "6 clauses" in html


def test_home_empty_state(client):
    assert "No document is under consultation yet" in client.get("/").get_data(as_text=True)


def test_document_page_lists_versions_with_windows(client):
    publish(label="First draft", opens_at=utcnow() + timedelta(days=3))
    html = client.get("/documents/sample-code").get_data(as_text=True)
    assert "First draft" in html and "Upcoming" in html
    assert "<caption>" in html and 'scope="col"' in html


def test_version_page_has_toc_anchors_and_clause_links(client):
    publish()
    html = client.get("/documents/sample-code/versions/1").get_data(as_text=True)
    for key in ("preamble", "chapter-i", "commitment-i-1", "measure-i-1-1", "measure-i-1-2", "chapter-ii"):
        assert f'id="{key}"' in html and f'href="#{key}"' in html
        assert f'href="/documents/sample-code/versions/1/clauses/{key}"' in html
    assert "Records are kept for ten years." in html


def test_clause_page_shows_breadcrumb_neighbours_and_comment_place(client):
    publish()
    html = client.get("/documents/sample-code/versions/1/clauses/measure-i-1-1").get_data(as_text=True)
    assert "<h1" in html and "Measure I.1.1. Content of records" in html
    crumbs = html[html.index('class="breadcrumbs"') : html.index("</nav>", html.index('class="breadcrumbs"'))]
    assert "Chapter I. Scope" in crumbs and "Commitment I.1. Keeping records" in crumbs
    assert 'rel="prev" href="/documents/sample-code/versions/1/clauses/commitment-i-1"' in html
    assert 'rel="next" href="/documents/sample-code/versions/1/clauses/measure-i-1-2"' in html
    assert 'id="comments-title"' in html


def test_unknown_things_are_404(client):
    publish()
    for path in (
        "/documents/nope",
        "/documents/sample-code/versions/9",
        "/documents/sample-code/versions/1/clauses/nope",
    ):
        assert client.get(path).status_code == 404


def test_api_shapes(client):
    publish(closes_at=utcnow() + timedelta(days=2))
    documents = client.get("/api/documents").get_json()
    assert documents["documents"][0]["slug"] == "sample-code"
    assert documents["documents"][0]["versions"][0]["status"] == "open"
    document = client.get("/api/documents/sample-code").get_json()
    version = document["versions"][0]
    assert set(version) >= {"number", "label", "status", "opens_at", "closes_at"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", version["closes_at"])
    clauses = client.get("/api/documents/sample-code/versions/1/clauses").get_json()["clauses"]
    assert [c["key"] for c in clauses][:3] == ["preamble", "chapter-i", "commitment-i-1"]
    measure = next(c for c in clauses if c["key"] == "measure-i-1-1")
    assert measure["parent_key"] == "commitment-i-1" and measure["number"] == "I.1.1"
    assert set(measure) >= {"key", "number", "heading", "body", "parent_key", "position", "lineage_id"}


def test_api_unknown_is_json_404(client):
    for path in ("/api/documents/nope", "/api/documents/nope/versions/1/clauses"):
        response = client.get(path)
        assert response.status_code == 404 and "error" in response.get_json()


def test_security_headers_on_pages(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for part in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_no_inline_scripts_or_handlers(client):
    publish()
    for path in ("/", "/documents/sample-code", "/documents/sample-code/versions/1", "/auth/sign-in"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"\son[a-z]+=", html)


# --- publishing in the browser -------------------------------------------------------------------------


def _publish_form(client, path, **fields):
    data = {
        "csrf_token": csrf_token(client, path),
        "slug": "",
        "title": "",
        "label": "",
        "opens_at": "",
        "closes_at": "",
        "markdown": "",
    }
    data.update(fields)
    return client.post(path, data=data)


def test_participant_cannot_reach_publishing(client):
    user = make_user("participant")
    sign_in(client, user.email)
    assert client.get("/documents/new").status_code == 403


def test_anonymous_cannot_publish(client):
    assert client.get("/documents/new").status_code in (302, 403)


def test_drafter_previews_then_confirms(client):
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    text = "# Pasted Code\n\n## Part 1 {#part-one}\n\nFirst.\n\n### Sub\n\nSecond.\n"
    preview = _publish_form(client, "/documents/new", slug="pasted", label="First draft", markdown=text)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Preview: 2 clauses" in html and "part-one" in html and "Sub" in html  # no invented number (it was "1.1")
    assert db.session.scalar(db.select(db.func.count(Document.id))) == 0  # nothing saved before confirming
    done = _publish_form(client, "/documents/new", slug="pasted", label="First draft", markdown=text, confirm="y")
    assert done.status_code == 302 and done.headers["Location"].endswith("/documents/pasted/versions/1")
    version = db.session.scalar(db.select(Version))
    assert version.document.title == "Pasted Code" and version.clause_count == 2
    assert version.published_by_id == drafter.id


def test_drafter_uploads_a_file_for_the_next_version(client):
    from io import BytesIO

    publish()
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    path = "/documents/sample-code/versions/new"
    data = {
        "csrf_token": csrf_token(client, path),
        "label": "Second draft",
        "markdown": "",
        "upload": (BytesIO(b"## Only clause\n\nText.\n"), "draft.md"),
        "confirm": "y",
    }
    response = client.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.max(Version.number))) == 2


def test_publish_errors_keep_the_text_and_name_the_line(client):
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    text = "## One {#same}\n\nA\n\n## Two {#same}\n\nB unique-words-kept\n"
    response = _publish_form(client, "/documents/new", slug="dup", markdown=text, closes_at="soon", confirm="y")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'role="alert"' in html and "unique-words-kept" in html
    assert "Consultation closes: enter a date like 31/03/2027" in html and "closes_at:" not in html
    assert db.session.scalar(db.select(db.func.count(Document.id))) == 0
    response = _publish_form(client, "/documents/new", slug="dup", markdown=text, confirm="y")
    assert response.status_code == 400 and "Line 5" in response.get_data(as_text=True)
    assert 'aria-describedby="markdown-hint markdown-error"' in response.get_data(as_text=True)


def test_publish_without_csrf_is_refused(client):
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    response = client.post("/documents/new", data={"slug": "x", "markdown": "## A\n\nB\n", "confirm": "y"})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Document.id))) == 0


HOSTILE = """# <script>alert('title')</script>

## Clause <img src=x onerror=alert(1)>

<script>alert('body')</script>
<iframe src="https://evil.example"></iframe>
[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)
<a href="https://ok.example" onclick="alert(2)">ok</a>
<div onmouseover="alert(3)" style="background:url(javascript:alert(4))">x</div>
"""


class TagCollector(HTMLParser):
    """Collects the real elements of a page (escaped text is not an element)."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_hostile_markdown_never_reaches_a_page_unescaped(client):
    publish(slug="hostile", text=HOSTILE)
    key = db.session.scalar(db.select(Clause.key).where(Clause.position == 0))
    paths = ("/", "/documents/hostile", "/documents/hostile/versions/1", f"/documents/hostile/versions/1/clauses/{key}")
    for path in paths:
        parser = TagCollector()
        parser.feed(client.get(path).get_data(as_text=True))
        for tag, attrs in parser.tags:
            assert tag not in ("script", "iframe"), (path, tag)
            assert "style" not in attrs, (path, tag, attrs)
            assert not (tag == "img" and attrs.get("src") != "/static/favicon.svg"), (path, attrs)
            assert not any(name.startswith("on") for name in attrs), (path, tag, attrs)
            assert not any(str(v).strip().lower().startswith(("javascript:", "data:")) for v in attrs.values())
    body = client.get("/documents/hostile/versions/1").get_data(as_text=True)
    assert 'href="https://ok.example" rel="nofollow noopener"' in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body  # the heading's text is shown, escaped


def test_next_version_preview_shows_the_proposed_matching(client):
    from tests.integration.test_publish_lineage import NEXT_DRAFT

    publish()
    drafter = make_user("drafter")
    sign_in(client, drafter.email)
    response = _publish_form(client, "/documents/sample-code/versions/new", markdown=NEXT_DRAFT, label="Second")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    table = html[html.index("How the clauses continue the previous version") :]
    assert "Measure I.1.2. Retention" in table and "Nothing: a new clause" in table
    assert db.session.scalar(db.select(db.func.count(Version.id))) == 1
