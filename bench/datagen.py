"""Deterministic consultation datasets for the page and load benchmarks.

    .venv/bin/python bench/datagen.py --size small|medium|large|loadtest     # into DATABASE_URL / the instance

Documents and versions go through the real publishing path (services.documents.publish_version), so clauses,
lineage and keys are what production makes. Accounts, comments and dispositions are bulk-inserted with
SQLAlchemy Core (one password hashed once and shared by every account), then the search index is rebuilt with
search.reindex(), as `flask search reindex` does.

The first document, `doc-1`, is the *measured* document and is identical in every size: three versions of
300 clauses; version 3 is open and carries 5,000 comments of which 1,000 sit on one clause (HOT_KEY); versions
1 and 2 are closed with 1,000 comments each. The sizes differ only in what surrounds it (more documents,
comments and accounts), so a page of doc-1 whose cost grows from one size to the next grows with the total
data size, not with what it shows.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 20250802
PASSWORD = "bench passphrase: lantern orchard 1729"
DRAFTER_EMAIL = "drafter@bench.example"
TARGET_SLUG = "doc-1"
HOT_KEY = "measure-1-1-1"  # the doc-1 clause that carries 1,000 comments on version 3
TYPICAL_KEY = "measure-3-4-2"  # a doc-1 clause with a typical number of comments
RARE_WORD = "kestrel"  # in every 50th doc-1 comment only: the same hits at every size
COMMON_WORD = "evaluation"  # in many comments of every document: hits grow with the data
GROUPS = ["gpai-provider", "industry", "civil-society", "academia", "rightsholder", "public-authority", "other"]
TYPES = ["remark", "concern", "suggestion", "question", "support"]
STANCES = [None, None, "support", "support-with-changes", "oppose"]
VISIBILITY = ["public"] * 7 + ["pseudonymous"] * 2 + ["confidential"]
DISPOSITIONS = ["accepted", "partly-accepted", "rejected", "noted", "out-of-scope"]
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DOMAIN = (
    "model evaluation red-teaming copyright opt-out training data systemic risk incident report transparency "
    "documentation provider downstream safety security cybersecurity capability threshold mitigation "
    "governance audit independent external serious harm release deployment weights compute benchmark "
    "adversarial testing disclosure office signatory measure commitment chapter rightsholder reservation "
    "crawler licence dataset summary template"
).split()


@dataclass(frozen=True)
class Size:
    name: str
    documents: int
    clauses: int  # per version (3 versions per document)
    comments: int  # in total, doc-1's 7,000 included
    accounts: int  # participants (plus one drafter)


SIZES = {
    "small": Size("small", 1, 300, 7_000, 500),
    "medium": Size("medium", 3, 300, 30_000, 2_000),
    "large": Size("large", 5, 300, 100_000, 5_000),
    # The load test's starting point: the measured document only, and accounts for the simulated participants.
    "loadtest": Size("loadtest", 1, 300, 7_000, 500),
}
TARGET_COMMENTS = {3: 5_000, 2: 1_000, 1: 1_000}  # doc-1, by version number
HOT_COMMENTS = 1_000


# --- text ------------------------------------------------------------------------------------------------


class Words:
    def __init__(self, rng: random.Random):
        self.rng = rng
        syllables = [
            "ka",
            "ro",
            "ti",
            "men",
            "sa",
            "lo",
            "ve",
            "dra",
            "nor",
            "pel",
            "tas",
            "ri",
            "com",
            "pre",
            "tion",
            "al",
            "ex",
            "ment",
            "ure",
            "con",
            "ab",
            "ist",
        ]
        pseudo = set()
        while len(pseudo) < 1500:
            pseudo.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))))
        self.vocab = DOMAIN + sorted(pseudo - {RARE_WORD})
        self.weights = [1.0 / (rank + 1) for rank in range(len(self.vocab))]

    def text(self, lo: int, hi: int) -> str:
        words = self.rng.choices(self.vocab, self.weights, k=self.rng.randint(lo, hi))
        out, i = [], 0
        while i < len(words):
            step = self.rng.randint(6, 14)
            out.append(" ".join(words[i : i + step]).capitalize() + ".")
            i += step
        return " ".join(out)

    def title(self) -> str:
        return " ".join(self.rng.choices(self.vocab[40:400], k=self.rng.randint(2, 4))).capitalize()


def draft_texts(rng: random.Random, words: Words, clauses: int) -> list[str]:
    """Three versions of a draft: chapters › commitments › measures; each later version edits about 10%."""
    per_chapter = 50  # 1 chapter + 7 commitments × (1 + 6 measures)
    chapters = max(1, clauses // per_chapter)
    tree = []
    for ch in range(1, chapters + 1):
        commitments = []
        for co in range(1, 8):
            measures = [[f"Measure {ch}.{co}.{me}", words.title(), words.text(40, 120)] for me in range(1, 7)]
            commitments.append([f"Commitment {ch}.{co}", words.title(), words.text(20, 50), measures])
        tree.append([f"Chapter {ch}", words.title(), words.text(20, 40), commitments])

    def render(t) -> str:
        out = ["# Bench code of practice", ""]
        for chapter in t:
            out += [f"## {chapter[0]}. {chapter[1]}", "", chapter[2], ""]
            for commitment in chapter[3]:
                out += [f"### {commitment[0]}. {commitment[1]}", "", commitment[2], ""]
                for measure in commitment[3]:
                    out += [f"#### {measure[0]}. {measure[1]}", "", measure[2], ""]
        return "\n".join(out)

    texts = [render(tree)]
    for _ in range(2):
        tree = json.loads(json.dumps(tree))
        measures = [m for ch in tree for co in ch[3] for m in co[3]]
        for m in rng.sample(measures, len(measures) // 10):
            m[2] = m[2] + " " + words.text(8, 20)
        texts.append(render(tree))
    return texts


def receipts(rng: random.Random):
    seen = set()
    while True:
        chars = "".join(rng.choice(CROCKFORD) for _ in range(8))
        receipt = f"CP-{chars[:4]}-{chars[4:]}"
        if receipt not in seen:
            seen.add(receipt)
            yield receipt


# --- the database ----------------------------------------------------------------------------------------


def reset_schema(app) -> None:
    """Empty the database: drop everything (PostgreSQL: the public schema), then create the tables."""
    from consult.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            db.drop_all()
        db.create_all()


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE for a postgresql:// URL when it does not exist (connecting to the `postgres` database)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _fix_sequences(db) -> None:
    """Explicit ids do not advance PostgreSQL's sequences; move them past the rows inserted."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("organisation", "user", "comment", "disposition"):
        db.session.execute(
            db.text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
            )
        )
    db.session.commit()


def generate(app, size: Size, seed: int = SEED, *, index: bool = True, log=print) -> dict:
    """Fill an empty database (tables created) with the dataset of `size`; returns counts and timings."""
    from werkzeug.security import generate_password_hash

    from consult import search
    from consult.extensions import db
    from consult.models import Clause, Comment, Disposition, Organisation, User, Version
    from consult.services import documents

    rng = random.Random(seed)
    words = Words(rng)
    timings = {}
    now = datetime.now(UTC).replace(microsecond=0)
    windows = {
        1: (now - timedelta(days=150), now - timedelta(days=100)),
        2: (now - timedelta(days=90), now - timedelta(days=40)),
        3: (now - timedelta(days=30), now + timedelta(days=60)),
    }
    with app.app_context():
        started = time.perf_counter()
        clauses_of: dict[tuple[int, int], list[int]] = {}  # (document index, version) -> clause ids
        version_ids: dict[tuple[int, int], int] = {}
        hot_clause = typical_clause = None
        texts_by_doc = [
            draft_texts(random.Random(seed + d), Words(random.Random(seed + d)), size.clauses)
            for d in range(size.documents)
        ]
        for d in range(size.documents):
            for number, text in enumerate(texts_by_doc[d], 1):
                opens, closes = windows[number]
                version = documents.publish_version(
                    slug=f"doc-{d + 1}",
                    data=text,
                    label=f"Draft {number}",
                    title=f"Bench code of practice {d + 1}",
                    opens_at=opens,
                    closes_at=closes,
                )
                rows = db.session.execute(
                    db.select(Clause.id, Clause.key).where(Clause.version_id == version.id).order_by(Clause.position)
                ).all()
                clauses_of[(d, number)] = [r.id for r in rows]
                version_ids[(d, number)] = version.id
                if d == 0 and number == 3:
                    keys = {r.key: r.id for r in rows}
                    hot_clause, typical_clause = keys[HOT_KEY], keys[TYPICAL_KEY]
        timings["publish_s"] = round(time.perf_counter() - started, 1)

        started = time.perf_counter()
        password_hash = generate_password_hash(PASSWORD, method="scrypt")
        organisations = [
            {"id": i + 1, "name": f"Organisation {i + 1}", "verified": i % 3 == 0, "created_at": now}
            for i in range(max(1, size.accounts // 10))
        ]
        db.session.execute(db.insert(Organisation), organisations)
        accounts = [
            {
                "id": 1,
                "email": DRAFTER_EMAIL,
                "display_name": "Bench Drafter",
                "password_hash": password_hash,
                "role": "drafter",
                "status": "active",
                "stakeholder_group": "other",
                "created_at": now,
                "approved_at": now,
                "consented_at": now,
            }
        ]
        for i in range(size.accounts):
            org = organisations[i % len(organisations)] if i % 4 else None
            accounts.append(
                {
                    "id": i + 2,
                    "email": f"p{i}@bench.example",
                    "display_name": f"Participant {i}",
                    "password_hash": password_hash,
                    "role": "participant",
                    "status": "active",
                    "stakeholder_group": GROUPS[i % len(GROUPS)],
                    "organisation_id": org and org["id"],
                    "created_at": now,
                    "approved_at": now,
                    "consented_at": now,
                }
            )
        db.session.execute(db.insert(User), accounts)
        db.session.commit()
        org_names = {o["id"]: o["name"] for o in organisations}
        participants = accounts[1:]

        # Where the comments go: doc-1 fixed, the rest spread over the other documents' versions.
        plan: list[tuple[int, list[int], int]] = []  # (version id, clause ids, how many)
        plan.append((version_ids[(0, 3)], [hot_clause], HOT_COMMENTS))
        plan.append(
            (version_ids[(0, 3)], [c for c in clauses_of[(0, 3)] if c != hot_clause], TARGET_COMMENTS[3] - HOT_COMMENTS)
        )
        for number in (1, 2):
            plan.append((version_ids[(0, number)], clauses_of[(0, number)], TARGET_COMMENTS[number]))
        rest = max(0, size.comments - sum(TARGET_COMMENTS.values()))
        others = [(d, n) for d in range(1, size.documents) for n in (1, 2, 3)]
        for i, (d, n) in enumerate(others):
            plan.append((version_ids[(d, n)], clauses_of[(d, n)], rest // len(others) + (i < rest % len(others))))

        receipt = receipts(rng)
        next_id, total = 1, 0
        disposition_rows = []
        for version_id, clause_ids, count in plan:
            in_target = any(version_id == version_ids[(0, n)] for n in (1, 2, 3))
            number = next(n for (d, n), v in version_ids.items() if v == version_id)
            opens, closes = windows[number]
            span = (min(closes, now) - opens).total_seconds()
            batch: list[dict] = []
            recent: dict[int, list[tuple[int, int]]] = {}  # clause id -> (comment id, depth) for replies
            for i in range(count):
                clause_id = clause_ids[i % len(clause_ids)] if len(clause_ids) > 1 else clause_ids[0]
                if len(clause_ids) > 1 and rng.random() < 0.5:
                    clause_id = rng.choice(clause_ids)
                author = rng.choice(participants)
                body = words.text(15, 45)
                if in_target and next_id % 50 == 0:
                    body += f" {RARE_WORD.capitalize()} note."
                if next_id % 7 == 0:
                    body = f"{COMMON_WORD.capitalize()} matters here. " + body
                parent_id, depth = None, 0
                earlier = recent.get(clause_id)
                if earlier and rng.random() < 0.1:
                    parent_id, parent_depth = rng.choice(earlier)
                    depth = min(parent_depth + 1, 2)
                    if parent_depth >= 2:
                        parent_id, depth = None, 0
                visibility = rng.choice(VISIBILITY)
                batch.append(
                    {
                        "id": next_id,
                        "clause_id": clause_id,
                        "version_id": version_id,
                        "author_id": author["id"],
                        "parent_id": parent_id,
                        "depth": depth,
                        "type": rng.choice(TYPES),
                        "stance": rng.choice(STANCES),
                        "visibility": visibility,
                        "body": body,
                        "body_html": f"<p>{body}</p>",
                        "proposed_wording": words.text(10, 25) if rng.random() < 0.05 else None,
                        "author_group": author["stakeholder_group"],
                        "author_organisation": org_names.get(author["organisation_id"]),
                        "receipt": next(receipt),
                        "status": "visible" if rng.random() > 0.02 else "hidden",
                        "endorsement_count": rng.choice((0, 0, 0, 1, 2, 5)),
                        "created_at": opens + timedelta(seconds=span * (i + 1) / (count + 1)),
                    }
                )
                recent.setdefault(clause_id, []).append((next_id, depth))
                if len(recent[clause_id]) > 20:
                    recent[clause_id].pop(0)
                if (number < 3 and rng.random() < 0.5) or (number == 3 and rng.random() < 0.2):
                    status = rng.choice(DISPOSITIONS)
                    disposition_rows.append(
                        {
                            "comment_id": next_id,
                            "status": status,
                            "response": f"Thank you; {status}.",
                            "response_html": f"<p>Thank you; {status}.</p>",
                            "decided_by_id": 1,
                            "decided_at": now,
                        }
                    )
                next_id += 1
                if len(batch) >= 5000:
                    db.session.execute(db.insert(Comment), batch)
                    total += len(batch)
                    batch = []
            if batch:
                db.session.execute(db.insert(Comment), batch)
                total += len(batch)
            db.session.commit()
        for start in range(0, len(disposition_rows), 10_000):
            db.session.execute(db.insert(Disposition), disposition_rows[start : start + 10_000])
        db.session.commit()
        _fix_sequences(db)
        timings["rows_s"] = round(time.perf_counter() - started, 1)
        log(
            f"  {size.name}: {size.documents} documents, {total:,} comments, {len(accounts):,} accounts "
            f"({timings['publish_s']} s publishing, {timings['rows_s']} s rows)"
        )

        if index:
            started = time.perf_counter()
            search.reindex()
            search.drain(timeout=30)
            timings["reindex_s"] = round(time.perf_counter() - started, 1)
            log(f"  {size.name}: search index rebuilt in {timings['reindex_s']} s")
        counts = {
            "documents": db.session.scalar(db.select(db.func.count()).select_from(Version)) // 3,
            "versions": db.session.scalar(db.select(db.func.count()).select_from(Version)),
            "clauses": db.session.scalar(db.select(db.func.count()).select_from(Clause)),
            "comments": db.session.scalar(db.select(db.func.count()).select_from(Comment)),
            "accounts": db.session.scalar(db.select(db.func.count()).select_from(User)),
            "dispositions": db.session.scalar(db.select(db.func.count()).select_from(Disposition)),
            "hot_clause_comments": db.session.scalar(
                db.select(db.func.count()).select_from(Comment).where(Comment.clause_id == hot_clause)
            ),
            "typical_clause_comments": db.session.scalar(
                db.select(db.func.count()).select_from(Comment).where(Comment.clause_id == typical_clause)
            ),
        }
    return {"size": asdict(size), "seed": seed, "counts": counts, "timings": timings}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-index", action="store_true", help="skip the search reindex")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the tables first")
    args = parser.parse_args(argv)
    from consult import create_app
    from consult.extensions import db

    app = create_app()
    if args.reset:
        reset_schema(app)
    else:
        with app.app_context():
            db.create_all()
    print(
        json.dumps(
            generate(app, SIZES[args.size], args.seed, index=not args.no_index, log=lambda m: print(m, file=sys.stderr))
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
