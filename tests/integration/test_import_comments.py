"""import-comments: submissions from other channels, all rows or none, idempotent on external_id."""

import csv
import io
import json

from consult.extensions import db
from consult.models import Comment, SearchOutbox
from consult.services import review as review_service
from consult.services.review import ReviewFilters
from tests.factories import make_user, publish

HEADER = [
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
]


def write_csv(path, rows, header=HEADER):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def row(external_id, body="We ask for a longer retention period.", clause="measure-i-1-2", **changes):
    values = {
        "external_id": external_id,
        "received_at": "2026-03-01T10:00:00Z",
        "clause": clause,
        "author_name": "Ada Example",
        "organisation": "Example Foundation",
        "group": "civil-society",
        "type": "concern",
        "stance": "support-with-changes",
        "visibility": "public",
        "body": body,
        "proposed_wording": "",
        "channel": "mail",
    }
    values.update(changes)
    return [values[h] for h in HEADER]


def run(app, path, *extra):
    return app.test_cli_runner().invoke(
        args=["import-comments", str(path), "--document", "sample-code", "--version", "1", *extra]
    )


def count():
    return db.session.scalar(db.select(db.func.count(Comment.id)))


def test_import_is_idempotent_and_comments_look_like_any_other(app, tmp_path):
    publish()
    path = write_csv(
        tmp_path / "in.csv",
        [
            row("m-1"),
            row("m-2", clause="I.1.1", body="Records should name the sources."),
            row("m-3", clause="", body="A general remark on the whole code.", visibility="pseudonymous"),
        ],
    )
    first = run(app, path)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout.strip().splitlines()[-1]) == {"imported": 3, "skipped": 0}
    second = run(app, write_csv(tmp_path / "again.csv", [row("m-1"), row("m-4", body="Something new.")]))
    assert json.loads(second.stdout.strip().splitlines()[-1]) == {"imported": 1, "skipped": 1}
    assert count() == 4
    comments = {c.external_id: c for c in db.session.scalars(db.select(Comment))}
    general = comments["m-3"]
    assert general.clause_id is None and general.author_id is None and general.channel == "mail"
    assert comments["m-2"].clause.key == "measure-i-1-1"  # found by number
    assert comments["m-1"].receipt.startswith("CP-") and comments["m-1"].author_display == "Ada Example"
    assert comments["m-1"].created_at.isoformat() == "2026-03-01T10:00:00+00:00"
    # Indexed before the command returned: nothing left in the outbox, and a drafter finds them.
    assert db.session.scalar(db.select(db.func.count()).select_from(SearchOutbox)) == 0
    from consult.search import search

    found = search(make_user("drafter"), "sources")
    assert comments["m-2"].id in {r.comment.id for r in found.items if r.comment is not None}
    # The review and its export treat them like any other comment, general ones included.
    version = general.version
    rows = list(review_service.export_rows(version, ReviewFilters(), make_user("drafter")))
    assert len(rows) == 4
    assert any(r["clause_heading"] == "General comment" and r["comment"] == general.body for r in rows)


def test_one_bad_row_rejects_the_whole_file_with_line_numbers(app, tmp_path):
    publish()
    path = write_csv(
        tmp_path / "bad.csv",
        [
            row("a"),
            row("b", clause="no-such-clause"),
            row("c", body="  "),
            row("d", group="lobby"),
            row("a", body="again"),
            row("e", received_at="yesterday"),
        ],
    )
    result = run(app, path)
    assert result.exit_code == 2
    err = result.stderr
    for line, words in (
        (3, "no-such-clause"),
        (4, "body is empty"),
        (5, "lobby"),
        (6, "repeats line 2"),
        (7, "yesterday"),
    ):
        assert f"line {line}:" in err and words in err, err
    assert "line 2:" not in err
    assert count() == 0


def test_rejects_files_that_are_not_utf8_csv_or_have_unknown_columns(app, tmp_path):
    publish()
    latin = tmp_path / "latin.csv"
    latin.write_bytes(",".join(HEADER).encode() + b"\nx,,,Ren\xe9,,,,,,body,,mail\n")
    result = run(app, latin)
    assert result.exit_code == 2 and "line 2" in result.stderr and "UTF-8" in result.stderr
    odd = write_csv(tmp_path / "odd.csv", [row("x") + ["extra"]], header=HEADER + ["colour"])
    result = run(app, odd)
    assert result.exit_code == 2 and "colour" in result.stderr
    short = tmp_path / "short.csv"
    short.write_text(",".join(HEADER) + "\nonly,three,fields\n", encoding="utf-8")
    assert run(app, short).exit_code == 2
    assert run(app, tmp_path / "missing.csv").exit_code == 2
    assert count() == 0


def test_unknown_version_is_refused(app, tmp_path):
    publish()
    path = write_csv(tmp_path / "in.csv", [row("a")])
    result = app.test_cli_runner().invoke(
        args=["import-comments", str(path), "--document", "sample-code", "--version", "9"]
    )
    assert result.exit_code == 2 and count() == 0


def test_general_comments_are_posted_on_and_shown_with_the_version(app, client):
    from datetime import timedelta

    from consult.models import utcnow
    from tests.factories import csrf_token, sign_in

    publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=5))
    author, other = make_user(), make_user()
    sign_in(client, author.email)
    page = "/documents/sample-code/versions/1"
    token = csrf_token(client, page)
    empty = client.post(
        page + "/general-comments", data={"csrf_token": token, "type": "remark", "body": "", "visibility": "public"}
    )
    assert empty.status_code == 400 and 'role="alert"' in empty.get_data(as_text=True)
    for body, visibility in (("The whole code is too long.", "public"), ("Secret thoughts overall.", "confidential")):
        response = client.post(
            page + "/general-comments",
            data={
                "csrf_token": csrf_token(client, page),
                "type": "remark",
                "body": body,
                "visibility": visibility,
                "submission_token": f"tok-{visibility}",
            },
        )
        assert response.status_code == 302 and "/receipts/" in response.headers["Location"]
    general = db.session.scalars(db.select(Comment).where(Comment.clause_id.is_(None))).all()
    assert len(general) == 2
    html = app.test_client().get(page).get_data(as_text=True)
    assert "The whole code is too long." in html and "Secret thoughts overall." not in html
    assert "Secret thoughts overall." in client.get(page).get_data(as_text=True)
    viewer = app.test_client()
    sign_in(viewer, other.email)
    assert "Secret thoughts overall." not in viewer.get(page).get_data(as_text=True)
    public = next(c for c in general if c.visibility == "public")
    assert client.get(f"/comments/{public.id}").status_code == 200
    assert client.get(f"/receipts/{public.receipt}").status_code == 200


def test_imported_and_general_comments_are_found_by_search_as_their_visibility_allows(app, client):
    from consult import search

    publish()
    path_rows = [
        row("s-1", body="Quarantined harbour seals need quieter waters.", clause=""),
        row("s-2", body="Quarantined orchards deserve a confidential mention.", visibility="confidential"),
    ]
    import tempfile
    from pathlib import Path

    path = write_csv(Path(tempfile.mkdtemp()) / "s.csv", path_rows)
    assert run(app, path).exit_code == 0
    search.drain()
    anonymous = client.get("/api/search?q=quarantined").get_json()
    assert [r["clause_key"] for r in anonymous["results"]] == [None]  # the general, public one only
    staff = app.test_client()
    sign_in_as = make_user("drafter")
    from tests.factories import sign_in

    sign_in(staff, sign_in_as.email)
    assert len(staff.get("/api/search?q=quarantined").get_json()["results"]) == 2
    assert "harbour seals" in staff.get("/search?q=quarantined").get_data(as_text=True)
