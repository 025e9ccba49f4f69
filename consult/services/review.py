"""The drafters' review: dispositions, assignments, adopted wording, balance by group, "you said, we did", exports."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields

from flask_babel import gettext as _

from .. import permissions
from ..drafts.parse import PREAMBLE_KEY, DraftError, parse_draft
from ..extensions import db
from ..models import Assignment, Clause, Comment, Disposition, DispositionHistory, User, Version, utcnow
from ..pagination import Page, paginate
from ..params import parse_id
from ..vocabulary import COMMENT_TYPES, DISPOSITIONS, STAKEHOLDER_GROUPS, STANCES, VISIBILITIES, VISIBILITY_NAMES
from . import ServiceError, exports, notifications, rendered
from .moderation import record

RESPONSE_MAX = 20_000
ADOPT_ACTION = "adopt-wording"
EXPORT_WINDOW = 1000  # rows fetched per round trip while streaming an export
HEAT_LEVELS = 4  # heat map cells get classes heat--0 .. heat--4

# --- filters ----------------------------------------------------------------------------------------------

SORTS = {
    "clause": (Clause.position, Comment.created_at, Comment.id),
    "newest": (Comment.created_at.desc(), Comment.id.desc()),
    "oldest": (Comment.created_at, Comment.id),
    "endorsed": (Comment.endorsement_count.desc(), Clause.position, Comment.id),
}
STATES = ("visible", "hidden", "withdrawn", "all")
STATUS_NONE = "none"


@dataclass
class ReviewFilters:
    """The review list's filters, as read from (and written back to) the query string."""

    clause: str = ""  # a clause key
    subtree: str = ""  # "1": the clause and everything under it
    group: str = ""
    org: str = ""
    type: str = ""
    stance: str = ""
    status: str = ""  # "none" or a disposition
    visibility: str = ""
    wording: str = ""  # "1": only comments with proposed wording
    assigned: str = ""  # "me"
    state: str = "visible"  # comment state: visible, hidden, withdrawn or all
    sort: str = "clause"
    q: str = ""  # full-text, through the search index (same query language as /search)
    theme: str = ""  # a theme id (services/analysis.py)

    @classmethod
    def from_args(cls, args) -> ReviewFilters:
        """Read the filters from request.args; values outside the vocabularies are dropped."""

        def pick(name, allowed, default=""):
            value = (args.get(name) or "").strip()
            return value if value in allowed else default

        return cls(
            clause=(args.get("clause") or "").strip()[:80],
            subtree="1" if args.get("subtree") == "1" else "",
            group=pick("group", STAKEHOLDER_GROUPS),
            org=(args.get("org") or "").strip()[:200],
            type=pick("type", COMMENT_TYPES),
            stance=pick("stance", STANCES),
            status=pick("status", set(DISPOSITIONS) | {STATUS_NONE}),
            visibility=pick("visibility", VISIBILITIES),
            wording="1" if args.get("wording") == "1" else "",
            assigned="me" if args.get("assigned") == "me" else "",
            state=pick("state", STATES, "visible"),
            sort=pick("sort", SORTS, "clause"),
            q=(args.get("q") or "").strip()[:200],
            theme=(args.get("theme") or "").strip() if (args.get("theme") or "").strip().isdigit() else "",
        )

    def as_args(self, **changes) -> dict[str, str]:
        """The non-empty filters as URL parameters (for links and exports)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        defaults = {"state": "visible", "sort": "clause"}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}

    @property
    def active(self) -> bool:
        """True when any filter narrows the list."""
        return bool(self.as_args(sort="clause"))


def subtree_ids(version: Version, key: str, with_children: bool) -> list[int]:
    """Ids of the clause with this key and, when asked, of every clause under it (one query)."""
    rows = db.session.execute(
        db.select(Clause.id, Clause.parent_id, Clause.key).where(Clause.version_id == version.id)
    ).all()
    root = next((r.id for r in rows if r.key == key), None)
    if root is None:
        return []
    if not with_children:
        return [root]
    children = defaultdict(list)
    for r in rows:
        children[r.parent_id].append(r.id)
    found, todo = [], [root]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def _filtered(stmt, version: Version, f: ReviewFilters, user):
    """Apply the review filters to a statement over Comment (joined to Clause and outer-joined to Disposition)."""
    stmt = stmt.where(Comment.version_id == version.id)
    if f.state != "all":
        stmt = stmt.where(Comment.status == f.state)
    if f.clause:
        stmt = stmt.where(Comment.clause_id.in_(subtree_ids(version, f.clause, f.subtree == "1") or [-1]))
    if f.group:
        stmt = stmt.where(Comment.author_group == f.group)
    if f.org:
        stmt = stmt.where(Comment.author_organisation == f.org)
    if f.type:
        stmt = stmt.where(Comment.type == f.type)
    if f.stance:
        stmt = stmt.where(Comment.stance == f.stance)
    if f.visibility:
        stmt = stmt.where(Comment.visibility == f.visibility)
    if f.wording:
        stmt = stmt.where(Comment.proposed_wording.is_not(None), Comment.proposed_wording != "")
    if f.status == STATUS_NONE:
        stmt = stmt.where(Disposition.id.is_(None))
    elif f.status:
        stmt = stmt.where(Disposition.status == f.status)
    if f.assigned == "me" and getattr(user, "is_authenticated", False):
        mine = db.select(Assignment.id).where(
            Assignment.assignee_id == user.id,
            Assignment.version_id == version.id,
            db.or_(Assignment.comment_id == Comment.id, Assignment.clause_id == Comment.clause_id),
        )
        stmt = stmt.where(mine.exists())
    if f.theme:
        from ..models import ThemeMember

        members = db.select(ThemeMember.comment_id).where(ThemeMember.theme_id == int(f.theme))
        stmt = stmt.where(Comment.id.in_(members))
    if f.q:
        from ..search import matching_comment_ids

        ids = matching_comment_ids(user, f.q, document=version.document.slug, version=version.number)
        stmt = stmt.where(Comment.id.in_(ids or [-1]))
    return stmt


def review_statement(version: Version, f: ReviewFilters, user):
    """The filtered, sorted comments of a version, with clause, disposition and author loaded."""
    stmt = (
        db.select(Comment)
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .options(
            db.contains_eager(Comment.clause), db.contains_eager(Comment.disposition), db.joinedload(Comment.author)
        )
    )
    return _filtered(stmt, version, f, user).order_by(*SORTS[f.sort])


@dataclass
class ReviewPage:
    page: Page
    assignees: dict[int, list[User]]  # comment id -> drafters it (or its clause) is assigned to
    adopted: set[int]  # comment ids whose wording is adopted for the next draft


def review_page(version: Version, f: ReviewFilters, user, *, page: int = 1, per_page: int = 50) -> ReviewPage:
    """One page of the review list with the assignments and adoptions of its rows (a fixed number of queries)."""
    result = paginate(review_statement(version, f, user), page, per_page)
    ids = [c.id for c in result.items]
    clause_ids = {c.clause_id for c in result.items}
    assignees: dict[int, list[User]] = defaultdict(list)
    if ids:
        rows = db.session.execute(
            db.select(Assignment.comment_id, Assignment.clause_id, User)
            .join(User, Assignment.assignee_id == User.id)
            .where(
                Assignment.version_id == version.id,
                db.or_(Assignment.comment_id.in_(ids), Assignment.clause_id.in_(clause_ids)),
            )
            .order_by(Assignment.id)
        ).all()
        for comment in result.items:
            for comment_id, clause_id, assignee in rows:
                if (
                    comment_id == comment.id or (comment_id is None and clause_id == comment.clause_id)
                ) and assignee not in assignees[comment.id]:
                    assignees[comment.id].append(assignee)
    return ReviewPage(result, assignees, set(adopted_by_clause(version).values()) & set(ids))


def organisations(version: Version) -> list[str]:
    """The organisations that commented on the version, for the filter list."""
    return list(
        db.session.scalars(
            db.select(Comment.author_organisation)
            .where(Comment.version_id == version.id, Comment.author_organisation.is_not(None))
            .distinct()
            .order_by(Comment.author_organisation)
        )
    )


def get_user(user_id: int) -> User | None:
    """An account by id, or None."""
    return db.session.get(User, user_id)


def drafters() -> list[User]:
    """Active drafters and admins: the people work can be assigned to."""
    return list(
        db.session.scalars(
            db.select(User)
            .where(User.status == "active", User.role.in_(("drafter", "admin")))
            .order_by(User.display_name)
        )
    )


# --- dispositions -----------------------------------------------------------------------------------------


def _check_disposition(comment: Comment, status: str, response: str, addressed_in_version, duplicate_of) -> str:
    if status not in DISPOSITIONS:
        raise ServiceError(_("Choose a disposition from the list."), field="status")
    response = (response or "").strip()
    if len(response) > RESPONSE_MAX:
        raise ServiceError(_("A response can be at most %(n)s characters.", n="20,000"), field="response")
    if addressed_in_version is not None and addressed_in_version.document_id != comment.version.document_id:
        raise ServiceError(
            _("The version that addressed the comment must be a version of the same document."), field="addressed_in"
        )
    if status == "duplicate" and duplicate_of is None:
        raise ServiceError(_("Give the receipt of the comment this one repeats."), field="duplicate_of")
    if duplicate_of is not None:
        if status != "duplicate":
            raise ServiceError(_("Only a duplicate names the comment it repeats."), field="duplicate_of")
        if duplicate_of.id == comment.id:
            raise ServiceError(_("A comment cannot duplicate itself."), field="duplicate_of")
        if duplicate_of.version.document_id != comment.version.document_id:
            raise ServiceError(_("The repeated comment must be on the same document."), field="duplicate_of")
    return response


def _apply(
    comment: Comment,
    actor,
    status: str,
    response: str,
    addressed_in_version,
    duplicate_of,
    response_html: str | None = None,
) -> Disposition:
    """Upsert the disposition and append its history row; the caller commits."""
    if response_html is None:  # rendered before any change, as it may refuse the text
        response_html = rendered(response, "response") if response else ""
    now = utcnow()
    disposition = comment.disposition
    if disposition is None:
        disposition = Disposition(comment_id=comment.id)
        db.session.add(disposition)
        comment.disposition = disposition
    disposition.status = status
    disposition.response = response
    disposition.response_html = response_html
    disposition.addressed_in_version_id = addressed_in_version.id if addressed_in_version is not None else None
    disposition.duplicate_of_id = duplicate_of.id if duplicate_of is not None else None
    disposition.decided_by_id = actor.id
    disposition.decided_at = now
    db.session.add(
        DispositionHistory(
            comment_id=comment.id,
            status=status,
            response=response,
            addressed_in_version_id=disposition.addressed_in_version_id,
            duplicate_of_id=disposition.duplicate_of_id,
            actor_id=actor.id,
            created_at=now,
        )
    )
    return disposition


def set_disposition(
    comment: Comment,
    actor,
    status: str,
    response: str,
    addressed_in_version: Version | None = None,
    duplicate_of: Comment | None = None,
) -> Disposition:
    """Record the drafters' decision on one comment and keep its history; one commit."""
    if not permissions.can_dispose(actor):
        raise ServiceError(_("Only drafters can set dispositions."), status=403)
    response = _check_disposition(comment, status, response, addressed_in_version, duplicate_of)
    disposition = _apply(comment, actor, status, response, addressed_in_version, duplicate_of)
    notifications.disposition_given(comment)
    db.session.commit()
    return disposition


def addressing_versions(version: Version) -> list[Version]:
    """The versions that can address a comment made on this version: the later ones of its document."""
    return [v for v in version.document.versions if v.number > version.number]


def dispose(
    comment: Comment, actor, status: str, response: str, *, addressed_in: str = "", duplicate_of: str = ""
) -> Disposition:
    """set_disposition with the other versions and comments as a form names them: a later version by id, the
    repeated comment by receipt (or id)."""
    addressed = (
        next((v for v in addressing_versions(comment.version) if str(v.id) == addressed_in), None)
        if addressed_in
        else None
    )
    duplicate = find_comment_for_duplicate(comment.version, duplicate_of)
    if duplicate_of and duplicate is None:
        raise ServiceError(_("No comment on this document has that receipt."), field="duplicate_of")
    return set_disposition(comment, actor, status, response, addressed_in_version=addressed, duplicate_of=duplicate)


def bulk_dispose(comments: list[Comment], actor, status: str, response: str) -> int:
    """Give many comments the same disposition and response in one transaction; returns how many changed."""
    if not permissions.can_dispose(actor):
        raise ServiceError(_("Only drafters can set dispositions."), status=403)
    if not comments:
        raise ServiceError(_("Select at least one comment."), field="ids")
    if status == "duplicate":
        raise ServiceError(_("Mark duplicates one at a time, naming the comment each one repeats."), field="status")
    cleaned = ""
    for comment in comments:
        cleaned = _check_disposition(comment, status, response, None, None)
    html = rendered(cleaned, "response") if cleaned else ""  # once for all of them
    for comment in comments:
        _apply(comment, actor, status, cleaned, None, None, response_html=html)
        notifications.disposition_given(comment)
    db.session.commit()
    return len(comments)


def next_without_disposition(version: Version, after: Comment) -> Comment | None:
    """The next visible comment of the version, in clause order, that has no disposition yet (wrapping round)."""
    stmt = (
        db.select(Comment)
        .join(Clause, Comment.clause_id == Clause.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(
            Comment.version_id == version.id,
            Comment.status == "visible",
            Disposition.id.is_(None),
            Comment.id != after.id,
        )
        .order_by(Clause.position, Comment.created_at, Comment.id)
    )
    key = (after.clause.position, after.created_at, after.id)
    later = stmt.where(db.tuple_(Clause.position, Comment.created_at, Comment.id) > key)
    return db.session.scalars(later.limit(1)).first() or db.session.scalars(stmt.limit(1)).first()


def matching_ids(version: Version, f: ReviewFilters, user) -> list[int]:
    """The ids of every comment the review filters match (for "apply to all N matching")."""
    stmt = (
        db.select(Comment.id)
        .join(Clause, Comment.clause_id == Clause.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
    )
    return list(db.session.scalars(_filtered(stmt, version, f, user)))


def comments_by_ids(version: Version, ids) -> list[Comment]:
    """The comments of this version with these ids, dispositions loaded (ids of other versions are ignored)."""
    wanted = {i for i in map(parse_id, ids) if i is not None}
    if not wanted:
        return []
    return list(
        db.session.scalars(
            db.select(Comment)
            .where(Comment.version_id == version.id, Comment.id.in_(wanted))
            .options(db.joinedload(Comment.disposition), db.joinedload(Comment.version))
            .order_by(Comment.id)
        ).unique()
    )


def find_comment_for_duplicate(version: Version, reference: str) -> Comment | None:
    """A comment of the same document named by receipt (or by id)."""
    reference = (reference or "").strip()
    if not reference:
        return None
    stmt = (
        db.select(Comment)
        .join(Version, Comment.version_id == Version.id)
        .where(Version.document_id == version.document_id)
    )
    if reference.isdigit():
        comment_id = parse_id(reference)
        return db.session.scalar(stmt.where(Comment.id == comment_id)) if comment_id is not None else None
    return db.session.scalar(stmt.where(Comment.receipt == reference.upper()))


def history(comment: Comment) -> list[tuple[DispositionHistory, User | None]]:
    """Every disposition change of a comment, newest first, with who made it."""
    return list(
        db.session.execute(
            db.select(DispositionHistory, User)
            .outerjoin(User, DispositionHistory.actor_id == User.id)
            .where(DispositionHistory.comment_id == comment.id)
            .order_by(DispositionHistory.created_at.desc(), DispositionHistory.id.desc())
        ).all()
    )


# --- assignments ------------------------------------------------------------------------------------------


def assign(
    version: Version, actor, assignee: User, *, clause: Clause | None = None, comment: Comment | None = None
) -> Assignment:
    """Give a clause or a comment of this version to a drafter; assigning again to the same person is a no-op."""
    if not permissions.can_dispose(actor):
        raise ServiceError(_("Only drafters can assign work."), status=403)
    if (clause is None) == (comment is None):
        raise ServiceError(_("Assign either a clause or a comment."))
    if not permissions.can_dispose(assignee):
        raise ServiceError(_("Work can only be assigned to an active drafter."), field="assignee")
    target = clause or comment
    if target.version_id != version.id:
        raise ServiceError(_("This belongs to another version."))
    existing = db.session.scalar(
        db.select(Assignment).where(
            Assignment.version_id == version.id,
            Assignment.assignee_id == assignee.id,
            Assignment.clause_id == clause.id if clause else Assignment.clause_id.is_(None),
            Assignment.comment_id == comment.id if comment else Assignment.comment_id.is_(None),
        )
    )
    if existing is not None:
        return existing
    assignment = Assignment(
        version_id=version.id,
        clause_id=clause.id if clause else None,
        comment_id=comment.id if comment else None,
        assignee_id=assignee.id,
        assigned_by_id=actor.id,
    )
    db.session.add(assignment)
    db.session.commit()
    return assignment


def assign_by_id(
    version: Version, actor, assignee_id: str | None, *, clause: Clause | None = None, comment: Comment | None = None
) -> User:
    """assign() to the drafter a form names by id; returns that drafter."""
    user_id = parse_id(assignee_id)
    assignee = get_user(user_id) if user_id is not None else None
    if assignee is None:
        raise ServiceError(_("Choose a drafter."), field="assignee")
    assign(version, actor, assignee, clause=clause, comment=comment)
    return assignee


def unassign(version: Version, actor, assignment_id: int, comment: Comment) -> User:
    """Take back an assignment shown on this comment's page (its own, or its clause's); returns the assignee."""
    if not permissions.can_dispose(actor):
        raise ServiceError(_("Only drafters can assign work."), status=403)
    assignment = next((a for a, _user in assignments_for(version, comment) if a.id == assignment_id), None)
    if assignment is None:
        raise ServiceError(_("This assignment no longer exists."), status=404)
    assignee = db.session.get(User, assignment.assignee_id)
    db.session.delete(assignment)
    db.session.commit()
    return assignee


def assignments_for(version: Version, comment: Comment) -> list[tuple[Assignment, User]]:
    """Who the comment, or its clause, is assigned to."""
    return list(
        db.session.execute(
            db.select(Assignment, User)
            .join(User, Assignment.assignee_id == User.id)
            .where(
                Assignment.version_id == version.id,
                db.or_(
                    Assignment.comment_id == comment.id,
                    db.and_(Assignment.comment_id.is_(None), Assignment.clause_id == comment.clause_id),
                ),
            )
            .order_by(Assignment.id)
        ).all()
    )


# --- adopted wording and the next draft ------------------------------------------------------------------


def adopt_wording(comment: Comment, actor, response: str | None = None) -> Disposition:
    """Adopt a comment's proposed wording as the clause's starting text in the next draft; marks it accepted."""
    if not permissions.can_dispose(actor):
        raise ServiceError(_("Only drafters can adopt proposed wording."), status=403)
    if not (comment.proposed_wording or "").strip():
        raise ServiceError(_("This comment proposes no wording."))
    if comment.clause_id is None:
        raise ServiceError(_("A general comment is on no clause, so its wording cannot replace one."))
    version = comment.version
    next_number = version.number + 1
    response = (response or "").strip() or _(
        "Your proposed wording was adopted as the starting text of this clause for the next draft (version %(n)d).",
        n=next_number,
    )
    response = _check_disposition(comment, "accepted", response, None, None)
    disposition = _apply(comment, actor, "accepted", response, None, None)
    # The next version does not exist yet, so addressed_in_version_id stays empty until it is published
    # (mark_adoptions_addressed); adopted_at is what the workspace, the exports and the next draft read.
    disposition.adopted_at = disposition.decided_at
    record(
        actor,
        ADOPT_ACTION,
        "comment",
        comment.id,
        None,
        {"clause_id": comment.clause_id, "version_id": version.id, "next_version": next_number},
    )
    db.session.commit()
    return disposition


def adopted_by_clause(version: Version) -> dict[int, int]:
    """{clause id: comment id} of wording adopted for the next draft; the latest adoption of a clause wins.

    An adoption counts while the comment is still accepted (or partly accepted) and not yet tied to a version."""
    rows = db.session.execute(
        db.select(Comment.clause_id, Comment.id)
        .join(Disposition, Disposition.comment_id == Comment.id)
        .where(
            Comment.version_id == version.id,
            Disposition.adopted_at.is_not(None),
            Disposition.status.in_(("accepted", "partly-accepted")),
            Disposition.addressed_in_version_id.is_(None),
        )
        .order_by(Disposition.adopted_at, Disposition.id)
    ).all()
    return {clause_id: comment_id for clause_id, comment_id in rows}


def mark_adoptions_addressed(previous: Version, new_version: Version, actor) -> int:
    """When the next version is published, tie the wording adopted on the previous one to it; the caller commits."""
    adopted = adopted_by_clause(previous)
    if not adopted:
        return 0
    comments = (
        db.session.scalars(
            db.select(Comment).where(Comment.id.in_(adopted.values())).options(db.joinedload(Comment.disposition))
        )
        .unique()
        .all()
    )
    for comment in comments:
        disposition = comment.disposition
        _apply(
            comment,
            actor or disposition.decided_by,
            disposition.status,
            disposition.response,
            new_version,
            db.session.get(Comment, disposition.duplicate_of_id) if disposition.duplicate_of_id else None,
        )
    return len(comments)


def next_draft_markdown(version: Version) -> tuple[str, int]:
    """The version's Markdown with adopted wording in place of those clauses' bodies, and how many were replaced."""
    adopted = adopted_by_clause(version)
    text = version.source_markdown.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    if not adopted:
        return text, 0
    wording = dict(
        db.session.execute(
            db.select(Clause.key, Comment.proposed_wording)
            .join(Clause, Comment.clause_id == Clause.id)
            .where(Comment.id.in_(adopted.values()))
        ).all()
    )
    try:
        parsed = parse_draft(text)
    except DraftError:  # a published source always parses; be safe all the same
        return text, 0
    lines = text.split("\n")
    heads = [c for c in parsed.clauses if c.key != PREAMBLE_KEY]
    # (start, end) line ranges of each clause body, 0-based, end exclusive.
    regions: dict[str, tuple[int, int]] = {}
    for current, following in zip(heads, heads[1:] + [None], strict=True):
        regions[current.key] = (current.line, following.line - 1 if following else len(lines))
    if heads and any(c.key == PREAMBLE_KEY for c in parsed.clauses):
        start = 0
        first = next((i for i, line in enumerate(lines) if line.strip()), 0)
        if lines[first].startswith("# "):
            start = first + 1
        regions[PREAMBLE_KEY] = (start, heads[0].line - 1)
    replaced = 0
    for key, (start, end) in sorted(regions.items(), key=lambda item: -item[1][0]):
        if key in wording and wording[key]:
            new_body = wording[key].replace("\r\n", "\n").strip("\n")
            lines[start:end] = ["", *new_body.split("\n"), ""]
            replaced += 1
    return "\n".join(lines).rstrip("\n") + "\n", replaced


def addressed_label(
    version: Version, disposition: Disposition | None, adopted: bool, numbers: dict[int, int] | None = None
) -> str:
    """What to show in "addressed in version": the version's number, or the next draft for adopted wording."""
    if disposition is not None and disposition.addressed_in_version_id:
        if numbers is not None:
            return str(numbers.get(disposition.addressed_in_version_id, ""))
        return str(disposition.addressed_in_version.number)
    if adopted:
        return _("%(n)d (next draft)", n=version.number + 1)
    return ""


def document_version_numbers(version: Version) -> dict[int, int]:
    """{version id: number} for the versions of the version's document."""
    return dict(
        db.session.execute(
            db.select(Version.id, Version.number).where(Version.document_id == version.document_id)
        ).all()
    )


# --- publishing "you said, we did" ------------------------------------------------------------------------


def publish_review(version: Version, actor) -> Version:
    """Make the dispositions of a closed consultation public; refused while the window is open."""
    if not permissions.can_dispose(actor):
        raise ServiceError(_("Only drafters can publish the review."), status=403)
    if version.status() != "closed":
        raise ServiceError(_("The review can only be published once the consultation has closed."), status=409)
    if version.review_published_at is None:
        version.review_published_at = utcnow()
        notifications.review_published(version)
        db.session.commit()
    return version


# --- balance by stakeholder group -------------------------------------------------------------------------


@dataclass
class HeatMap:
    clauses: list[Clause]
    counts: dict[int, Counter]  # clause id -> group -> comments
    maximum: int

    def level(self, n: int) -> int:
        """0 for no comments, else 1..HEAT_LEVELS relative to the busiest cell."""
        if not n or not self.maximum:
            return 0
        return max(1, math.ceil(HEAT_LEVELS * n / self.maximum))

    def total(self, clause_id: int) -> int:
        """All comments on a clause."""
        return sum(self.counts.get(clause_id, Counter()).values())


def _outline(version: Version) -> list[Clause]:
    return list(
        db.session.scalars(
            db.select(Clause)
            .where(Clause.version_id == version.id)
            .order_by(Clause.position)
            .options(db.defer(Clause.body), db.defer(Clause.body_html))
        )
    )


def _except(stmt, exclude):
    """The statement without the comments `exclude` (a SQL condition) selects, e.g. a campaign's copies."""
    return stmt if exclude is None else stmt.where(~exclude)


def heat_map(version: Version, exclude=None) -> HeatMap:
    """Visible comments per clause per stakeholder group (two queries); `exclude` leaves some out."""
    counts: dict[int, Counter] = defaultdict(Counter)
    for clause_id, group, n in db.session.execute(
        _except(
            db.select(Comment.clause_id, Comment.author_group, db.func.count(Comment.id))
            .where(Comment.version_id == version.id, Comment.status == "visible")
            .group_by(Comment.clause_id, Comment.author_group),
            exclude,
        )
    ):
        counts[clause_id][group] = n
    maximum = max((n for c in counts.values() for n in c.values()), default=0)
    return HeatMap(_outline(version), counts, maximum)


def stances(version: Version, exclude=None) -> dict[int, dict[str, Counter]]:
    """{clause id: {group: Counter(stance)}} for visible comments that state a stance (one query)."""
    result: dict[int, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for clause_id, group, stance, n in db.session.execute(
        _except(
            db.select(Comment.clause_id, Comment.author_group, Comment.stance, db.func.count(Comment.id))
            .where(Comment.version_id == version.id, Comment.status == "visible", Comment.stance.is_not(None))
            .group_by(Comment.clause_id, Comment.author_group, Comment.stance),
            exclude,
        )
    ):
        result[clause_id][group][stance] = n
    return result


@dataclass
class Summary:
    total: int
    by_group: Counter
    by_type: Counter
    by_disposition: Counter  # "none" for comments without one
    disposed: int
    busiest: list[tuple[Clause, int]]
    uncommented: list[Clause]

    @property
    def progress(self) -> int:
        """The share of comments with a disposition, in whole per cent."""
        return round(100 * self.disposed / self.total) if self.total else 0


def summary(version: Version, heat: HeatMap | None = None, top: int = 10, exclude=None) -> Summary:
    """Totals by group, type and disposition, progress, the busiest clauses and those nobody commented on."""
    heat = heat or heat_map(version, exclude)
    base = _except(
        db.select(Comment.type, Disposition.status, Comment.author_group, db.func.count(Comment.id))
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.version_id == version.id, Comment.status == "visible")
        .group_by(Comment.type, Disposition.status, Comment.author_group),
        exclude,
    )
    by_group, by_type, by_disposition = Counter(), Counter(), Counter()
    for type_, status, group, n in db.session.execute(base):
        by_group[group] += n
        by_type[type_] += n
        by_disposition[status or STATUS_NONE] += n
    total = sum(by_group.values())
    totals = [(c, heat.total(c.id)) for c in heat.clauses]
    busiest = sorted((t for t in totals if t[1]), key=lambda t: (-t[1], t[0].position))[:top]
    uncommented = [c for c, n in totals if n == 0]
    return Summary(total, by_group, by_type, by_disposition, total - by_disposition[STATUS_NONE], busiest, uncommented)


# --- "you said, we did" -----------------------------------------------------------------------------------


def feedback_statement(version: Version, clause_key: str = ""):
    """Visible, non-confidential comments of a version in clause order, for the public review."""
    stmt = (
        db.select(Comment)
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.version_id == version.id, Comment.status == "visible", Comment.visibility != "confidential")
        .options(
            db.contains_eager(Comment.clause), db.contains_eager(Comment.disposition), db.joinedload(Comment.author)
        )
        .order_by(Clause.position, Comment.created_at, Comment.id)
    )
    if clause_key:
        stmt = stmt.where(Clause.key == clause_key)
    return stmt


def feedback_counts(version: Version) -> list[tuple[Clause, int, int, int]]:
    """Per clause with comments: (clause, public comments, with a response, confidential comments counted only)."""
    # Grouped by the plain column: PostgreSQL does not treat two bound copies of `visibility = 'confidential'`
    # as the same expression in SELECT and GROUP BY.
    answered_col = Disposition.id.is_not(None)
    rows = db.session.execute(
        db.select(Comment.clause_id, Comment.visibility, answered_col, db.func.count(Comment.id))
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.version_id == version.id, Comment.status == "visible")
        .group_by(Comment.clause_id, Comment.visibility, answered_col)
    ).all()
    per: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for clause_id, visibility, answered, n in rows:
        if visibility == "confidential":
            per[clause_id][2] += n
        else:
            per[clause_id][0] += n
            if answered:
                per[clause_id][1] += n
    return [(c, *per[c.id]) for c in _outline(version) if c.id in per]


# --- exports ----------------------------------------------------------------------------------------------

# New columns go at the end, so that spreadsheets and scripts built on the earlier ones keep working.
EXPORT_COLUMNS = (
    "clause_number",
    "clause_heading",
    "receipt",
    "stakeholder_group",
    "organisation",
    "type",
    "comment",
    "proposed_wording",
    "disposition",
    "response",
    "addressed_in_version",
    "author",
    "stance",
    "received_at",
    "visibility",
    "endorsements",
    "theme",
)


def export_headers() -> list[str]:
    """Column titles of the comment–response table, for people."""
    return [
        _("Clause number"),
        _("Clause heading"),
        _("Comment receipt"),
        _("Stakeholder group"),
        _("Organisation"),
        _("Type"),
        _("Comment"),
        _("Proposed wording"),
        _("Disposition"),
        _("Response"),
        _("Addressed in version"),
        _("Name"),
        _("Stance"),
        _("Received (UTC)"),
        _("Visibility"),
        _("Endorsements"),
        _("Theme"),
    ]


def _export_rows(version: Version, stmt, show_organisation) -> Iterator[dict]:
    """Rows of the comment–response table from a statement over plain columns, fetched in windows."""
    adopted = set(adopted_by_clause(version).values())
    numbers = document_version_numbers(version)
    result = db.session.execute(stmt.execution_options(yield_per=EXPORT_WINDOW))
    for row in result:
        addressed = ""
        if row.addressed_in_version_id:
            addressed = str(numbers.get(row.addressed_in_version_id, ""))
        elif row.id in adopted:
            addressed = _("%(n)d (next draft)", n=version.number + 1)
        yield {
            "clause_number": row.number or "",
            "clause_heading": row.heading or _("General comment"),
            "receipt": row.receipt,
            "stakeholder_group": row.author_group,
            "organisation": (row.author_organisation or "") if show_organisation(row.visibility) else "",
            "type": row.type,
            "stance": row.stance or "",
            "comment": row.body,
            "proposed_wording": row.proposed_wording or "",
            "disposition": row.status or "",
            "response": row.response or "",
            "addressed_in_version": addressed,
            "author": (row.display_name or "") if show_organisation(row.visibility) else "",
            "received_at": row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "visibility": row.visibility,
            "endorsements": row.endorsement_count,
            "theme": row.theme or "",
        }


def _export_select(with_theme: bool = True):
    from ..models import Theme, ThemeMember

    # The theme is the drafters' working label: in their exports, never in the public one.
    theme = Theme.label if with_theme else db.literal(None)
    # Imported submissions have no account: their sender's name is stored on the comment.
    name = db.func.coalesce(User.display_name, Comment.author_name)
    stmt = (
        db.select(
            Comment.id,
            Clause.number,
            Clause.heading,
            Comment.receipt,
            Comment.author_group,
            Comment.author_organisation,
            Comment.visibility,
            Comment.type,
            Comment.stance,
            Comment.body,
            Comment.proposed_wording,
            Disposition.status,
            Disposition.response,
            Disposition.addressed_in_version_id,
            name.label("display_name"),
            Comment.created_at,
            Comment.endorsement_count,
            theme.label("theme"),
        )
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .outerjoin(User, Comment.author_id == User.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
    )
    if with_theme:
        stmt = stmt.outerjoin(ThemeMember, ThemeMember.comment_id == Comment.id).outerjoin(
            Theme, db.and_(Theme.id == ThemeMember.theme_id, Theme.deleted_at.is_(None))
        )
    return stmt


def export_rows(version: Version, f: ReviewFilters, user) -> Iterator[dict]:
    """The drafters' comment–response table for the review filters, streamed in windows."""
    stmt = _filtered(_export_select(), version, f, user).order_by(*SORTS[f.sort])
    staff = permissions.is_staff(user)
    return _export_rows(version, stmt, lambda visibility: visibility == "public" or staff)


def public_export_rows(version: Version) -> Iterator[dict]:
    """The published review's table: visible, non-confidential comments; organisations of public comments only."""
    stmt = (
        _export_select(with_theme=False)
        .where(Comment.version_id == version.id, Comment.status == "visible", Comment.visibility != "confidential")
        .order_by(Clause.position, Comment.created_at, Comment.id)
    )
    return _export_rows(version, stmt, lambda visibility: visibility == "public")


def labelled(row: dict) -> dict:
    """The row with vocabulary codes replaced by their labels, for people (CSV and HTML)."""
    row = dict(row)
    row["stakeholder_group"] = str(STAKEHOLDER_GROUPS.get(row["stakeholder_group"], row["stakeholder_group"]))
    row["type"] = str(COMMENT_TYPES.get(row["type"], row["type"]))
    row["disposition"] = str(DISPOSITIONS.get(row["disposition"], row["disposition"]))
    row["stance"] = str(STANCES.get(row["stance"], row["stance"]))
    row["visibility"] = str(VISIBILITY_NAMES.get(row["visibility"], row["visibility"]))
    return row


def export_csv(rows: Iterator[dict], public: bool = False) -> Iterator[str]:
    """The comment–response table as CSV pieces, labelled for people; the public table has no theme column
    (themes are the drafters' working labels)."""
    columns = EXPORT_COLUMNS[:-1] if public else EXPORT_COLUMNS
    return exports.csv_chunks(
        export_headers()[: len(columns)], ([row[c] for c in columns] for row in map(labelled, rows))
    )


def export_json(version: Version, rows: Iterator[dict]) -> Iterator[str]:
    """The comment–response table as JSON pieces: the version, the columns, then the rows with their codes."""
    head = {"document": version.document.slug, "version": version.number, "columns": list(EXPORT_COLUMNS)}
    return exports.json_chunks(head, "comments", rows)
