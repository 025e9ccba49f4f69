"""Search benchmark: bulk indexing and query latency on a synthetic consultation, against a SQLite FTS5 baseline.

    .venv/bin/python bench/bench_search.py                     # 5,000 clauses, 100,000 comments
    .venv/bin/python bench/bench_search.py --comments 20000    # a smaller run; the size used is reported

The Whoosh index is built straight from generated rows (no database), through the same document builders the
drain and the reindex use; queries go through the search service's own parse() and run_query(), as a drafter runs
them (no visibility restriction, all facets counted, one page of 20). The baseline is an FTS5 table (porter stemmer,
diacritics removed) over the same rows, asked for the top 20 by bm25, the total and one facet's counts.

With --postgres URL (or BENCH_POSTGRES_URL) the PostgreSQL backend (SEARCH_BACKEND=postgres) is measured too, on
that database, whose public schema is EMPTIED first: the same rows are loaded into a staging table, then
search_document is filled with the backend's own tsvector expressions (the indexing time), and each query runs the
backend's run_query() (hits, exact total, every facet) plus ts_headline snippets for the page's 20 texts.
Writes bench/results/search.json and bench/results/search.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consult.search.index import clause_document, comment_document  # noqa: E402
from consult.search.query import clear_block_cache, parse, run_query  # noqa: E402
from consult.search.schema import build_schema  # noqa: E402

GROUPS = ["gpai-provider", "industry", "civil-society", "academia", "rightsholder", "public-authority", "other"]
TYPES = ["remark", "concern", "suggestion", "question", "support"]
VISIBILITIES = ["public"] * 6 + ["pseudonymous"] * 3 + ["confidential"]
DOMAIN = (
    "model evaluation evaluations red-teaming copyright opt-out training data systemic risk incident report "
    "transparency documentation provider downstream safety security cybersecurity capability threshold "
    "mitigation governance audit auditor independent external serious harm release deployment weights "
    "compute benchmark adversarial testing disclosure office signatory measure commitment chapter "
    "rightsholder reservation machine-readable crawler robots licence licensing dataset summary template "
    "règlement évaluation sécurité données modèle risque"
).split()


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    """Domain words plus pseudo-words, so term frequencies fall off as in real text."""
    syllables = [
        "ka",
        "ro",
        "ti",
        "men",
        "sa",
        "lo",
        "ve",
        "dra",
        "qui",
        "nor",
        "pel",
        "tas",
        "ri",
        "com",
        "pre",
        "tion",
        "al",
        "ex",
        "ment",
        "ure",
        "ing",
        "ed",
        "con",
        "ab",
        "ist",
    ]
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return DOMAIN + sorted(words)


def zipf_weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) ** 1.05 for rank in range(n)]


def text(rng, words, weights, lo, hi) -> str:
    n = rng.randint(lo, hi)
    chosen = rng.choices(words, weights=weights, k=n)
    sentences, i = [], 0
    while i < n:
        step = rng.randint(8, 20)
        sentences.append(" ".join(chosen[i : i + step]).capitalize() + ".")
        i += step
    return " ".join(sentences)


def generate(seed: int, n_clauses: int, n_comments: int):
    """Deterministic clause and comment rows, shaped like the rows the index builders read."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = zipf_weights(len(words))
    start = datetime(2025, 1, 1)
    clauses = []
    for i in range(1, n_clauses + 1):
        doc = f"code-{(i - 1) // 1000 + 1}"
        clauses.append(
            {
                "id": i,
                "number": f"{i // 100}.{i % 100}",
                "heading": text(rng, words, weights, 3, 8),
                "body": text(rng, words, weights, 40, 250),
                "key": f"measure-{i}",
                "version_number": 1 + i % 3,
                "published_at": start,
                "slug": doc,
            }
        )
    comments = []
    for i in range(1, n_comments + 1):
        clause = clauses[rng.randrange(n_clauses)]
        comments.append(
            {
                "id": i,
                "body": text(rng, words, weights, 50, 400),
                "proposed_wording": None,
                "type": rng.choice(TYPES),
                "visibility": rng.choice(VISIBILITIES),
                "status": "visible" if rng.random() > 0.03 else "hidden",
                "author_id": rng.randint(1, 3000),
                "author_group": rng.choice(GROUPS),
                "created_at": start + timedelta(minutes=i),
                "clause_id": clause["id"],
                "key": clause["key"],
                "version_number": clause["version_number"],
                "slug": clause["slug"],
                "disposition": rng.choice([None, None, "accepted", "rejected", "noted"]),
            }
        )
    return words, clauses, comments


def build_whoosh(path: Path, clauses, comments, limitmb: int, procs: int) -> float:
    """Index the rows as `flask search reindex` does: the same documents, the same writer (index._bulk_writer)."""
    from whoosh import index as whoosh_index

    from consult.search import index as search_index

    ix = whoosh_index.create_in(str(path), build_schema())
    started = time.perf_counter()
    documents = len(clauses) + len(comments) if procs > 1 else 0  # 0: the one-process writer
    writer = search_index._bulk_writer(ix, documents, limitmb)
    for row in clauses:
        writer.add_document(**clause_document(row))
    for row in comments:
        writer.add_document(**comment_document(row))
    writer.commit(merge=False)
    return time.perf_counter() - started


def build_fts(path: Path, clauses, comments) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(kind UNINDEXED, grp UNINDEXED, typ UNINDEXED, body, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    conn.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?)",
        [("clause", None, None, f"{r['number']} {r['heading']} {r['body']}") for r in clauses],
    )
    conn.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?)", [("comment", r["author_group"], r["type"], r["body"]) for r in comments]
    )
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def build_postgres(url: str, clauses, comments, work: Path):
    """An app on the emptied database with search_document filled as `flask search reindex` fills it."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    os.environ.update(
        DATABASE_URL=plain,
        SEARCH_BACKEND="postgres",
        CONSULT_INSTANCE_PATH=str(work / "instance"),
        SECRET_KEY="bench-only",
    )
    from sqlalchemy import text as sql

    from consult import create_app
    from consult.extensions import db
    from consult.models import SearchOutbox
    from consult.models.consultation import SearchDocument
    from consult.search import postgres as pg

    spec = importlib.util.spec_from_file_location("search_pg", ROOT / "migrations" / "versions" / "0011_search_pg.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    app = create_app({"TESTING": True})
    with app.app_context():
        SearchDocument.__table__.create(db.engine)
        SearchOutbox.__table__.create(db.engine)
        with db.engine.begin() as conn:
            for statement in migration.CONFIGURATIONS.strip().split(";\n"):
                conn.execute(sql(statement.rstrip(";")))
            conn.execute(
                sql(
                    "CREATE UNLOGGED TABLE bench_source (kind text, object_id int, clause_id int, "
                    "document text, version text, clause_key text, grp text, type text, disposition text, "
                    "visibility text, status text, author_id int, created_at timestamp, number text, "
                    "heading text, body text, wording text, PRIMARY KEY (kind, object_id))"
                )
            )
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cur, cur.copy("COPY bench_source FROM STDIN") as copy:
                for r in clauses:
                    copy.write_row(
                        (
                            "clause",
                            r["id"],
                            r["id"],
                            r["slug"],
                            str(r["version_number"]),
                            r["key"],
                            None,
                            None,
                            None,
                            None,
                            None,
                            None,
                            r["published_at"],
                            r["number"],
                            r["heading"],
                            r["body"],
                            None,
                        )
                    )
                for r in comments:
                    copy.write_row(
                        (
                            "comment",
                            r["id"],
                            r["clause_id"],
                            r["slug"],
                            str(r["version_number"]),
                            r["key"],
                            r["author_group"],
                            r["type"],
                            r["disposition"],
                            r["visibility"],
                            r["status"],
                            r["author_id"],
                            r["created_at"],
                            None,
                            None,
                            r["body"],
                            r["proposed_wording"],
                        )
                    )
            raw.commit()
        finally:
            raw.close()
        audience = pg.AUDIENCE.format(status="b.status", visibility="b.visibility")
        common = "b.kind, b.object_id, b.clause_id, b.document, b.version, b.clause_key, b.grp, b.type, b.disposition"
        sources = {  # the backend's rebuild (parallel parse, then one swap) over the generated rows
            "clause": (
                f"SELECT {common}, NULL, NULL, NULL, 'public', b.created_at, "
                f"{pg.clause_vector('b.number', 'b.heading', 'b.body')} "
                "FROM (SELECT * FROM bench_source WHERE kind = 'clause') AS b",
                "b.object_id",
                "(SELECT object_id AS id FROM bench_source WHERE kind = 'clause') AS s",
            ),
            "comment": (
                f"SELECT {common}, b.visibility, b.status, b.author_id, {audience}, b.created_at, "
                f"{pg.comment_vector('b.body', 'b.wording')} "
                "FROM (SELECT * FROM bench_source WHERE kind = 'comment') AS b",
                "b.object_id",
                "(SELECT object_id AS id FROM bench_source WHERE kind = 'comment') AS s",
            ),
        }
        started = time.perf_counter()
        pg.reindex(sources=sources)
        seconds = time.perf_counter() - started
        size = db.session.scalar(sql("SELECT pg_total_relation_size('search_document')"))
    return app, seconds, size


def time_postgres(app, queries, drafter, filters=None):
    """Each query once, as the results page runs it: hits, total and facets, then snippets for the page's texts."""
    from sqlalchemy import text as sql

    from consult.extensions import db
    from consult.search import postgres as pg

    times = []
    with app.app_context():
        for q in queries:
            started = time.perf_counter()
            hits, _total, _page, _facets, compiled = pg.run_query(drafter, q, filters=filters or {}, per_page=20)
            # The page's rows in one query, as the results page loads them, then their snippets.
            found = dict(
                ((k, i), t)
                for k, i, t in db.session.execute(
                    sql(
                        "SELECT kind, object_id, concat_ws(' ', heading, body, wording) FROM bench_source "
                        "WHERE (kind, object_id) IN (SELECT * FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS int[])))"
                    ),
                    {"kinds": [h.kind for h in hits], "ids": [h.object_id for h in hits]},
                )
            )
            pg.headlines([found[(h.kind, h.object_id)] for h in hits], compiled)
            times.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return times


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def query_sets(rng: random.Random, words: list[str], n: int):
    """Words of middling frequency (not the top stop-like ones), phrases taken from generated text."""
    mid = words[60:1500]
    domain = [w for w in DOMAIN if "-" not in w]
    one = [rng.choice(domain + mid) for _ in range(n)]
    two = [f"{rng.choice(domain)} {rng.choice(mid)}" for _ in range(n)]
    return one, two


def phrases_from(rng: random.Random, comments, n: int) -> list[str]:
    out = []
    for _ in range(n):
        body = rng.choice(comments)["body"].replace(".", "").split()
        i = rng.randrange(0, max(1, len(body) - 3))
        out.append('"' + " ".join(body[i : i + rng.choice([2, 3])]) + '"')
    return out


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def time_whoosh(searcher, queries, drafter, filters=None, cold=False):
    """Each query once, in order. cold: the decoded-block cache is emptied before each query (a worst case; a
    running worker keeps the blocks of recent searches)."""
    times = []
    for q in queries:
        if cold:
            clear_block_cache()
        started = time.perf_counter()
        run_query(searcher, parse(q, drafter), drafter, filters=filters or {}, page=1, per_page=20)
        times.append((time.perf_counter() - started) * 1000)
    return times


def fts_expr(q: str) -> str:
    if q.startswith('"'):
        return q
    return " AND ".join('"' + w + '"' for w in q.split())


def time_fts(conn, queries, grp=None):
    times = []
    for q in queries:
        expr = fts_expr(q)
        where = "docs MATCH ?" + (" AND grp = ?" if grp else "")
        args = (expr, grp) if grp else (expr,)
        started = time.perf_counter()
        conn.execute(
            f"SELECT rowid, snippet(docs, 3, '<mark>', '</mark>', '…', 20) FROM docs WHERE {where} "
            f"ORDER BY rank LIMIT 20",
            args,
        ).fetchall()
        conn.execute(f"SELECT count(*) FROM docs WHERE {where}", args).fetchone()
        conn.execute(f"SELECT grp, count(*) FROM docs WHERE {where} GROUP BY grp", args).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times):
    return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(pct(times, 95), 2), "n": len(times)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clauses", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60, help="queries per kind")
    parser.add_argument("--seed", type=int, default=20250701)
    parser.add_argument("--limitmb", type=int, default=256)
    parser.add_argument(
        "--procs",
        type=int,
        default=min(2, __import__("os").cpu_count() or 1),
        help="indexing processes, as the reindex uses (at most two)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="also measure the PostgreSQL backend on this database (its public schema is emptied)",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="consult-bench-search-"))
    load_start = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: its load is part of the figures
    pg_version = None
    try:
        t0 = time.perf_counter()
        words, clauses, comments = generate(args.seed, args.clauses, args.comments)
        generated = time.perf_counter() - t0
        n_docs = len(clauses) + len(comments)
        avg_words = statistics.mean(len(c["body"].split()) for c in comments)
        print(
            f"generated {len(clauses)} clauses, {len(comments)} comments (mean {avg_words:.0f} words) "
            f"in {generated:.1f}s",
            flush=True,
        )

        index_dir = work / "whoosh"
        index_dir.mkdir()
        index_seconds = build_whoosh(index_dir, clauses, comments, args.limitmb, args.procs)
        print(
            f"whoosh: indexed {n_docs} docs in {index_seconds:.1f}s ({n_docs / index_seconds:.0f} docs/s)", flush=True
        )
        fts_path = work / "fts.db"
        fts_seconds = build_fts(fts_path, clauses, comments)
        print(f"fts5: indexed in {fts_seconds:.1f}s", flush=True)
        pg_app = pg_seconds = pg_size = None
        if args.postgres:
            pg_app, pg_seconds, pg_size = build_postgres(args.postgres, clauses, comments, work)
            with pg_app.app_context():
                from consult.extensions import db as pg_db

                pg_version = pg_db.session.scalar(__import__("sqlalchemy").text("SHOW server_version"))
            print(
                f"postgres: indexed {n_docs} docs in {pg_seconds:.1f}s ({n_docs / pg_seconds:.0f} docs/s), "
                f"{pg_size / 1e6:.1f} MB",
                flush=True,
            )

        rng = random.Random(args.seed + 1)
        one, two = query_sets(rng, words, args.queries)
        phrases = phrases_from(rng, comments, args.queries)
        filtered = one[: args.queries]
        drafter = SimpleNamespace(is_authenticated=True, status="active", role="drafter", id=1)

        from whoosh import index as whoosh_index

        ix = whoosh_index.open_dir(str(index_dir))
        conn = sqlite3.connect(fts_path)
        results = {}
        with ix.searcher() as searcher:
            # Warm up as a running worker is, on other words than the measured ones (no measured query repeats one).
            warm_up = query_sets(random.Random(args.seed + 2), words, 5)[0]
            time_whoosh(searcher, warm_up, drafter)
            time_fts(conn, warm_up)
            if pg_app is not None:
                time_postgres(pg_app, warm_up, drafter)
            cases = {
                "one_word": (one, {}, None),
                "two_words": (two, {}, None),
                "phrase": (phrases, {}, None),
                "filtered": (filtered, {"group": "academia", "kind": "comment"}, "academia"),
            }
            for name, (queries, filters, grp) in cases.items():
                # The kept-cache pass first: the cold pass would otherwise leave these very queries' blocks behind.
                w = summary(time_whoosh(searcher, queries, drafter, filters))
                cold = summary(time_whoosh(searcher, queries, drafter, filters, cold=True))
                f = summary(time_fts(conn, queries, grp))
                results[name] = {
                    "whoosh": w,
                    "whoosh_cold": cold,
                    "fts5": f,
                    "p95_ratio": round(w["p95_ms"] / max(f["p95_ms"], 1e-3), 1),
                    "examples": queries[:3],
                }
                if pg_app is not None:
                    p = summary(time_postgres(pg_app, queries, drafter, filters))
                    results[name]["postgres"] = p
                    results[name]["postgres_p95_ratio"] = round(p["p95_ms"] / max(f["p95_ms"], 1e-3), 1)
                    print(f"{name:10s} postgres median {p['median_ms']:.1f} ms p95 {p['p95_ms']:.1f} ms", flush=True)
                print(
                    f"{name:10s} whoosh median {w['median_ms']:.1f} ms p95 {w['p95_ms']:.1f} ms "
                    f"(cold p95 {cold['p95_ms']:.1f} ms) | fts5 median {f['median_ms']:.1f} ms p95 "
                    f"{f['p95_ms']:.1f} ms | ratio {results[name]['p95_ratio']}",
                    flush=True,
                )
        conn.close()

        docs_per_second = n_docs / index_seconds
        goals = {
            "one_two_word_p95_under_100ms": max(
                results["one_word"]["whoosh"]["p95_ms"], results["two_words"]["whoosh"]["p95_ms"]
            )
            < 100,
            "phrase_p95_under_300ms": results["phrase"]["whoosh"]["p95_ms"] < 300,
            "full_reindex_under_5min": index_seconds < 300,
            "full_reindex_100k_estimate_s": round((args.clauses + 100_000) / docs_per_second, 1),
            "whoosh_reindex_under_120s": index_seconds <= 120,
        }
        if pg_app is not None:
            goals["postgres_one_two_word_p95_under_100ms"] = (
                max(results["one_word"]["postgres"]["p95_ms"], results["two_words"]["postgres"]["p95_ms"]) <= 100
            )
            goals["postgres_phrase_p95_under_300ms"] = results["phrase"]["postgres"]["p95_ms"] <= 300
            goals["postgres_reindex_under_120s"] = pg_seconds <= 120
        report = {
            "dataset": {
                "seed": args.seed,
                "clauses": len(clauses),
                "comments": len(comments),
                "mean_comment_words": round(avg_words, 1),
                "full_size_requested": args.comments >= 100_000,
            },
            "indexing": {
                "documents": n_docs,
                "seconds": round(index_seconds, 1),
                "docs_per_second": round(docs_per_second, 1),
                "limitmb": args.limitmb,
                "procs": args.procs,
            },
            "index_size_bytes": dir_size(index_dir),
            "fts5_size_bytes": fts_path.stat().st_size,
            "fts5_build_seconds": round(fts_seconds, 1),
            "postgres": None
            if pg_app is None
            else {
                "seconds": round(pg_seconds, 1),
                "docs_per_second": round(n_docs / pg_seconds, 1),
                "size_bytes": pg_size,
            },
            "queries": results,
            "goals": goals,
            "machine": {
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "load_start": load_start,
                "load_end": [round(x, 2) for x in os.getloadavg()],
                "postgres": pg_version,
            },
            "when": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "search.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "search.md").write_text(markdown(report, args))
        print(json.dumps(report["goals"]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def markdown(r, args) -> str:
    d, i = r["dataset"], r["indexing"]
    lines = [
        "# Search benchmark",
        "",
        f"Command: `.venv/bin/python bench/bench_search.py --clauses {args.clauses} --comments {args.comments}`"
        f" (procs {args.procs})"
        f" (seed {d['seed']}), {r['machine']['cpus']} CPUs, Python {r['machine']['python']}, "
        f"PostgreSQL {r['machine'].get('postgres') or '–'}, {r['when']}.",
        "",
        f"Machine load average (1, 5, 15 min) at the start: {r['machine']['load_start']}, at the end: "
        f"{r['machine']['load_end']}. The machine is shared: a load above its CPU count slows every figure here, "
        "so compare the backends within this run.",
        "",
        f"Dataset: {d['clauses']:,} clauses and {d['comments']:,} comments (mean {d['mean_comment_words']} words, "
        "50–400 each), synthetic and deterministic.",
    ]
    if not d["full_size_requested"]:
        lines += [
            "",
            f"**Not the full size.** The goal names 100,000 comments; this run used {d['comments']:,} "
            f"to fit the time available. At the measured rate, 100,000 comments plus the clauses would "
            f"take about {r['goals']['full_reindex_100k_estimate_s']:.0f} s to index.",
        ]
    lines += [
        "",
        "## Indexing",
        "",
        f"- Whoosh, batched writer (limitmb={i['limitmb']}, procs={i['procs']}): {i['documents']:,} documents in "
        f"{i['seconds']} s, **{i['docs_per_second']:.0f} docs/s**.",
        f"- Index size on disk: {r['index_size_bytes'] / 1e6:.1f} MB (FTS5 table: {r['fts5_size_bytes'] / 1e6:.1f} MB,"
        f" built in {r['fts5_build_seconds']} s).",
    ]
    if r.get("postgres"):
        p = r["postgres"]
        lines += [
            f"- PostgreSQL backend (`search_document` with its tsvector and GIN index, by the backend's own "
            f"`reindex()`, as `flask search reindex` runs it: texts parsed in two connections into a new "
            f"table, its indexes built, then swapped in): {p['seconds']} s, "
            f"**{p['docs_per_second']:.0f} docs/s**; table and indexes {p['size_bytes'] / 1e6:.1f} MB."
        ]
    lines += [
        "",
        "## Queries (as a drafter: no visibility restriction, every facet counted, first page of 20)",
        "",
        "Each kind: 60 different queries, each run once, in order. *Cold*: the decoded-block cache is emptied before",
        "every query (the worst case); the main figures keep it, as a running worker does, so a query may find",
        "blocks an earlier query decoded (the same common word, the visibility terms).",
        "",
        "PostgreSQL: the backend's run_query() (hits, exact total, every facet and the ranked window in one",
        "statement, then the newest 500 hits ranked) plus ts_headline snippets for the page's 20 texts, through",
        "SQLAlchemy on a local server.",
        "",
        "| query | Whoosh median | Whoosh p95 | Whoosh p95, cold | PostgreSQL median | PostgreSQL p95 | FTS5 median "
        "| FTS5 p95 | p95 ratio Whoosh / FTS5 | p95 ratio PostgreSQL / FTS5 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, q in r["queries"].items():
        cold = q.get("whoosh_cold", {}).get("p95_ms", "–")
        pgq = q.get("postgres") or {}
        lines.append(
            f"| {name.replace('_', ' ')} | {q['whoosh']['median_ms']} ms | {q['whoosh']['p95_ms']} ms | "
            f"{cold} ms | {pgq.get('median_ms', '–')} ms | {pgq.get('p95_ms', '–')} ms | "
            f"{q['fts5']['median_ms']} ms | {q['fts5']['p95_ms']} ms | {q['p95_ratio']}× | "
            f"{q.get('postgres_p95_ratio', '–')}× |"
        )
    g = r["goals"]
    lines += [
        "",
        "The FTS5 baseline does less: top 20 by bm25 with snippets, the count and one facet (stakeholder group);",
        "Whoosh counts five facets and the exact total over the filtered set.",
        "",
        "## Goals",
        "",
        f"- p95 under 100 ms for one and two words: {'met' if g['one_two_word_p95_under_100ms'] else 'NOT met'}",
        f"- p95 under 300 ms for phrases: {'met' if g['phrase_p95_under_300ms'] else 'NOT met'}",
        f"- full reindex under 5 minutes (this size): {'met' if g['full_reindex_under_5min'] else 'NOT met'}",
        *(
            [
                f"- PostgreSQL backend, p95 ≤ 100 ms for one and two words (this size): "
                f"{'met' if g['postgres_one_two_word_p95_under_100ms'] else 'NOT met'}",
                f"- PostgreSQL backend, p95 ≤ 300 ms for phrases (this size): "
                f"{'met' if g['postgres_phrase_p95_under_300ms'] else 'NOT met'}",
            ]
            if "postgres_phrase_p95_under_300ms" in g
            else []
        ),
        f"- full reindex under 5 minutes at 5,000 clauses and 100,000 comments (estimated from the measured rate, "
        f"{g['full_reindex_100k_estimate_s']:.0f} s): "
        f"{'met' if g['full_reindex_100k_estimate_s'] < 300 else 'NOT met'}",
        f"- Whoosh full reindex ≤ 120 s (this size): {'met' if g['whoosh_reindex_under_120s'] else 'NOT met'}",
        *(
            [
                f"- PostgreSQL full reindex ≤ 120 s (this size): "
                f"{'met' if g['postgres_reindex_under_120s'] else 'NOT met'}"
            ]
            if "postgres_reindex_under_120s" in g
            else []
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
