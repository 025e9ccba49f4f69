"""Page cost at three data sizes, and the ceiling ratio of real pages against a trivial one under gunicorn.

    .venv/bin/python bench/bench_pages.py [--sizes small,medium,large] [--repeats 20] [--database sqlite|postgres]
                                          [--ceiling-seconds 8] [--no-ceiling]

For each size a worker process builds a fresh database with bench/datagen.py (SQLite file in a temporary folder,
or PostgreSQL in its own database BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/consult_bench,
whose public schema is dropped and rebuilt) and times each page in-process through the Flask test client: the
server time without the network, `--repeats` requests after two warm-ups, median and p95, with the number of SQL
statements per request. The measured pages all belong to `doc-1`, which is identical in every size, so a page
whose time grows from size to size grows with the total data size.

Ceiling: on the largest size, gunicorn with 2 workers serves the app on 127.0.0.1; a bounded client (processes ×
threads, new connection per request, fixed duration) measures requests/s of the clause page and the version page
and of a trivial page of the same app (/privacy, a static template), in rounds, on the same server in the same run.
Writes bench/results/pages.json and pages.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import datagen
from loadtest import latency_summary, pct, start_gunicorn, stop

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/consult_bench")
V3 = f"/documents/{datagen.TARGET_SLUG}/versions/3"
PAGES = [  # (name, path, signed in as the drafter, what it shows)
    ("home", "/", False, "documents with their latest version"),
    ("version page", V3, False, "300 clauses with comment counts"),
    ("clause page, 1,000 comments", f"{V3}/clauses/{datagen.HOT_KEY}", False, "1,000 comments, 50 threads a page"),
    ("clause page, typical", f"{V3}/clauses/{datagen.TYPICAL_KEY}", False, "about 20 comments"),
    ("redline v2 → v3", f"/documents/{datagen.TARGET_SLUG}/redline?from=2&to=3", False, "300 clause pairs"),
    ("review workspace", f"{V3}/review", True, "5,000 comments counted, 50 a page"),
    (f"search, rare word ({datagen.RARE_WORD})", f"/search?q={datagen.RARE_WORD}", False, "the same ~140 hits"),
    (
        f"search, common word ({datagen.COMMON_WORD})",
        f"/search?q={datagen.COMMON_WORD}",
        False,
        "hits grow with the data (one comment in 7)",
    ),
    ("CSV export (5,000 comments)", f"{V3}/review/export.csv", True, "5,000 rows"),
]
# Pages whose work grows with the data by design: ranking by relevance and counting facets read every hit.
SHOWS_MORE_AT_SCALE = {f"search, common word ({datagen.COMMON_WORD})"}
CEILING_PAGES = [
    ("trivial (/privacy)", "/privacy"),
    ("version page", V3),
    ("clause page, typical", f"{V3}/clauses/{datagen.TYPICAL_KEY}"),
    ("clause page, 1,000 comments", f"{V3}/clauses/{datagen.HOT_KEY}"),
]


def _env(workdir: Path, database: str) -> dict:
    env = dict(
        os.environ, CONSULT_INSTANCE_PATH=str(workdir), SECRET_KEY="bench-pages-secret-key", PYTHONPATH=str(ROOT)
    )
    env.pop("SEARCH_INDEX_DIR", None)
    env.pop("REDIS_URL", None)
    env["DATABASE_URL"] = POSTGRES_URL if database == "postgres" else f"sqlite:///{workdir}/bench.db"
    return env


# --- the worker: build one size and time its pages --------------------------------------------------------------


def worker(size_name: str, repeats: int, export_repeats: int) -> dict:
    from sqlalchemy import event

    from consult import create_app
    from consult.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    datagen.reset_schema(app)
    built = datagen.generate(app, datagen.SIZES[size_name], log=lambda m: print(m, file=sys.stderr))
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
    anonymous = app.test_client()
    drafter = app.test_client()
    response = drafter.post("/auth/sign-in", data={"email": datagen.DRAFTER_EMAIL, "password": datagen.PASSWORD})
    assert response.status_code == 302, response.status_code
    pages = {}
    for name, path, staff, shows in PAGES:
        client = drafter if staff else anonymous
        n = export_repeats if "export" in name else repeats
        times, sizes, queries = [], [], []
        for i in range(n + 2):
            statements[0] = 0
            started = time.perf_counter()
            response = client.get(path)
            body = response.get_data()  # a streamed body is produced here
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (name, response.status_code)
            if i >= 2:
                times.append(elapsed)
                sizes.append(len(body))
                queries.append(statements[0])
        pages[name] = {
            "path": path,
            "shows": shows,
            **latency_summary(times),
            "runs_ms": [round(t * 1000, 1) for t in times],
            "bytes": statistics.median(sizes),
            "sql_statements": statistics.median(queries),
        }
        print(
            f"  {size_name}: {name}: median {pages[name]['median_ms']} ms, p95 {pages[name]['p95_ms']} ms, "
            f"{pages[name]['sql_statements']} statements",
            file=sys.stderr,
        )
    return {"size": size_name, "dataset": built, "pages": pages}


# --- the ceiling: throughput under gunicorn ---------------------------------------------------------------------


def _hammer_process(url: str, seconds: float, threads: int, queue) -> None:
    stop_at = time.monotonic() + seconds
    counts = []

    def loop():
        ok = bad = 0
        latencies = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    response.read()
                    ok += response.status == 200
            except OSError:
                bad += 1
            latencies.append(time.perf_counter() - started)
        counts.append((ok, bad, latencies))

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put((sum(c[0] for c in counts), sum(c[1] for c in counts), [x for c in counts for x in c[2]]))


def hammer(url: str, seconds: float, processes: int = 2, threads: int = 4) -> dict:
    """Requests/s of one URL for a fixed time, from processes × threads clients (bounded, 127.0.0.1 only)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    started = time.perf_counter()
    procs = [ctx.Process(target=_hammer_process, args=(url, seconds, threads, queue)) for _ in range(processes)]
    for p in procs:
        p.start()
    outs = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    ok, bad = sum(o[0] for o in outs), sum(o[1] for o in outs)
    latencies = [x for o in outs for x in o[2]]
    return {
        "ok": ok,
        "errors": bad,
        "seconds": round(elapsed, 2),
        "rps": round(ok / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(pct(latencies, 95) * 1000, 1) if latencies else None,
    }


def ceiling(env: dict, seconds: float, rounds: int, log_path: Path) -> dict:
    server, base = start_gunicorn(env, 2, log_path=log_path)
    try:
        for _name, path in CEILING_PAGES:  # warm every worker
            for _ in range(4):
                urllib.request.urlopen(base + path, timeout=60).read()
        runs = {name: [] for name, _ in CEILING_PAGES}
        for r in range(rounds):
            for name, path in CEILING_PAGES:
                result = hammer(base + path, seconds)
                runs[name].append(result)
                print(
                    f"  ceiling round {r + 1}: {name}: {result['rps']} req/s "
                    f"(median {result['median_ms']} ms, {result['errors']} errors)",
                    file=sys.stderr,
                )
    finally:
        stop(server)
    trivial = statistics.median(x["rps"] for x in runs[CEILING_PAGES[0][0]])
    out = {}
    for name, path in CEILING_PAGES:
        rps = statistics.median(x["rps"] for x in runs[name])
        out[name] = {
            "path": path,
            "rps_median": round(rps, 1),
            "rps_runs": [x["rps"] for x in runs[name]],
            "latency_median_ms": statistics.median(x["median_ms"] for x in runs[name]),
            "errors": sum(x["errors"] for x in runs[name]),
            "ratio_to_trivial": round(rps / trivial, 3),
        }
    return out


# --- report -----------------------------------------------------------------------------------------------------


def markdown(report: dict) -> str:
    sizes = report["sizes"]
    names = [s["size"] for s in sizes]
    lines = [
        "# Page cost at scale",
        "",
        f"Command: `{report['command']}`. {report['when']}, {report['cpus']} CPUs, Python {report['python']}, "
        f"{report['database']}, {report['platform']}.",
        "",
        "Server time in-process (Flask test client, no network): median / p95 in ms of "
        f"{report['repeats']} requests after two warm-ups ({report['export_repeats']} for the CSV export), and "
        "the SQL statements per request. Every measured page belongs to `doc-1`, which is the same in every "
        "size (3 versions × 300 clauses; version 3 open with 5,000 comments, 1,000 of them on one clause; "
        "1,000 on each earlier version); only the data around it grows.",
        "",
        "| dataset | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for label, key in [
        ("documents", "documents"),
        ("versions", "versions"),
        ("clauses", "clauses"),
        ("comments", "comments"),
        ("accounts", "accounts"),
        ("dispositions", "dispositions"),
    ]:
        lines.append(f"| {label} | " + " | ".join(f"{s['dataset']['counts'][key]:,}" for s in sizes) + " |")
    lines.append(
        "| generation + reindex (s) | "
        + " | ".join(
            f"{s['dataset']['timings']['publish_s'] + s['dataset']['timings']['rows_s']:.0f} + "
            f"{s['dataset']['timings'].get('reindex_s', 0):.0f}"
            for s in sizes
        )
        + " |"
    )
    lines += [
        "",
        "| page | shows | "
        + " | ".join(f"{n}: median / p95 (SQL)" for n in names)
        + f" | {names[-1]} / {names[0]} (median) |",
        "|---|---|" + "---|" * (len(sizes) + 1),
    ]
    for name, _path, _staff, shows in PAGES:
        cells = [
            f"{p['median_ms']} / {p['p95_ms']} ({p['sql_statements']:g})" for p in (s["pages"][name] for s in sizes)
        ]
        ratio = sizes[-1]["pages"][name]["median_ms"] / sizes[0]["pages"][name]["median_ms"]
        flag = " †" if name in SHOWS_MORE_AT_SCALE else " ⚠" if ratio > report["growth_threshold"] else ""
        lines.append(f"| {name} | {shows} | " + " | ".join(cells) + f" | {ratio:.2f}×{flag} |")
    lines += [
        "",
        f"⚠ marks a median that grew more than {report['growth_threshold']}× from the smallest to the "
        "largest size although the page shows the same thing (noise on this shared machine is about ±20%). "
        "† marks a page that shows more at a larger size: its hit count and facet counts grow with the data, "
        "and relevance ranking reads every hit, so its time follows the number of hits.",
    ]
    if report.get("ceiling"):
        c = report["ceiling"]
        lines += [
            "",
            "## Ceiling ratio under gunicorn (2 workers)",
            "",
            f"Size {report['ceiling_size']}; {report['ceiling_rounds']} rounds of {report['ceiling_seconds']} s "
            "per page, pages interleaved, on one server in one run; client = 2 processes × 4 threads on the "
            "same machine, a new connection per request. Median requests/s of the rounds.",
            "",
            "| page | requests/s (median) | rounds | latency median (ms) | errors | ratio to trivial |",
            "|---|---|---|---|---|---|",
        ]
        for name, v in c.items():
            lines.append(
                f"| {name} | {v['rps_median']} | {', '.join(str(x) for x in v['rps_runs'])} | "
                f"{v['latency_median_ms']} | {v['errors']} | {v['ratio_to_trivial']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--export-repeats", type=int, default=7)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ceiling-seconds", type=float, default=8)
    parser.add_argument("--ceiling-rounds", type=int, default=3)
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--growth-threshold", type=float, default=1.5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats, args.export_repeats)))
        return 0
    names = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [n for n in names if n not in datagen.SIZES]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {sorted(datagen.SIZES)}")
    if args.database == "postgres":
        datagen.ensure_postgres_database(POSTGRES_URL)
    sizes, ceiling_result = [], None
    with tempfile.TemporaryDirectory(prefix="consult-bench-pages-") as tmp:
        for name in names:
            workdir = Path(tmp) / name
            workdir.mkdir()
            env = _env(workdir, args.database)
            print(f"[{name}] building and timing", file=sys.stderr)
            out = subprocess.run(
                [
                    PYTHON,
                    __file__,
                    "--worker",
                    name,
                    "--repeats",
                    str(args.repeats),
                    "--export-repeats",
                    str(args.export_repeats),
                ],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            ).stdout
            sizes.append(json.loads(out.strip().splitlines()[-1]))
        if not args.no_ceiling:
            print(f"[{names[-1]}] ceiling under gunicorn", file=sys.stderr)
            env = _env(Path(tmp) / names[-1], args.database)
            ceiling_result = ceiling(env, args.ceiling_seconds, args.ceiling_rounds, Path(tmp) / "gunicorn.log")
    report = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "database": "PostgreSQL" if args.database == "postgres" else "SQLite (WAL, file)",
        "command": "bench/bench_pages.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "repeats": args.repeats,
        "export_repeats": args.export_repeats,
        "growth_threshold": args.growth_threshold,
        "sizes": sizes,
        "ceiling": ceiling_result,
        "ceiling_size": names[-1],
        "ceiling_seconds": args.ceiling_seconds,
        "ceiling_rounds": args.ceiling_rounds,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.database == "sqlite" else "-postgres"
    (RESULTS / f"pages{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (RESULTS / f"pages{suffix}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
