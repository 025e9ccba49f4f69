"""Campaign detection: pairwise precision and recall of "same campaign", and the time it takes.

    .venv/bin/python bench/bench_campaigns.py --quick      # the real docket and a small synthetic set (seconds)
    .venv/bin/python bench/bench_campaigns.py              # adds synthetic sets of 10,000 and 100,000 texts

Cases:
* real: the docket EPA-R06-OAR-2020-0510 from ../shared/data/regulations-gov-comments, whose `clust` column groups
  campaign letters (the labels keep some close variants of one letter apart, so 1.0 is not expected);
* synthetic: campaigns built from distinct real texts (the European Parliament's 2023 AI Act amendments, each of
  at least 40 words, as templates), each member with, at random, a personal opening or closing sentence, about
  3% of its words changed, or two of its sentences swapped; plus single letters, and decoys that all share one
  opening sentence but are otherwise different texts (they must stay apart).

Pairwise: every pair of texts in one predicted campaign is a positive; precision and recall against the labels.
Writes bench/results/campaigns.json and campaigns.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consult.analysis.campaigns import find_campaigns

DATA = ROOT.parent / "shared" / "data"
EPA = DATA / "regulations-gov-comments" / "EPA-R06-OAR-2020-0510-0001.csv"
EP = DATA / "eu-ai-act-ep-2023-amendments" / "ep-2023-06-14_amendments_commission-vs-parliament.jsonl"
RESULTS = ROOT / "bench" / "results"

PERSONAL = [
    "I am a parent of two and I worry about what this means for my children.",
    "As a software developer in Lyon I see these systems every day at work.",
    "My grandmother lost her savings to an automated scam last year.",
    "I teach at a secondary school and my pupils use these tools constantly.",
    "Please read this, it matters to me and to my neighbours.",
    "Thank you for taking the time to consider the views of ordinary citizens.",
    "I have followed this debate since the first draft was published.",
    "Our small business cannot afford lawyers to interpret vague rules.",
]
SHARED_OPENING = "I am writing to you as a concerned citizen about the rules on artificial intelligence."


def pairwise(pred: dict[int, int], gold: dict[int, object]) -> dict:
    """Pairwise precision, recall and F1 of 'same group', counted through group sizes (no quadratic loop)."""

    def pairs(counter):
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = Counter((pred[i], gold[i]) for i in gold if i in pred)
    tp = pairs(both)
    predicted = pairs(Counter(pred[i] for i in gold if i in pred))
    actual = pairs(Counter(g for g in gold.values() if g is not None))
    p = tp / predicted if predicted else 1.0
    r = tp / actual if actual else 1.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "true_pairs": actual,
        "predicted_pairs": predicted,
    }


def run(texts: dict[int, str], gold: dict[int, object]) -> dict:
    start = time.perf_counter()
    campaigns = find_campaigns(texts)
    seconds = time.perf_counter() - start
    pred = {m: n for n, c in enumerate(campaigns) for m in c.members}
    # A text in no campaign is its own group, as is a gold singleton.
    gold_full = {i: (g if g is not None else f"single-{i}") for i, g in gold.items()}
    result = pairwise(pred, gold_full)
    result.update(
        texts=len(texts), campaigns=len(campaigns), seconds=round(seconds, 3), largest=[c.size for c in campaigns[:5]]
    )
    return result


def real_case() -> dict | None:
    if not EPA.is_file():
        return None
    rows = list(csv.DictReader(EPA.open(encoding="utf-8")))
    texts = {i: r["text"] for i, r in enumerate(rows)}
    gold = {i: r["clust"] for i, r in enumerate(rows)}
    return run(texts, gold)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;:])\s+", text) if s.strip()]


def synthetic(n_texts: int, seed: int = 7) -> tuple[dict[int, str], dict[int, object]]:
    """About n_texts letters: 60% campaign members, 30% single letters, 10% shared-opening decoys."""
    rng = random.Random(seed)
    sources = []
    for line in EP.open(encoding="utf-8"):
        text = json.loads(line)["parliament_text"].strip()
        if len(text.split()) >= 40:
            sources.append(text)
    sources = sorted(set(sources))
    rng.shuffle(sources)
    vocabulary = sorted({w for s in sources for w in s.split()})
    templates = sources[: len(sources) // 2]
    singles = sources[len(sources) // 2 :]
    texts: dict[int, str] = {}
    gold: dict[int, object] = {}
    next_id = 0

    def add(text, label):
        nonlocal next_id
        texts[next_id], gold[next_id] = text, label
        next_id += 1

    def vary(template: str) -> str:
        sentences = _sentences(template)
        if len(sentences) > 2 and rng.random() < 0.3:
            a, b = rng.sample(range(len(sentences)), 2)
            sentences[a], sentences[b] = sentences[b], sentences[a]
        words = " ".join(sentences).split()
        words = [rng.choice(vocabulary) if rng.random() < 0.03 else w for w in words]
        text = " ".join(words)
        if rng.random() < 0.5:
            text = rng.choice(PERSONAL) + " " + text
        if rng.random() < 0.5:
            text = text + " " + rng.choice(PERSONAL)
        return text

    members = int(n_texts * 0.6)
    campaign_count = max(2, min(len(templates), members // 25))
    sizes = [max(2, int(rng.paretovariate(1.2))) for _ in range(campaign_count)]
    scale = members / sum(sizes)
    sizes = [max(2, round(s * scale)) for s in sizes]
    for c, size in enumerate(sizes):
        for _ in range(size):
            add(vary(templates[c]), f"campaign-{c}")
    n_single = int(n_texts * 0.3)
    n_decoy = n_texts - members - n_single
    pool = singles + templates[campaign_count:]
    for i in range(n_single + n_decoy):
        base = pool[i % len(pool)]
        if i >= len(pool):  # more letters than distinct texts: a distinct mixture of two texts' halves
            other = pool[rng.randrange(len(pool))]
            base = " ".join(_sentences(base)[:2] + _sentences(other)[2:]) + f" Reference {i}."
        if i < n_single:
            add(base, None)
        else:
            add(SHARED_OPENING + " " + base, None)
    return texts, gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the real docket and 2,000 synthetic texts only")
    args = parser.parse_args()
    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "command": "bench/bench_campaigns.py" + (" --quick" if args.quick else ""),
        "cases": {},
    }
    real = real_case()
    if real:
        report["cases"]["real: EPA-R06-OAR-2020-0510"] = real
    sizes = [2000] if args.quick else [2000, 10_000, 100_000]
    if EP.is_file():
        for n in sizes:
            texts, gold = synthetic(n)
            report["cases"][f"synthetic: {n:,} texts"] = run(texts, gold)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "campaigns.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Campaign detection",
        "",
        f"`{report['command']}` (Python {platform.python_version()})",
        "",
        "| case | texts | campaigns | precision | recall | F1 | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in report["cases"].items():
        lines.append(
            f"| {name} | {r['texts']:,} | {r['campaigns']:,} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['f1']:.3f} | {r['seconds']:.2f} |"
        )
    (RESULTS / "campaigns.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
