"""The PostgreSQL search backend (SEARCH_BACKEND=postgres): the database's own full-text search.

Each clause and comment has one row in `search_document` with the columns the filters, facets and visibility rules
need and a `tsvector` (column `tsv`, GIN-indexed) built by PostgreSQL itself:

    A  a clause's number and heading        B  a clause's body, a comment's text
    C  a comment's proposed wording         D  every word unstemmed (for prefixes: "evaluation" is stemmed "evalu")

A through C use `consult_english` (accents folded with unaccent, then English stemming), D `consult_words` (folded,
not stemmed); both are made by migration 0011_search_pg. Rows are written by the outbox drain, in the same
transaction as the deletion of the outbox rows they cover, so nothing is lost and nothing is applied twice; a
transaction-level advisory lock keeps two drains (or a drain and a rebuild) from overtaking each other. Every app
server reads the same rows: no index host, no shared storage.

Queries use the same language as the Whoosh backend (the same parser, with the words left as typed): terms,
phrases, prefixes, AND/OR/NOT and field filters become one tsquery plus SQL conditions; the reader's visibility
filter is part of the WHERE clause, and the rows are checked again with `permissions` before they are shown
(service._load, shared with Whoosh). Ranking is ts_rank_cd with field weights; snippets come from ts_headline over
the database row's current text; facets are one GROUPING SETS aggregation over the same filtered set.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from html import escape

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import (
    ARRAY,
    Column,
    Integer,
    MetaData,
    Table,
    and_,
    cast,
    func,
    literal,
    literal_column,
    not_,
    null,
    or_,
    true,
    union_all,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from whoosh import query as wq

from .. import permissions
from ..extensions import db
from ..logs import get_logger
from ..models import SearchOutbox
from ..models.consultation import SearchDocument
from .index import Status
from .query import FILTER_FIELDS, LOWERCASE_FIELDS, IndexHit, Parsed, allowed_facets, chosen_filters, parse
from .service import Result, SearchPage, _load

log = get_logger(__name__)

STEMMED = "consult_english"
WORDS = "consult_words"
TSV_COLUMN = "tsv"
TSV_INDEX = "ix_search_document_tsv"
WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"  # D, C, B, A: a clause heading counts most, the unstemmed copy least
RANK_NORMALISATION = 1  # divide by 1 + log(document length): a long comment does not win by length alone
LOCK_KEY = 0x5EA5C  # pg advisory lock: one writer (drain or rebuild) at a time
BATCH = 500
RANK_WINDOW = 500  # a search with more hits ranks the newest RANK_WINDOW clauses and comments (see run_query)
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters: ts_headline's markers, made <mark> after escaping
HEADLINE_OPTIONS = (
    f'StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "'
)
SHORT_TEXT = 240  # a text this short is shown whole, its words marked
HEADLINE_WHOLE = f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, HighlightAll=true"

# search_document as this module reads and writes it, with the PostgreSQL-only tsvector column.
documents = Table(
    "search_document", MetaData(), *(c._copy() for c in SearchDocument.__table__.columns), Column(TSV_COLUMN, TSVECTOR)
)
D = documents.c


def include_object(obj, name, type_, reflected, compare_to):
    """For `flask db check`: the tsvector column and its GIN index exist on PostgreSQL only, outside the models."""
    table = getattr(getattr(obj, "table", None), "name", None)
    if type_ == "column" and name == TSV_COLUMN and table == "search_document":
        return False
    if type_ == "index" and name == TSV_INDEX:
        return False
    return not (type_ == "table" and name == STAGING)  # the staging table exists only while a rebuild runs


# --- writing -------------------------------------------------------------------------------------------------------

_COLUMNS = (
    'kind, object_id, clause_id, document, version, clause_key, "group", type, disposition, visibility, '
    "status, author_id, audience, created_at, tsv"
)


def clause_vector(number: str, heading: str, body: str) -> str:
    """SQL for a clause's tsvector, from three SQL expressions: number and heading weigh A, the body B.

    Each text is parsed once per configuration: the stemmed vectors are computed once, in a subquery, and both
    weighted and joined into word pairs (parsing is most of a rebuild's cost).
    """
    return (
        f"(SELECT setweight(a, 'A') || setweight(b, 'B') "
        f"|| setweight(to_tsvector('{WORDS}', concat_ws(' ', {number}, {heading}, {body})), 'D') "
        f"|| consult_pairs(a || b) "
        f"FROM (SELECT to_tsvector('{STEMMED}', coalesce({number}, '') || ' ' || coalesce({heading}, '')) AS a, "
        f"to_tsvector('{STEMMED}', coalesce({body}, '')) AS b) AS v)"
    )


def comment_vector(body: str, wording: str) -> str:
    """SQL for a comment's tsvector: the text weighs B, the proposed wording C (each parsed once, as above)."""
    return (
        f"(SELECT setweight(b, 'B') || setweight(w, 'C') "
        f"|| setweight(to_tsvector('{WORDS}', concat_ws(' ', {body}, {wording})), 'D') "
        f"|| consult_pairs(b || w) "
        f"FROM (SELECT to_tsvector('{STEMMED}', {body}) AS b, "
        f"to_tsvector('{STEMMED}', coalesce({wording}, '')) AS w) AS v)"
    )


AUDIENCE = "CASE WHEN {status} = 'visible' AND {visibility} <> 'confidential' THEN 'public' ELSE 'restricted' END"

_CLAUSES = f"""
SELECT 'clause', cl.id, cl.id, d.slug, v.number::text, cl.key, NULL, NULL, NULL, NULL, NULL, NULL, 'public',
       v.published_at, {clause_vector("cl.number", "cl.heading", "cl.body")}
FROM clause cl JOIN version v ON v.id = cl.version_id JOIN document d ON d.id = v.document_id
"""

_COMMENTS = f"""
SELECT 'comment', c.id, c.clause_id, d.slug, v.number::text, cl.key, c.author_group, c.type, ds.status,
       c.visibility, c.status, c.author_id, {AUDIENCE.format(status="c.status", visibility="c.visibility")},
       c.created_at, {comment_vector("c.body", "c.proposed_wording")}
FROM comment c JOIN clause cl ON cl.id = c.clause_id JOIN version v ON v.id = c.version_id
     JOIN document d ON d.id = v.document_id LEFT JOIN disposition ds ON ds.comment_id = c.id
"""

_UPSERT = """
INSERT INTO search_document ({columns})
{select} WHERE {id_column} = ANY(:ids)
ON CONFLICT (kind, object_id) DO UPDATE SET
    clause_id = EXCLUDED.clause_id, document = EXCLUDED.document, version = EXCLUDED.version,
    clause_key = EXCLUDED.clause_key, "group" = EXCLUDED."group", type = EXCLUDED.type,
    disposition = EXCLUDED.disposition, visibility = EXCLUDED.visibility, status = EXCLUDED.status,
    author_id = EXCLUDED.author_id, audience = EXCLUDED.audience, created_at = EXCLUDED.created_at,
    tsv = EXCLUDED.tsv
"""

# kind: (the SELECT giving its rows, the id column to pick them by, the table whose ids they are)
_SOURCES = {"clause": (_CLAUSES, "cl.id", "clause"), "comment": (_COMMENTS, "c.id", "comment")}


def apply_changes(session, changes: set[tuple[str, int]]) -> None:
    """Bring the rows for these (kind, id) pairs in line with the database: written again, or deleted if gone."""
    for kind, (select, id_column, table) in _SOURCES.items():
        ids = sorted({object_id for k, object_id in changes if k == kind})
        if not ids:
            continue
        session.execute(sql(_UPSERT.format(columns=_COLUMNS, select=select, id_column=id_column)), {"ids": ids})
        session.execute(
            sql(
                f"DELETE FROM search_document s WHERE s.kind = :kind AND s.object_id = ANY(:ids) "
                f"AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = s.object_id)"
            ),
            {"kind": kind, "ids": ids},
        )
    unknown = {k for k, _ in changes} - set(_SOURCES)
    if unknown:
        log.warning("search outbox rows of unknown kinds ignored: %s", sorted(unknown))


def _lock(session, timeout: float) -> bool:
    """The writers' advisory lock for this transaction, waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if session.scalar(sql("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def drain(*, timeout: float = 10.0, batch: int = BATCH, max_batches: int | None = None) -> int:
    """Apply pending outbox rows, oldest first, each batch in one transaction with the deletion of its rows."""
    applied, batches = 0, 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with Session(db.engine) as session:
            if session.scalar(db.select(SearchOutbox.id).limit(1)) is None:
                return applied
            session.rollback()
            if not _lock(session, timeout):
                log.info("another drain or rebuild is writing; outbox rows left for the next drain")
                return applied
            rows = session.execute(
                db.select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id)
                .order_by(SearchOutbox.id)
                .limit(batch)
            ).all()
            if rows:
                apply_changes(session, {(kind, object_id) for _id, kind, object_id in rows})
                session.execute(db.delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
            session.commit()
        applied += len(rows)
        if len(rows) < batch:
            return applied
    return applied


STAGING = "search_document_rebuild"  # the table a rebuild fills, then swaps in for search_document
REBUILD_CHUNK = 2000  # ids per statement: the unit of the rebuild's progress and of its work sharing
INDEX_MEMORY = "256MB"  # maintenance_work_mem for building the GIN index in one pass
# search_document's constraints and indexes, as migration 0011 names them: the swapped-in table takes these names.
TABLE_INDEXES = (
    ("pk_search_document", "ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY (id)"),
    ("uq_search_document_kind", "ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE (kind, object_id)"),
    (TSV_INDEX, "CREATE INDEX {name} ON {table} USING gin (tsv)"),
)


def _rebuild_tasks(session, sources) -> list[tuple[str, int, int, int]]:
    """(kind, first id, last id, rows) ranges of about REBUILD_CHUNK rows each, over every clause and comment."""
    tasks = []
    for kind, (_select, _id_column, table) in sources.items():
        ids = list(session.scalars(sql(f"SELECT id FROM {table} ORDER BY id")))
        for start in range(0, len(ids), REBUILD_CHUNK):
            chunk = ids[start : start + REBUILD_CHUNK]
            tasks.append((kind, chunk[0], chunk[-1], len(chunk)))
    return tasks


def _fill_staging(engine, source, first: int, last: int) -> None:
    """One range of rows parsed into the staging table, in its own connection (so two run on two CPUs)."""
    select, id_column, _table = source
    with engine.begin() as conn:
        conn.execute(sql("SET LOCAL jit = off"))  # compiling these expressions costs more than it saves
        conn.execute(
            sql(f"INSERT INTO {STAGING} ({_COLUMNS}) {select} WHERE {id_column} BETWEEN :first AND :last"),
            {"first": first, "last": last},
        )


def _index_staging(engine) -> None:
    """The staging table's keys and GIN index, built in bulk once it is full (inserting 105,000 rows into a GIN
    index row by row took longer than parsing them), under temporary names until the swap."""
    with engine.begin() as conn:
        conn.execute(sql(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"))
        for name, statement in TABLE_INDEXES:
            conn.execute(sql(statement.format(table=STAGING, name=f"{STAGING}_{name}")))


SWAP_LOCK_TIMEOUT = "5s"  # how long the swap waits for searches in progress, per attempt
SWAP_ATTEMPTS = 6


def _swap(session) -> None:
    """In the caller's transaction: the staging table becomes search_document, with the usual names.

    The swap needs the table to itself for a moment. Searches in progress end within milliseconds, but waiting
    without a limit would also queue every new search behind a reader that never ends (a transaction left
    open): so each attempt waits a few seconds, then lets the queued searches through and tries again.
    """
    for attempt in range(SWAP_ATTEMPTS):
        try:
            with session.begin_nested():
                session.execute(sql(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'"))
                session.execute(sql("LOCK TABLE search_document IN ACCESS EXCLUSIVE MODE"))
            break
        except OperationalError:
            if attempt == SWAP_ATTEMPTS - 1:
                raise RuntimeError(
                    "search_document stayed in use by an open transaction; rebuild not swapped in"
                ) from None
            log.info("search table in use; trying the swap again")
    session.execute(sql("SET LOCAL lock_timeout = 0"))
    sequence = session.scalar(sql("SELECT pg_get_serial_sequence('search_document', 'id')"))
    if sequence:  # the id sequence belongs to the old table and would be dropped with it
        session.execute(sql(f"ALTER SEQUENCE {sequence} OWNED BY {STAGING}.id"))
    session.execute(sql("DROP TABLE search_document"))
    session.execute(sql(f"ALTER TABLE {STAGING} RENAME TO search_document"))
    for name, _statement in TABLE_INDEXES:
        session.execute(sql(f"ALTER INDEX {STAGING}_{name} RENAME TO {name}"))


def reindex(*, wait: float = 300.0, progress=None, workers: int | None = None, sources=None, **_ignored) -> int:
    """Rebuild every row from the database into a new table and swap it in; readers use the old rows until then.

    Parsing the texts is most of the cost, so it runs in `workers` connections at once (one per CPU, at most two),
    range by range, into a staging table; its indexes are built in bulk, then one short transaction swaps the
    tables. That transaction holds the writers' lock from the start, so no drain writes in between: a change
    made meanwhile keeps its outbox row (only the rows present at the start are deleted) and is applied by the
    next drain. `progress(done, total[, phase])`, if given, hears after each range and before the indexes are
    built. `sources` replaces the clause and comment SELECTs (the search benchmark reads generated rows).
    """
    sources = sources or _SOURCES
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    engine = db.engine
    if not (db.session.new or db.session.dirty or db.session.deleted):
        db.session.rollback()  # the caller's reads (search status...) would otherwise hold up the swap forever
    with Session(engine) as session:
        if not _lock(session, wait):
            raise RuntimeError("another drain or rebuild is writing the search table")
        covered = list(session.scalars(db.select(SearchOutbox.id)))
        tasks = _rebuild_tasks(session, sources)
        total = sum(n for *_range, n in tasks)
        with engine.begin() as conn:  # a table left by a rebuild that died is replaced
            conn.execute(sql(f"DROP TABLE IF EXISTS {STAGING}"))
            conn.execute(sql(f"CREATE TABLE {STAGING} (LIKE search_document INCLUDING DEFAULTS)"))
        try:
            done = 0
            if progress:
                progress(0, total)
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {
                    pool.submit(_fill_staging, engine, sources[kind], first, last): n for kind, first, last, n in tasks
                }
                for future in as_completed(futures):
                    future.result()
                    done += futures[future]
                    if progress:
                        progress(done, total)
            if progress:
                progress(total, total, "writing")
            _index_staging(engine)
            _swap(session)
            for start in range(0, len(covered), 5000):
                session.execute(db.delete(SearchOutbox).where(SearchOutbox.id.in_(covered[start : start + 5000])))
            count = session.scalar(sql("SELECT count(*) FROM search_document"))
            session.commit()
        finally:
            session.rollback()
            with engine.begin() as conn:
                conn.execute(sql(f"DROP TABLE IF EXISTS {STAGING}"))
    with engine.connect() as conn:  # fresh statistics for the planner after a bulk load
        conn.execute(sql("ANALYZE search_document"))
        conn.commit()
    return count


def status() -> Status:
    """Rows in the search table, pending outbox rows, and the table's size with its indexes."""
    documents_count = db.session.scalar(sql("SELECT count(*) FROM search_document")) or 0
    pending = db.session.scalar(db.select(db.func.count(SearchOutbox.id))) or 0
    size = db.session.scalar(sql("SELECT pg_total_relation_size('search_document')")) or 0
    return Status("postgresql:search_document", documents_count, pending, size)


# --- the query language ----------------------------------------------------------------------------------------------


class _Leaves:
    """Every text leaf of a query, normalised by PostgreSQL in one round trip: tsquery text, '' for stop words."""

    def __init__(self):
        self.settled = False  # whether the planner settings were applied with the look-up
        self.requests: dict[tuple[str, str], int] = {}
        self.found: list[str] = []

    def add(self, kind: str, text: str) -> None:
        self.requests.setdefault((kind, text), len(self.requests))

    def resolve(self) -> None:
        if not self.requests:
            return
        parts, params = [], {}
        forms = {
            "term": f"to_tsquery('{STEMMED}', quote_literal(:p{{n}}))",
            "prefix": f"to_tsquery('{WORDS}', quote_literal(:p{{n}}) || '\\:*D')",
            "phrase": f"phraseto_tsquery('{STEMMED}', :p{{n}})",
            "pairs": "(SELECT string_agg(quote_literal(pair), ' & ') FROM (SELECT lexeme || '_' || lead(lexeme) "
            f"OVER (ORDER BY pos) AS pair FROM unnest(to_tsvector('{STEMMED}', :p{{n}})) "
            "AS u(lexeme, positions, weights), unnest(positions) AS pos) AS x WHERE pair IS NOT NULL)",
            "hterm": f"to_tsquery('{WORDS}', quote_literal(:p{{n}}))",
            "hprefix": f"to_tsquery('{WORDS}', quote_literal(:p{{n}}) || '\\:*')",
            "hphrase": f"phraseto_tsquery('{WORDS}', :p{{n}})",
        }
        for (kind, text), n in sorted(self.requests.items(), key=lambda kv: kv[1]):
            parts.append(
                "CAST(" + forms[kind].format(n=n) + " AS text)"
                if kind != "pairs"
                else "coalesce(" + forms[kind].format(n=n) + ", '')"
            )
            params[f"p{n}"] = text
        # The search's planner settings ride along (see _prefer_the_index): one round trip fewer per search.
        self.found = list(db.session.execute(sql("SELECT " + ", ".join(parts + list(PLANNER_SETTINGS))), params).one())[
            : len(parts)
        ]
        self.settled = True

    def get(self, kind: str, text: str) -> str:
        return self.found[self.requests[(kind, text)]]


def _words(q) -> str:
    return " ".join(str(w) for w in q.words)


def _collect(q, leaves: _Leaves) -> None:
    if isinstance(q, (wq.Term, wq.FuzzyTerm)) and q.fieldname == "text":
        leaves.add("term", str(q.text))
        leaves.add("hterm", str(q.text))
    elif isinstance(q, (wq.Prefix, wq.Wildcard)) and q.fieldname == "text":
        stem = _prefix_of(q)
        if stem:
            leaves.add("prefix", stem)
            leaves.add("hprefix", stem)
    elif isinstance(q, wq.Phrase) and q.fieldname == "text":
        leaves.add("phrase", _words(q))
        leaves.add("hphrase", _words(q))
        leaves.add("pairs", _words(q))
    elif not q.is_leaf():
        for child in q.children():
            _collect(child, leaves)


def _prefix_of(q) -> str:
    text = str(q.text)
    if isinstance(q, wq.Wildcard):
        cut = min((i for i in (text.find("*"), text.find("?")) if i >= 0), default=len(text))
        text = text[:cut]
    return "".join(ch for ch in text if ch.isalnum())


class _Built:
    """A query as SQL: tsquery text and/or SQL conditions, plus what ranks and what highlights its hits."""

    def __init__(self, ts: str | None = None, cond=None):
        self.ts, self.cond = ts, cond

    def condition(self):
        parts = []
        if self.ts:
            parts.append(D.tsv.op("@@")(cast(literal(self.ts), TSQUERY)))
        if self.cond is not None:
            parts.append(self.cond)
        return and_(*parts) if len(parts) > 1 else (parts[0] if parts else true())


class _Translator:
    def __init__(self, leaves: _Leaves):
        self.leaves = leaves
        self.rank: list[str] = []  # positive tsquery parts: they rank the hits
        self.highlight: list[str] = []  # their unstemmed forms: they mark the snippets
        self.prefixes = False
        self.rechecked = False  # a part the GIN index cannot decide alone: word positions, or a weight label

    def build(self, q, positive: bool = True) -> _Built | None:
        if isinstance(q, wq.Every):
            return _Built(cond=true())
        if isinstance(q, (wq.Term, wq.FuzzyTerm, wq.Prefix, wq.Wildcard, wq.Phrase)) and q.fieldname == "text":
            return self._text(q, positive)
        if isinstance(q, (wq.Term, wq.Prefix, wq.Wildcard)) and q.fieldname in FIELD_COLUMNS:
            column = FIELD_COLUMNS[q.fieldname]
            value = str(q.text).lower() if q.fieldname in LOWERCASE_FIELDS else str(q.text)
            if isinstance(q, wq.Term):
                return _Built(cond=column == value)
            prefix = _prefix_of(q) if isinstance(q, wq.Wildcard) else value
            return _Built(cond=column.startswith(prefix, autoescape=True))
        if isinstance(q, wq.Not):
            inner = self.build(q.query, not positive)
            if inner is None:
                return None
            if inner.cond is None:
                return _Built(ts=f"!({inner.ts})")
            return _Built(cond=not_(inner.condition()))
        if isinstance(q, wq.AndNot):
            return self._and([self.build(q.a, positive), self.build(wq.Not(q.b), positive)])
        if isinstance(q, wq.AndMaybe):
            self.build(q.b, positive)  # ranks and highlights, does not restrict
            return self.build(q.a, positive)
        if isinstance(q, wq.And):
            return self._and([self.build(c, positive) for c in q.subqueries])
        if isinstance(q, wq.Or):
            parts = [b for b in (self.build(c, positive) for c in q.subqueries) if b is not None]
            if not parts:
                return None
            if all(p.cond is None for p in parts):
                return _Built(ts=" | ".join(f"({p.ts})" for p in parts))
            return _Built(cond=or_(*(p.condition() for p in parts)))
        return None  # a range or another shape the reader's language does not need: ignored, like a stop word

    def _and(self, parts):
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        ts = [p.ts for p in parts if p.cond is None]
        conds = [p.condition() for p in parts if p.cond is not None]
        return _Built(ts=" & ".join(f"({t})" for t in ts) or None, cond=and_(*conds) if conds else None)

    def _text(self, q, positive: bool) -> _Built | None:
        if isinstance(q, wq.Phrase):
            kind, text = "phrase", _words(q)
        elif isinstance(q, (wq.Prefix, wq.Wildcard)):
            kind, text = "prefix", _prefix_of(q)
            if not text:
                return None
        else:
            kind, text = "term", str(q.text)
        ts = self.leaves.get(kind, text)
        if not ts:
            return None  # a stop word
        if positive:
            self.rank.append(ts)
            marked = self.leaves.get("h" + kind, text)
            if marked:
                self.highlight.append(marked)
            self.prefixes |= kind == "prefix"
        self.rechecked |= kind == "prefix" or (kind == "phrase" and "&" in (self.leaves.get("pairs", text) or "&"))
        if kind == "phrase":
            pairs = self.leaves.get("pairs", text)
            if pairs and "&" not in pairs:
                # Two words: their pair is the phrase, as in the Whoosh index (stop words between them do not
                # count), and the GIN index answers it without reading any tsvector.
                return _Built(ts=pairs)
            if pairs:
                # Longer: the pairs narrow the rows in the index; positions are checked only on those.
                return _Built(ts=f"{pairs} & ({ts})")
        return _Built(ts=ts)


FIELD_COLUMNS = {
    "kind": D.kind,
    "document": D.document,
    "version": D.version,
    "group": D.group,
    "type": D.type,
    "disposition": D.disposition,
    "status": D.status,
    "visibility": D.visibility,
}


class Compiled:
    """A reader's query ready to run: the match condition, the rank and highlight tsqueries, a message."""

    def __init__(
        self,
        condition,
        rank: str | None,
        highlight: str | None,
        highlight_config: str,
        message: str | None,
        rechecked: bool = False,
        settled: bool = False,
    ):
        self.condition, self.rank, self.highlight = condition, rank, highlight
        self.highlight_config, self.message, self.rechecked = highlight_config, message, rechecked
        self.settled = settled  # the planner settings are in force for this transaction


def compile_query(qstring: str, user) -> Compiled | None:
    """The query as SQL, or None when there is nothing to look for (the message says why, if anything)."""
    parsed: Parsed = parse(qstring, user, raw=True)
    if parsed.query is None:
        return Compiled(None, None, None, STEMMED, parsed.message)
    leaves = _Leaves()
    _collect(parsed.query, leaves)
    leaves.resolve()
    translator = _Translator(leaves)
    built = translator.build(parsed.query)
    if built is None:
        return Compiled(
            None,
            None,
            None,
            STEMMED,
            parsed.message or _l("Your search has only very common words. Try more specific words."),
        )
    rank = " | ".join(f"({t})" for t in translator.rank) or None
    highlight = " | ".join(f"({t})" for t in translator.highlight) or None
    # Snippets are marked over unstemmed words when the query has a prefix (a prefix cannot meet a stem).
    config = WORDS if translator.prefixes else STEMMED
    if not translator.prefixes and rank:
        highlight = rank
    return Compiled(built.condition(), rank, highlight, config, parsed.message, translator.rechecked, leaves.settled)


# --- visibility and filters -------------------------------------------------------------------------------------------


def visibility_condition(user):
    """What the reader may find, as SQL: the same rule as the Whoosh index filter (query.visibility_filter)."""
    if permissions.is_staff(user):
        return None
    public = D.audience == "public"
    if getattr(user, "is_authenticated", False) and getattr(user, "id", None) is not None:
        return or_(public, and_(D.author_id == user.id, D.kind == "comment", D.status == "visible"))
    return public


def filter_conditions(user, filters: dict, *, without: str | None = None) -> list:
    parts = []
    vis = visibility_condition(user)
    if vis is not None:
        parts.append(vis)
    parts += [FIELD_COLUMNS[name] == value for name, value in chosen_filters(user, filters, without=without)]
    return parts


def _rank_expression(rank: str | None, tsv=None):
    if not rank:
        return literal(0.0)
    return func.ts_rank_cd(
        literal_column(f"'{WEIGHTS}'::float4[]"),
        D.tsv if tsv is None else tsv,
        cast(literal(rank), TSQUERY),
        RANK_NORMALISATION,
    )


def facet_counts(
    where, names, *, chosen_kind: str | None = None, window: int = 0, rechecked: bool = False
) -> tuple[dict[str, list[tuple[str, int]]], list[int]]:
    """Each facet's values among the matching rows, with counts, the most frequent first; and the ids of the newest
    `window` matching rows (of the chosen kind), which are the ones ranked.

    One statement. When the GIN index leaves a check to the rows (`rechecked`: a phrase's word positions, read from
    each candidate's tsvector), the matching rows are found once and kept for both uses; otherwise keeping them
    costs more than finding them twice (63,000 rows of a common word: 130 ms kept, 65 ms found). The facets come
    from one GROUP BY over
    every facet column at once (a few thousand combinations at most), each facet summed from it. With a chosen
    kind, `where` leaves the kind filter out: the kind tabs count every kind, the other facets the chosen kind.
    """
    columns = [FIELD_COLUMNS[n] for n in names]
    matching = (
        db.select(D.id, *columns)
        .where(where)
        .cte("matching")
        .prefix_with("MATERIALIZED" if rechecked else "NOT MATERIALIZED")
    )
    m = matching.c
    grouped = [m[c.name] for c in columns]
    facets_part = db.select(*grouped, func.count().label("n"), cast(null(), ARRAY(Integer)).label("ids")).group_by(
        *grouped
    )

    def newest(*conditions):
        rows = db.select(m.id).where(*conditions).order_by(m.id.desc()).limit(window).subquery()
        return db.select(func.array_agg(rows.c.id)).scalar_subquery()

    if chosen_kind is not None:
        window_ids = newest(m.kind == chosen_kind)
    elif "kind" in names:
        # A clause is older than every comment on it: the newest hits alone would leave the text of the code out
        # of a common word's first page. So the newest hits among the clauses are ranked too.
        window_ids = func.array_cat(newest(m.kind != "clause"), newest(m.kind == "clause"))
    else:
        window_ids = newest()
    window_part = db.select(
        *(cast(null(), c.type).label(c.name) for c in columns),
        literal(-1).label("n"),
        window_ids.label("ids"),
    )
    counts: dict[str, dict[str, int]] = {n: {} for n in names}
    kind_at = names.index("kind") if "kind" in names else None
    ids: list[int] = []
    for row in db.session.execute(union_all(facets_part, window_part)):
        if row.n < 0:
            ids = list(row.ids or [])
            continue
        chosen = chosen_kind is None or (kind_at is not None and row[kind_at] == chosen_kind)
        for i, name in enumerate(names):
            value = row[i]
            if (chosen or i == kind_at) and value not in (None, ""):
                counts[name][str(value)] = counts[name].get(str(value), 0) + row.n
    return {n: sorted(v.items(), key=lambda kv: (-kv[1], kv[0])) for n, v in counts.items()}, ids


# --- searching --------------------------------------------------------------------------------------------------------


def _hits(rows) -> list[IndexHit]:
    return [
        IndexHit(
            r.kind,
            r.object_id,
            r.clause_id,
            r.document,
            r.version,
            r.clause_key,
            r.group,
            r.type,
            r.disposition,
            r.created_at,
            float(r.score),
        )
        for r in rows
    ]


def headlines(texts: list[str], compiled: Compiled) -> list[Markup]:
    """ts_headline over each (escaped) text, the query's words marked; plain text when there is nothing to mark."""
    if not texts:
        return []
    if not compiled.highlight:
        return [_plain_snippet(t) for t in texts]
    rows = (
        db.session.execute(
            sql(
                "SELECT ts_headline(CAST(:config AS regconfig), t, CAST(:q AS tsquery), "
                "CASE WHEN length(t) <= :short THEN :whole ELSE :options END) "
                "FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS u(t, n) ORDER BY n"
            ),
            {
                "config": compiled.highlight_config,
                "q": compiled.highlight,
                "options": HEADLINE_OPTIONS,
                "short": SHORT_TEXT,
                "whole": HEADLINE_WHOLE,
                "texts": [escape(t or "", quote=True) for t in texts],
            },
        )
        .scalars()
        .all()
    )
    out = []
    for text, marked in zip(texts, rows, strict=False):
        if MARK_OPEN not in (marked or ""):
            out.append(_plain_snippet(text))
        else:  # the text was escaped before ts_headline: only the markers become markup
            out.append(Markup(marked.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")))
    return out


def _plain_snippet(text: str, length: int = 240) -> Markup:
    text = text or ""
    return Markup(escape(text[:length], quote=True) + ("…" if len(text) > length else ""))


def _result_text(result: Result) -> str:
    if result.comment is not None:
        c = result.comment
        return c.body + ("\n" + c.proposed_wording if c.proposed_wording else "")
    return f"{result.clause.heading}\n{result.clause.body}"


def _with_snippets(items: list[Result], compiled: Compiled) -> list[Result]:
    for item, marked in zip(items, headlines([_result_text(i) for i in items], compiled), strict=False):
        item.snippet = marked
    return items


def run_query(
    user, qstring: str, *, filters: dict | None = None, page: int = 1, per_page: int = 20, sort: str = "relevance"
) -> tuple[list[IndexHit], int, int, dict, Compiled]:
    """One page of hits the reader may see, the exact total and the facets, all in SQL (no rows loaded)."""
    filters = filters or {}
    compiled = compile_query(qstring, user)
    if compiled.condition is None:
        if not any((filters.get(n) or "").strip() for n in FILTER_FIELDS):
            return [], 0, 1, {}, compiled
        match = true()  # filters alone list everything in them
    else:
        match = compiled.condition
    where = and_(match, *filter_conditions(user, filters))
    if not compiled.settled:
        _prefer_the_index()
    # The kind tabs show both counts, whichever kind is chosen: the facets' query leaves the kind filter out.
    chosen_kind = dict(chosen_filters(user, filters)).get("kind")
    ranked = sort not in ("newest", "oldest") and bool(compiled.rank)
    facets, newest = facet_counts(
        and_(match, *filter_conditions(user, filters, without="kind")),
        allowed_facets(user),
        chosen_kind=chosen_kind,
        window=RANK_WINDOW if ranked else 0,
        rechecked=compiled.rechecked,
    )
    kinds = dict(facets.get("kind", []))
    total = kinds.get(chosen_kind, 0) if chosen_kind else sum(kinds.values())
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)  # a page past the end shows the last page
    hits = []
    if total:
        score = _rank_expression(compiled.rank).label("score")
        stmt = db.select(
            D.kind,
            D.object_id,
            D.clause_id,
            D.document,
            D.version,
            D.clause_key,
            D.group,
            D.type,
            D.disposition,
            D.created_at,
            score,
        )
        if ranked and page * per_page <= RANK_WINDOW:
            # Ranking reads each ranked hit's tsvector, so only the newest RANK_WINDOW clause hits and comment hits
            # are ranked (all of them when there are fewer), found by id, the conditions already checked above.
            stmt = stmt.where(D.id.in_(newest)).order_by(score.desc(), D.id.asc())
        else:
            order = {"newest": [D.created_at.desc(), D.id.desc()], "oldest": [D.created_at.asc(), D.id.asc()]}.get(
                sort, [score.desc(), D.id.asc()]
            )
            stmt = stmt.where(where).order_by(*order)
        hits = _hits(db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)))
    return hits, total, page, facets, compiled


def _prefer_the_index() -> None:
    """For this transaction, steer the planner to the GIN index: it prices `tsv @@ query` as cheap on every row,
    while each check reads (and decompresses) that row's tsvector: a sequential scan of 25,000 rows for a word in
    200 of them took 170 ms, the index 7 ms. Queries with no indexable condition still run, on the next best plan."""
    # With sequential scans priced out every plan looks expensive, and PostgreSQL would compile it to machine code
    # first (JIT): 100-300 ms of compiling for a query that runs in tens of milliseconds. One round trip for both.
    db.session.execute(sql("SELECT " + ", ".join(PLANNER_SETTINGS)))


PLANNER_SETTINGS = ("set_config('enable_seqscan', 'off', true)", "set_config('jit', 'off', true)")


def search(
    user, qstring: str, *, filters: dict | None = None, page: int = 1, per_page: int = 20, sort: str = "relevance"
) -> SearchPage:
    """Search clauses and comments as `user`: filtered in SQL, then checked again row by row."""
    hits, total, page, facets, compiled = run_query(
        user, qstring, filters=filters, page=page, per_page=per_page, sort=sort
    )
    items, dropped = _load(hits, user, frozenset())
    return SearchPage(
        query=(qstring or "").strip(),
        items=_with_snippets(items, compiled),
        total=max(0, total - dropped),
        page=page,
        per_page=per_page,
        facets=facets,
        message=compiled.message,
        dropped=dropped,
    )


def matching_comment_ids(user, qstring: str, *, document: str, version: int, limit: int = 100_000) -> list[int]:
    """Ids of the comments of one version that match a query, as far as the reader may see (no rows loaded)."""
    compiled = compile_query(qstring, user)
    if compiled.condition is None:
        return []
    where = and_(
        compiled.condition, *filter_conditions(user, {"kind": "comment", "document": document, "version": str(version)})
    )
    _prefer_the_index()
    return list(db.session.scalars(db.select(D.object_id).where(where).order_by(D.object_id).limit(limit)))


def similar_comments(user, comment, *, limit: int = 10, numterms: int = 12) -> list[Result]:
    """The comments most like this one: its most characteristic stems (frequent in it, rare overall), OR-ed."""
    text = comment.body + ("\n" + comment.proposed_wording if comment.proposed_wording else "")
    rows = db.session.execute(
        sql(f"""
        WITH terms AS (
            SELECT lexeme, coalesce(array_length(positions, 1), 1) AS tf
            FROM unnest(to_tsvector('{STEMMED}', :text))
            ORDER BY tf DESC, length(lexeme) DESC LIMIT 40)
        SELECT lexeme, tf, (SELECT count(*) FROM (
                   SELECT 1 FROM search_document s
                   WHERE s.kind = 'comment' AND s.tsv @@ CAST(quote_literal(lexeme) AS tsquery)
                   LIMIT 5000) AS x) AS df
        FROM terms"""),
        {"text": text},
    ).all()
    if not rows:
        return []
    _prefer_the_index()
    total = db.session.scalar(sql("SELECT count(*) FROM search_document WHERE kind = 'comment'")) or 1
    weighted = sorted(((r.tf * math.log(1 + total / (1 + r.df)), r.lexeme) for r in rows), reverse=True)
    key_terms = [lexeme for _weight, lexeme in weighted[:numterms]]
    # Plain lexemes (no weight labels): the GIN index answers them without reading any row's tsvector.
    tsq = db.session.scalar(
        sql(
            "SELECT CAST(string_agg(CAST(quote_literal(w) AS tsquery)::text, ' | ') "
            "AS text) FROM unnest(CAST(:words AS text[])) AS w"
        ),
        {"words": key_terms},
    )
    compiled = Compiled(None, tsq, tsq, STEMMED, None)
    where = and_(
        D.tsv.op("@@")(cast(literal(tsq), TSQUERY)),
        D.object_id != comment.id,
        *filter_conditions(user, {"kind": "comment"}),
    )
    score = _rank_expression(tsq).label("score")
    stmt = (
        db.select(
            D.kind,
            D.object_id,
            D.clause_id,
            D.document,
            D.version,
            D.clause_key,
            D.group,
            D.type,
            D.disposition,
            D.created_at,
            score,
        )
        .where(where)
        .order_by(score.desc(), D.id)
        .limit(limit)
    )
    items, _dropped = _load(_hits(db.session.execute(stmt)), user, frozenset())
    return _with_snippets(items, compiled)
