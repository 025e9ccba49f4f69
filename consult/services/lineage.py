"""A clause's history along its lineage, and the drafters' review and correction of stored lineage links."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from .. import redline
from ..drafts.lineage import Link, candidates, relate
from ..extensions import db
from ..labels import clause_label
from ..models import Clause, ClauseLink, Lineage, Version
from . import ServiceError
from .documents import clause_views, get_version, version_clauses
from .moderation import record
from .redlines import clause_text, stored_links

# --- history ------------------------------------------------------------------


@dataclass
class HistoryStep:
    """One version in a clause's history: the clause there (None for a gap) and the changes since the last one."""

    version: Version
    clause: Clause | None
    ops: list[tuple[str, str]] | None = None  # None for the first appearance and for gaps
    words_inserted: int = 0
    words_deleted: int = 0
    previous: Clause | None = None  # the earlier clause the ops compare against


@dataclass
class History:
    clause: Clause
    steps: list[HistoryStep]
    first_version: Version | None = None  # where the lineage starts (None when it starts in version 1)
    removed_in: Version | None = None  # the first version after its last appearance, if any


def clause_history(clause: Clause) -> History:
    """Every version of the clause's lineage in version order, with gaps and a word diff between neighbours."""
    document_versions = db.session.scalars(
        db.select(Version).where(Version.document_id == clause.version.document_id).order_by(Version.number)
    ).all()
    if clause.lineage_id is None:
        members = [clause]
    else:
        members = db.session.scalars(
            db.select(Clause)
            .join(Version, Clause.version_id == Version.id)
            .where(Clause.lineage_id == clause.lineage_id)
            .order_by(Version.number, Clause.position)
        ).all()
    by_version = {}
    for c in members:
        by_version.setdefault(c.version_id, c)  # one clause per lineage per version; keep the first if not
    present = [v for v in document_versions if v.id in by_version]
    first, last = present[0].number, present[-1].number
    steps: list[HistoryStep] = []
    previous: Clause | None = None
    for v in document_versions:
        if v.number < first or v.number > last:
            continue
        current = by_version.get(v.id)
        step = HistoryStep(v, current)
        if current is not None and previous is not None:
            step.ops = redline.diff_words(clause_text(previous), clause_text(current))
            step.words_inserted, step.words_deleted = redline.word_counts(step.ops)
            step.previous = previous
        if current is not None:
            previous = current
        steps.append(step)
    later = [v for v in document_versions if v.number > last]
    return History(
        clause=clause,
        steps=steps,
        first_version=present[0] if first > document_versions[0].number else None,
        removed_in=later[0] if later else None,
    )


# --- review -----------------------------------------------------------------


@dataclass
class ReviewLink:
    """One stored link into a clause of the version under review."""

    old: Clause
    relation: str
    method: str
    confidence: float
    primary: bool


@dataclass
class ReviewRow:
    """A clause of the version under review: its links, how sure the weakest is, and the likeliest earlier
    clauses."""

    new: Clause
    links: list[ReviewLink] = field(default_factory=list)
    candidates: list[tuple[Clause, float]] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        return min((lk.confidence for lk in self.links), default=0.0)

    @property
    def current(self) -> Clause | None:
        """The earlier clause it continues (its lineage link), if any."""
        return next((lk.old for lk in self.links if lk.primary), self.links[0].old if self.links else None)


@dataclass
class LineageReview:
    """The stored links between a version and the one before it, least confident first."""

    version: Version
    previous: Version | None
    rows: list[ReviewRow] = field(default_factory=list)  # linked clauses, least confident first
    added: list[ReviewRow] = field(default_factory=list)  # new clauses that continue no earlier clause
    removed: list[Clause] = field(default_factory=list)  # old clauses no link continues
    old_clauses: list[Clause] = field(default_factory=list)  # every clause of the previous version, in order


def previous_version(version: Version) -> Version | None:
    """The version numbered one below, or None for the first."""
    return get_version(version.document, version.number - 1) if version.number > 1 else None


def lineage_review(version: Version) -> LineageReview:
    """The stored links of `version` against the previous version, the least confident first, with the three
    likeliest earlier clauses for each clause; and the earlier clauses no link continues."""
    previous = previous_version(version)
    review = LineageReview(version, previous)
    if previous is None:
        return review
    old_clauses, new_clauses = version_clauses(previous), version_clauses(version)
    review.old_clauses = old_clauses
    links, unlinked = stored_links(previous, version, old_clauses, new_clauses)
    pairs = relate(clause_views(old_clauses), clause_views(new_clauses), links, unlinked)
    old_by_key = {c.key: c for c in old_clauses}
    rows = {c.key: ReviewRow(c) for c in new_clauses}
    continued = set()
    for p in pairs:
        if p.old_key and p.new_key:
            rows[p.new_key].links.append(ReviewLink(old_by_key[p.old_key], p.status, p.method, p.confidence, p.primary))
            continued.add(p.old_key)
    likely = candidates(clause_views(old_clauses), clause_views(new_clauses))
    for key, row in rows.items():
        row.candidates = [(old_by_key[k], score) for k, score in likely.get(key, [])]
    position = {c.key: i for i, c in enumerate(new_clauses)}
    linked = [r for r in rows.values() if r.links]
    review.rows = sorted(linked, key=lambda r: (r.confidence, position[r.new.key]))
    review.added = [r for r in rows.values() if not r.links]
    review.removed = [c for c in old_clauses if c.key not in continued]
    return review


# --- correction ---------------------------------------------------------------


def _store_links(old_clauses: list[Clause], new_clauses: list[Clause], pairs) -> None:
    """Replace the stored links into `new_clauses` by the linked pairs given."""
    old_by_key = {c.key: c for c in old_clauses}
    new_by_key = {c.key: c for c in new_clauses}
    db.session.execute(db.delete(ClauseLink).where(ClauseLink.new_clause_id.in_([c.id for c in new_clauses])))
    db.session.add_all(
        ClauseLink(
            old_clause_id=old_by_key[p.old_key].id,
            new_clause_id=new_by_key[p.new_key].id,
            relation=p.status,
            method=p.method,
            confidence=p.confidence,
            primary=p.primary,
        )
        for p in pairs
        if p.old_key and p.new_key
    )


def _clause_state(lineage_id, old: Clause | None, status, method) -> dict:
    """A clause's lineage as the audit row records it, before or after a correction."""
    return {
        "lineage_id": lineage_id,
        "old_key": old.key if old else None,
        "lineage_status": status,
        "lineage_method": method,
    }


@dataclass
class ProposedRelink:
    """What a correction would change, for the drafter to confirm."""

    clause: Clause
    current: list[Clause]  # the earlier clauses it is linked to now
    target: Clause | None  # the earlier clause it would continue (None: no earlier clause)


def correction_target(action: str, old_key: str | None, other_key: str | None) -> str | None:
    """The earlier clause's key a correction names, or None to unlink; refused when a link names none.

    `other_key` (chosen from the full list) wins over `old_key` (a suggested match); "-" means no earlier clause."""
    chosen = (other_key or "").strip() or (old_key or "").strip()
    if action == "unlink" or chosen == "-":
        return None
    if not chosen:
        raise ServiceError(_("Choose the earlier clause to link to."), field="old_key")
    return chosen


def proposed_relink(version: Version, new_key: str, old_key: str | None) -> ProposedRelink:
    """Check a correction without making it, and say what it would change."""
    previous = previous_version(version)
    if previous is None:
        raise ServiceError(_("The first version has no earlier version to match against."), field="old_key")
    old_clauses, new_clauses = version_clauses(previous), version_clauses(version)
    clause = next((c for c in new_clauses if c.key == new_key), None)
    if clause is None:
        raise ServiceError(
            _("There is no clause “%(key)s” in %(label)s.", key=new_key, label=version.label),
            field="new_key",
            status=404,
        )
    target = None
    if old_key:
        target = next((c for c in old_clauses if c.key == old_key), None)
        if target is None:
            raise ServiceError(
                _("There is no clause “%(key)s” in %(label)s.", key=old_key, label=previous.label), field="old_key"
            )
    links, _unlinked = stored_links(previous, version, old_clauses, new_clauses)
    old_by_key = {c.key: c for c in old_clauses}
    current = [old_by_key[lk.old_key] for lk in links if lk.new_key == new_key]
    return ProposedRelink(clause, current, target)


def relink(version: Version, new_key: str, old_key: str | None, actor) -> Clause:
    """Link a clause of `version` to a clause of the previous version (or unlink with None), then restate statuses."""
    previous = previous_version(version)
    if previous is None:
        raise ServiceError(_("The first version has no earlier version to match against."), field="old_key")
    old_clauses, new_clauses = version_clauses(previous), version_clauses(version)
    new_by_key = {c.key: c for c in new_clauses}
    old_by_key = {c.key: c for c in old_clauses}
    old_by_lineage = {c.lineage_id: c for c in old_clauses}
    clause = new_by_key.get(new_key or "")
    if clause is None:
        raise ServiceError(
            _("There is no clause “%(key)s” in %(label)s.", key=new_key, label=version.label),
            field="new_key",
            status=404,
        )
    target = None
    if old_key:
        target = old_by_key.get(old_key)
        if target is None:
            raise ServiceError(
                _("There is no clause “%(key)s” in %(label)s.", key=old_key, label=previous.label), field="old_key"
            )
        holder = next((c for c in new_clauses if c.lineage_id == target.lineage_id and c.id != clause.id), None)
        if holder is not None:
            raise ServiceError(
                _(
                    "“%(old)s” is already linked to “%(new)s”. An earlier clause can continue into only one clause; "
                    "unlink “%(new)s” first.",
                    old=clause_label(target),
                    new=clause_label(holder),
                ),
                field="old_key",
            )

    current_old = old_by_lineage.get(clause.lineage_id)
    before = _clause_state(clause.lineage_id, current_old, clause.lineage_status, clause.lineage_method)
    old_lineage_id = clause.lineage_id
    if target is not None and target.lineage_id != clause.lineage_id:
        new_lineage_id = target.lineage_id
    elif target is None and current_old is not None:
        fresh = Lineage(document_id=version.document_id)
        db.session.add(fresh)
        db.session.flush()
        new_lineage_id = fresh.id
    else:
        new_lineage_id = old_lineage_id  # the link already says this; only the method becomes "manual"

    if new_lineage_id != old_lineage_id:
        # Later versions continue this clause: they follow it to its new lineage, so their own links stay intact.
        later = db.session.scalars(
            db.select(Clause)
            .join(Version, Clause.version_id == Version.id)
            .where(
                Version.document_id == version.document_id,
                Version.number > version.number,
                Clause.lineage_id.in_([old_lineage_id, new_lineage_id]),
            )
        ).all()
        if any(c.lineage_id == new_lineage_id for c in later):
            raise ServiceError(
                _("The earlier clause's lineage continues in a later version already; correct that version first."),
                field="old_key",
            )
        for c in later:
            c.lineage_id = new_lineage_id
        clause.lineage_id = new_lineage_id

    # The stored links are the truth: this clause's links become the drafter's one link (or none), and the
    # relations of every link are restated (moves, splits and merges depend on all of them).
    links, unlinked = stored_links(previous, version, old_clauses, new_clauses)
    links = [lk for lk in links if lk.new_key != clause.key]
    if target is not None:
        links.append(Link(target.key, clause.key, "manual", 1.0, True))
        unlinked.discard(clause.key)
    else:
        unlinked.add(clause.key)
    pairs = relate(clause_views(old_clauses), clause_views(new_clauses), links, unlinked)
    _store_links(old_clauses, new_clauses, pairs)
    relation: dict[str, str] = {}
    for p in pairs:
        if p.new_key and (p.primary or p.new_key not in relation):
            relation[p.new_key] = p.status
    for c in new_clauses:
        c.lineage_status = relation[c.key]
        if c.id == clause.id:
            c.lineage_method = "manual"  # the other clauses keep how they were matched
    after = _clause_state(clause.lineage_id, target, clause.lineage_status, clause.lineage_method)

    record(actor, "lineage-relink", "clause", clause.id, before, after)
    db.session.flush()
    if old_lineage_id != new_lineage_id and not db.session.scalar(
        db.select(db.func.count(Clause.id)).where(Clause.lineage_id == old_lineage_id)
    ):
        db.session.execute(db.delete(Lineage).where(Lineage.id == old_lineage_id))  # no clause left on it
    db.session.commit()
    return clause
