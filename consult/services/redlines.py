"""Redlines between two versions of a document, clause by clause along their lineage."""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import redline
from ..drafts.lineage import match_clauses
from ..extensions import db
from ..models import Clause, Comment, Version
from .documents import ClauseView, version_clauses


@dataclass
class RedlineEntry:
    status: str
    old: Clause | None
    new: Clause | None
    ops: list[tuple[str, str]]


@dataclass
class Redline:
    old_version: Version
    new_version: Version
    entries: list[RedlineEntry]
    summary: dict = field(default_factory=dict)
    # Comments the public may see on each clause of the old version, by clause id (for "comments on this" links).
    old_comment_counts: dict = field(default_factory=dict)


def clause_text(clause: Clause | None) -> str:
    """What a redline compares: the heading, a blank line, then the body."""
    return f"{clause.heading}\n\n{clause.body}" if clause else ""


def _views(clauses: list[Clause]) -> list[ClauseView]:
    keys = {c.id: c.key for c in clauses}
    return [ClauseView(c.key, c.number, c.heading, c.body, keys.get(c.parent_id), c.position, c.explicit_key)
            for c in clauses]


def build_redline(old_version: Version, new_version: Version) -> Redline:
    """Pair the clauses of two versions by lineage, then diff each pair word by word."""
    old_clauses, new_clauses = version_clauses(old_version), version_clauses(new_version)
    old_by_lineage = {c.lineage_id: c for c in old_clauses}
    # The stored lineage is the truth (drafters may have corrected it); the matcher only places and labels pairs.
    manual = {c.key: old_by_lineage[c.lineage_id].key if c.lineage_id in old_by_lineage else None
              for c in new_clauses}
    old_by_key = {c.key: c for c in old_clauses}
    new_by_key = {c.key: c for c in new_clauses}
    entries = []
    summary = dict.fromkeys(("added", "removed", "modified", "renumbered", "moved", "unchanged"), 0)
    inserted = deleted = 0
    same = old_version.id == new_version.id
    for pair in match_clauses(_views(old_clauses), _views(new_clauses), manual=manual):
        old, new = old_by_key.get(pair.old_key), new_by_key.get(pair.new_key)
        status = "unchanged" if same else pair.status
        ops = redline.diff_words(clause_text(old), clause_text(new))
        words_in, words_out = redline.word_counts(ops)
        inserted, deleted = inserted + words_in, deleted + words_out
        summary[status] += 1
        entries.append(RedlineEntry(status, old, new, ops))
        for merged_key in pair.merged_from:  # manual matching merges nothing, but keep every old clause visible
            merged = old_by_key[merged_key]
            entries.append(RedlineEntry("removed", merged, None, [("delete", clause_text(merged))]))
    summary.update(words_inserted=inserted, words_deleted=deleted)
    return Redline(old_version, new_version, entries, summary, public_comment_counts(old_version))


def public_comment_counts(version: Version) -> dict[int, int]:
    """Visible, non-confidential comments per clause id of a version (one query)."""
    rows = db.session.execute(
        db.select(Comment.clause_id, db.func.count(Comment.id))
        .where(Comment.version_id == version.id, Comment.status == "visible", Comment.visibility != "confidential")
        .group_by(Comment.clause_id))
    return dict(rows.all())
