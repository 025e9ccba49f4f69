"""Benchmark the redline pipeline: parse two versions, match their clauses, diff every matched pair.

Run from the repository root:  .venv/bin/python bench/bench_redline.py [--runs 7] [--quick]

Cases:
  real       the third draft -> final Safety and Security chapter (../shared/data/gpai-cop), with the matcher's
             accuracy on the development sample of the expert mapping (lineage-dev-mapping.json)
  synthetic  a generated 500-clause draft and a next version in which 10% of the clauses
             were changed, moved or renumbered (fixed seed, so every run sees the same text)
  large      the same with 2,000 clauses

--quick times one run of each case after a warm-up, without the baseline and the memory trace.

For each case it reports the median wall time over several runs and the peak traced memory
(tracemalloc, measured in a separate run because tracing slows Python down), next to a
baseline: one difflib.SequenceMatcher word diff of the two whole texts (default autojunk),
tokenised the same way. Results go to bench/results/redline.json and redline.md.
"""

from __future__ import annotations

import argparse
import difflib
import json
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consult.drafts.lineage import match_clauses
from consult.drafts.parse import parse_draft
from consult.redline import clause_redline, diff_words, tokenize
from consult.services.redlines import WORD_DIFF_SIMILARITY
from tests.integration.test_real_redline import dev_accuracy

DATA = ROOT.parent / "shared" / "data" / "gpai-cop"
RESULTS = ROOT / "bench" / "results"
REAL_OLD = DATA / "v3-third-draft-2025-03-11_3-safety-security.md"
REAL_NEW = DATA / "v4-final-2025-07-10_3-safety-security.md"
SEED = 20250710


# --- the pipeline and the baseline ---------------------------------------------------


def pipeline(old_text: str, new_text: str, split: list | None = None) -> dict:
    """Parse both texts, match their clauses, and diff each link as the redline page and the API do: the
    rendered-text redline (HTML) and the source-text word operations.

    When split is a list, the seconds spent parsing, matching and diffing are appended to it.
    """
    t0 = time.perf_counter()
    old, new = parse_draft(old_text), parse_draft(new_text)
    t1 = time.perf_counter()
    pairs = match_clauses(old.clauses, new.clauses)
    t2 = time.perf_counter()
    old_by_key = {c.key: c for c in old.clauses}
    new_by_key = {c.key: c for c in new.clauses}
    diffs = 0
    for p in pairs:
        a, b = old_by_key.get(p.old_key), new_by_key.get(p.new_key)
        clause_redline(a, b)
        if a and b:
            if p.similarity >= WORD_DIFF_SIMILARITY:
                diff_words(f"{a.heading}\n\n{a.body}", f"{b.heading}\n\n{b.body}")
            diffs += 1
    if split is not None:
        split.append({"parse": t1 - t0, "match": t2 - t1, "diff": time.perf_counter() - t2})
    return {
        "old_clauses": len(old.clauses),
        "new_clauses": len(new.clauses),
        "diffed_pairs": diffs,
        "statuses": dict(sorted(Counter(p.status for p in pairs).items())),
        "pairs": pairs,
        "old": old,
        "new": new,
    }


def baseline(old_text: str, new_text: str) -> int:
    """One SequenceMatcher word diff of the two whole texts (default autojunk); returns the opcode count."""
    return len(difflib.SequenceMatcher(None, tokenize(old_text), tokenize(new_text)).get_opcodes())


def median_seconds(fn, runs: int) -> tuple[float, list[float], object]:
    """Median wall time of `runs` calls of fn(), after one warm-up call whose result is returned too."""
    first = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, first


def median_split(splits: list[dict]) -> dict:
    """Median seconds of each pipeline stage over the timed runs (the warm-up run left out)."""
    return {stage: round(statistics.median(s[stage] for s in splits), 4) for stage in ("parse", "match", "diff")}


def peak_bytes(fn) -> int:
    """Peak memory traced by tracemalloc during one call of fn()."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- the synthetic draft ---------------------------------------------------------------


def _vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words = set()
    while len(words) < size:
        n = rng.choice((1, 2, 2, 3, 3, 4))
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(n)) + rng.choice(("", "s", "n")))
    return sorted(words)


class _Words:
    """Zipf-like word choice: a few words are common, most are rare, as in real prose."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.vocab = _vocabulary(rng)
        self.weights = [1 / (rank + 1) for rank in range(len(self.vocab))]

    def sentence(self) -> str:
        words = self.rng.choices(self.vocab, self.weights, k=self.rng.randint(8, 22))
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))

    def title(self) -> str:
        return " ".join(self.rng.choices(self.vocab[200:], k=self.rng.randint(2, 5))).capitalize()


def synthetic_pair(
    chapters: int = 5, commitments: int = 9, measures: int = 10, changed_share: float = 0.10, seed: int = SEED
) -> tuple[str, str, dict]:
    """Two versions of a generated draft of chapters*(1 + commitments*(1 + measures)) clauses, and what was done."""
    rng = random.Random(seed)
    words = _Words(rng)
    # A clause is [ident, level, label, number, title, body]; chapters and commitments hold their children.
    tree = []
    ident = 0
    for ch in range(1, chapters + 1):
        chapter = {
            "id": (ident := ident + 1),
            "level": 2,
            "label": "Chapter",
            "number": str(ch),
            "title": words.title(),
            "body": words.paragraph(),
            "children": [],
        }
        for co in range(1, commitments + 1):
            commitment = {
                "id": (ident := ident + 1),
                "level": 3,
                "label": "Commitment",
                "number": f"{ch}.{co}",
                "title": words.title(),
                "body": words.paragraph(),
                "children": [],
            }
            for me in range(1, measures + 1):
                body = "\n\n".join(words.paragraph() for _ in range(rng.randint(1, 3)))
                commitment["children"].append(
                    {
                        "id": (ident := ident + 1),
                        "level": 4,
                        "label": "Measure",
                        "number": f"{ch}.{co}.{me}",
                        "title": words.title(),
                        "body": body,
                        "children": [],
                    }
                )
            chapter["children"].append(commitment)
        tree.append(chapter)
    old_text = _render(tree)

    # The next version: the same tree with a tenth of the measures changed, moved or renumbered.
    new_tree = json.loads(json.dumps(tree))
    all_measures = [(co, m) for ch in new_tree for co in ch["children"] for m in co["children"]]
    total = ident
    chosen = rng.sample(all_measures, round(total * changed_share))
    third = len(chosen) // 3
    edits = {"modified": 0, "moved": 0, "renumbered": 0}
    for _co, m in chosen[:third]:
        sentences = m["body"].split(". ")
        for _ in range(max(1, len(sentences) // 4)):
            i = rng.randrange(len(sentences))
            sentences[i] = words.sentence().rstrip(".")
        m["body"] = ". ".join(sentences) + "\n\n" + words.sentence()
        edits["modified"] += 1
    commitments_list = [co for ch in new_tree for co in ch["children"]]
    for co, m in chosen[third : 2 * third]:
        co["children"].remove(m)
        target = rng.choice([c for c in commitments_list if c is not co])
        target["children"].insert(rng.randint(0, len(target["children"])), m)
        edits["moved"] += 1
    for _co, m in chosen[2 * third :]:
        head, last = m["number"].rsplit(".", 1)
        m["number"] = f"{head}.{int(last) + 50}"
        edits["renumbered"] += 1
    return old_text, _render(new_tree), {"clauses": total, "edits": edits, "truth": (_order(tree), _order(new_tree))}


def _render(tree) -> str:
    out = ["# Synthetic code of practice", ""]

    def walk(nodes):
        for n in nodes:
            out.extend([f"{'#' * n['level']} {n['label']} {n['number']}. {n['title']}", "", n["body"], ""])
            walk(n["children"])

    walk(tree)
    return "\n".join(out)


def _order(tree) -> list[int]:
    ids = []

    def walk(nodes):
        for n in nodes:
            ids.append(n["id"])
            walk(n["children"])

    walk(tree)
    return ids


def lineage_accuracy(result: dict, truth: tuple[list[int], list[int]]) -> float:
    """Share of the generated clauses whose true continuation the matcher found."""
    old_ids = {c.key: truth[0][c.position] for c in result["old"].clauses}
    new_ids = {c.key: truth[1][c.position] for c in result["new"].clauses}
    right = sum(1 for p in result["pairs"] if p.old_key and p.new_key and old_ids[p.old_key] == new_ids[p.new_key])
    return right / len(truth[0])


# --- reporting -------------------------------------------------------------------------


def measure(name: str, old_text: str, new_text: str, runs: int, extra: dict | None = None, quick: bool = False) -> dict:
    """Time and trace the pipeline and the baseline on one pair of texts (the baseline is slow on big moves)."""
    splits: list[dict] = []
    t_pipe, pipe_runs, result = median_seconds(lambda: pipeline(old_text, new_text, splits), runs)
    if quick:
        row = {
            "case": name,
            "old_bytes": len(old_text.encode()),
            "new_bytes": len(new_text.encode()),
            "old_clauses": result["old_clauses"],
            "new_clauses": result["new_clauses"],
            "diffed_pairs": result["diffed_pairs"],
            "statuses": result["statuses"],
            "pipeline_median_s": round(t_pipe, 4),
            "pipeline_runs_s": [round(t, 4) for t in pipe_runs],
            "pipeline_split_median_s": median_split(splits[1:]),
        }
        row.update(extra or {})
        return row
    t_base, base_runs, opcodes = median_seconds(lambda: baseline(old_text, new_text), runs)
    row = {
        "case": name,
        "old_bytes": len(old_text.encode()),
        "new_bytes": len(new_text.encode()),
        "old_clauses": result["old_clauses"],
        "new_clauses": result["new_clauses"],
        "diffed_pairs": result["diffed_pairs"],
        "statuses": result["statuses"],
        "pipeline_median_s": round(t_pipe, 4),
        "pipeline_runs_s": [round(t, 4) for t in pipe_runs],
        "pipeline_split_median_s": median_split(splits[1:]),
        "pipeline_peak_mib": round(peak_bytes(lambda: pipeline(old_text, new_text)) / 2**20, 2),
        "baseline_median_s": round(t_base, 4),
        "baseline_runs_s": [round(t, 4) for t in base_runs],
        "baseline_peak_mib": round(peak_bytes(lambda: baseline(old_text, new_text)) / 2**20, 2),
        "baseline_opcodes": opcodes,
        "ratio_to_baseline": round(t_pipe / t_base, 2) if t_base else None,
    }
    if extra:
        row.update(extra)
    return row


def markdown(rows: list[dict], runs: int) -> str:
    if "baseline_median_s" not in rows[0]:
        return quick_markdown(rows, runs)
    lines = [
        f"Median of {runs} runs after one warm-up run; peak memory from tracemalloc in a separate run. "
        "Pipeline = parse both versions + match_clauses + diff_words of every matched pair; "
        "the split is the median of each stage on its own. "
        "Baseline = one difflib.SequenceMatcher (autojunk on) over the tokens of the two whole texts.",
        "",
        "| case | clauses (old → new) | diffed pairs | pipeline median | parse / match / diff | pipeline peak | "
        "baseline median | baseline peak | pipeline / baseline |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        sp = r["pipeline_split_median_s"]
        lines.append(
            f"| {r['case']} | {r['old_clauses']} → {r['new_clauses']} | {r['diffed_pairs']} | "
            f"{r['pipeline_median_s'] * 1000:.0f} ms | "
            f"{sp['parse'] * 1000:.0f} / {sp['match'] * 1000:.0f} / {sp['diff'] * 1000:.0f} ms | "
            f"{r['pipeline_peak_mib']:.1f} MiB | "
            f"{r['baseline_median_s'] * 1000:.0f} ms | {r['baseline_peak_mib']:.1f} MiB | "
            f"{r['ratio_to_baseline']}× |"
        )
    lines.append("")
    for r in rows:
        statuses = ", ".join(f"{k} {v}" for k, v in r["statuses"].items())
        note = f"- {r['case']}: statuses {statuses}"
        if "lineage_accuracy" in r:
            note += f"; edits made {r['edits']}; true continuations found {r['lineage_accuracy']:.1%}"
        lines.append(note)
    return "\n".join(lines) + "\n"


def page_figures(runs: int) -> dict:
    """Server time and weight of the real pair's redline page (full, changes only) and of its API, through
    the Flask app on a throwaway SQLite database: median of `runs` requests after one warm-up request."""
    import os
    import tempfile

    folder = tempfile.mkdtemp(prefix="bench-redline-")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    from consult import create_app
    from consult.extensions import db
    from consult.services.documents import publish_version

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SEARCH_INDEX_DIR": f"{folder}/index",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        publish_version(slug="real", data=REAL_OLD.read_bytes(), label="Third draft")
        publish_version(slug="real", data=REAL_NEW.read_bytes(), label="Final")
    client = app.test_client()
    figures = {}
    for name, path in (
        ("redline", "/documents/real/redline?from=1&to=2"),
        ("redline_changes_only", "/documents/real/redline?from=1&to=2&changes=1"),
        ("api_redline", "/api/documents/real/redline?from=1&to=2"),
    ):
        start = time.perf_counter()
        size = len(client.get(path).data)
        first = time.perf_counter() - start
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - start)
        figures[name] = {"first_s": round(first, 4), "median_s": round(statistics.median(times), 4), "bytes": size}
    return figures


def quick_markdown(rows: list[dict], runs: int) -> str:
    lines = [
        f"Quick mode: median of {runs} run(s) after one warm-up run. Pipeline = parse both versions + "
        "match_clauses + the rendered-text redline (HTML) of every link + the source-text word diff of every "
        "continuing link whose texts are alike (what the redline page and the API compute).",
        "",
        "| case | clauses (old → new) | links diffed | pipeline median | parse / match / diff |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        sp = r["pipeline_split_median_s"]
        lines.append(
            f"| {r['case']} | {r['old_clauses']} → {r['new_clauses']} | {r['diffed_pairs']} | "
            f"{r['pipeline_median_s'] * 1000:.0f} ms | "
            f"{sp['parse'] * 1000:.0f} / {sp['match'] * 1000:.0f} / {sp['diff'] * 1000:.0f} ms |"
        )
    lines.append("")
    for r in rows:
        statuses = ", ".join(f"{k} {v}" for k, v in r["statuses"].items())
        note = f"- {r['case']}: relations {statuses}"
        if "lineage_accuracy" in r:
            note += f"; edits made {r['edits']}; true continuations found {r['lineage_accuracy']:.1%}"
        if "dev_sample" in r:
            d = r["dev_sample"]
            note += (
                f"; development sample of the expert mapping: continuing provisions matched "
                f"{d['continuing'][0]}/{d['continuing'][1]}, split/merged/removed tied to a true counterpart "
                f"{d['split_merged_removed'][0]}/{d['split_merged_removed'][1]}"
            )
        lines.append(note)
        if "pages" in r:
            for name, f in r["pages"].items():
                lines.append(
                    f"- {r['case']}: page {name}: first request {f['first_s'] * 1000:.0f} ms, then "
                    f"{f['median_s'] * 1000:.0f} ms (median, server time in-process), "
                    f"{f['bytes'] / 1000:.0f} KB"
                )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement (default 7)")
    parser.add_argument("--quick", action="store_true", help="one timed run, no baseline and no memory trace")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs

    rows = []
    if REAL_OLD.is_file() and REAL_NEW.is_file():
        (same, n_same), (other, n_other) = dev_accuracy(DATA.parent)
        rows.append(
            measure(
                "real: third draft → final (Safety and Security)",
                REAL_OLD.read_text(encoding="utf-8"),
                REAL_NEW.read_text(encoding="utf-8"),
                runs,
                {"dev_sample": {"continuing": [same, n_same], "split_merged_removed": [other, n_other]}},
                quick=args.quick,
            )
        )
        try:
            rows[-1]["pages"] = page_figures(max(runs, 3))
        except Exception as exc:  # noqa: BLE001  (the page figures need the app; the pure figures stand without them)
            print(f"page figures skipped: {exc}", file=sys.stderr)
    else:
        print(f"skipping the real pair: {DATA} is not present", file=sys.stderr)

    for name, shape in (("synthetic", (5, 9, 10)), ("large", (4, 10, 49))):
        old_text, new_text, info = synthetic_pair(*shape)
        row = measure(
            f"{name}: {info['clauses']} clauses, 10% changed/moved/renumbered",
            old_text,
            new_text,
            runs,
            {"edits": info["edits"], "seed": SEED},
            quick=args.quick,
        )
        row["lineage_accuracy"] = round(lineage_accuracy(pipeline(old_text, new_text), info["truth"]), 4)
        rows.append(row)

    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs": runs,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "platform": platform.platform(),
    }
    name = "redline-quick" if args.quick else "redline"
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"meta": meta, "cases": rows}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    table = markdown(rows, runs)
    (RESULTS / f"{name}.md").write_text(
        f"# Redline benchmark\n\n{meta['when']}, Python {meta['python']}, {meta['platform']}\n\n{table}",
        encoding="utf-8",
    )
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
