"""Theme quality: agreement of consult.analysis.themes with the topic labels of two real dockets, against baselines.

    .venv/bin/python bench/bench_themes.py          # seconds; there is no slow mode

The dockets EPA-HQ-OLEM-2019-0361 and EPA-HQ-OPP-2017-0433 (../shared/data/regulations-gov-comments) carry a `clust`
column of topic clusters assigned by a 2021 federal pilot. For each docket it reports the adjusted Rand index (ARI)
and pairwise F1 of "same theme" for:
* themes: find_themes as the app runs it (k chosen by the module), and with k set to the number of labels;
* baseline "top word": each comment grouped under its highest TF-IDF word among the k most frequent words;
* baseline "one theme": everything together (the ARI of no analysis at all is 0).
It also lists the largest themes' labels, as a drafter sees them. Writes bench/results/themes.json and themes.md.
"""

from __future__ import annotations

import csv
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_campaigns import pairwise
from consult.analysis.themes import find_themes

DATA = ROOT.parent / "shared" / "data" / "regulations-gov-comments"
DOCKETS = ("EPA-HQ-OLEM-2019-0361-0001.csv", "EPA-HQ-OPP-2017-0433-0001.csv")
RESULTS = ROOT / "bench" / "results"


def scores(pred: dict[int, object], gold: dict[int, str]) -> dict:
    ids = sorted(gold)
    labels = [pred.get(i, f"none-{i}") for i in ids]
    p = pairwise({i: pred.get(i, f"none-{i}") for i in ids}, gold)
    return {
        "ari": round(adjusted_rand_score([gold[i] for i in ids], labels), 4),
        "pairwise_f1": p["f1"],
        "groups": len(set(labels)),
    }


def top_word_baseline(texts: dict[int, str], k: int) -> dict[int, str]:
    vectorizer = TfidfVectorizer(stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{3,}\b")
    matrix = vectorizer.fit_transform([texts[i] for i in texts])
    frequent = np.argsort(-np.asarray((matrix > 0).sum(axis=0)).ravel())[:k]
    sub = matrix[:, frequent].toarray()
    terms = vectorizer.get_feature_names_out()
    return {i: str(terms[frequent[int(row.argmax())]]) for i, row in zip(texts, sub, strict=True)}


def main() -> None:
    report = {"machine": {"python": platform.python_version()}, "command": "bench/bench_themes.py", "dockets": {}}
    lines = [
        "# Themes against the dockets' topic labels",
        "",
        f"`{report['command']}`",
        "",
        "| docket | comments | labels | method | groups | ARI | pairwise F1 | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in DOCKETS:
        path = DATA / name
        if not path.is_file():
            continue
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        texts = {i: r["text"] for i, r in enumerate(rows)}
        gold = {i: r["clust"] for i, r in enumerate(rows)}
        k = len(set(gold.values()))
        results = {}
        start = time.perf_counter()
        themes = find_themes(texts)
        seconds = time.perf_counter() - start
        results["themes (k chosen)"] = dict(
            scores({m: n for n, t in enumerate(themes) for m in t.members}, gold), seconds=round(seconds, 3)
        )
        start = time.perf_counter()
        fixed = find_themes(texts, n_themes=k)
        results[f"themes (k = {k})"] = dict(
            scores({m: n for n, t in enumerate(fixed) for m in t.members}, gold),
            seconds=round(time.perf_counter() - start, 3),
        )
        results["baseline: top word"] = dict(scores(top_word_baseline(texts, k), gold), seconds=0)
        results["baseline: one theme"] = dict(scores({i: 0 for i in texts}, gold), seconds=0)
        report["dockets"][name] = {
            "comments": len(rows),
            "labels": k,
            "results": results,
            "largest_themes": [
                {"label": t.label, "size": t.size, "labels_inside": Counter(gold[m] for m in t.members).most_common(3)}
                for t in themes[:6]
            ],
        }
        for method, r in results.items():
            lines.append(
                f"| {name.removesuffix('-0001.csv')} | {len(rows)} | {k} | {method} | {r['groups']} | "
                f"{r['ari']:.3f} | {r['pairwise_f1']:.3f} | {r['seconds']:.2f} |"
            )
    lines += ["", "Largest themes as a drafter sees them (label, size, the docket labels most present inside):", ""]
    for name, d in report["dockets"].items():
        lines.append(f"- {name.removesuffix('-0001.csv')}:")
        for t in d["largest_themes"]:
            lines.append(
                f"  - “{t['label']}” ({t['size']}): " + ", ".join(f"label {lab} × {n}" for lab, n in t["labels_inside"])
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "themes.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "themes.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
