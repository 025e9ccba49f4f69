"""Search: query language, visibility for every role, the outbox and its drain, rebuilds, concurrency and the API."""

import json
import os
import re
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from consult import search
from consult.extensions import db
from consult.models import Disposition, SearchOutbox, utcnow
from consult.search import index as search_index
from consult.services import comments as comment_service
from tests.factories import csrf_token, make_user, publish, sign_in

pytestmark = pytest.mark.usefixtures("app")

# Every test runs against each search backend the database allows (PostgreSQL's only on PostgreSQL), so the two
# cannot drift apart; tests of the Whoosh index's own machinery are marked whoosh_internals and run on Whoosh only.
BACKENDS = ["whoosh"] + (["postgres"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])


def whoosh_internals(test):
    test.whoosh_only = True
    return test


def pytest_generate_tests(metafunc):
    if "search_backend" in metafunc.fixturenames:
        backends = ["whoosh"] if getattr(metafunc.function, "whoosh_only", False) else BACKENDS
        metafunc.parametrize("search_backend", backends, indirect=True)


@pytest.fixture(autouse=True)
def search_backend(request, app):
    """The backend this test runs against, set on the app before anything is indexed."""
    app.config["SEARCH_BACKEND"] = request.param
    return request.param


DRAFT = """# Sample Code

Opening words of the sample code.

## Chapter I. Scope

Who the code is for.

### Commitment I.1. Keeping records

Signatories keep records of model evaluations and red-teaming exercises.

#### Measure I.1.1. Content of records

Records list the model's training data sources and the copyright opt-out signals honoured.

#### Measure I.1.2. Retention

Records are kept for ten years under the règlement.

## Chapter II. Reporting

Reports go to the Office.
"""


@pytest.fixture(autouse=True)
def wired(app, search_backend):
    """Wire the blueprint and the drain hook as create_app will, unless it already does."""
    from consult.views import search as search_views

    if "search" not in app.blueprints:
        app.register_blueprint(search_views.bp)
    search.install_drain_hook(app)
    return app


def open_version(slug="sample-code", text=DRAFT):
    version = publish(slug, text, opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=10))
    return version


def clause_of(version, key="measure-i-1-1"):
    return next(c for c in version.clauses if c.key == key)


def post(author, clause, body, *, type_="remark", visibility="public"):
    return comment_service.post_comment(author=author, clause=clause, type_=type_, body=body, visibility=visibility)


def set_status(comment, status):
    comment.status = status
    db.session.commit()  # the session listener queues the comment for the index


def ids(page, kind="comment"):
    return {(i.comment.id if kind == "comment" else i.clause.id) for i in page.items if i.kind == kind}


def api(client, **params):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def client_for(app, user=None):
    client = app.test_client()
    if user is not None:
        sign_in(client, user.email)
    return client


@pytest.fixture
def corpus(app):
    """A version, clauses in the index, and comments of every kind of visibility and state."""
    version = open_version()
    clause = clause_of(version)
    author = make_user("participant", group="academia")
    other = make_user("participant", group="civil-society")
    c = {
        "public": post(
            author, clause, "Model evaluations should include red-teaming by outside experts.", type_="concern"
        ),
        "pseudo": post(
            other,
            clause,
            "Evaluation of copyright opt-out signals needs a shared registry.",
            type_="suggestion",
            visibility="pseudonymous",
        ),
        "confidential": post(
            author, clause, "Confidential zebrafinch evaluations from our quokka.", visibility="confidential"
        ),
        "hidden": post(other, clause, "Hidden zebrafinch evaluations narwhal."),
        "withdrawn": post(author, clause, "Withdrawn zebrafinch evaluations axolotl."),
    }
    set_status(c["hidden"], "hidden")
    set_status(c["withdrawn"], "withdrawn")
    search.drain()
    return {"version": version, "clause": clause, "author": author, "other": other, **c}


# --- the query language ------------------------------------------------------------------------------------------


def test_stemming_finds_other_forms(corpus):
    anon = None
    page = search.search(anon, "evaluation", filters={"kind": "comment"})
    assert corpus["public"].id in ids(page) and corpus["pseudo"].id in ids(page)
    assert ids(search.search(anon, "evaluations")) == ids(search.search(anon, "evaluation")) != set()


def test_phrase_matches_words_in_order_only(corpus):
    assert ids(search.search(None, '"copyright opt-out"')) == {corpus["pseudo"].id}
    assert ids(search.search(None, '"outside experts"')) == {corpus["public"].id}
    assert ids(search.search(None, '"experts outside"')) == set()
    # A longer phrase: word pairs narrow the candidates, positions decide.
    assert ids(search.search(None, '"red-teaming by outside experts"')) == {corpus["public"].id}
    assert ids(search.search(None, '"outside experts red-teaming"')) == set()
    clauses = ids(search.search(None, '"training data sources"'), kind="clause")
    assert clauses == {corpus["clause"].id}


def test_long_phrases_are_checked_by_position_among_many_candidates(corpus):
    # Every word pair of the phrase occurs, but not in this order: positions reject the candidate.
    assert ids(search.search(None, '"outside experts red-teaming"')) == set()
    assert search.search(None, '"outside experts red-teaming"').total == 0
    assert search.search(None, '"red-teaming by outside experts" evaluations').total == 1
    assert search.search(None, '"red-teaming by outside experts" registry').total == 0


def test_phrase_hits_rank_by_how_often_the_phrase_occurs_and_keep_every_reader_rule(corpus):
    once = post(corpus["author"], corpus["clause"], "Shared incident registers help. Nothing else to add.")
    twice = post(
        corpus["other"],
        corpus["clause"],
        "Shared incident registers first; shared incident registers "
        "again, and incident shared registers in another order.",
    )
    secret = post(
        corpus["author"], corpus["clause"], "Shared incident registers, in confidence.", visibility="confidential"
    )
    search.drain()
    phrase = '"shared incident registers"'
    ranked = [r.comment.id for r in search.search(make_user("drafter"), phrase).items]
    assert ranked[0] == twice.id and sorted(ranked) == sorted([once.id, twice.id, secret.id])
    assert ids(search.search(None, phrase)) == {once.id, twice.id}  # the confidential one is not anyone's
    assert ids(search.search(corpus["author"], phrase)) == {once.id, twice.id, secret.id}  # but its author's
    tabs = dict(search.search(None, phrase, filters={"kind": "clause"}).facets["kind"])
    assert tabs == {"comment": 2}  # the kind tabs count both kinds whichever is chosen


def test_boolean_operators(corpus):
    public, pseudo = corpus["public"].id, corpus["pseudo"].id
    assert ids(search.search(None, "evaluations AND registry")) == {pseudo}
    assert ids(search.search(None, "registry OR experts")) == {public, pseudo}
    assert ids(search.search(None, "evaluations NOT registry", filters={"kind": "comment"})) == {public}


def test_prefix_search_uses_unstemmed_words(corpus):
    page = search.search(None, "evaluat*", filters={"kind": "comment"})
    assert {corpus["public"].id, corpus["pseudo"].id} <= ids(page)
    assert "<mark>" in str(page.items[0].snippet)


def test_prefix_finds_words_that_are_their_own_stem_and_the_others(corpus):
    # 'copyright' is its own stem (looked up among the stems); 'registry' is indexed as 'registri' (unstemmed words).
    assert ids(search.search(None, "copyr*")) == ids(search.search(None, "copyright")) == {corpus["pseudo"].id}
    assert ids(search.search(None, "registr*")) == ids(search.search(None, "registry")) == {corpus["pseudo"].id}
    assert ids(search.search(None, "outsid*")) == {corpus["public"].id}


def test_field_filters_in_the_query(corpus):
    assert ids(search.search(None, "evaluations group:academia")) == {corpus["public"].id}
    assert ids(search.search(None, "type:suggestion")) == {corpus["pseudo"].id}
    assert ids(search.search(None, "evaluations stakeholder:civil-society")) == {corpus["pseudo"].id}
    assert ids(search.search(None, "kind:clause records"), kind="comment") == set()
    assert ids(search.search(None, "kind:clause records"), kind="clause")


def test_unknown_fields_are_words_not_a_way_round_pseudonymity(corpus):
    # author_id is stored for the visibility filter but is not a field a reader may name.
    assert ids(search.search(None, f"author_id:{corpus['other'].id}")) == set()


def test_accents_are_folded_both_ways(corpus):
    page = search.search(None, "reglement")
    assert ids(page, kind="clause") == {clause_of(corpus["version"], "measure-i-1-2").id}
    assert "<mark>règlement</mark>" in str(page.items[0].snippet)
    assert ids(search.search(None, "RÈGLEMENT"), kind="clause") == ids(page, kind="clause")
    assert ids(search.search(None, "évaluations"), kind="comment") == ids(
        search.search(None, "evaluations"), kind="comment"
    )


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced quote',
        "AND",
        "NOT",
        ")",
        "(",
        "evaluations AND",
        "OR evaluations",
        "evaluations AND OR registry",
        '"',
        "*",
        "group:",
        "((evaluations",
    ],
)
def test_malformed_queries_get_a_message_not_an_error(corpus, client, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="panel panel--warning"' in html or "result" in html
    data = api(client, q=q)
    assert "total" in data and "results" in data


def test_malformed_query_falls_back_to_its_words(corpus, client):
    data = api(client, q='"copyright opt-out')
    assert "words only" in data["message"]
    assert corpus["pseudo"].id in {r.get("comment_id") for r in data["results"]}
    html = client.get("/search", query_string={"q": "registry AND"}).get_data(as_text=True)
    assert "We could not read your search as written" in html and "registry" in html


def test_sort_by_date_and_pagination(corpus, client):
    clause = corpus["clause"]
    for n in range(25):
        post(corpus["other"], clause, f"Paginated pelican remark number {n}.")
    search.drain()
    data = api(client, q="pelican", sort="newest")
    assert data["total"] == 25 and data["pages"] == 2 and len(data["results"]) == 20
    numbers = [int(re.search(r"number (\d+)", r["snippet"]).group(1)) for r in data["results"]]
    assert numbers == sorted(numbers, reverse=True)
    second = api(client, q="pelican", sort="newest", page=2)
    assert len(second["results"]) == 5
    oldest = api(client, q="pelican", sort="oldest")
    assert re.search(r"number 0\b", oldest["results"][0]["snippet"])
    html = client.get("/search", query_string={"q": "pelican"}).get_data(as_text=True)
    assert "Showing 1 to 20 of 25" in html and 'rel="next"' in html


# --- visibility, for every role ----------------------------------------------------------------------------------

SECRET = ("confidential", "hidden", "withdrawn")


def _role_users(corpus):
    return {
        "anonymous": None,
        "pending": make_user("participant", status="pending"),
        "author": corpus["author"],
        "other participant": corpus["other"],
        "drafter": make_user("drafter"),
        "moderator": make_user("moderator"),
        "admin": make_user("admin"),
    }


EXPECTED = {  # which of the secret comments each role finds
    "anonymous": set(),
    "pending": set(),
    "author": {"confidential"},  # their own confidential one; not their own withdrawn one
    "other participant": set(),
    "drafter": set(SECRET),
    "moderator": set(SECRET),
    "admin": set(SECRET),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_visibility_in_results_snippets_and_facets(app, corpus, role):
    user = _role_users(corpus)[role]
    client = client_for(app, user)
    data = api(client, q="zebrafinch OR evaluations", kind="comment")
    found = {r["comment_id"] for r in data["results"]}
    expected_secret = {corpus[name].id for name in EXPECTED[role]}
    assert found & {corpus[name].id for name in SECRET} == expected_secret
    assert {corpus["public"].id, corpus["pseudo"].id} <= found
    assert data["total"] == 2 + len(expected_secret)
    # Facet counts are over the same filtered set: no trace of what the reader may not see.
    kinds = {f["value"]: f["count"] for f in data["facets"]["kind"]}
    assert kinds["comment"] == 2 + len(expected_secret)
    groups = {f["value"]: f["count"] for f in data["facets"]["group"]}
    assert sum(groups.values()) == 2 + len(expected_secret)
    assert ("disposition" in data["facets"]) == (role in ("drafter", "moderator", "admin"))
    # Snippets: the secret words appear only for those allowed.
    body = client.get("/search", query_string={"q": "zebrafinch"}).get_data(as_text=True)
    for name in SECRET:
        word = {"confidential": "quokka", "hidden": "narwhal", "withdrawn": "axolotl"}[name]
        assert (word in body) == (name in EXPECTED[role]), (role, name)
    only = api(client, q="zebrafinch")
    assert only["total"] == len(expected_secret)
    assert sum(f["count"] for f in only["facets"]["kind"]) == len(expected_secret)


def test_rows_are_checked_again_when_the_index_is_stale(app, corpus, caplog):
    # Hide a comment without draining: the index still says visible, the database says hidden.
    corpus["public"].status = "hidden"
    db.session.commit()
    with caplog.at_level("WARNING"):
        page = search.search(None, "experts")
    assert corpus["public"].id not in ids(page)
    assert "disagree" in caplog.text
    drafter = make_user("drafter")
    assert corpus["public"].id in ids(search.search(drafter, "experts"))


def test_changes_reach_the_index_through_the_outbox(app, corpus):
    comment = corpus["public"]
    assert ids(search.search(None, "experts")) == {comment.id}
    comment_service.withdraw_comment(comment, corpus["author"])
    assert search.status().pending == 1
    assert search.drain() == 1
    assert ids(search.search(None, "experts")) == set()
    drafter = make_user("drafter")
    assert ids(search.search(drafter, "experts")) == {comment.id}
    # A disposition queues the comment: the drafters' facet follows.
    db.session.add(Disposition(comment_id=corpus["pseudo"].id, status="accepted", decided_by_id=drafter.id))
    db.session.commit()
    search.drain()
    page = search.search(drafter, "registry", filters={"disposition": "accepted"})
    assert ids(page) == {corpus["pseudo"].id}
    assert dict(page.facets["disposition"]) == {"accepted": 1}
    assert search.search(None, "registry", filters={"disposition": "rejected"}).total == 1  # not a filter for them


def test_edit_through_the_page_is_drained_after_the_request(app):
    version = open_version()
    author = make_user("participant")
    comment = post(author, clause_of(version), "Original wording about albatross.")
    search.drain()
    client = client_for(app, author)
    path = f"/comments/{comment.id}/edit"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "type": "remark",
            "body": "Rewritten wording about cormorant.",
            "visibility": "public",
            "stance": "",
            "proposed_wording": "",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 0
    assert ids(search.search(None, "cormorant")) == {comment.id}
    assert ids(search.search(None, "albatross")) == set()


# --- the outbox, crashes, rebuilds ---------------------------------------------------------------------------------


@whoosh_internals
def test_outbox_survives_a_crash_between_commit_and_index_write(app, monkeypatch):
    version = open_version()
    search.drain()
    author = make_user("participant")
    comment = post(author, clause_of(version), "Kingfisher observations.")
    from whoosh.writing import SegmentWriter

    real_commit = SegmentWriter.commit

    def crash(self, *args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(SegmentWriter, "commit", crash)
    with pytest.raises(RuntimeError):
        search.drain()
    monkeypatch.setattr(SegmentWriter, "commit", real_commit)
    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 1  # kept: the index has not got it
    assert search.drain() == 1
    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 0
    assert ids(search.search(None, "kingfisher")) == {comment.id}


@whoosh_internals
def test_crash_after_index_commit_reapplies_once(app, monkeypatch):
    version = open_version()
    search.drain()
    comment = post(make_user("participant"), clause_of(version), "Heron observations.")
    from sqlalchemy.orm import Session

    real_commit = Session.commit
    calls = {"n": 0}

    def crash_once(self):
        calls["n"] += 1
        raise RuntimeError("killed before the outbox delete")

    monkeypatch.setattr(Session, "commit", crash_once)
    with pytest.raises(RuntimeError):
        search.drain()
    monkeypatch.setattr(Session, "commit", real_commit)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(SearchOutbox.id))) == 1
    assert search.drain() == 1  # applied again: update_document by uid keeps one document
    ix, _ = search.open_index()
    with ix.searcher() as s:
        assert len(list(s.documents(uid=f"comment:{comment.id}"))) == 1
    assert search.search(None, "heron").total == 1


def test_reindex_gives_the_same_hits(app, corpus, search_backend):
    drafter = make_user("drafter")
    queries = ["evaluations", '"copyright opt-out"', "records", "zebrafinch", "evaluat*"]
    before = {
        q: [
            (i.kind, i.clause.id, i.comment.id if i.comment else None)
            for i in search.search(drafter, q, per_page=50).items
        ]
        for q in queries
    }
    first_gen = search.status().path
    assert search.reindex() > 0
    if search.backend_name() == "whoosh":
        assert search.status().path != first_gen
        assert not Path(first_gen).exists()  # the old generation is removed after the swap
    after = {
        q: [
            (i.kind, i.clause.id, i.comment.id if i.comment else None)
            for i in search.search(drafter, q, per_page=50).items
        ]
        for q in queries
    }
    assert {q: sorted(v) for q, v in before.items()} == {q: sorted(v) for q, v in after.items()}
    assert search.status().pending == 0


def test_a_change_made_during_a_rebuild_waits_for_the_next_drain(app, corpus, search_backend, monkeypatch):
    from consult.search import postgres as search_postgres

    # The change commits after the rebuild has read every row, just before the new index or table is swapped in.
    module, name = (search_postgres, "_swap") if search_backend == "postgres" else (search_index, "swap_generation")
    original, made = getattr(module, name), []

    def change_then_swap(*args, **kwargs):
        made.append(post(corpus["other"], corpus["clause"], "A guillemot arrived mid-rebuild."))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, change_then_swap)
    search.reindex()
    assert made and search.status().pending == 1  # its outbox row was not one the rebuild covered
    assert search.search(None, "guillemot").total == 0
    assert search.drain() == 1
    assert ids(search.search(None, "guillemot")) == {made[0].id}


@whoosh_internals
def test_parallel_rebuild_gives_the_same_hits(app, corpus, monkeypatch):
    drafter = make_user("drafter")
    queries = ["evaluations", '"copyright opt-out"', '"red-teaming by outside experts"', "zebrafinch", "evaluat*"]
    before = {
        q: sorted(
            (i.kind, i.clause.id, i.comment.id if i.comment else None)
            for i in search.search(drafter, q, per_page=50).items
        )
        for q in queries
    }
    monkeypatch.setattr(search_index, "PARALLEL_FROM", 1)  # the two-process writer even for this small corpus
    count = search.reindex()
    assert count == search.status().documents > 0
    after = {
        q: sorted(
            (i.kind, i.clause.id, i.comment.id if i.comment else None)
            for i in search.search(drafter, q, per_page=50).items
        )
        for q in queries
    }
    assert before == after


def assert_rebuilding(client, q="experts"):
    """The search page and the API answer 503 with Retry-After and the friendly message, and nothing else."""
    page = client.get("/search", query_string={"q": q})
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "Search is being rebuilt; try again in a few minutes." in page.get_data(as_text=True)
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.get_json() == {"error": "Search is being rebuilt; try again in a few minutes."}


@whoosh_internals
def test_rebuilt_index_is_saved_with_the_stock_codec(app, corpus, monkeypatch):
    from whoosh import index as whoosh_index
    from whoosh.codec.whoosh3 import W3Codec

    from consult.search import fastpath

    monkeypatch.setattr(fastpath.BatchedRunPool, "RUN_BATCH", 3)  # runs of several batches
    search.reindex(limitmb=0.01)  # a tiny pool: postings spill to many sorted runs on disk, merged back
    ix = whoosh_index.open_dir(search.status().path)
    # The rebuild's writer helpers stay out of the index: a reader needs only Whoosh's own classes.
    assert {type(segment.codec()) for segment in ix._segments()} == {W3Codec}
    assert corpus["public"].id in ids(search.search(None, "experts"))
    assert search.search(make_user("drafter"), '"copyright opt-out"').total > 0


@whoosh_internals
def test_missing_index_is_never_rebuilt_in_a_request_but_by_the_drain(app, client, corpus):
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    assert_rebuilding(client)
    french = client.get("/search?q=experts", headers={"Accept-Language": "fr"})
    assert "La recherche est en cours de reconstruction" in french.get_data(as_text=True)
    root = Path(app.config["SEARCH_INDEX_DIR"])
    assert search_index.current_generation(root) is None  # the requests built nothing
    assert search.status().documents == 0
    # A change meanwhile keeps its outbox row: a successful POST (this sign-in) drains in its request, which may
    # not rebuild, so it leaves the row.
    comment = post(corpus["author"], corpus["clause"], "Ptarmigan remark written while the index was missing.")
    client_for(app, make_user("participant"))
    assert search_index.current_generation(root) is None
    assert search.status().pending >= 1
    search.drain()  # `flask search drain` (make run) or the background drainer: rebuilds, then applies the rest
    assert search.status().pending == 0 and search.status().documents > 0
    assert corpus["public"].id in ids(search.search(None, "experts"))
    assert ids(search.search(None, "ptarmigan")) == {comment.id}
    assert client.get("/search?q=experts").status_code == 200


@whoosh_internals
def test_corrupt_index_answers_503_until_the_drain_rebuilds_it(app, client, corpus):
    gen = Path(search.status().path)
    search_index.forget(gen)
    for f in gen.iterdir():
        f.write_bytes(b"not an index")
    assert_rebuilding(client)
    search.drain()
    assert corpus["public"].id in ids(search.search(None, "experts"))
    # A pointer naming a directory that is not there is rebuilt too.
    (Path(app.config["SEARCH_INDEX_DIR"]) / "CURRENT").write_text("gen-missing")
    assert_rebuilding(client)
    search.drain()
    assert corpus["public"].id in ids(search.search(None, "experts"))


@whoosh_internals
def test_an_index_failing_mid_read_is_read_again_then_marked_for_the_drain_to_rebuild(app, client, corpus, monkeypatch):
    from consult.search import service as search_service

    real = search_service.run_query
    failures = {"n": 0}

    def failing(*args, **kwargs):
        if failures["n"] < failures.get("limit", 0):
            failures["n"] += 1
            raise OSError("segment file vanished")
        return real(*args, **kwargs)

    monkeypatch.setattr(search_service, "run_query", failing)
    failures["limit"] = 1  # once: opened again, and answered
    assert corpus["public"].id in ids(search.search(None, "experts"))
    marker = Path(app.config["SEARCH_INDEX_DIR"]) / search_index.REBUILD_REQUEST
    assert not marker.exists()
    failures.update(n=0, limit=1000)  # again when read again: the request gives up, and asks for a rebuild
    assert_rebuilding(client)
    assert marker.exists()
    failures["limit"] = 0
    before = search.status().path
    search.drain()  # the index opens fine, but a rebuild was asked for
    assert not marker.exists() and search.status().path != before
    assert corpus["public"].id in ids(search.search(None, "experts"))


@whoosh_internals
@pytest.mark.parametrize("role", ["anonymous", "participant", "drafter"])
def test_stepping_and_reading_whole_lists_find_the_same_documents(app, corpus, role):
    from whoosh import query as wq

    from consult.search import query as search_query

    user = {"anonymous": None, "participant": corpus["author"], "drafter": make_user("drafter")}[role]
    for round_ in ("as indexed", "after updates"):
        searcher, _gen = search_index.live_searcher()
        if round_ == "after updates":  # an update deletes the old document: segments now have deletions
            assert any(sub.reader().has_deletions() for sub, _offset in searcher.leaf_searchers())
        for text in [
            "evaluations",
            "zebrafinch",
            '"copyright opt-out"',
            "evaluat*",
            "experts OR narwhal",
            "evaluations group:academia",
        ]:
            base = search_query.parse(text, user).query
            q = search_query._restricted(base, search_query._filters(user, {"kind": "comment"}))
            # Without the fast path: stepped through when estimated small, lists read whole when large.
            stepped = search_query.matching_docs(searcher, q, wq.NullQuery, fast=False)
            whole = search_query.matching_docs(searcher, q, wq.Every(), fast=False)
            fast = search_query.matching_docs(searcher, q, q)
            assert stepped == whole == fast == set(searcher.docs_for_query(q)), (round_, text)
        nothing = search_query.parse("nosuchword", user).query
        assert search_query.matching_docs(searcher, nothing, wq.Every()) == set()
        set_status(corpus["public"], "hidden")
        set_status(corpus["pseudo"], "hidden")
        search.drain()


@whoosh_internals
def test_ranking_of_term_queries_matches_whoosh_scoring(app, corpus):
    from consult.search import fastpath
    from consult.search import query as search_query

    for n in range(12):
        post(
            corpus["other"],
            corpus["clause"],
            "Evaluations " * (n % 4 + 1) + f"of registry number {n} and more words to vary the length " * (n % 3),
        )
    search.drain()
    drafter = make_user("drafter")
    searcher, _gen = search_index.live_searcher()
    for text in [
        "evaluations",
        "evaluations registry",
        "registry OR experts",
        "evaluations kind:comment",
        "evaluations OR kind:clause",
    ]:
        q = search_query.parse(text, drafter).query
        docs = search_query.matching_docs(searcher, q, q)
        ours = fastpath.rank(searcher, q, docs, 10)
        theirs = [(hit.docnum, hit.score) for hit in searcher.search(q, limit=10)]
        assert [doc for doc, _score in ours] == [doc for doc, _score in theirs], text
        # Terms of unscored fields (kind:) count as Whoosh counts them: their weight, 1.
        assert [round(score, 6) for _doc, score in ours] == [round(score, 6) for _doc, score in theirs], text


def test_facet_counts_follow_new_segments_and_deletions(app, corpus):
    drafter = make_user("drafter")
    before = dict(search.search(drafter, "evaluations").facets["group"])
    comment = post(corpus["other"], corpus["clause"], "More evaluations from civil society.")
    search.drain()
    after = dict(search.search(drafter, "evaluations").facets["group"])
    assert after["civil-society"] == before["civil-society"] + 1
    set_status(comment, "withdrawn")
    search.drain()
    anonymous = dict(search.search(None, "evaluations").facets["group"])
    # neither the hidden nor the withdrawn one counts
    assert anonymous.get("civil-society", 0) == before["civil-society"] - 1


@whoosh_internals
def test_index_from_an_earlier_schema_is_rebuilt_by_the_drain(app, corpus):
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, Schema

    root = Path(app.config["SEARCH_INDEX_DIR"])
    old = root / "gen-earlier"
    old.mkdir()
    whoosh_index.create_in(str(old), Schema(uid=ID(unique=True, stored=True)))
    search_index.swap_generation(root, old)
    with pytest.raises(search.IndexUnavailable):
        search.search(None, "experts")
    search.drain()
    assert corpus["public"].id in ids(search.search(None, "experts"))
    assert search.status().path != str(old)


@whoosh_internals
def test_the_kept_searcher_sees_each_drained_change(app):
    version = open_version()
    search.drain()
    assert search.search(None, "sandpiper").total == 0  # the thread's searcher is now open
    searcher, gen = search_index.live_searcher()
    comment = post(make_user("participant"), clause_of(version), "Sandpiper counts.")
    search.drain()
    assert ids(search.search(None, "sandpiper")) == {comment.id}
    refreshed, same_gen = search_index.live_searcher()
    assert same_gen == gen and refreshed is not searcher  # the same generation, reopened on its new segment


@whoosh_internals
def test_a_busy_index_leaves_rows_for_the_next_drain(app):
    version = open_version()
    search.drain()
    post(make_user("participant"), clause_of(version), "Osprey remark.")
    ix, _ = search.open_index()
    writer = ix.writer()  # another worker holds the lock
    try:
        assert search.drain(timeout=0) == 0
        assert search.status().pending == 1
    finally:
        writer.cancel()
    assert search.drain() == 1
    assert search.search(None, "osprey").total == 1


def test_concurrent_writers_lose_nothing(app):
    version = open_version()
    search.drain()
    clause_id = clause_of(version).id
    authors = [make_user("participant").id for _ in range(4)]
    errors, made = [], []
    lock = threading.Lock()

    def worker(n, author_id):
        try:
            with app.app_context():
                from consult.models import Clause, User

                author = db.session.get(User, author_id)
                clause = db.session.get(Clause, clause_id)
                for i in range(6):
                    comment = post(author, clause, f"Concurrent puffin note {n}-{i}.")
                    with lock:
                        made.append(comment.id)
                    search.drain(timeout=0.2)  # like the request hook: a busy lock leaves the rows
                db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n, a)) for n, a in enumerate(authors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    search.drain()
    assert search.status().pending == 0
    page = search.search(None, "puffin", per_page=100)
    assert page.total == len(made) == 24
    assert ids(page) == set(made)


def _write_from_another_process(index_dir, backend, clause_id, author_id, n, results):
    """A worker process, as a gunicorn worker is: its own app, database connections and index writer."""
    from consult import create_app
    from consult.models import Clause, User

    app = create_app({"TESTING": True, "SEARCH_INDEX_DIR": index_dir, "SEARCH_BACKEND": backend})
    with app.app_context():
        author, clause = db.session.get(User, author_id), db.session.get(Clause, clause_id)
        made = []
        for i in range(6):
            made.append(post(author, clause, f"Process heron note {n}-{i}.").id)
            search.drain(timeout=0.2)  # like the request hook: a busy lock leaves the rows for a later drain
        results.put(made)


def test_concurrent_writer_processes_lose_nothing(app):
    import multiprocessing

    version = open_version()
    search.drain()
    authors = [make_user("participant").id for _ in range(3)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(
            target=_write_from_another_process,
            args=(app.config["SEARCH_INDEX_DIR"], app.config["SEARCH_BACKEND"], clause_of(version).id, a, n, results),
        )
        for n, a in enumerate(authors)
    ]
    for w in workers:
        w.start()
    made = [comment_id for _ in workers for comment_id in results.get(timeout=120)]
    for w in workers:
        w.join(timeout=30)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    search.drain()
    assert search.status().pending == 0
    page = search.search(None, "heron", per_page=100)
    assert page.total == len(made) == 18 and ids(page) == set(made)


# --- the API and escaping ------------------------------------------------------------------------------------------


def test_api_shape_and_escaped_snippets(app, client):
    version = open_version()
    clause = clause_of(version)
    comment = post(
        make_user("participant", group="academia"),
        clause,
        "Beware <script>alert('x')</script> of the flamingo & <b>friends</b>.",
        type_="concern",
    )
    search.drain()
    data = api(client, q="flamingo")
    assert set(data) >= {"total", "facets", "results", "page", "pages"}
    assert data["total"] == 1
    (row,) = data["results"]
    assert row["kind"] == "comment" and row["comment_id"] == comment.id
    assert (row["document"], row["version"], row["clause_key"]) == ("sample-code", 1, clause.key)
    assert row["url"] == f"/comments/{comment.id}"
    assert "<mark>flamingo</mark>" in row["snippet"]
    assert "&lt;script&gt;" in row["snippet"] and "&amp;" in row["snippet"]
    assert set(re.findall(r"</?([a-z]+)", row["snippet"])) == {"mark"}
    assert {f["value"]: f["count"] for f in data["facets"]["group"]} == {"academia": 1}
    assert {f["value"]: f["count"] for f in data["facets"]["type"]} == {"concern": 1}
    assert {f["value"]: f["count"] for f in data["facets"]["document"]} == {"sample-code": 1}
    assert {f["value"]: f["count"] for f in data["facets"]["version"]} == {"1": 1}
    html = client.get("/search", query_string={"q": "flamingo"}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    clauses = api(client, q="retention", kind="clause")
    assert clauses["results"][0]["url"].endswith("/clauses/measure-i-1-2#measure-i-1-2")
    assert "comment_id" not in clauses["results"][0]


def test_api_filters_by_document_version_group_and_type(app, client, corpus):
    second = open_version("other-code")
    post(corpus["other"], clause_of(second), "Evaluations elsewhere.", type_="question")
    search.drain()
    assert api(client, q="evaluations", kind="comment", document="other-code")["total"] == 1
    assert api(client, q="evaluations", kind="comment", document="sample-code", version="1")["total"] == 2
    assert api(client, q="evaluations", group="academia")["total"] == 1
    assert api(client, q="evaluations", type="question")["total"] == 1
    both = api(client, q="evaluations", kind="comment")
    assert {f["value"]: f["count"] for f in both["facets"]["document"]} == {"sample-code": 2, "other-code": 1}


def test_filters_alone_list_everything_in_them(client, corpus):
    data = api(client, group="academia")
    assert {r.get("comment_id") for r in data["results"]} == {corpus["public"].id}


def test_results_page_has_facets_kind_tabs_and_links(app, client, corpus):
    html = client.get("/search", query_string={"q": "evaluations"}).get_data(as_text=True)
    assert f'href="/comments/{corpus["public"].id}"' in html
    assert "Clauses (1)" in html and "Comments (2)" in html
    assert "Academia and independent experts" in html and "Stakeholder group" in html
    assert "<mark>" in html
    assert 'for="search-q"' in html
    assert "style=" not in html and "onclick" not in html.lower()
    assert client.get("/search").status_code == 200


# --- similar comments ------------------------------------------------------------------------------------------


def test_similar_comments_for_staff_only(app, corpus):
    clause = corpus["clause"]
    original = post(
        corpus["author"],
        clause,
        "Independent auditors should verify systemic risk assessments "
        "before every major model release, with published methodology.",
    )
    near = post(
        corpus["other"],
        clause,
        "Before every major model release independent auditors must verify the "
        "systemic risk assessments and publish the methodology.",
    )
    post(corpus["other"], clause, "Copyright holders need a registry for machine-readable reservations.")
    search.drain()
    path = f"/comments/{original.id}/similar"
    assert client_for(app).get(path).status_code == 403
    assert client_for(app, corpus["other"]).get(path).status_code == 403
    drafter_client = client_for(app, make_user("drafter"))
    response = drafter_client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    first = re.search(r'href="/comments/(\d+)"', html.split("similar comment")[-1])
    assert first and int(first.group(1)) == near.id
    assert f'href="/comments/{original.id}"' in html  # the way back, not a result
    items = search.similar_comments(make_user("moderator"), original)
    assert items[0].comment.id == near.id and original.id not in {i.comment.id for i in items}
    assert drafter_client.get("/comments/999999/similar").status_code == 404


# --- CLI ---------------------------------------------------------------------------------------------------------


def test_cli_reindex_drain_status(app, corpus):
    from consult.search.cli import register_search_cli

    if "search" not in app.cli.commands:
        register_search_cli(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0, result.output
    assert '"documents": ' in result.output and '"pending": 0' in result.output
    post(corpus["author"], corpus["clause"], "Pending gannet remark.")
    assert '"applied": 1' in runner.invoke(args=["search", "drain"]).output
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0 and '"indexed": ' in result.output
    assert search.search(None, "gannet").total == 1


def test_cli_reindex_shows_its_progress_on_stderr_and_its_result_on_stdout(app, corpus):
    from consult.search.cli import register_search_cli

    if "search" not in app.cli.commands:
        register_search_cli(app)
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    indexed = json.loads(result.stdout)["indexed"]
    assert indexed == search.status().documents > 0
    lines = result.stderr.splitlines()  # not a terminal: plain lines, the first and the last always
    assert lines[0].startswith(f"indexing 0/{indexed:,} documents (0%)")
    assert lines[-1].startswith(f"writing {indexed:,}/{indexed:,} documents (100%)")
    assert "\r" not in result.stderr
    quiet = app.test_cli_runner().invoke(args=["search", "reindex", "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_progress_redraws_one_line_on_a_terminal():
    import io

    from consult.search.cli import Progress

    out = io.StringIO()
    progress = Progress(out, tty=True)
    for done in (0, 500, 1000):
        progress(done, 1000)
    progress.finish()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "[" + "#" * Progress.WIDTH + "] indexing 1,000/1,000 documents (100%)" in text


def test_results_page_reads_document_titles_without_version_sources(app, client, corpus):
    from sqlalchemy import event

    statements = []

    def listener(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        html = client.get("/search?q=evaluations").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert "Sample code" in html or "sample-code" in html
    assert not [s for s in statements if "source_markdown" in s]  # the drafts' Markdown is the largest column


def test_a_very_common_word_ranks_its_newest_hits_and_counts_all(app, corpus, search_backend, monkeypatch):
    if search_backend == "postgres":
        from consult.search import postgres as search_postgres

        monkeypatch.setattr(search_postgres, "RANK_WINDOW", 3)  # ranking reads only a window of the hits
    for n in range(6):
        post(corpus["other"], corpus["clause"], f"Common cormorant note {n}" + " cormorant" * n)
    search.drain()
    page = search.search(None, "cormorant", per_page=2)
    assert page.total == 6 and len(page.items) == 2  # the total and the facets still count every hit
    assert dict(page.facets["kind"]) == {"comment": 6}
    last = search.search(None, "cormorant", per_page=2, page=3)  # past the window: ranked over all hits
    assert len(last.items) == 2
    everything = {i.comment.id for p in (1, 2, 3) for i in search.search(None, "cormorant", per_page=2, page=p).items}
    assert len(everything) >= 4


@whoosh_internals
def test_the_fast_path_switch_gives_the_same_pages(app, client, corpus, monkeypatch):
    """CONSULT_SEARCH_FASTPATH=0 searches through Whoosh's public API only, with the same pages."""
    from consult.config import load_config

    monkeypatch.setenv("CONSULT_SEARCH_FASTPATH", "0")
    assert load_config()["CONSULT_SEARCH_FASTPATH"] is False
    monkeypatch.delenv("CONSULT_SEARCH_FASTPATH")
    assert load_config()["CONSULT_SEARCH_FASTPATH"] is True
    drafter = make_user("drafter")
    queries = [
        "evaluations",
        "evaluations registry",
        '"copyright opt-out"',
        '"red-teaming by outside experts"',
        "evaluat*",
        "experts OR narwhal",
        "evaluations NOT zebrafinch",
        "reglement",
        "group:academia",
    ]

    def pages():
        return {
            (q, role): [
                (i.kind, i.clause.id, i.comment.id if i.comment else None, round(i.score or 0, 6))
                for i in search.search(user, q, per_page=50).items
            ]
            for q in queries
            for role, user in (("anonymous", None), ("author", corpus["author"]), ("drafter", drafter))
        }

    fast = pages()
    app.config["CONSULT_SEARCH_FASTPATH"] = False
    assert pages() == fast
    assert any(fast.values())
