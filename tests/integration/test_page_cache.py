"""The version page's cached text (consult/fragments.py) and the clause page's paginated threads.

The cache must never be the reason a reader sees something stale or someone else's view: every test here loads a
page once (filling the cache), changes what the page shows, and loads it again.
"""

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event

from consult.extensions import db
from consult.models import Clause, Comment, utcnow
from consult.services import comments as comment_service
from consult.services import lifecycle
from consult.services import moderation as moderation_service
from tests.factories import make_user, publish, sign_in

VERSION = "/documents/sample-code/versions/1"
CLAUSE = VERSION + "/clauses/measure-i-1-1"


def open_version():
    return publish(opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10))


def clause_of(version, key="measure-i-1-1"):
    return next(c for c in version.clauses if c.key == key)


def comment(clause, author, body, *, visibility="public", parent=None):
    return comment_service.post_comment(
        author=author,
        clause=clause,
        type_="remark",
        body=body,
        visibility=visibility,
        stance=None,
        proposed_wording=None,
        parent=parent,
    )


def counts_line(html, key):
    """The "N comments" part of one clause's section on the version page."""
    section = html[html.index(f'id="{key}"') :]
    section = section[: section.index("</section>")]
    return re.sub(r"\s+", " ", section[section.index('class="clause__links"') :])


def statements_of(app, client, path):
    found = []
    listener = lambda *args: found.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(found)


def test_counts_update_behind_the_cached_text(app, client):
    version = open_version()
    author = make_user()
    assert "no comments yet" in counts_line(client.get(VERSION).get_data(as_text=True), "measure-i-1-1")
    comment(clause_of(version), author, "First remark.")
    assert "1 comment" in counts_line(client.get(VERSION).get_data(as_text=True), "measure-i-1-1")
    comment(clause_of(version), author, "Second remark.")
    line = counts_line(client.get(VERSION).get_data(as_text=True), "measure-i-1-1")
    assert "2 comments" in line and "Other: 2" in line
    assert list(Path(app.config["PAGE_CACHE_DIR"]).glob("*.json")), "the text was stored for the other workers"


def test_the_cached_text_is_the_text_and_the_page_is_complete(app, client):
    open_version()
    first = client.get(VERSION).get_data(as_text=True)
    second = client.get(VERSION).get_data(as_text=True)  # from the cache
    app.extensions.pop("consult_fragments")
    third = client.get(VERSION).get_data(as_text=True)  # from the file another worker would read
    strip = lambda html: re.sub(r'name="(csrf_token|submission_token)"[^>]*>', "", html)  # noqa: E731
    assert strip(first) == strip(second) == strip(third)
    for text in (
        "Records are kept for ten years.",
        "Measure I.1.2. Retention",
        'href="#measure-i-1-2"',
        'href="/documents/sample-code/versions/1/clauses/measure-i-1-2"',
        "Open this clause",
    ):
        assert text in first


def test_a_hidden_comment_disappears_from_the_clause_page(app, client):
    version = open_version()
    target = comment(clause_of(version), make_user(), "Text the moderators will hide.")
    client.get(VERSION)
    assert "Text the moderators will hide." in client.get(CLAUSE).get_data(as_text=True)
    moderation_service.hide_comment(make_user("moderator"), target, "Off-topic.")
    html = client.get(CLAUSE).get_data(as_text=True)
    assert "Text the moderators will hide." not in html and "This comment was hidden by a moderator." in html
    assert "1 comment" in counts_line(client.get(VERSION).get_data(as_text=True), "measure-i-1-1")  # as a placeholder


def test_a_label_and_window_change_show_at_once(app, client):
    version = open_version()
    assert "Open until" in client.get(VERSION).get_data(as_text=True)
    lifecycle.set_window(
        version,
        make_user("drafter"),
        label="Renamed draft",
        opens_at=version.opens_at,
        closes_at=utcnow() - timedelta(minutes=1),
        close_previous=False,
    )
    html = client.get(VERSION).get_data(as_text=True)
    assert "Renamed draft" in html and "Closed" in html


def test_french_and_english_are_never_mixed(app, client):
    open_version()
    english = client.get(VERSION, headers={"Accept-Language": "en"}).get_data(as_text=True)
    french = client.get(VERSION, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    again = client.get(VERSION, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Open this clause" in english and "Contents" in english and "Ouvrir cette clause" not in english
    assert "Ouvrir cette clause" in french and "Sommaire" in french and "Open this clause" not in french
    assert "Open this clause" in again and "Ouvrir cette clause" not in again


def test_a_drafters_view_is_never_served_to_the_public(app, client):
    version = open_version()
    participant = make_user()
    comment(clause_of(version), participant, "Open remark.")
    comment(clause_of(version), participant, "Secret remark.", visibility="confidential")
    comment_service.add_question(clause_of(version), make_user("drafter"), "Is ten years right?")
    drafter = app.test_client()
    sign_in(drafter, make_user("drafter").email)
    staff_html = drafter.get(VERSION).get_data(as_text=True)  # fills the cache first, as a drafter
    assert "2 comments" in counts_line(staff_html, "measure-i-1-1") and "Review comments" in staff_html
    public_html = client.get(VERSION).get_data(as_text=True)
    assert "1 comment" in counts_line(public_html, "measure-i-1-1")
    assert "2 comments" not in public_html and "Review comments" not in public_html
    assert "Is ten years right?" in public_html and "open question" in public_html
    # What is stored is the text alone: no count, question, link or name that depends on the viewer.
    stored = "".join(p.read_text() for p in Path(app.config["PAGE_CACHE_DIR"]).glob("*.json"))
    for private in (
        "Review comments",
        "Is ten years right?",
        "open question",
        "csrf_token",
        "Sign out",
        "Other: ",
        "no comments yet",
        participant.display_name,
    ):
        assert private not in stored, private


def test_a_lineage_correction_shows_although_the_text_is_cached(app, client):
    publish()
    version = publish(
        text=Path("tests/integration/test_publish_lineage.py").read_text().split('NEXT_DRAFT = """')[1].split('"""')[0]
    )
    path = f"/documents/sample-code/versions/{version.number}"
    client.get(path)
    clause = db.session.scalar(db.select(Clause).where(Clause.version_id == version.id, Clause.position == 1))
    clause.lineage_status = "added"  # as a drafter's relink does (services/lineage.py)
    db.session.commit()
    section = client.get(path).get_data(as_text=True)
    section = section[section.index(f'id="{clause.key}"') :]
    assert "change-note--added" in section[: section.index("</section>")]


def test_version_page_statements_do_not_grow_with_comments(app):
    version = open_version()
    users = [make_user(group=g) for g in ("civil-society", "academia")]
    client = app.test_client()
    statements_of(app, client, VERSION)  # the first request renders and stores the text
    few = statements_of(app, client, VERSION)
    db.session.execute(
        db.insert(Comment),
        [
            {
                "clause_id": c.id,
                "version_id": version.id,
                "author_id": users[i % 2].id,
                "type": "remark",
                "visibility": "public",
                "body": f"Bulk {i}",
                "body_html": f"<p>Bulk {i}</p>",
                "author_group": users[i % 2].stakeholder_group,
                "receipt": comment_service.new_receipt(),
                "status": "visible",
                "depth": 0,
                "endorsement_count": 0,
                "created_at": utcnow(),
            }
            for i in range(200)
            for c in [version.clauses[i % len(version.clauses)]]
        ],
    )
    db.session.commit()
    many = statements_of(app, client, VERSION)
    assert many == few, (few, many)
    assert many <= 8  # document, version, general comments (2), counts, questions, cache key, newer version


def test_clause_threads_are_paginated_and_every_comment_is_reachable(app):
    app.config["CONSULT_PAGE_SIZE"] = 10
    version = open_version()
    author = make_user()
    clause = clause_of(version)
    tops = [comment(clause, author, f"Top comment number {i}.") for i in range(25)]
    reply = comment(clause, author, "A reply on the oldest thread.", parent=tops[0])
    comment(clause, author, "A reply to the reply.", parent=reply)
    client = app.test_client()
    seen, path, pages = set(), CLAUSE + "?sort=oldest", 0
    while path:
        html = client.get(path).get_data(as_text=True)
        pages += 1
        seen |= set(re.findall(r'id="comment-(\d+)"', html))
        nav = html[html.index('aria-label="Pages of comments"') :]
        nxt = re.search(r'<a rel="next" href="([^"]+)"', nav[: nav.index("</nav>")])
        path = nxt.group(1).replace("&amp;", "&") if nxt else None
        if path:
            assert "sort=oldest" in path and path.endswith("#comments")
            path = path.split("#")[0]
    assert pages == 3
    assert seen == {str(c.id) for c in tops} | {str(reply.id), str(reply.id + 1)}
    first = client.get(CLAUSE + "?sort=oldest").get_data(as_text=True)
    assert "A reply to the reply." in first and "Showing 1 to 10 of 25" in first
    assert (
        'href="/documents/sample-code/versions/1/clauses/measure-i-1-1?sort=oldest&amp;page=3#comments"' in first
        or re.search(r'href="[^"]*page=3[^"]*"', first)
    )
    last = client.get(CLAUSE + "?page=99").get_data(as_text=True)  # past the end: the last page
    assert "Page 3 of 3" in last


def test_clause_page_statements_do_not_grow_with_threads(app):
    version = open_version()
    author = make_user()
    clause = clause_of(version)
    client = app.test_client()
    for i in range(3):
        comment(clause, author, f"Early {i}.")
    statements_of(app, client, CLAUSE)  # the first clause page of a process also reads the outline, once
    few = statements_of(app, client, CLAUSE)
    for i in range(60):
        parent = comment(clause, author, f"Later {i}.")
        if i % 10 == 0:
            comment(clause, author, f"Reply {i}.", parent=parent)
    many = statements_of(app, client, CLAUSE)
    assert many == few, (few, many)
    # document, version, clause; threads counted with the stances, the page, its replies; questions; earlier
    # comments (3); the analysis summary; the newer-version check
    assert many <= 12, many
