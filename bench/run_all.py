"""Collect every benchmark's JSON in bench/results/ into one Markdown summary: bench/results/summary.md.

    .venv/bin/python bench/run_all.py

It runs nothing itself (`make bench` runs the benchmarks first); it reads pages.json, pages-postgres.json,
loadtest.json, redline.json, search.json and export.json when present, puts their headline figures in one
table, and appends each benchmark's own Markdown table below it.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _when(data: dict) -> str:
    return data.get("when") or data.get("meta", {}).get("when") or "?"


def pages_rows(data: dict, label: str) -> list[tuple]:
    rows = []
    sizes = data["sizes"]
    names = "/".join(s["size"] for s in sizes)
    for page, first in sizes[0]["pages"].items():
        medians = " / ".join(f"{s['pages'][page]['median_ms']}" for s in sizes)
        p95 = " / ".join(f"{s['pages'][page]['p95_ms']}" for s in sizes)
        ratio = sizes[-1]["pages"][page]["median_ms"] / first["median_ms"]
        rows.append(
            (
                label,
                f"{page}: server time, {names}",
                f"median {medians} ms; p95 {p95} ms",
                f"{ratio:.2f}× largest/smallest",
                _when(data),
            )
        )
    for page, c in (data.get("ceiling") or {}).items():
        rows.append(
            (
                label,
                f"gunicorn 2 workers, {page}",
                f"{c['rps_median']} req/s",
                f"{c['ratio_to_trivial']:.3f} of trivial",
                _when(data),
            )
        )
    return rows


def loadtest_rows(data: dict) -> list[tuple]:
    rows = []
    for r in data["runs"]:
        label = f"load test ({r.get('run', r['database'])})"
        cpu = (
            f", {r['server_cpu_ms_per_comment']} ms server CPU per comment" if "server_cpu_ms_per_comment" in r else ""
        )
        rows.append(
            (
                label,
                f"{r['participants']} participants, {r['workers']} workers, {r['elapsed_s']} s",
                f"{r['throughput_rps']} req/s, {r['comments_per_s']} comments/s{cpu}",
                f"{r['receipts']:,} receipts, {r['check']['receipts_in_db_once']:,} in DB once, "
                f"{r['check']['found_by_search']:,} found by search; 429: {r['rate_limited_429']}, "
                f"5xx: {r['server_errors_5xx']}; checks {'passed' if r['passed'] else 'FAILED'}",
                _when(data),
            )
        )
        for kind in ("clause page", "post comment", "search"):
            s = r["latency"].get(kind)
            if s:
                rows.append(
                    (
                        label,
                        f"{kind} latency under load",
                        f"median {s['median_ms']} ms, p95 {s['p95_ms']} ms",
                        f"n = {s['n']:,}",
                        _when(data),
                    )
                )
    return rows


def redline_rows(data: dict) -> list[tuple]:
    return [
        (
            "redline",
            c["case"],
            f"{c['pipeline_median_s'] * 1000:.0f} ms median, {c['pipeline_peak_mib']} MiB peak",
            f"{c['ratio_to_baseline']}× difflib baseline",
            _when(data),
        )
        for c in data["cases"]
    ]


def search_rows(data: dict) -> list[tuple]:
    rows = []
    indexing = data.get("indexing") or data.get("whoosh_indexing") or {}
    if isinstance(indexing, dict) and indexing:
        figure = ", ".join(f"{k} {v}" for k, v in indexing.items() if not isinstance(v, (dict, list)))
        rows.append(("search", "indexing", figure[:160], "", _when(data)))
    queries = data.get("queries") or {}
    items = queries.items() if isinstance(queries, dict) else ((q.get("kind", "?"), q) for q in queries)
    for kind, q in items:
        w = q.get("whoosh", {})
        f = q.get("fts5", {})
        rows.append(
            (
                "search",
                f"query: {kind}",
                f"median {w.get('median_ms')} ms, p95 {w.get('p95_ms')} ms",
                f"FTS5 p95 {f.get('p95_ms')} ms",
                _when(data),
            )
        )
    return rows


def export_rows(data: dict) -> list[tuple]:
    s = data["runs"]["streamed"]
    m = data["runs"]["materialised"]
    return [
        (
            "CSV export",
            f"{data['comments']:,} comments, streamed",
            f"{s['seconds']} s",
            f"RSS growth {s['rss_growth_mib']} MiB (a list of rows: {m['rss_growth_mib']} MiB)",
            _when(data),
        )
    ]


def main() -> int:
    rows: list[tuple] = []
    sections = []
    sources = [
        ("pages", lambda d: pages_rows(d, "pages (SQLite)")),
        ("pages-postgres", lambda d: pages_rows(d, "pages (PostgreSQL)")),
        ("loadtest", loadtest_rows),
        ("redline", redline_rows),
        ("search", search_rows),
        ("export", export_rows),
    ]
    for name, collect in sources:
        data = _load(name)
        if data is None:
            if name == "pages-postgres":  # optional: bench_pages.py --database postgres
                continue
            sections.append(f"- {name}: no results yet (bench/results/{name}.json is missing)")
            continue
        try:
            rows.extend(collect(data))
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            sections.append(f"- {name}: results present but not summarised ({exc!r}); see {name}.md")
    lines = [
        "# Benchmark summary",
        "",
        f"Collected {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} from bench/results/*.json by "
        "bench/run_all.py (`make bench` runs every benchmark first; `make loadtest` writes loadtest.json). "
        "Medians and ratios; this is a shared 2-CPU machine, so single figures move by ±20%.",
        "",
        "| benchmark | measurement | figure | compared | measured |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(str(c).replace('|', '/') for c in row)} |" for row in rows]
    if sections:
        lines += ["", *sections]
    for name in ("pages", "pages-postgres", "loadtest", "redline", "search", "export"):
        md = RESULTS / f"{name}.md"
        if md.is_file():
            body = md.read_text(encoding="utf-8").strip().splitlines()
            body = ["#" + line if line.startswith("#") else line for line in body]  # one level down
            lines += ["", *body]
    (RESULTS / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[: len(rows) + 8]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
