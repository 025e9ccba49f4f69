"""Benchmark notifications: fan-out to followers, building digests, and the cost of posting a comment.

Run from the repository root:  .venv/bin/python bench/bench_notify.py [--followers 5000] [--quick]

In a fresh SQLite database in a temporary folder it creates N accounts following one document (and its clause),
then measures:
  publish     publishing the next version, which tells every follower (notification rows, one transaction)
  digests     `notify digests` building and queueing one daily digest per follower; also the longest single
              batch transaction, the time for which a writer (someone commenting) could have to wait
  comment     posting a comment (median of several) with the notification hook on and off, on a clause that
              N people follow: the receipt mail is queued, not sent, so the difference is the fan-out insert
--quick uses 500 followers and fewer runs. Results go to bench/results/notify.json and notify.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

DRAFT = """# Bench Code

## Chapter I. Scope

Who the code is for.

### Measure I.1. Records

Signatories keep records.
"""
NEXT = DRAFT.replace("keep records.", "keep records for ten years.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--followers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="500 followers, 5 runs")
    args = parser.parse_args()
    if args.quick:
        args.followers, args.runs = 500, 5
    workdir = Path(tempfile.mkdtemp(prefix="consult-bench-notify-"))
    os.environ.update(
        {
            "CONSULT_INSTANCE_PATH": str(workdir / "instance"),
            "SECRET_KEY": "bench-only-secret-key",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
            "CONSULT_MAIL_DELIVER_AFTER_REQUEST": "0",
            "CONSULT_SEARCH_DRAIN_AFTER_REQUEST": "0",
        }
    )
    from consult import create_app
    from consult.extensions import db
    from consult.models import Follow, MailOutbox, Notification, User, utcnow
    from consult.services import comments as comment_service
    from consult.services import documents, notifications
    from consult.services.accounts import create_user

    app = create_app({"TESTING": True})
    n = args.followers
    result = {
        "followers": n,
        "runs": args.runs,
        "database": "sqlite",
        "python": platform.python_version(),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    with app.test_request_context("/"):
        db.create_all()
        version = documents.publish_version(
            slug="bench", data=DRAFT, opens_at=utcnow() - timedelta(days=1), closes_at=utcnow() + timedelta(days=30)
        )
        clause = next(c for c in version.clauses if c.key != "preamble" and c.level == 3)
        author = create_user("author@example.org", "a sturdy passphrase for the bench 42", status="active")
        hash_ = author.password_hash
        now = utcnow()
        db.session.execute(
            db.insert(User),
            [
                {
                    "email": f"f{i}@example.org",
                    "display_name": f"Follower {i}",
                    "password_hash": hash_,
                    "role": "participant",
                    "status": "active",
                    "stakeholder_group": "other",
                    "created_at": now,
                }
                for i in range(n)
            ],
        )
        ids = db.session.scalars(db.select(User.id).where(User.email.like("f%@example.org"))).all()
        db.session.execute(
            db.insert(Follow),
            [
                {"user_id": i, "target_type": t, "target_id": tid, "created_at": now}
                for i in ids
                for t, tid in (("document", version.document_id), ("clause", clause.id))
            ],
        )
        db.session.commit()

        def post(hook: bool) -> tuple[float, float]:
            original = notifications.comment_posted
            if not hook:
                notifications.comment_posted = lambda comment: None
            try:
                t0, c0 = time.perf_counter(), time.thread_time()
                comment_service.post_comment(
                    author=author, clause=clause, type_="remark", body="A bench comment.", visibility="public"
                )
                return time.perf_counter() - t0, time.thread_time() - c0
            finally:
                notifications.comment_posted = original

        post(True)  # warm up
        off, on = [], []
        for _ in range(args.runs):  # interleaved, so that noise from other work on the machine hits both alike
            off.append(post(False))
            on.append(post(True))

        def median_ms(values, i):
            return round(statistics.median(v[i] for v in values) * 1000, 1)

        # CPU time as well as wall time: on a shared machine the wall time mostly measures the other work.
        result["comment_ms"] = {
            "hook_off_median": median_ms(off, 0),
            "hook_on_median": median_ms(on, 0),
            "hook_off_cpu_median": median_ms(off, 1),
            "hook_on_cpu_median": median_ms(on, 1),
        }
        result["loadavg"] = list(os.getloadavg())

        db.session.execute(
            db.delete(notifications.NotificationEvent).where(
                notifications.NotificationEvent.id
                < db.select(db.func.max(notifications.NotificationEvent.id)).scalar_subquery()
            )
        )
        db.session.commit()  # keep only the last comment's event: the fan-out of one comment is measured
        t0 = time.perf_counter()
        notifications.fan_out_pending()
        result["fan_out_one_comment_s"] = round(time.perf_counter() - t0, 2)

        t0 = time.perf_counter()
        documents.publish_version(slug="bench", data=NEXT, opens_at=utcnow(), closes_at=utcnow() + timedelta(days=30))
        result["publish_next_version_s"] = round(time.perf_counter() - t0, 2)

        batch_times = []
        original_batch = notifications._digest_batch

        def timed_batch(*a, **kw):
            t = time.perf_counter()
            try:
                return original_batch(*a, **kw)
            finally:
                batch_times.append(time.perf_counter() - t)

        notifications._digest_batch = timed_batch
        t0 = time.perf_counter()
        counts = notifications.build_digests()
        result["digests_s"] = round(time.perf_counter() - t0, 2)
        notifications._digest_batch = original_batch
        result["digests_queued"] = counts
        result["longest_batch_s"] = round(max(batch_times), 3) if batch_times else 0
        result["batch_size"] = notifications.BATCH
        result["mails_in_outbox"] = db.session.scalar(db.select(db.func.count(MailOutbox.id)))
        result["notifications"] = db.session.scalar(db.select(db.func.count(Notification.id)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    (RESULTS / f"notify{suffix}.json").write_text(json.dumps(result, indent=2) + "\n")
    cm = result["comment_ms"]
    md = [
        f"# Notifications benchmark ({n} followers, SQLite, {result['when']})",
        "",
        f"{os.cpu_count()} CPUs, shared with other work: load averages "
        f"{' '.join(f'{x:.1f}' for x in result['loadavg'])}"
        " (1, 5, 15 min) when the comments were timed.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| post a comment, notification hook off (median of {args.runs}): wall / CPU | {cm['hook_off_median']} ms / "
        f"{cm['hook_off_cpu_median']} ms |",
        f"| post a comment, hook on, clause followed by {n} (median of {args.runs}): wall / CPU | "
        f"{cm['hook_on_median']} ms / {cm['hook_on_cpu_median']} ms |",
        f"| after the response: tell {n} followers of the clause of one comment "
        f"| {result['fan_out_one_comment_s']} s |",
        f"| publish the next version, {n} document followers told | {result['publish_next_version_s']} s |",
        f"| build and queue {counts.get('daily', 0)} daily digests | {result['digests_s']} s |",
        f"| longest digest batch transaction ({notifications.BATCH} people) | {result['longest_batch_s']} s |",
        "",
    ]
    (RESULTS / f"notify{suffix}.md").write_text("\n".join(md))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
