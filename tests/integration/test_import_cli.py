"""import-draft, create-user and demo-data through the command line."""

import json

import pytest

from consult.extensions import db
from consult.models import Clause, Document, User, Version
from tests.factories import SAMPLE_DRAFT


def counts():
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (Document, Version, Clause))


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_import_prints_one_json_line_and_creates_then_versions(app, tmp_path):
    draft = tmp_path / "d.md"
    draft.write_text(SAMPLE_DRAFT, encoding="utf-8")
    first = run(app, "import-draft", str(draft), "--document", "sample", "--label", "First draft")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1]) == {"document": "sample", "version": 1, "clauses": 6}
    second = run(app, "import-draft", str(draft), "--document", "sample")
    assert json.loads(second.stdout.strip().splitlines()[-1])["version"] == 2
    document = db.session.scalar(db.select(Document).where(Document.slug == "sample"))
    assert document.title == "Sample Code"
    assert [v.label for v in document.versions] == ["First draft", "Version 2"]


def test_import_sets_window_from_iso_dates(app, tmp_path):
    draft = tmp_path / "d.md"
    draft.write_text(SAMPLE_DRAFT, encoding="utf-8")
    result = run(
        app,
        "import-draft",
        str(draft),
        "--document",
        "w",
        "--opens",
        "2026-01-01T00:00:00Z",
        "--closes",
        "2026-02-01T12:30:00+01:00",
    )
    assert result.exit_code == 0, result.output
    version = db.session.scalar(db.select(Version))
    assert version.opens_at.isoformat() == "2026-01-01T00:00:00+00:00"
    assert version.closes_at.isoformat() == "2026-02-01T11:30:00+00:00"


BAD_INPUTS = {
    "no-headings": (b"# Title only\n\nJust a paragraph.\n", [], "no clause headings"),
    "empty": (b"", [], "empty"),
    "not-utf8": (b"## Clause\n\nBody \xff\xfe here\n", [], "line 3"),
    "duplicate-keys": (b"## One {#same}\n\nA\n\n## Two {#same}\n\nB\n", [], "line 5"),
    "bad-date": (b"## One\n\nA\n", ["--opens", "next tuesday"], "ISO 8601"),
    "closes-before-opens": (
        b"## One\n\nA\n",
        ["--opens", "2026-05-01T00:00:00Z", "--closes", "2026-04-01T00:00:00Z"],
        "close after",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_malformed_import_exits_2_names_the_problem_and_writes_nothing(app, tmp_path, case):
    content, extra, expected = BAD_INPUTS[case]
    (tmp_path / "ok.md").write_text(SAMPLE_DRAFT, encoding="utf-8")
    assert run(app, "import-draft", str(tmp_path / "ok.md"), "--document", "existing").exit_code == 0
    before = counts()
    bad = tmp_path / f"{case}.md"
    bad.write_bytes(content)
    for slug in ("existing", "brand-new"):
        result = run(app, "import-draft", str(bad), "--document", slug, *extra)
        assert result.exit_code == 2, result.output
        assert expected in result.stderr
        assert result.stdout == ""
        db.session.expire_all()
        assert counts() == before


def test_oversized_file_is_refused(app, tmp_path):
    big = tmp_path / "big.md"
    big.write_bytes(b"## One\n\n" + b"word " * (1024 * 1024 + 10))
    result = run(app, "import-draft", str(big), "--document", "big")
    assert result.exit_code == 2
    assert "5 MB" in result.stderr
    assert counts() == (0, 0, 0)


def test_real_third_draft_imports_without_loss(app, shared_data):
    import re

    source = shared_data / "gpai-cop" / "v3-third-draft-2025-03-11_3-safety-security.md"
    result = run(app, "import-draft", str(source), "--document", "safety-security", "--label", "Third draft")
    assert result.exit_code == 0, result.output
    text = source.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if re.match(r"#{2,6} ", line)]
    clauses = db.session.scalars(db.select(Clause).order_by(Clause.position)).all()
    assert len(clauses) == len(headings) == json.loads(result.stdout)["clauses"]
    words = re.findall(r"\w+", re.sub(r"(?m)^#{1,6} ", "", text))
    assert [w for c in clauses for w in re.findall(r"\w+", c.heading + "\n" + c.body)] == words


def test_create_user_reads_password_from_stdin_and_makes_an_active_account(app):
    result = run(
        app,
        "create-user",
        "First.Admin@Example.org",
        "--role",
        "admin",
        "--name",
        "First Admin",
        "--password-stdin",
        input="correct horse battery staple 42\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User))
    assert (user.email, user.role, user.status, user.stakeholder_group) == (
        "first.admin@example.org",
        "admin",
        "active",
        "other",
    )
    assert user.password_hash.startswith("scrypt:") and user.check_password("correct horse battery staple 42")


def test_create_user_refuses_a_weak_password(app):
    result = run(app, "create-user", "a@example.org", "--role", "admin", "--password-stdin", input="password1234\n")
    assert result.exit_code == 2
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_demo_data_loads_once_with_random_passwords(app):
    first = run(app, "demo-data")
    assert first.exit_code == 0, first.output
    assert counts()[1] == 2
    assert db.session.scalar(db.select(db.func.count(User.id))) >= 4
    roles = set(db.session.scalars(db.select(User.role)))
    assert roles == {"participant", "drafter", "moderator", "admin"}
    versions = db.session.scalars(db.select(Version).order_by(Version.number)).all()
    assert [v.status() for v in versions] == ["closed", "open"]
    second = run(app, "demo-data")
    assert second.exit_code == 2
    assert counts()[1] == 2


def test_an_imported_draft_is_findable_when_the_command_returns(app, tmp_path):
    from consult.models import SearchOutbox

    draft = tmp_path / "d.md"
    draft.write_text(SAMPLE_DRAFT, encoding="utf-8")
    result = run(app, "import-draft", str(draft), "--document", "sample")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(SearchOutbox)) == 0  # applied, not pending
    payload = app.test_client().get("/api/search?q=records").get_json()
    assert payload["total"] > 0
