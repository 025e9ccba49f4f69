"""The search outbox, written by one session listener: no service writes an outbox row by hand.

Contract: every flush that inserts, deletes or changes a searchable row adds one outbox row `(kind, id)` per
index document it touches, in the same transaction (so a rollback drops the row with the change it describes,
and a commit keeps both: nothing is lost if the process dies before the drain). The drain (index.py for Whoosh,
postgres.py for PostgreSQL) then rebuilds each named document from the database, or deletes it if the row is gone.

Which rows are searchable, and which index document each one feeds:

- a Clause: its own document ("clause", id);
- a Comment: its own document ("comment", id), except when only `UNINDEXED` columns changed;
- a Disposition: its comment's document (the comment carries the disposition facet).

A version's number and publication time and a document's slug are in the index documents too, but they never
change once published, so Version and Document are not watched. Bulk statements (`db.update(Comment)...`) bypass
the ORM and therefore this listener; the services change searchable rows through the ORM only.

The listener reads only what the flush already holds in memory (no query per object) and writes all its rows in
one INSERT per flush.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from ..models import Clause, Comment, Disposition, SearchOutbox

# model: (outbox kind, the attribute holding the index document's id, columns the index never reads)
WATCHED = {
    Clause: ("clause", "id", frozenset()),
    # Endorsing changes the count on every endorsement; no index field reads it.
    Comment: ("comment", "id", frozenset({"endorsement_count"})),
    Disposition: ("comment", "comment_id", frozenset()),
}


def _changed(obj, unindexed: frozenset[str]) -> bool:
    """Whether a flushed object had a net change in a column other than the unindexed ones (no load, no query)."""
    state = inspect(obj)
    return any(
        state.attrs[column.key].history.has_changes()
        for column in state.mapper.column_attrs
        if column.key not in unindexed
    )


def _value(obj, name: str):
    """An attribute's value without a query: an object expired by an earlier commit still knows its identity."""
    state = inspect(obj)
    if name in state.dict:
        return state.dict[name]
    if state.identity is not None and [c.key for c in state.mapper.primary_key] == [name]:
        return state.identity[0]
    return getattr(obj, name)  # not loaded and not the key: read it (the services never get here)


def changes_in_flush(session: Session) -> set[tuple[str, int]]:
    """The (kind, id) index documents that the objects of the current flush touch."""
    changes: set[tuple[str, int]] = set()
    new_or_deleted = set(chain(session.new, session.deleted))
    for obj in chain(new_or_deleted, session.dirty):
        watched = WATCHED.get(type(obj))
        if watched is None:
            continue
        kind, id_attribute, unindexed = watched
        if obj not in new_or_deleted and not _changed(obj, unindexed):
            continue
        object_id = _value(obj, id_attribute)
        if object_id is not None:
            changes.add((kind, object_id))
    return changes


def _write_outbox_rows(session: Session, _flush_context) -> None:
    changes = changes_in_flush(session)
    if changes:
        # Through the flush's own connection: the rows join the transaction of the change they describe.
        session.connection().execute(
            insert(SearchOutbox), [{"kind": kind, "object_id": object_id} for kind, object_id in sorted(changes)]
        )


def install() -> None:
    """Listen to every session's flushes (once per process, whoever calls first)."""
    if not event.contains(Session, "after_flush", _write_outbox_rows):
        event.listen(Session, "after_flush", _write_outbox_rows)
