"""The search fast path (consult/search/fastpath.py) against Whoosh's own search, on an index of realistic shape.

The index has thousands of documents in several segments, with deletions and updates, and words common enough that
their posting lists span many of Whoosh's 128-posting blocks: the multi-block paths of the fast path run here, not
only in bench/. Every query shape (one word, two words, OR, NOT, phrases, prefixes, field filters, accents) is run
with the fast path and without it (CONSULT_SEARCH_FASTPATH=0: Whoosh's public API only), for each kind of reader,
and the totals, facet counts, pages, order and scores must agree, and the total with Whoosh's own matching.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index

from consult.search import fastpath
from consult.search import query as search_query
from consult.search.index import audience, clause_document, comment_document
from consult.search.schema import build_schema

# Word frequencies fall off steeply, as in real comments: the first few are in most documents (many blocks per
# segment), the last in a handful. Accented words are indexed folded, so "évaluation" meets "evaluation".
VOCABULARY = [
    "model",
    "evaluation",
    "risk",
    "provider",
    "systemic",
    "safety",
    "copyright",
    "training",
    "data",
    "documentation",
    "transparency",
    "incident",
    "reporting",
    "red",
    "teaming",
    "exercise",
    "opt",
    "out",
    "signal",
    "registry",
    "règlement",
    "données",
    "évaluations",
    "cybersecurity",
    "watermark",
    "downstream",
    "license",
    "benchmark",
    "quokka",
    "narwhal",
]
WEIGHTS = [1 / (rank + 1) ** 0.9 for rank in range(len(VOCABULARY))]
PHRASES = ["red teaming exercise", "copyright opt out", "model evaluation", "systemic risk"]
GROUPS = ["gpai-provider", "industry", "civil-society", "academia", "rightsholder"]
TYPES = ["remark", "concern", "suggestion", "question", "support"]
DOCUMENTS = ["code-a", "code-b"]
COMMENTS = 3000
CLAUSES = 200
PARTICIPANT_ID = 7

QUERY_WORDS = [
    "model",
    "evaluation",
    "evaluations",
    "evaluation",
    "risk",
    "safety",
    "copyright",
    "teaming",
    "reglement",
    "règlement",
    "donnees",
    "évaluation",
    "quokka",
    "narwhal",
    "watermark",
    "nosuchword",
]
PREFIXES = ["eval*", "mod*", "regl*", "teami*", "cop*", "q*"]
FIELD_FILTERS = ["group:academia", "type:concern", "kind:clause", "kind:comment", "document:code-b"]
USERS = {
    "anonymous": None,
    "participant": SimpleNamespace(is_authenticated=True, id=PARTICIPANT_ID, role="participant", status="active"),
    "drafter": SimpleNamespace(is_authenticated=True, id=1, role="drafter", status="active"),
}
FILTERS = [
    {},
    {"kind": "comment"},
    {"kind": "clause"},
    {"group": "academia"},
    {"type": "concern"},
    {"document": "code-b", "version": "2"},
    {"disposition": "accepted"},
]


def _text(rng: random.Random) -> str:
    words = rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(8, 60))
    if rng.random() < 0.3:
        at = rng.randint(0, len(words))
        words[at:at] = rng.choice(PHRASES).split()
    return " ".join(words).capitalize() + "."


def _comment(rng: random.Random, n: int, start: datetime) -> dict:
    status = rng.choices(["visible", "hidden", "withdrawn"], [0.85, 0.1, 0.05])[0]
    visibility = rng.choices(["public", "pseudonymous", "confidential"], [0.6, 0.3, 0.1])[0]
    row = {
        "id": n,
        "body": _text(rng),
        "proposed_wording": _text(rng) if rng.random() < 0.1 else None,
        "slug": rng.choice(DOCUMENTS),
        "version_number": rng.choice([1, 2]),
        "key": f"clause-{n % CLAUSES}",
        "author_group": rng.choice(GROUPS),
        "type": rng.choice(TYPES),
        "visibility": visibility,
        "status": status,
        "author_id": rng.choice([PARTICIPANT_ID, 8, 9, 10]),
        "created_at": start + timedelta(minutes=n),
        "clause_id": n % CLAUSES,
        "disposition": rng.choice([None, None, "accepted", "rejected"]),
    }
    doc = comment_document(row)
    assert doc["audience"] == audience(status, visibility)
    return doc


def _clause(rng: random.Random, n: int, start: datetime) -> dict:
    return clause_document(
        {
            "id": n,
            "number": f"{n // 10}.{n % 10}",
            "heading": f"Measure {n}",
            "body": _text(rng),
            "slug": rng.choice(DOCUMENTS),
            "version_number": rng.choice([1, 2]),
            "key": f"clause-{n}",
            "published_at": start,
        }
    )


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    """One index for the module: four segments written apart, then deletions and updates in a fifth."""
    rng = random.Random(20)
    start = datetime(2026, 1, 1)
    ix = whoosh_index.create_in(str(tmp_path_factory.mktemp("fastpath-index")), build_schema())
    docs = [_clause(rng, n, start) for n in range(CLAUSES)] + [_comment(rng, n, start) for n in range(COMMENTS)]
    for part in range(4):
        writer = ix.writer()
        for doc in docs[part::4]:
            writer.add_document(**doc)
        writer.commit(merge=False)
    writer = ix.writer()
    for n in rng.sample(range(COMMENTS), 150):
        writer.delete_by_term("uid", f"comment:{n}")
    for n in rng.sample(range(COMMENTS), 120):
        writer.update_document(**_comment(rng, n, start))
    writer.commit(merge=False)
    with ix.searcher() as s:
        assert len(s.leaf_searchers()) >= 4 and any(sub.reader().has_deletions() for sub, _ in s.leaf_searchers())
        assert s.doc_frequency("text", "model") > 128 * 8  # a common word's list spans many blocks in each segment
        yield s


word = st.sampled_from(QUERY_WORDS)
QUERIES = st.one_of(
    word,
    st.builds("{} {}".format, word, word),
    st.builds("{} OR {}".format, word, word),
    st.builds("{} NOT {}".format, word, word),
    st.builds("{} AND ({} OR {})".format, word, word, word),
    st.builds('"{}"'.format, st.sampled_from(PHRASES + ["evaluation model", "opt out signal", "règlement données"])),
    st.builds('{} "{}"'.format, word, st.sampled_from(PHRASES)),
    st.sampled_from(PREFIXES),
    st.builds("{} {}".format, st.sampled_from(PREFIXES), word),
    st.builds("{} {}".format, word, st.sampled_from(FIELD_FILTERS)),
    st.builds("({} OR {}) {}".format, word, word, st.sampled_from(FIELD_FILTERS)),
)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _same_ranking(fast, slow) -> None:
    """Same scores position by position, and the same documents except where a tie straddles the page's end."""
    assert len(fast) == len(slow)
    for (_fd, fs), (_sd, ss) in zip(fast, slow, strict=False):
        assert _close(fs, ss), (fast, slow)
    if not fast:
        return
    last = fast[-1][1]
    above = lambda page: sorted(d for d, s in page if s is None or not _close(s, last))  # noqa: E731
    assert above(fast) == above(slow)
    # Within a run of equal scores the order may differ by a rounding of the last bit; as sets they are the same.
    groups_fast, groups_slow = {}, {}
    for page, groups in ((fast, groups_fast), (slow, groups_slow)):
        for d, s in page:
            groups.setdefault(round(s, 6) if s is not None else None, set()).add(d)
    for score, docs in groups_fast.items():
        if score is None or not _close(score, last):
            assert docs == groups_slow.get(score), (score, fast, slow)


@settings(max_examples=80, deadline=None)
@given(
    q=QUERIES,
    role=st.sampled_from(sorted(USERS)),
    filters=st.sampled_from(FILTERS),
    page=st.integers(1, 3),
    sort=st.sampled_from(["relevance", "relevance", "newest"]),
)
def test_fast_path_gives_whooshs_own_results_and_scores(searcher, q, role, filters, page, sort):
    user = USERS[role]
    parsed = search_query.parse(q, user)
    kwargs = dict(filters=filters, page=page, per_page=20, sort=sort)
    fast = search_query.run_query(searcher, parsed, user, fast=True, **kwargs)
    slow = search_query.run_query(searcher, parsed, user, fast=False, **kwargs)
    assert fast.total == slow.total, q
    assert fast.page == slow.page and fast.facets == slow.facets, q
    assert fast.terms == slow.terms
    _same_ranking(
        [((h.kind, h.object_id), h.score) for h in fast.hits], [((h.kind, h.object_id), h.score) for h in slow.hits]
    )
    if parsed.query is not None:
        # The total is Whoosh's own count of the reader's query (phrases by Whoosh's own position matching).
        restriction = search_query._filters(user, filters)
        whole = search_query._restricted(parsed.query, restriction)
        assert fast.total == len(set(searcher.docs_for_query(whole))), q


@settings(max_examples=40, deadline=None)
@given(
    q=st.one_of(
        word,
        st.builds("{} {}".format, word, word),
        st.builds("{} OR {}".format, word, word),
        st.builds("{} {}".format, word, st.sampled_from(FIELD_FILTERS)),
    ),
    role=st.sampled_from(sorted(USERS)),
    filters=st.sampled_from(FILTERS),
)
def test_fast_hits_and_ranking_equal_whooshs_search_over_every_hit(searcher, q, role, filters):
    """Below run_query: the fast set of hits and the BM25F ranking of all of them, against searcher.search."""
    user = USERS[role]
    parsed = search_query.parse(q, user)
    whole = search_query._restricted(parsed.query, search_query._filters(user, filters))
    theirs = searcher.search(whole, limit=None)
    hits = fastpath.hits(searcher, whole)
    assert hits == {hit.docnum for hit in theirs}, q
    ranked = fastpath.rank(searcher, whole, hits, len(hits) or 1)
    ours = dict(ranked)
    for hit in theirs:
        assert _close(ours[hit.docnum], hit.score), (q, hit.docnum)
    assert [s for _d, s in ranked] == sorted((s for _d, s in ranked), reverse=True)


def test_the_caches_can_be_emptied_between_searches(searcher):
    parsed = search_query.parse("model evaluation", USERS["anonymous"])
    first = search_query.run_query(searcher, parsed, None)
    fastpath.clear_caches()
    again = search_query.run_query(searcher, parsed, None)
    assert first.total == again.total > 0 and [h.object_id for h in first.hits] == [h.object_id for h in again.hits]
