"""Benchmark Word import and export on the real GPAI Code of Practice texts (quick: a few seconds).

Run from the repository root:  .venv/bin/python bench/bench_word.py [--repeat 3]

  import       the third draft's Safety & Security chapter as a .docx made by pandoc from its Markdown, converted
               to the draft format and parsed (consult.word.reader + drafts.parse): median wall time.
  redline      the third draft → final Safety & Security redline as .docx with tracked changes, through the route
               (test client on a throw-away SQLite database, both versions published first): median wall time
               and size.
  version      the final version as .docx through its route: median wall time and size.

Targets (issue #16): import < 3 s; redline < 3 s and < 2 MB. Results go to bench/results/word.json and word.md.
Figures depend on the machine; tests never assert on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
DATA = ROOT.parent / "shared" / "data" / "gpai-cop"
THIRD = DATA / "v3-third-draft-2025-03-11_3-safety-security.md"
FINAL = DATA / "v4-final-2025-07-10_3-safety-security.md"


def timed(function, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-word-"))
    os.environ["CONSULT_INSTANCE_PATH"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.db'}"
    from consult import create_app
    from consult.drafts.parse import parse_draft
    from consult.extensions import db
    from consult.services import documents as document_service
    from consult.word.reader import docx_to_markdown

    docx = work / "third.docx"
    subprocess.run(["pandoc", "-f", "commonmark", "-t", "docx", str(THIRD), "-o", str(docx)], check=True)
    data = docx.read_bytes()
    import_s, draft = timed(lambda: parse_draft(docx_to_markdown(data)), args.repeat)

    app = create_app({"TESTING": True, "CONSULT_SEARCH_DRAIN_AFTER_REQUEST": False})
    with app.app_context():
        db.create_all()
        document_service.publish_version(slug="safety", data=THIRD.read_bytes(), label="Third draft")
        document_service.publish_version(slug="safety", data=FINAL.read_bytes(), label="Final")
        client = app.test_client()
        redline_s, redline = timed(lambda: client.get("/documents/safety/redline.docx?from=1&to=2"), args.repeat)
        version_s, version = timed(lambda: client.get("/documents/safety/versions/2/download.docx"), args.repeat)
        assert redline.status_code == 200 and version.status_code == 200

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "repeat": args.repeat,
        "import": {"docx_bytes": len(data), "clauses": len(draft.clauses), "seconds": round(import_s, 3)},
        "redline": {"seconds": round(redline_s, 3), "bytes": len(redline.data)},
        "version": {"seconds": round(version_s, 3), "bytes": len(version.data)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "word.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "word.md").write_text(f"""# Word import and export (bench/bench_word.py)

{result["when"]}, {result["machine"]}, {result["cpus"]} CPUs, median of {args.repeat} runs.

| what | time | size | target |
|---|---|---|---|
| import the third draft's Safety & Security .docx ({len(data) // 1024} KB, {len(draft.clauses)} clauses) \
| {import_s:.2f} s | | < 3 s |
| redline third draft → final as .docx (route) | {redline_s:.2f} s | {len(redline.data) // 1024} KB | < 3 s, < 2 MB |
| final version as .docx (route) | {version_s:.2f} s | {len(version.data) // 1024} KB | |
""")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
