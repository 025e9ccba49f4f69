"""One participant's comment loop in-process, CPU time per step: clause page, post, after the response, receipt.

    .venv/bin/python bench/datagen.py --size loadtest      # into DATABASE_URL / the instance, once
    .venv/bin/python bench/bench_comment_loop.py [--runs 40] [--profile post|close|receipt]

Through Flask's test client with CSRF on, as eight signed-in participants taking turns on the typical clause of the
measured document. CPU (thread) time rather than wall time, since the machine is shared; the search drain is timed
apart (it runs in the background drainer). Run it against two checkouts in turn to compare them; set
CONSULT_COMMENT_LIMIT high so that the rate limit does not refuse the runs.
"""

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen
from flask.testing import FlaskClient

from consult import create_app, search

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN_RE = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')
STEPS = ("get", "post", "close", "receipt")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", choices=("post", "close", "receipt"), help="print a cProfile of one step")
    args = parser.parse_args(argv)
    app = create_app()
    people = [FlaskClient(app, use_cookies=True) for _ in range(8)]
    for i, person in enumerate(people):
        page = person.get("/auth/sign-in").get_data(as_text=True)
        data = {"email": f"p{i}@bench.example", "password": datagen.PASSWORD, "csrf_token": CSRF_RE.search(page)[1]}
        assert person.post("/auth/sign-in", data=data).status_code == 302
    url = "/documents/doc-1/versions/3/clauses/" + datagen.TYPICAL_KEY
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    profile = cProfile.Profile()
    clock = time.thread_time

    def timed(step, call):
        if args.profile == step:
            profile.enable()
        started = clock()
        result = call()
        times[step].append(clock() - started)
        if args.profile == step:
            profile.disable()
        return result

    def one(n: int) -> None:
        person = people[n % len(people)]
        page = timed("get", lambda: person.get(url).get_data(as_text=True))
        form = {
            "csrf_token": CSRF_RE.search(page)[1],
            "submission_token": TOKEN_RE.search(page)[1],
            "type": "remark",
            "visibility": "public",
            "body": f"A measured comment, number {n}.",
            "stance": "",
            "proposed_wording": "",
            "parent_id": "",
            "question_id": "",
        }
        response = timed("post", lambda: person.post(url + "/comments", data=form))
        timed("close", response.close)  # the work done after the response: mail, followers
        assert response.status_code == 302, response.status_code
        receipt = timed("receipt", lambda: person.get(response.headers["Location"]))
        assert receipt.status_code == 200

    for n in range(5):  # warm up
        one(n)
    for values in times.values():
        values.clear()
    for n in range(args.runs):
        one(n + 5)
    with app.app_context():
        started = clock()
        drained = search.drain(timeout=10)
        drain = clock() - started
    medians = {step: statistics.median(values) * 1000 for step, values in times.items()}
    print(
        f"CPU medians of {args.runs} (ms): clause page {medians['get']:.1f}, post {medians['post']:.1f}, "
        f"after the response {medians['close']:.1f}, receipt {medians['receipt']:.1f}; search drain "
        f"{drain / max(drained, 1) * 1000:.1f} per row ({drained} rows); load {os.getloadavg()[0]:.2f}"
    )
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
