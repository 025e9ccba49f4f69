"""The index on disk: generations behind a pointer file, the outbox drain, the atomic rebuild and its status.

Layout of SEARCH_INDEX_DIR:
    CURRENT          the name of the live generation, replaced atomically (os.replace) by a rebuild
    gen-<stamp>/     a Whoosh index; its WRITELOCK is the one-writer-at-a-time lock
    REINDEX.lock     held while a rebuild runs, so two workers do not rebuild at once
    REBUILD          present when a search found the live generation unreadable: the next drain that may rebuild does

A request never rebuilds the index (that takes minutes at scale): it answers 503 (IndexUnavailable) and the
rebuild runs in `flask search reindex`, `flask search drain` or the background drainer (drain(rebuild=True)).
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index
from whoosh.util.filelock import FileLock, try_for

from ..extensions import db
from ..logs import get_logger
from ..models import Clause, Comment, Disposition, Document, SearchOutbox, Version
from .schema import build_schema

log = get_logger(__name__)

POINTER = "CURRENT"
REINDEX_LOCK = "REINDEX.lock"
DRAIN_LOCK = "DRAIN.lock"
REBUILD_REQUEST = "REBUILD"
BATCH = 500
_cache_lock = threading.Lock()
_open_indexes: dict[str, whoosh_index.Index] = {}
# One open searcher per thread: opening a reader costs tens of milliseconds on a large index, refreshing an
# unchanged one costs a directory listing, and a changed one reopens only its new segments.
_local = threading.local()


class OutdatedIndex(Exception):
    """The index on disk was built by an earlier release with other fields: it is rebuilt, not read."""


class IndexUnavailable(Exception):
    """The index is missing or unreadable (until a rebuild), or could not be rebuilt right now."""


# --- documents -----------------------------------------------------------------------------------------------


def clause_document(row) -> dict:
    """The index document for a clause, from a mapping with the clause's, version's and document's columns."""
    text = " ".join(part for part in (row["number"], row["heading"], row["body"]) if part)
    return {
        "uid": f"clause:{row['id']}",
        "kind": "clause",
        "object_id": row["id"],
        "clause_id": row["id"],
        "document": row["slug"],
        "version": str(row["version_number"]),
        "clause_key": row["key"],
        "created_at": row["published_at"],
        "audience": "public",
        "text": text,
        "words": text,
        "pairs": text,
    }


def audience(status: str, visibility: str) -> str:
    """'public' for what anyone may find (visible, not confidential); 'restricted' for the rest.

    One term for the common case keeps the reader's filter a single short intersection instead of a negation
    over every comment.
    """
    return "public" if status == "visible" and visibility != "confidential" else "restricted"


def comment_document(row) -> dict:
    """The index document for a comment, with what the visibility filter and the facets need."""
    text = row["body"] + ("\n" + row["proposed_wording"] if row.get("proposed_wording") else "")
    doc = {
        "uid": f"comment:{row['id']}",
        "kind": "comment",
        "object_id": row["id"],
        "clause_id": row["clause_id"],
        "document": row["slug"],
        "version": str(row["version_number"]),
        "clause_key": row["key"] or "",
        "group": row["author_group"],
        "type": row["type"],
        "visibility": row["visibility"],
        "status": row["status"],
        "author_id": str(row["author_id"]),
        "created_at": row["created_at"],
        "audience": audience(row["status"], row["visibility"]),
        "text": text,
        "words": text,
        "pairs": text,
    }
    if row.get("disposition"):
        doc["disposition"] = row["disposition"]
    return doc


def _naive(value):
    # Whoosh's DATETIME wants naive datetimes; ours are UTC.
    return value.replace(tzinfo=None) if value is not None and value.tzinfo else value


def _clause_rows(session, ids=None):
    stmt = (
        db.select(
            Clause.id,
            Clause.number,
            Clause.heading,
            Clause.body,
            Clause.key,
            Version.number.label("version_number"),
            Version.published_at,
            Document.slug,
        )
        .join(Version, Clause.version_id == Version.id)
        .join(Document, Version.document_id == Document.id)
    )
    if ids is not None:
        stmt = stmt.where(Clause.id.in_(ids))
    for row in session.execute(stmt.order_by(Clause.id).execution_options(yield_per=1000)):
        row = dict(row._mapping)
        row["published_at"] = _naive(row["published_at"])
        yield row["id"], clause_document(row)


def _comment_rows(session, ids=None):
    stmt = (
        db.select(
            Comment.id,
            Comment.body,
            Comment.proposed_wording,
            Comment.type,
            Comment.visibility,
            Comment.status,
            Comment.author_id,
            Comment.author_group,
            Comment.created_at,
            Comment.clause_id,
            Clause.key,
            Version.number.label("version_number"),
            Document.slug,
            Disposition.status.label("disposition"),
        )
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .join(Version, Comment.version_id == Version.id)
        .join(Document, Version.document_id == Document.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
    )
    if ids is not None:
        stmt = stmt.where(Comment.id.in_(ids))
    for row in session.execute(stmt.order_by(Comment.id).execution_options(yield_per=1000)):
        row = dict(row._mapping)
        row["created_at"] = _naive(row["created_at"])
        yield row["id"], comment_document(row)


LOADERS = {"clause": _clause_rows, "comment": _comment_rows}


# --- generations ---------------------------------------------------------------------------------------------


def index_root() -> Path:
    """SEARCH_INDEX_DIR from the app's settings."""
    return Path(current_app.config["SEARCH_INDEX_DIR"])


def current_generation(root: Path) -> Path | None:
    """The live generation's directory, or None when there is no pointer yet."""
    try:
        name = (root / POINTER).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return root / name if name else None


def _open(path: Path) -> whoosh_index.Index:
    key = str(path)
    with _cache_lock:
        ix = _open_indexes.get(key)
        if ix is None:
            ix = whoosh_index.open_dir(key)
            ix.doc_count()  # reads the table of contents: a corrupt one fails here, not mid-search
            if set(ix.schema.names()) != set(build_schema().names()):
                raise OutdatedIndex(f"{key} was built with another schema")
            _open_indexes[key] = ix
        return ix


def forget(path: Path | None) -> None:
    """Drop the open index of this generation (None: this thread's searcher of any) so the next use opens it anew."""
    with _cache_lock:
        if path is not None:
            _open_indexes.pop(str(path), None)
    cached = getattr(_local, "searcher", None)
    if cached is not None and (path is None or cached[0] == path):
        _local.searcher = None
        _close_quietly(cached[1])


def _close_quietly(searcher) -> None:
    try:
        searcher.close()
    except Exception:  # its files may be gone already; nothing is lost by not closing them
        log.debug("closing a stale searcher failed", exc_info=True)


def live_searcher():
    """A searcher on the live index, kept open for this thread and brought up to date with each call.

    Callers must not close it; `forget` does when the generation is replaced or found unreadable.
    """
    ix, gen = open_index()
    cached = getattr(_local, "searcher", None)
    searcher = None
    if cached is not None and cached[0] == gen:
        try:
            searcher = cached[1].refresh()
        except Exception:  # a segment merged away under us: open afresh below
            log.debug("refreshing the searcher failed; opening a new one", exc_info=True)
            cached = None
    if searcher is None:
        if cached is not None:
            _close_quietly(cached[1])
        searcher = ix.searcher()
    _local.searcher = (gen, searcher)
    return searcher, gen


def open_index(*, rebuild: bool = False) -> tuple[whoosh_index.Index, Path]:
    """The live index and its directory; a missing or unreadable one raises IndexUnavailable, or with `rebuild`
    (never in a request) is rebuilt from the database."""
    root = index_root()
    for _attempt in range(3):
        gen = current_generation(root)
        if gen is not None and gen.is_dir():
            try:
                return _open(gen), gen
            except OutdatedIndex:
                log.warning("search index at %s has an earlier schema; it needs a rebuild", gen)
                forget(gen)
            except Exception:  # any failure to read it means: rebuild it
                if current_generation(root) != gen:
                    continue  # a rebuild swapped generations under us: read the pointer again
                log.warning("search index at %s is unreadable; it needs a rebuild", gen, exc_info=True)
                forget(gen)
        if not rebuild:
            raise IndexUnavailable(str(root))
        reindex(wait=30.0)
    raise IndexUnavailable(str(root))


def request_rebuild() -> None:
    """Ask the next drain that may rebuild (the drainer, `flask search drain`) to rebuild the index.

    For a generation that opens but fails while read; a missing or unopenable one is noticed without asking.
    """
    root = index_root()
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        (root / REBUILD_REQUEST).touch()
    except OSError:
        log.warning("could not ask for a search index rebuild in %s", root, exc_info=True)


def _rebuild_if_needed(wait: float) -> None:
    """Rebuild when the index is missing, unreadable or a rebuild was asked for (IndexUnavailable while another
    process is rebuilding it)."""
    if not (index_root() / REBUILD_REQUEST).exists():
        try:
            open_index()
            return
        except IndexUnavailable:
            pass
    log.warning("search index missing, unreadable or asked to be rebuilt; rebuilding it from the database")
    reindex(wait=wait)


def create_generation(root: Path) -> tuple[whoosh_index.Index, Path]:
    """A new, empty index directory beside the live one."""
    if root.exists() and not root.is_dir():
        root.rename(root.with_name(root.name + f".corrupt-{int(time.time())}"))
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    gen = root / f"gen-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
    gen.mkdir(mode=0o700)
    return whoosh_index.create_in(str(gen), build_schema()), gen


def swap_generation(root: Path, gen: Path) -> None:
    """Point CURRENT at `gen` in one atomic rename, so a reader sees the old index or the new one, never neither."""
    tmp = root / f"{POINTER}.{secrets.token_hex(4)}"
    tmp.write_text(gen.name)
    os.replace(tmp, root / POINTER)


def _remove_old_generations(root: Path, keep: Path) -> None:
    for path in root.glob("gen-*"):
        if path.is_dir() and path != keep:
            forget(path)
            shutil.rmtree(path, ignore_errors=True)  # open readers keep their files until they close (POSIX)


# --- writing -------------------------------------------------------------------------------------------------


def _writer(timeout: float):
    """A writer on the live generation, re-checked after the lock is ours (a rebuild may have swapped it)."""
    root = index_root()
    deadline = time.monotonic() + timeout
    while True:
        try:
            ix, gen = open_index(rebuild=False)
        except IndexUnavailable:
            return None
        remaining = max(0.0, deadline - time.monotonic())
        try:
            writer = ix.writer(timeout=remaining, delay=0.05)
        except whoosh_index.LockError:
            return None
        except FileNotFoundError:
            forget(gen)
            continue
        if current_generation(root) == gen:
            return writer
        writer.cancel()
        forget(gen)


def drain(*, timeout: float = 10.0, batch: int = BATCH, max_batches: int | None = None, rebuild: bool = True) -> int:
    """Apply pending outbox rows to the index, oldest first; returns how many were applied.

    rebuild: first rebuild a missing or unreadable index (`flask search drain`, the background drainer). A drain in
    a request passes False: a missing index then leaves the rows for a drain that may rebuild.

    Takes the index's write lock (waiting up to `timeout`; on a busy lock the rows stay for the next drain),
    reads the rows only once the lock is held, commits the index, then deletes exactly those rows. A crash
    between the index commit and the delete only means the next drain re-applies them: update_document is keyed
    on the unique uid, so applying twice is the same as once.
    """
    applied, batches = 0, 0
    root = index_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The drain lock spans the index commit AND the outbox delete. Whoosh releases its own lock at commit; without
    # this one a second drain could re-apply rows not yet deleted, and, since SQLite reuses the highest row id
    # once it is deleted, the first drain's delete could then remove a newer row that nobody applied.
    drain_lock = FileLock(str(root / DRAIN_LOCK))
    deadline = time.monotonic() + timeout
    if rebuild:
        try:
            _rebuild_if_needed(wait=timeout)  # before the drain lock: a rebuild takes it too
        except IndexUnavailable:
            log.info("search index being rebuilt elsewhere; outbox rows left for the next drain")
            return applied
    while max_batches is None or batches < max_batches:
        batches += 1
        with Session(db.engine) as session:
            if session.scalar(db.select(SearchOutbox.id).limit(1)) is None:
                return applied
            # End that read: the rows and the objects must be read afresh once the locks are ours.
            session.rollback()
            if not try_for(drain_lock.acquire, timeout=max(0.0, deadline - time.monotonic()), delay=0.05):
                log.info("search index busy; outbox rows left for the next drain")
                return applied
            try:
                done = _drain_batch(session, batch, max(0.0, deadline - time.monotonic()))
            finally:
                drain_lock.release()
            if done is None:
                log.info("search index busy; outbox rows left for the next drain")
                return applied
            applied += done
            if done < batch:
                return applied
    return applied


def _drain_batch(session, batch: int, timeout: float) -> int | None:
    """One batch under the drain lock: index writer, rows, commit, delete. None when the index lock is busy."""
    writer = _writer(timeout)
    if writer is None:
        return None
    try:
        rows = session.execute(
            db.select(SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id).order_by(SearchOutbox.id).limit(batch)
        ).all()
        if not rows:
            writer.cancel()
            return 0
        apply_changes(writer, session, {(kind, object_id) for _id, kind, object_id in rows})
        writer.commit()
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    session.execute(db.delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
    session.commit()
    return len(rows)


def apply_changes(writer, session, changes: set[tuple[str, int]]) -> None:
    """Bring the index documents for these (kind, id) pairs in line with the database: update, or delete if gone.

    Deletes through one searcher, then adds: update_document opens a fresh reader over every segment for each
    document (about 50 ms on the load test's index, 80% of a drain's time); the result is the same, since a
    batch names each uid once and neither way sees documents added in the same writer."""
    with writer.searcher() as searcher:
        for kind, load in LOADERS.items():
            ids = sorted({object_id for k, object_id in changes if k == kind})
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                docs = list(load(session, chunk))
                for object_id in chunk:
                    writer.delete_by_term("uid", f"{kind}:{object_id}", searcher=searcher)
                for _object_id, doc in docs:
                    writer.add_document(**doc)
    unknown = {k for k, _ in changes} - set(LOADERS)
    if unknown:
        log.warning("search outbox rows of unknown kinds ignored: %s", sorted(unknown))


PROGRESS_EVERY = 1000  # documents between two progress reports


def write_all(writer, session, progress=None, total: int = 0) -> int:
    """Add every clause and comment to a fresh index through one batched writer; returns the count."""
    count = 0
    for load in LOADERS.values():
        for _id, doc in load(session):
            writer.add_document(**doc)
            count += 1
            if progress and count % PROGRESS_EVERY == 0:
                progress(count, max(total, count))
    return count


def _count_documents(session) -> int:
    return (session.scalar(db.select(db.func.count(Comment.id))) or 0) + (
        session.scalar(db.select(db.func.count(Clause.id))) or 0
    )


PARALLEL_FROM = 2000  # documents; below this, starting worker processes costs more than it saves


def _bulk_writer(ix, documents: int, limitmb: int):
    """The rebuild's writer: on a large database, one process per CPU (at most two), each writing its own segment.

    The generation is new and unseen by readers and drains (both wait on the locks reindex holds), so the
    multiprocess writer is safe here; segments are kept as they are (multisegment) rather than merged.
    """
    procs = min(2, os.cpu_count() or 1)
    fast = {}
    if current_app.config.get("CONSULT_SEARCH_FASTPATH", True):
        from . import fastpath

        fast = fastpath.rebuild_writer_options()
    if procs > 1 and documents >= PARALLEL_FROM:
        return ix.writer(procs=procs, multisegment=True, limitmb=max(64, limitmb // procs), **fast)
    return ix.writer(limitmb=limitmb, procs=1, **fast)


def reindex(*, wait: float = 300.0, limitmb: int = 256, progress=None) -> int:
    """Rebuild the whole index from the database into a new generation, swap it in, drop the outbox it covered.

    `progress(done, total[, phase])`, if given, hears every PROGRESS_EVERY documents and before the final write.
    """
    root = index_root()
    if root.exists() and not root.is_dir():
        root.rename(root.with_name(root.name + f".corrupt-{int(time.time())}"))
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    rebuild_lock = FileLock(str(root / REINDEX_LOCK))
    if not try_for(rebuild_lock.acquire, timeout=wait, delay=0.2):
        raise IndexUnavailable("another rebuild is running")
    # No drain runs during a rebuild: the outbox rows it covers are deleted by id at the end.
    drain_lock = FileLock(str(root / DRAIN_LOCK))
    if not try_for(drain_lock.acquire, timeout=wait, delay=0.1):
        rebuild_lock.release()
        raise IndexUnavailable("a drain is holding the index")
    old_lock = None
    try:
        # Asked for or not, this is the rebuild: a search that finds the new generation unreadable asks again.
        (root / REBUILD_REQUEST).unlink(missing_ok=True)
        # Hold the old generation's write lock so no drain writes into an index about to be replaced; drains
        # that find it busy leave their rows, which the new generation receives after the swap.
        old = current_generation(root)
        if old is not None and old.is_dir():
            try:
                candidate = _open(old).lock("WRITELOCK")
                if try_for(candidate.acquire, timeout=wait, delay=0.1):
                    old_lock = candidate
            except Exception:  # noqa: BLE001  (an unreadable old index is simply replaced)
                forget(old)
        with Session(db.engine) as session:
            covered = list(session.scalars(db.select(SearchOutbox.id)))
            ix, gen = create_generation(root)
            total = _count_documents(session)
            writer = _bulk_writer(ix, total, limitmb)
            try:
                if progress:
                    progress(0, total)
                count = write_all(writer, session, progress, total)
                if progress:  # the writers now sort and write what they were given: most of a large rebuild
                    progress(count, count, "writing")
                writer.commit(merge=False)
            except BaseException:
                writer.cancel()
                shutil.rmtree(gen, ignore_errors=True)
                raise
            swap_generation(root, gen)
            for start in range(0, len(covered), 900):
                session.execute(db.delete(SearchOutbox).where(SearchOutbox.id.in_(covered[start : start + 900])))
            session.commit()
        if old_lock is not None:
            old_lock.release()
            old_lock = None
        _remove_old_generations(root, gen)
        return count
    finally:
        if old_lock is not None:
            old_lock.release()
        drain_lock.release()
        rebuild_lock.release()


@dataclass
class Status:
    path: str
    documents: int
    pending: int
    size_bytes: int


def status() -> Status:
    """Documents indexed, pending outbox rows and the live generation's size on disk (no documents, no path and no
    size while there is no readable index)."""
    pending = db.session.scalar(db.select(db.func.count(SearchOutbox.id))) or 0
    try:
        ix, gen = open_index()
    except IndexUnavailable:
        return Status("", 0, pending, 0)
    size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
    return Status(str(gen), ix.doc_count(), pending, size)
