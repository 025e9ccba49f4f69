"""Redlines between two versions of a document, link by link along their lineage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from .. import redline
from ..drafts.lineage import Link, relate
from ..extensions import db
from ..models import Clause, ClauseLink, Comment, Version
from .documents import clause_views, version_clauses

# The relations a redline counts, in the order its summary shows them.
SUMMARY_KEYS = ("modified", "added", "removed", "moved", "renumbered", "split", "merged", "unchanged")


@dataclass
class RedlineEntry:
    status: str
    old: Clause | None
    new: Clause | None
    ops: list[tuple[str, str]]  # source-text operations (when asked for)
    confidence: float = 1.0
    similarity: float = 1.0
    primary: bool = True
    html: str = ""  # the rendered-text redline (when asked for)
    anchor: str = ""  # the entry's id on the page
    parts: list[Clause] = field(default_factory=list)  # the other clauses of a split or a merge
    moved_from: Clause | None = None  # a moved clause's old parent
    group: Clause | None = None  # the commitment (or chapter) it sits in, for the contents
    previous_change: str | None = None  # anchors of the neighbouring changed entries
    next_change: str | None = None

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


@dataclass
class ContentsGroup:
    """One commitment (or chapter) in the contents of changes: its changed entries and their counts."""

    clause: Clause | None
    entries: list[RedlineEntry] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


@dataclass
class Redline:
    old_version: Version
    new_version: Version
    entries: list[RedlineEntry]
    summary: dict = field(default_factory=dict)
    # Comments the public may see on each clause of the old version, by clause id (for "comments on this" links).
    old_comment_counts: dict = field(default_factory=dict)
    contents: list[ContentsGroup] = field(default_factory=list)


def clause_text(clause: Clause | None) -> str:
    """What a redline compares: the heading, a blank line, then the body."""
    return f"{clause.heading}\n\n{clause.body}" if clause else ""


def stored_links(
    old_version: Version, new_version: Version, old_clauses: list[Clause], new_clauses: list[Clause]
) -> tuple[list[Link], set[str]]:
    """The links from the old version's clauses to the new one's, as stored (drafters may have corrected them),
    and the keys of new clauses a drafter unlinked. Between consecutive versions every stored link counts (splits
    and merges included); across several versions, or for versions published before links were stored, the
    lineage alone does."""
    old_by_id = {c.id: c for c in old_clauses}
    new_by_id = {c.id: c for c in new_clauses}
    links: list[Link] = []
    if new_version.number == old_version.number + 1 and new_by_id:
        rows = db.session.scalars(db.select(ClauseLink).where(ClauseLink.new_clause_id.in_(list(new_by_id)))).all()
        links = [
            Link(old_by_id[r.old_clause_id].key, new_by_id[r.new_clause_id].key, r.method, r.confidence, r.primary)
            for r in rows
            if r.old_clause_id in old_by_id
        ]
    if not links:
        old_by_lineage = {c.lineage_id: c for c in old_clauses}
        links = [
            Link(old_by_lineage[c.lineage_id].key, c.key, c.lineage_method or "manual", 1.0)
            for c in new_clauses
            if c.lineage_id in old_by_lineage
        ]
    linked = {lk.new_key for lk in links}
    unlinked = {c.key for c in new_clauses if c.lineage_method == "manual" and c.key not in linked}
    return links, unlinked


def clause_pairs(old_version: Version, new_version: Version) -> list[tuple[Clause | None, Clause | None, str]]:
    """Every link between two versions as (old clause or None, new clause or None, relation), in reading order.

    The order is the new version's, with each removed clause where it stood; a split clause appears once per
    part and a merged clause once per source. Relations are drafts/lineage.RELATIONS."""
    return [(e.old, e.new, e.status) for e in _entries(old_version, new_version)[0]]


def _entries(old_version: Version, new_version: Version) -> tuple[list[RedlineEntry], list]:
    old_clauses, new_clauses = version_clauses(old_version), version_clauses(new_version)
    same = old_version.id == new_version.id
    if same:
        links, unlinked = [Link(c.key, c.key, "key") for c in new_clauses], set()
    else:
        links, unlinked = stored_links(old_version, new_version, old_clauses, new_clauses)
    pairs = relate(clause_views(old_clauses), clause_views(new_clauses), links, unlinked)
    old_by_key = {c.key: c for c in old_clauses}
    new_by_key = {c.key: c for c in new_clauses}
    olds_of: dict[str, list[Clause]] = {}
    news_of: dict[str, list[Clause]] = {}
    for p in pairs:
        if p.old_key and p.new_key:
            olds_of.setdefault(p.new_key, []).append(old_by_key[p.old_key])
            news_of.setdefault(p.old_key, []).append(new_by_key[p.new_key])
    entries = []
    for i, p in enumerate(pairs):
        old, new = old_by_key.get(p.old_key), new_by_key.get(p.new_key)
        status = "unchanged" if same else p.status
        entry = RedlineEntry(
            status, old, new, [], p.confidence, 1.0 if same else p.similarity, p.primary, anchor=f"change-{i + 1}"
        )
        if status == "split":
            entry.parts = [c for c in news_of[old.key] if c is not new]
        elif status == "merged":
            entry.parts = [c for c in olds_of[new.key] if c is not old]
        if status == "moved" and old.parent_id:
            entry.moved_from = next((c for c in old_clauses if c.id == old.parent_id), None)
        entries.append(entry)
    return entries, new_clauses


def _group_of(clause: Clause | None, by_id: dict[int, Clause]) -> Clause | None:
    """The commitment a clause sits in (its ancestor of level 3 or above, nearest first), or itself."""
    node = clause
    while node is not None and node.level > 3 and node.parent_id in by_id:
        node = by_id[node.parent_id]
    return node


# Below this clause similarity two linked texts share too little for a word diff to help a reader (a split part
# against the whole clause it came from, say): their operations are the old text deleted and the new inserted,
# which still rebuild both exactly, and cost nothing where a word diff of unrelated texts costs up to half a second.
WORD_DIFF_SIMILARITY = 0.25


def source_ops(entry: RedlineEntry) -> list[tuple[str, str]]:
    """The word operations turning the old clause's source text into the new one's."""
    old, new = clause_text(entry.old), clause_text(entry.new)
    if entry.old and entry.new and entry.similarity < WORD_DIFF_SIMILARITY:
        return [op for op in ((redline.DELETE, old), (redline.INSERT, new)) if op[1]]
    return list(_diff_words(old, new))


@lru_cache(maxsize=2048)
def _diff_words(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """diff_words, cached: published texts never change, and each redline compares the same pairs again."""
    return tuple(redline.diff_words(old, new))


def build_redline(
    old_version: Version,
    new_version: Version,
    *,
    ops: bool = True,
    html: bool = False,
    format_note: str = "formatting changed",
    compact: bool = False,
    skip_note: str = "…",
    rest_note: str = "…",
) -> Redline:
    """Pair the clauses of two versions along their stored links, build the contents of changes and the links
    from change to change, and diff each pair: the source text's word operations when `ops`, the rendered-text
    redline (which the word counts then follow) when `html`. A further link of a split or a merge shows only the
    text that went or came along it (the whole comparison is on the clause's lineage link). `compact` (changes
    only) leaves out unchanged blocks and shows the start of a removed clause."""
    entries, new_clauses = _entries(old_version, new_version)
    old_ids = {e.old.id: e.old for e in entries if e.old}
    new_ids = {c.id: c for c in new_clauses}
    summary = dict.fromkeys(SUMMARY_KEYS, 0)
    inserted = deleted = 0
    groups: dict[tuple[str, int], ContentsGroup] = {}
    previous = None
    for e in entries:
        if ops:
            e.ops = source_ops(e)
        if html:
            old, new = e.old, e.new
            if not e.primary and e.status == "split":
                old = None  # this part's text, as inserted; the old clause is compared with its continuation
            elif not e.primary and e.status == "merged":
                new = None  # this source's text, as deleted; the new clause is compared with its lineage
            options = {"compact": compact, "skip_note": skip_note, "rest_note": rest_note}
            if compact and new is None:
                options["max_blocks"] = 1
            e.html, words_in, words_out = redline.clause_redline(old, new, format_note=format_note, **options)
        else:
            words_in, words_out = redline.word_counts(e.ops)
        inserted, deleted = inserted + words_in, deleted + words_out
        summary[e.status] += 1
        e.group = _group_of(e.new, new_ids) if e.new else _group_of(e.old, old_ids)
        if not e.changed:
            continue
        key = ("new" if e.new else "old", e.group.id if e.group else 0)
        group = groups.setdefault(key, ContentsGroup(e.group))
        group.entries.append(e)
        group.counts[e.status] += 1
        if previous is not None:
            previous.next_change, e.previous_change = e.anchor, previous.anchor
        previous = e
    # Renumbered counts every continuing clause whose number changed, whatever else changed too.
    summary["renumbered"] = sum(1 for e in entries if e.old and e.new and e.old.number != e.new.number)
    summary.update(words_inserted=inserted, words_deleted=deleted, changes=sum(1 for e in entries if e.changed))
    return Redline(
        old_version, new_version, entries, summary, public_comment_counts(old_version), list(groups.values())
    )


def public_comment_counts(version: Version) -> dict[int, int]:
    """Visible, non-confidential comments per clause id of a version (one query)."""
    rows = db.session.execute(
        db.select(Comment.clause_id, db.func.count(Comment.id))
        .where(Comment.version_id == version.id, Comment.status == "visible", Comment.visibility != "confidential")
        .group_by(Comment.clause_id)
    )
    return dict(rows.all())


@dataclass
class CollapsedRun:
    """Unchanged entries left out of a "changes only" redline: how many, and where the first one is."""

    count: int
    first: RedlineEntry


def changes_only(entries: list[RedlineEntry]) -> list[RedlineEntry | CollapsedRun]:
    """The changed entries, each run of unchanged ones between them folded into one CollapsedRun."""
    out: list[RedlineEntry | CollapsedRun] = []
    for e in entries:
        if e.changed:
            out.append(e)
        elif out and isinstance(out[-1], CollapsedRun):
            out[-1].count += 1
        else:
            out.append(CollapsedRun(1, e))
    return out
