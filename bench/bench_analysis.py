"""The analysis job at scale: `analysis refresh` over a version with N comments, from scratch, then incrementally.

    .venv/bin/python bench/bench_analysis.py --quick        # 5,000 comments (about half a minute)
    .venv/bin/python bench/bench_analysis.py                # 100,000 comments (several minutes with the set-up)

A fresh SQLite database in a temporary directory gets a 20-clause draft and N comments built like the synthetic
campaigns of bench_campaigns.py (60 % campaign copies with personal sentences and edits, 30 % single letters, 10 %
letters sharing one opening line), spread over the clauses and stakeholder groups; they are inserted directly
(the import path is not what is measured). Then it times, through the service the command uses:
1. a full refresh with nothing stored (signatures, campaigns, themes, summaries all computed);
2. an incremental refresh after 50 new comments arrive (20 of them copies of a campaign's letter).
Writes bench/results/analysis.json and analysis.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
GROUPS = ("gpai-provider", "industry", "civil-society", "academia", "rightsholder", "public-authority", "other")
DRAFT = "# Bench code\n\n" + "\n\n".join(f"## Measure {i}. Topic {i}\n\nThe text of measure {i}." for i in range(1, 21))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 comments instead of 100,000")
    parser.add_argument("-n", type=int, help="number of comments (overrides --quick)")
    args = parser.parse_args()
    n = args.n or (5_000 if args.quick else 100_000)
    tmp = tempfile.mkdtemp(prefix="consult-bench-analysis-")
    os.environ.update(DATABASE_URL=f"sqlite:///{tmp}/bench.db", CONSULT_INSTANCE_PATH=tmp, SECRET_KEY="bench-only")

    from flask_migrate import upgrade

    from bench.bench_campaigns import synthetic
    from consult import create_app
    from consult.extensions import db
    from consult.models import Comment, utcnow
    from consult.services import analysis as analysis_service
    from consult.services import documents as document_service

    app = create_app({"SEARCH_INDEX_DIR": f"{tmp}/index"})
    with app.app_context():
        upgrade()
        version = document_service.publish_version(slug="bench", data=DRAFT.encode("utf-8"))
        clause_ids = [c.id for c in version.clauses]
        texts, _gold = synthetic(n)
        rng = random.Random(3)
        now = utcnow()

        def rows(items, start):
            for k, (_i, text) in enumerate(items):
                yield {
                    "clause_id": rng.choice(clause_ids),
                    "version_id": version.id,
                    "author_id": None,
                    "author_name": f"Sender {start + k}",
                    "depth": 0,
                    "type": "remark",
                    "stance": None,
                    "visibility": "public" if rng.random() < 0.9 else "confidential",
                    "body": text,
                    "body_html": "",
                    "author_group": rng.choice(GROUPS),
                    "receipt": f"CP-{start + k:09d}",
                    "channel": "bench",
                    "status": "visible",
                    "endorsement_count": 0,
                    "created_at": now,
                }

        start = time.perf_counter()
        items = list(texts.items())
        for offset in range(0, len(items), 5000):
            db.session.execute(db.insert(Comment), list(rows(items[offset : offset + 5000], offset)))
        db.session.commit()
        insert_seconds = time.perf_counter() - start

        start, cpu = time.perf_counter(), time.process_time()
        full = analysis_service.refresh(version, full=True)
        full_seconds, full_cpu = time.perf_counter() - start, time.process_time() - cpu

        template = texts[0]
        new = [(None, template + f" I add my own sentence, number {k}.") for k in range(20)]
        new += [
            (
                None,
                f"A new and different remark about measure {k}, on its scope and its costs for small firms "
                f"in region {k}.",
            )
            for k in range(30)
        ]
        db.session.execute(db.insert(Comment), list(rows(new, len(items))))
        db.session.commit()
        start, cpu = time.perf_counter(), time.process_time()
        incremental = analysis_service.refresh(version)
        incremental_seconds, incremental_cpu = time.perf_counter() - start, time.process_time() - cpu

    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "command": "bench/bench_analysis.py"
        + (" --quick" if args.quick and not args.n else f" -n {n}" if args.n else ""),
        "comments": n,
        "insert_seconds": round(insert_seconds, 2),
        "full": dict(full.__dict__, wall_seconds=round(full_seconds, 2), cpu_seconds=round(full_cpu, 2)),
        "incremental": dict(
            incremental.__dict__, wall_seconds=round(incremental_seconds, 2), cpu_seconds=round(incremental_cpu, 2)
        ),
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if n == 100_000 else f"-{n}"
    (RESULTS / f"analysis{suffix}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        f"# Analysis job, {n:,} comments",
        "",
        f"`{report['command']}` (Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs shared, load average {report['machine']['load_average'][0]:.1f})",
        "",
        "| run | comments | new | campaigns | themes | seconds | CPU seconds |",
        "|---|---|---|---|---|---|---|",
        f"| full, nothing stored | {full.comments:,} | {full.new:,} | {full.campaigns} | {full.themes} | "
        f"{full_seconds:.1f} | {full_cpu:.1f} |",
        f"| incremental, 50 new | {incremental.comments:,} | {incremental.new} | {incremental.campaigns} | "
        f"{incremental.themes} | {incremental_seconds:.1f} | {incremental_cpu:.1f} |",
        "",
        "CPU seconds are this process's own; on a shared machine the wall time also holds the waits for "
        "a core (see the load average).",
    ]
    lines += ["", "Full run by stage (seconds): " + ", ".join(f"{k} {v}" for k, v in full.stages.items())]
    (RESULTS / f"analysis{suffix}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
