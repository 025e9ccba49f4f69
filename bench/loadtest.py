"""Deadline day: simulated participants sign in, read clause pages and comment, against a real gunicorn server.

    .venv/bin/python bench/loadtest.py [--runs sqlite,postgres,postgres+pgsearch] [--participants 60]
                                       [--comments 5000] [--duration 1200] [--workers 4] [--threads 1]

Each run is a database and a search backend: `sqlite` and `postgres` search with Whoosh, `postgres+pgsearch`
with PostgreSQL's own full-text search (SEARCH_BACKEND=postgres). For each run: a fresh instance folder and
database (SQLite with WAL; PostgreSQL in its own database,
LOADTEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/consult_loadtest, whose public schema is
dropped and rebuilt), `flask db upgrade`, the `loadtest` dataset of bench/datagen.py (the measured document,
7,000 comments, 500 active accounts), then gunicorn with several workers on a free port of 127.0.0.1, with rate
limits in Redis (LOADTEST_REDIS_URL, default redis://127.0.0.1:6379/9) when it answers.

The participants are threads in a few client processes, each with its own cookie jar. Each one signs in through
the real form (csrf_token parsed from the page), then loops: read a clause page of the open version, parse the
comment form's csrf_token and submission_token, post a comment carrying a unique marker word; now and then a
search, the version page, the home page or the receipt. A 429 is a signalled rate limit: the participant waits and
sends the same form again (same submission_token). Participants stop when --comments comments have receipts, or
at --duration seconds, whichever comes first. Only 127.0.0.1 is contacted.

Checks after the run: every receipt is in the database exactly once and no comment was made without one; no
response other than 2xx, 3xx or 429; no 5xx; after `flask search drain`, every comment is found by a search for
its marker word (as a drafter). Writes bench/results/loadtest.json and loadtest.md.

Server CPU: the user and system time of the gunicorn master and its workers (from /proc/<pid>/stat), from the
moment every participant has signed in until the server's background drainer has emptied the search outbox after they
stop, divided by the comments made in that time: the CPU one comment's loop costs the server (the clause page, the post,
its mail, the receipt and other pages now and then, and indexing).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import contextlib

import datagen

POSTGRES_URL = os.environ.get("LOADTEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/consult_loadtest")
REDIS_URL = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/9")
MARK_ALPHABET = "bcdfghjklmnpqrtvwxz"  # no vowels, s or y: no stemmer rule touches these words
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN_RE = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')
CLAUSE_RE = re.compile(r'href="/documents/doc-1/versions/3/clauses/([a-z0-9-]+)"')


# --- shared helpers (also used by bench_pages.py) ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, workers: int, app: str = "app:app", log_path: Path | None = None, threads: int = 1):
    """gunicorn on a free port of 127.0.0.1; returns (process, base URL) once it answers."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 (open while gunicorn runs)
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            app,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/privacy", timeout=5).read()
            return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"gunicorn did not start (see {log_path})") from None
            time.sleep(0.3)


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def new_opener():
    """A urllib opener with its own cookie jar that does not follow redirects."""
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())


def fetch(opener, url: str, data: dict | None = None, timeout: float = 60):
    """One request: (status, headers, body text, seconds); an HTTP error status is a result, not an exception."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    started = time.perf_counter()
    try:
        with opener.open(urllib.request.Request(url, data=body), timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
            return response.status, response.headers, text, time.perf_counter() - started
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        return exc.code, exc.headers, text, time.perf_counter() - started
    except OSError as exc:
        return 0, {}, repr(exc), time.perf_counter() - started


def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def latency_summary(seconds: list[float]) -> dict:
    return {
        "n": len(seconds),
        "median_ms": round(statistics.median(seconds) * 1000, 1) if seconds else None,
        "p95_ms": round(pct(seconds, 95) * 1000, 1) if seconds else None,
    }


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process has gone
        # After the name: state ppid ... utime (12th) stime (13th).
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine() -> dict:
    """What the figures were measured on: CPU model and count, and the load averages (the machine is shared)."""
    model = ""
    with contextlib.suppress(OSError):
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {"cpu_model": model, "cpus": os.cpu_count(), "loadavg": list(os.getloadavg())}


def wait_for_outbox(env: dict, timeout: float = 60.0) -> float:
    """Wait until the server's drainer has emptied the search outbox; returns the seconds waited."""
    started = time.perf_counter()
    code = (
        "from consult import create_app; from consult.extensions import db; from consult.models import "
        "SearchOutbox; app = create_app()\nwith app.app_context(): "
        "print(db.session.scalar(db.select(db.func.count(SearchOutbox.id))))"
    )
    while time.perf_counter() - started < timeout:
        out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip().splitlines()[-1] == "0":
            break
        time.sleep(0.5)
    return round(time.perf_counter() - started, 1)


# --- the simulated participants ------------------------------------------------------------------------------


def marker(n: int) -> str:
    """A unique word per comment: 'qz' + n in base 19 over consonants (never altered by stemming)."""
    digits = []
    for _ in range(6):
        n, r = divmod(n, len(MARK_ALPHABET))
        digits.append(MARK_ALPHABET[r])
    return "qz" + "".join(digits)


def participant(base: str, number: int, email: str, keys: list[str], state: dict, out: dict) -> None:
    rng = random.Random(number)
    opener = new_opener()
    log = out["requests"]

    def call(kind: str, path: str, data: dict | None = None):
        status, headers, text, seconds = fetch(opener, base + path, data)
        log.append((kind, status, seconds))
        return status, headers, text

    status, _h, page = call("sign-in page", "/auth/sign-in")
    match = CSRF_RE.search(page)
    if status != 200 or not match:
        out["failures"].append(f"sign-in page {status}")
        return
    status, _h, _t = call(
        "sign-in", "/auth/sign-in", {"email": email, "password": datagen.PASSWORD, "csrf_token": match.group(1)}
    )
    with state["signed_in"].get_lock():
        state["signed_in"].value += 1  # counted on failure too: the server's CPU is measured once all are done
    if status != 302:
        out["failures"].append(f"sign-in {status}")
        return
    sequence = 0
    while time.monotonic() < state["deadline"] and state["receipts"].value < state["target"]:
        key = rng.choice(keys)
        status, _h, page = call("clause page", f"/documents/doc-1/versions/3/clauses/{key}")
        csrf, token = CSRF_RE.search(page), TOKEN_RE.search(page)
        if status != 200 or not csrf or not token:
            continue
        sequence += 1
        word = marker(number * 100_000 + sequence)
        form = {
            "csrf_token": csrf.group(1),
            "submission_token": token.group(1),
            "type": rng.choice(datagen.TYPES),
            "visibility": rng.choice(datagen.VISIBILITY),
            "stance": "",
            "body": f"Deadline comment {word} on {key}: the {rng.choice(datagen.DOMAIN)} wording needs "
            f"{rng.choice(datagen.DOMAIN)} safeguards.",
            "proposed_wording": "",
        }
        for _attempt in range(20):
            status, headers, text = call("post comment", f"/documents/doc-1/versions/3/clauses/{key}/comments", form)
            if status == 429:
                out["rate_limited"] += 1
                wait = re.search(r"wait (\d+) seconds", text)
                time.sleep(min(60, int(wait.group(1)) if wait else 5))
                if time.monotonic() > state["deadline"] + 60:
                    break
                continue
            break
        location = headers.get("Location", "") if headers else ""
        receipt = location.rsplit("/", 1)[-1] if status == 302 and "/receipts/" in location else None
        if receipt:
            with state["receipts"].get_lock():
                state["receipts"].value += 1
            out["receipts"].append({"receipt": receipt, "marker": word, "token": form["submission_token"]})
            if rng.random() < 0.1:
                call("receipt page", f"/receipts/{receipt}")
        elif status != 429:
            out["failures"].append(f"post comment {status}")
        roll = rng.random()
        if roll < 0.1:
            call("search", "/search?" + urllib.parse.urlencode({"q": rng.choice(datagen.DOMAIN[:30])}))
        elif roll < 0.2:
            call("version page", "/documents/doc-1/versions/3")
        elif roll < 0.25:
            call("home", "/")


def client_process(base: str, numbers: list[int], keys: list[str], state: dict, queue) -> None:
    outs = []
    threads = []
    for number in numbers:
        out = {"requests": [], "receipts": [], "failures": [], "rate_limited": 0}
        outs.append(out)
        thread = threading.Thread(
            target=participant, args=(base, number, f"p{number}@bench.example", keys, state, out), daemon=True
        )
        threads.append(thread)
        thread.start()
        time.sleep(0.05)  # stagger the sign-ins a little
    for thread in threads:
        thread.join()
    merged = {
        "requests": [r for o in outs for r in o["requests"]],
        "receipts": [r for o in outs for r in o["receipts"]],
        "failures": [f for o in outs for f in o["failures"]],
        "rate_limited": sum(o["rate_limited"] for o in outs),
    }
    queue.put(merged)


# --- one run --------------------------------------------------------------------------------------------------


def _redis_ready(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        client.ping()
        for key in client.scan_iter("consult:throttle:*"):
            client.delete(key)
        return True
    except Exception:  # noqa: BLE001
        return False


def _flask(env: dict, *args) -> str:
    return subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


RUNS = {
    "sqlite": ("sqlite", "whoosh"),
    "postgres": ("postgres", "whoosh"),
    "postgres+pgsearch": ("postgres", "postgres"),
}


def run_one(name: str, args, workdir: Path) -> dict:
    database, backend = RUNS[name]
    instance = workdir / name
    instance.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        CONSULT_INSTANCE_PATH=str(instance),
        SECRET_KEY="loadtest-secret-key-not-for-production",
        PYTHONPATH=str(ROOT),
        SEARCH_BACKEND=backend,
    )
    env.pop("SEARCH_INDEX_DIR", None)
    env.pop("MAIL_SERVER", None)  # mail goes to the outbox folder, written before each response
    if database == "postgres":
        datagen.ensure_postgres_database(POSTGRES_URL)
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
        env["DATABASE_URL"] = POSTGRES_URL
    else:
        env["DATABASE_URL"] = f"sqlite:///{instance}/consult.db"
    redis_used = _redis_ready(REDIS_URL)
    if redis_used:
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    print(f"[{name}] db upgrade, dataset", file=sys.stderr)
    _flask(env, "db", "upgrade")
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, str(BENCH / "datagen.py"), "--size", "loadtest"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    setup_s = round(time.perf_counter() - started, 1)
    server, base = start_gunicorn(env, args.workers, log_path=instance / "gunicorn.log", threads=args.threads)
    machine_before = machine()
    try:
        status, _h, page, _s = fetch(new_opener(), base + "/documents/doc-1/versions/3")
        keys = sorted(set(CLAUSE_RE.findall(page)))
        assert status == 200 and len(keys) >= 100, (status, len(keys))
        ctx = multiprocessing.get_context("fork")
        state = {
            "receipts": ctx.Value("i", 0),
            "signed_in": ctx.Value("i", 0),
            "target": args.comments,
            "deadline": time.monotonic() + args.duration,
        }
        queue = ctx.Queue()
        numbers = list(range(args.participants))
        groups = [numbers[i :: args.clients] for i in range(args.clients)]
        print(
            f"[{name}] {args.participants} participants on {base} ({args.workers} workers), "
            f"up to {args.duration} s or {args.comments} comments",
            file=sys.stderr,
        )
        run_started = time.perf_counter()
        processes = [ctx.Process(target=client_process, args=(base, g, keys, state, queue)) for g in groups]
        for p in processes:
            p.start()
        # Server CPU is counted from the moment every participant has signed in (a password hash costs far more
        # than a comment, and a deadline day's participants are mostly signed in already).
        while state["signed_in"].value < args.participants and time.monotonic() < state["deadline"]:
            time.sleep(0.05)
        cpu_started, receipts_started = process_tree_cpu(server.pid), state["receipts"].value
        outs = [queue.get() for _ in processes]
        for p in processes:
            p.join()
        elapsed = time.perf_counter() - run_started
        machine_after = machine()
        drain_wait = wait_for_outbox(env)  # the server's own drainer indexes the last comments
        server_cpu = process_tree_cpu(server.pid) - cpu_started
        comments_measured = state["receipts"].value - receipts_started
    finally:
        stop(server)
    requests = [r for o in outs for r in o["requests"]]
    receipts = [r for o in outs for r in o["receipts"]]
    failures = Counter(f for o in outs for f in o["failures"])
    rate_limited = sum(o["rate_limited"] for o in outs)

    by_kind = defaultdict(list)
    statuses = defaultdict(Counter)
    for kind, status, seconds in requests:
        by_kind[kind].append(seconds)
        statuses[kind][status] += 1
    errors = {k: {str(s): n for s, n in c.items() if s == 0 or s >= 400 and s != 429} for k, c in statuses.items()}
    server_errors = sum(n for c in statuses.values() for s, n in c.items() if s >= 500)

    print(f"[{name}] {len(receipts)} receipts in {elapsed:.0f} s; checking", file=sys.stderr)
    drain_out = _flask(env, "search", "drain", "--timeout", "120")
    receipts_file = instance / "receipts.json"
    receipts_file.write_text(json.dumps(receipts))
    check = json.loads(
        subprocess.run(
            [PYTHON, __file__, "--check", str(receipts_file)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    result = {
        "run": name,
        "database": database,
        "search_backend": backend,
        "workers": args.workers,
        "threads": args.threads,
        "machine_before": machine_before,
        "machine_after": machine_after,
        "server_cpu_s": round(server_cpu, 1),
        "drain_wait_s": drain_wait,
        "server_cpu_comments": comments_measured,
        "server_cpu_ms_per_comment": round(server_cpu * 1000 / max(comments_measured, 1), 1),
        "participants": args.participants,
        "client_processes": args.clients,
        "redis_rate_limits": redis_used,
        "duration_limit_s": args.duration,
        "target_comments": args.comments,
        "setup_s": setup_s,
        "elapsed_s": round(elapsed, 1),
        "requests": len(requests),
        "throughput_rps": round(len(requests) / elapsed, 1),
        "comments_per_s": round(len(receipts) / elapsed, 1),
        "receipts": len(receipts),
        "rate_limited_429": rate_limited,
        "server_errors_5xx": server_errors,
        "connection_errors": sum(c.get(0, 0) for c in statuses.values()),
        "failures": dict(failures),
        "latency": {k: latency_summary(v) for k, v in sorted(by_kind.items())},
        "statuses": {k: {str(s): n for s, n in sorted(c.items())} for k, c in sorted(statuses.items())},
        "errors_other_than_429": {k: v for k, v in errors.items() if v},
        "drain": json.loads(drain_out.strip().splitlines()[-1]),
        "check": check,
    }
    result["passed"] = bool(
        check["receipts_in_db_once"] == len(receipts)
        and check["comments_without_receipt"] == 0
        and check["duplicate_receipts"] == 0
        and check["found_by_search"] == len(receipts)
        and not result["errors_other_than_429"]
        and server_errors == 0
        and not failures
        and len(receipts) >= args.comments
    )  # a run cut short by its time limit has not shown the load
    result["target_reached"] = len(receipts) >= args.comments
    return result


def check_run(receipts_path: str) -> dict:
    """In the server's environment: compare the receipts with the database and search for every marker word."""
    from consult import create_app, search
    from consult.extensions import db
    from consult.models import Comment, User

    receipts = json.loads(Path(receipts_path).read_text())
    app = create_app()
    with app.app_context():
        wanted = [r["receipt"] for r in receipts]
        counts = Counter()
        for start in range(0, len(wanted), 500):
            for receipt, n in db.session.execute(
                db.select(Comment.receipt, db.func.count())
                .where(Comment.receipt.in_(wanted[start : start + 500]))
                .group_by(Comment.receipt)
            ):
                counts[receipt] = n
        made = db.session.scalars(db.select(Comment.receipt).where(Comment.submission_token.is_not(None))).all()
        drafter = db.session.scalar(db.select(User).where(User.email == datagen.DRAFTER_EMAIL))
        found = missing = 0
        missing_examples = []
        started = time.perf_counter()
        with app.test_request_context("/search"):
            for r in receipts:
                page = search.search(drafter, r["marker"], per_page=5)
                if any(getattr(item.comment, "receipt", None) == r["receipt"] for item in page.items):
                    found += 1
                else:
                    missing += 1
                    if len(missing_examples) < 5:
                        missing_examples.append(r["receipt"])
        return {
            "receipts_in_db_once": sum(1 for r in wanted if counts[r] == 1),
            "receipts_missing_in_db": sum(1 for r in wanted if counts[r] == 0),
            "duplicate_receipts": len(wanted) - len(set(wanted)),
            "comments_made_by_load": len(made),
            "comments_without_receipt": len(set(made) - set(wanted)),
            "found_by_search": found,
            "not_found_by_search": missing,
            "not_found_examples": missing_examples,
            "search_check_s": round(time.perf_counter() - started, 1),
        }


# --- report ----------------------------------------------------------------------------------------------------

KINDS = ["sign-in page", "sign-in", "clause page", "post comment", "receipt page", "search", "version page", "home"]


def markdown(report: dict) -> str:
    runs = report["runs"]
    lines = [
        "# Load test: deadline day",
        "",
        f"Command: `{report['command']}`. {report['when']}, {report['cpus']} CPUs "
        f"({report.get('cpu_model') or 'unknown model'}), Python {report['python']}, {report['platform']}. The "
        "client runs on the same machine and shares its CPUs with the server. The machine is shared with other "
        "work (six engineers); its load averages (1, 5, 15 min) at the start and end of each run are in the table.",
        "",
        "Each participant signs in through the form, then loops: a clause page of the open version, a comment "
        "posted from its form (csrf_token and submission_token parsed from the page); after it, now and then the "
        "receipt (10%), a search (10%), the version page (10%) or the home page (5%). No think time: the figures "
        "are what the server sustains when it is the bottleneck. Comment rate limit: the default, 30 per minute "
        "per participant (a 429 is answered by waiting and re-sending the same form).",
        "",
        "| | " + " | ".join(r.get("run", r["database"]) for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(str(fn(r)) for r in runs) + " |")

    row("database / search backend", lambda r: f"{r['database']} / {r.get('search_backend', 'whoosh')}")
    row(
        "gunicorn workers × threads / participants / client processes",
        lambda r: f"{r['workers']} × {r.get('threads', 1)} / {r['participants']} / {r['client_processes']}",
    )
    row(
        "load averages at start → end",
        lambda r: (
            " ".join(f"{x:.1f}" for x in r["machine_before"]["loadavg"])
            + " → "
            + " ".join(f"{x:.1f}" for x in r["machine_after"]["loadavg"])
        ),
    )
    row("rate limits in", lambda r: "Redis" if r["redis_rate_limits"] else "the database")
    row("run time (s)", lambda r: r["elapsed_s"])
    row("requests", lambda r: f"{r['requests']:,}")
    row("**throughput (requests/s)**", lambda r: f"**{r['throughput_rps']}**")
    row("**comments/s**", lambda r: f"**{r['comments_per_s']}**")
    row("**server CPU per comment (ms)**", lambda r: f"**{r['server_cpu_ms_per_comment']}**")
    row(
        "server CPU (s; gunicorn master and workers, from the last sign-in until the outbox was drained) / "
        "comments in that time",
        lambda r: f"{r['server_cpu_s']} / {r['server_cpu_comments']:,}",
    )
    row("comments with a receipt", lambda r: f"{r['receipts']:,}")
    row("receipts found in the database exactly once", lambda r: f"{r['check']['receipts_in_db_once']:,}")
    row("comments made without a receipt reaching the client", lambda r: r["check"]["comments_without_receipt"])
    row("found by search after the drain", lambda r: f"{r['check']['found_by_search']:,}")
    row("429 (signalled rate limit)", lambda r: r["rate_limited_429"])
    row("5xx", lambda r: r["server_errors_5xx"])
    row(
        "other errors (4xx except 429, connection)",
        lambda r: sum(n for v in r["errors_other_than_429"].values() for n in v.values()),
    )
    row(
        f"target of {runs[0]['target_comments']:,} comments reached",
        lambda r: "yes" if r["target_reached"] else f"no (time limit {r['duration_limit_s']} s)",
    )
    row("all checks passed", lambda r: "yes" if r["passed"] else "**NO**")
    lines += [
        "",
        "Latency per request type, median / p95 in ms (n):",
        "",
        "| request | " + " | ".join(r.get("run", r["database"]) for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for kind in KINDS:
        cells = []
        for r in runs:
            s = r["latency"].get(kind)
            cells.append(f"{s['median_ms']} / {s['p95_ms']} ({s['n']:,})" if s else "—")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("")
    for r in runs:
        if r["errors_other_than_429"] or r["failures"]:
            lines.append(
                f"- {r.get('run', r['database'])}: errors {r['errors_other_than_429']}, failures {r['failures']}"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        default="sqlite,postgres,postgres+pgsearch",
        help="database and search backend of each run: " + ", ".join(RUNS),
    )
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--clients", type=int, default=3, help="client processes sharing the participants")
    parser.add_argument(
        "--comments", type=int, default=5000, help="per database: stop once this many comments have receipts"
    )
    parser.add_argument("--duration", type=int, default=1200, help="hard time limit per database, seconds")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread when > 1)")
    parser.add_argument("--check", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        print(json.dumps(check_run(args.check)))
        return 0
    runs = []
    with tempfile.TemporaryDirectory(prefix="consult-loadtest-") as tmp:
        for name in [d.strip() for d in args.runs.split(",") if d.strip()]:
            if name not in RUNS:
                parser.error(f"unknown run {name!r}: use {', '.join(RUNS)}")
            if RUNS[name][0] == "postgres":
                try:
                    datagen.ensure_postgres_database(POSTGRES_URL)
                except Exception as exc:  # noqa: BLE001
                    print(f"[postgres] skipped: {POSTGRES_URL} is not reachable ({exc})", file=sys.stderr)
                    continue
            runs.append(run_one(name, args, Path(tmp)))
            print(json.dumps({k: v for k, v in runs[-1].items() if k not in ("statuses",)}, indent=1), file=sys.stderr)
            shutil.copy(Path(tmp) / name / "gunicorn.log", Path(tmp) / f"{name}-gunicorn.log")
    report = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "cpu_model": machine()["cpu_model"],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": "make loadtest  (bench/loadtest.py " + " ".join(argv if argv is not None else sys.argv[1:]) + ")",
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "loadtest.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (RESULTS / "loadtest.md").write_text(text)
    print(text)
    return 0 if runs and all(r["passed"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
