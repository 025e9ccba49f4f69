"""Benchmark the worst inputs for the user-text renderer, before (Python-Markdown + bleach's default linkify) and
after (markdown-it-py + bleach with Consult's linear URL pattern).

Run from the repository root:  .venv/bin/python bench/bench_render.py [--quick]

Each input is a short pattern repeated to a length: the ones the red-team trial used ('[' * 10000, '![' * 5000,
a list nested 1,400 deep) and the ones fuzzing found (tests/unit/test_markup.py), such as 'a-a.' repeated, which
made bleach's own URL regex backtrack. For each it reports the seconds to render 10,000 characters (the comment
limit, in CPU seconds of the rendering process: on a shared machine wall time mostly measures the neighbours)
and the cost per 10,000 characters at 40,000, which shows whether the cost grows faster than the text.
"before" needs the Markdown package, no longer in requirements.txt; without it only "after" is measured. A
"before" run is cut off after --budget seconds (reported as "> budget").
--quick measures 10,000 characters only, once, and skips "before" for inputs known to take more than a minute.
Results go to bench/results/render.json and render.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import math
import multiprocessing
import platform
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consult import markup

RESULTS = ROOT / "bench" / "results"

CASES = [
    ("'[' repeated", "["),
    ("'![' repeated", "!["),
    ("nested list '1.    '", "1.    "),
    ("nested quote '> '", "> "),
    ("'a-a.' repeated (bleach URL_RE)", "a-a."),
    ("'a-' repeated", "a-"),
    ("'http://a-' repeated", "http://a-"),
    ("'*a**' repeated", "*a**"),
    ("'_a' repeated", "_a"),
    ("'<' repeated", "<"),
    ("'[a](' repeated", "[a]("),
    ("'`' repeated", "`"),
    ("plain prose", "The provider keeps records of every model. "),
]
SLOW_BEFORE = {"[", "![", "a-a."}  # over a minute each before: skipped with --quick


def text_of(pattern: str, length: int) -> str:
    return (pattern * math.ceil(length / len(pattern)))[:length]


def render_after(text: str) -> None:
    with contextlib.suppress(markup.RenderError):  # refused quickly: a 400 for the user
        markup.render_markdown(text)


def render_before(text: str) -> None:
    import bleach
    import markdown
    from bleach.linkifier import LinkifyFilter

    sys.setrecursionlimit(100_000)
    cleaner = bleach.Cleaner(
        tags=markup.ALLOWED_TAGS,
        attributes=markup.ALLOWED_ATTRIBUTES,
        protocols=markup.ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, skip_tags=["pre", "code"])],
    )
    with contextlib.suppress(RecursionError):  # a 500 for the user
        cleaner.clean(markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"]))


def _timed(which: str, text: str, queue) -> None:
    fn = render_before if which == "before" else render_after
    started = time.process_time()  # CPU time: on a shared machine, wall time mostly measures the neighbours
    fn(text)
    queue.put(time.process_time() - started)


def measure(which: str, text: str, budget: float) -> float | str | None:
    """CPU seconds to render `text` in a fresh process; None past the budget (wall time) (the process is stopped),
    "crashed" if the process died (Python-Markdown can exhaust the C stack on deep nesting)."""
    queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=_timed, args=(which, text, queue))
    process.start()
    process.join(budget)
    if process.is_alive():
        process.terminate()
        process.join()
        return None
    if process.exitcode != 0:
        return "crashed"
    return queue.get()


def have_before() -> bool:
    return importlib.util.find_spec("markdown") is not None


def fmt(value: float | str | None, budget: float) -> str:
    if isinstance(value, str):
        return value
    return f"> {budget:.0f} s" if value is None else f"{value:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 characters only, no slow 'before' runs")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds before a 'before' run is cut off")
    args = parser.parse_args()
    before_available = have_before()
    rows = []
    for label, pattern in CASES:
        text = text_of(pattern, 10_000)
        row = {"input": label, "pattern": pattern, "after_10k_s": measure("after", text, args.budget)}
        if not args.quick:
            at_40k = measure("after", text_of(pattern, 40_000), args.budget)
            row["after_per_10k_at_40k_s"] = at_40k / 4 if isinstance(at_40k, float) else at_40k
        if before_available and not (args.quick and pattern in SLOW_BEFORE):
            row["before_10k_s"] = measure("before", text, args.budget)
        rows.append(row)
        print(
            f"{label:38} after {fmt(row['after_10k_s'], args.budget):>9}"
            + (f"  before {fmt(row['before_10k_s'], args.budget):>9}" if "before_10k_s" in row else ""),
            flush=True,
        )
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": multiprocessing.cpu_count(),
        "quick": args.quick,
        "budget_s": args.budget,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "render.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "# Rendering the worst inputs (bench/bench_render.py)",
        "",
        f"{meta['when']}, Python {meta['python']}, {meta['cpus']} CPUs (shared){', quick mode' if args.quick else ''}.",
        "CPU seconds to render 10,000 characters (the comment limit) of each pattern, each in a fresh process; "
        '"per 10k at 40k" is a quarter of the time for 40,000 characters: close to the 10k figure means linear.',
        f"Before: Python-Markdown 3 + bleach's default linkify, cut off at {args.budget:.0f} s (wall time), with "
        "Python's recursion limit raised so that nested inputs can be timed (at the default limit the nested list "
        "raised RecursionError: a 500). "
        "After: markdown-it-py (CommonMark, tables, strike-through, no raw HTML, maxNesting "
        f"{markup.MAX_NESTING}) + bleach with Consult's URL pattern. Nested inputs are refused (a 400) after.",
        "",
        "| input | before, 10k | after, 10k | after, per 10k at 40k |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        before = fmt(row["before_10k_s"], args.budget) if "before_10k_s" in row else "not run"
        per = fmt(row.get("after_per_10k_at_40k_s"), args.budget) if "after_per_10k_at_40k_s" in row else "not run"
        lines.append(f"| {row['input']} | {before} | {fmt(row['after_10k_s'], args.budget)} | {per} |")
    (RESULTS / "render.md").write_text("\n".join(lines) + "\n")
    print(f"written {RESULTS / 'render.md'}")


if __name__ == "__main__":
    main()
