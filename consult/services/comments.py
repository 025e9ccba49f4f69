"""Comments on clauses: posting, replies, answers, edits, withdrawal, endorsements, questions, receipts and reports."""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..extensions import db
from ..models import (
    Clause,
    Comment,
    CommentRevision,
    Endorsement,
    OpenQuestion,
    Report,
    User,
    Version,
    utcnow,
)
from ..pagination import Page, paginate
from ..params import parse_id
from ..vocabulary import COMMENT_TYPES, REPORT_CATEGORIES, STANCES, VISIBILITIES
from . import ServiceError, notifications, rendered

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_MAX = 10_000
MAX_DEPTH = 2  # a top-level comment, a reply, and a reply to that: three levels


def new_receipt() -> str:
    """A random receipt id, CP-XXXX-XXXX in Crockford base32 (40 random bits, not sequential)."""
    chars = "".join(secrets.choice(CROCKFORD) for _ in range(8))
    return f"CP-{chars[:4]}-{chars[4:]}"


def new_submission_token() -> str:
    """A one-time token for a comment form, so that a replay finds the comment it already made."""
    return secrets.token_urlsafe(24)


def attempt_refused(user: User) -> str | None:
    """Count one comment attempt (post or edit) of a user; the message to show when it is one too many.

    Every attempt counts, the refused ones too (a 400 or a 500 costs the server as much as a success), so the
    caller counts before it validates the form; past CONSULT_COMMENT_LIMIT the text is kept and a 429 explains."""
    from ..throttle import limit_from_config

    decision = limit_from_config("comment", 30, 60).hit(str(user.id))
    if decision.allowed:
        return None
    return ngettext(
        "You have posted many comments in a short time. Please wait %(num)d second and send again; your text is "
        "kept below.",
        "You have posted many comments in a short time. Please wait %(num)d seconds and send "
        "again; your text is kept below.",
        decision.retry_after,
    )


def _validate(type_: str, body: str, visibility: str, stance: str | None, proposed_wording: str | None) -> None:
    if type_ not in COMMENT_TYPES:
        raise ServiceError(_("Choose a type of comment."), field="type")
    if not body or not body.strip():
        raise ServiceError(_("Write your comment."), field="body")
    if len(body) > BODY_MAX:
        raise ServiceError(
            _(
                "A comment can be at most %(n)s characters; yours has %(m)s.",
                n=format_number(BODY_MAX),
                m=format_number(len(body)),
            ),
            field="body",
        )
    if proposed_wording and len(proposed_wording) > 50_000:
        raise ServiceError(_("Proposed wording can be at most 50,000 characters."), field="proposed_wording")
    if visibility not in VISIBILITIES:
        raise ServiceError(_("Choose who may see your comment."), field="visibility")
    if stance and stance not in STANCES:
        raise ServiceError(_("Choose a stance from the list, or none."), field="stance")


def reply_visibility(parent: Comment, visibility: str) -> str:
    """A reply to a confidential comment is confidential, whatever was asked: it would otherwise show the thread."""
    return "confidential" if parent.visibility == "confidential" else visibility


def find_by_submission_token(token: str | None) -> Comment | None:
    """The comment an earlier submission of the same form created, if any."""
    if not token:
        return None
    return db.session.scalar(db.select(Comment).where(Comment.submission_token == token))


def post_comment(
    *,
    author: User,
    clause: Clause | None,
    type_: str,
    body: str,
    visibility: str,
    stance: str | None = None,
    proposed_wording: str | None = None,
    parent: Comment | None = None,
    question: OpenQuestion | None = None,
    submission_token: str | None = None,
    version: Version | None = None,
    token_unused: bool = False,
) -> Comment:
    """Record a comment (or reply, or answer) with a receipt; a replayed form returns the comment it made first.

    Without a clause (and with `version`), it is a general comment on the whole version: no reply, no answer.
    `token_unused`: the caller has just looked the submission token up and found no comment (a race between two
    submissions is still caught, by the token's unique index)."""
    submission_token = submission_token or None  # an empty token is no token (it would collide with the next)
    earlier = None if token_unused else find_by_submission_token(submission_token)
    if earlier is not None:
        if earlier.author_id != author.id:
            raise ServiceError(_("This form was already used. Reload the page and try again."))
        return earlier
    if not permissions.can_comment(author):
        raise ServiceError(_("Your account cannot comment yet: it awaits approval."), status=403)
    if clause is not None:
        version = clause.version
    elif version is None or parent is not None or question is not None:
        raise ServiceError(_("A general comment is made on a version, and is not a reply or an answer."))
    if version.status() != "open":
        raise ServiceError(
            _(
                "The consultation on this version is closed; comments are no longer accepted. "
                "Your text is shown below so that you can keep a copy."
            ),
            field="body",
            status=403,
        )
    stance = stance or None
    proposed_wording = (proposed_wording or "").strip() or None
    if proposed_wording is not None and clause is not None and proposed_wording.split() == clause.body.split():
        proposed_wording = None  # the form starts with the clause's text: left as it is, it proposes nothing
    _validate(type_, body, visibility, stance, proposed_wording)
    depth = 0
    if parent is not None:
        if parent.clause_id != clause.id:  # clause is set: replies to general comments are refused above
            raise ServiceError(_("A reply must be on the same clause as the comment it answers."))
        if parent.status != "visible":
            raise ServiceError(_("You cannot reply to a comment that was hidden or withdrawn."), status=409)
        if not permissions.can_see_comment(author, parent):
            raise ServiceError(_("You cannot reply to this comment."))
        if parent.depth >= MAX_DEPTH:
            raise ServiceError(_("Replies go at most three levels deep; reply to an earlier comment instead."))
        depth = parent.depth + 1
        visibility = reply_visibility(parent, visibility)
    if question is not None and question.clause_id != getattr(clause, "id", None):
        raise ServiceError(_("This question belongs to another clause."))
    comment = Comment(
        clause_id=clause.id if clause is not None else None,
        version_id=version.id,
        author_id=author.id,
        type=type_,
        stance=stance,
        visibility=visibility,
        body=body,
        body_html=rendered(body, "body"),
        proposed_wording=proposed_wording,
        parent_id=parent.id if parent else None,
        question_id=question.id if question else None,
        depth=depth,
        author_group=author.stakeholder_group,
        author_organisation=author.organisation.name if author.organisation else None,
        receipt=new_receipt(),
        submission_token=submission_token,
    )
    db.session.add(comment)
    try:
        db.session.flush()
        notifications.comment_posted(comment)  # receipt, reply notice, followers: queued, sent after the response
        db.session.commit()
    except IntegrityError:
        # Two submissions of one form raced, or (astronomically rarely) a receipt collided.
        db.session.rollback()
        earlier = find_by_submission_token(submission_token)
        if earlier is not None and earlier.author_id == author.id:
            return earlier
        raise
    return comment


def edit_comment(
    comment: Comment,
    editor: User,
    *,
    type_: str,
    body: str,
    visibility: str,
    stance: str | None,
    proposed_wording: str | None,
) -> Comment:
    """Change a comment's text, keeping the previous text as a revision."""
    if not permissions.can_edit_comment(editor, comment):
        raise ServiceError(_("This comment can no longer be edited."))
    stance = stance or None
    proposed_wording = (proposed_wording or "").strip() or None
    if comment.parent is not None:
        visibility = reply_visibility(comment.parent, visibility)
    _validate(type_, body, visibility, stance, proposed_wording)
    body_html = rendered(body, "body")  # before any change: it may refuse the text
    db.session.add(
        CommentRevision(
            comment_id=comment.id,
            type=comment.type,
            stance=comment.stance,
            visibility=comment.visibility,
            body=comment.body,
            proposed_wording=comment.proposed_wording,
        )
    )
    comment.type, comment.stance, comment.visibility = type_, stance, visibility
    comment.body, comment.body_html = body, body_html
    comment.proposed_wording = proposed_wording
    comment.edited_at = utcnow()
    db.session.commit()
    return comment


def withdraw_comment(comment: Comment, user: User) -> Comment:
    """The author withdraws a comment: it stays, marked as withdrawn by its author."""
    if not permissions.can_withdraw_comment(user, comment):
        raise ServiceError(_("You cannot withdraw this comment."))
    comment.status = "withdrawn"
    comment.withdrawn_at = utcnow()
    db.session.commit()
    return comment


def set_endorsement(comment: Comment, user: User, endorse: bool) -> Comment:
    """Endorse a comment once, or withdraw the endorsement; keeps the count on the comment."""
    row = db.session.scalar(
        db.select(Endorsement).where(Endorsement.comment_id == comment.id, Endorsement.user_id == user.id)
    )
    if endorse:
        if not permissions.can_endorse(user, comment):
            raise ServiceError(_("You cannot endorse this comment."))
        if row is None:
            db.session.add(Endorsement(comment_id=comment.id, user_id=user.id))
        elif row.withdrawn_at is not None:
            row.withdrawn_at, row.created_at = None, utcnow()
        else:
            return comment  # already endorsed: once only
    else:
        if row is None or row.withdrawn_at is not None:
            return comment
        row.withdrawn_at = utcnow()
    db.session.flush()
    comment.endorsement_count = db.session.scalar(
        db.select(db.func.count(Endorsement.id)).where(
            Endorsement.comment_id == comment.id, Endorsement.withdrawn_at.is_(None)
        )
    )
    db.session.commit()
    return comment


def add_question(clause: Clause, author: User, text: str) -> OpenQuestion:
    """Drafters attach an open question to a clause."""
    if not permissions.can_ask_question(author):
        raise ServiceError(_("Only drafters can add open questions."))
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise ServiceError(_("Write the question (at most 2,000 characters)."), field="text")
    question = OpenQuestion(clause_id=clause.id, author_id=author.id, text=text)
    db.session.add(question)
    db.session.commit()
    return question


def report_comment(comment: Comment, reporter: User, reason: str, category: str = "other") -> Report:
    """A signed-in user reports a comment to the moderators, with a category and (for "other", required) words."""
    if not permissions.can_report(reporter, comment):
        raise ServiceError(_("You cannot report this comment."))
    if category not in REPORT_CATEGORIES:
        raise ServiceError(_("Choose what is wrong with this comment."), field="category")
    reason = (reason or "").strip()
    if (category == "other" and not reason) or len(reason) > 2000:
        raise ServiceError(_("Say why you report this comment (at most 2,000 characters)."), field="reason")
    already = db.session.scalar(
        db.select(Report.id).where(
            Report.comment_id == comment.id, Report.reporter_id == reporter.id, Report.status == "open"
        )
    )
    if already is not None:
        raise ServiceError(
            _("You have already reported this comment; the moderators will look at it."), field="reason", status=409
        )
    from ..throttle import limit_from_config

    decision = limit_from_config("report", 10, 3600).hit(str(reporter.id))
    if not decision.allowed:
        raise ServiceError(
            ngettext(
                "You have sent many reports in a short time. Please wait %(num)d minute; your text is kept below.",
                "You have sent many reports in a short time. Please wait %(num)d minutes; your text is kept below.",
                max(1, -(-decision.retry_after // 60)),
            ),
            field="reason",
            status=429,
        )
    report = Report(comment_id=comment.id, reporter_id=reporter.id, reason=reason, category=category)
    db.session.add(report)
    db.session.commit()
    return report


# --- reading -----------------------------------------------------------------------------------------------


def get_comment(comment_id: int) -> Comment | None:
    """A comment by id, or None."""
    return db.session.get(Comment, comment_id)


def get_by_receipt(receipt: str) -> Comment | None:
    """The comment with this receipt id, or None; with its clause, version and document, which the receipt names."""
    return db.session.scalar(
        db.select(Comment)
        .where(Comment.receipt == (receipt or "").upper())
        .options(db.joinedload(Comment.clause), db.joinedload(Comment.version).joinedload(Version.document))
    )


def visible_filter(user):
    """A SQL condition: the comments the user may see at all (as text or placeholder)."""
    if permissions.is_staff(user):
        return db.true()
    if getattr(user, "is_authenticated", False):
        return db.or_(Comment.visibility != "confidential", Comment.author_id == user.id)
    return Comment.visibility != "confidential"


@dataclass
class Thread:
    comment: Comment
    replies: list[Thread] = field(default_factory=list)


@dataclass
class ClauseComments:
    threads: list[Thread]
    total: int
    page: int
    pages: int
    endorsed_ids: set[int]
    questions: list[OpenQuestion]
    answers: dict[int, list[Comment]]
    stance_counts: Counter
    listing: Page  # the page of top-level comments, for the pagination links


SORTS = {
    "newest": (Comment.created_at.desc(), Comment.id.desc()),
    "oldest": (Comment.created_at, Comment.id),
    "endorsed": (Comment.endorsement_count.desc(), Comment.created_at.desc(), Comment.id.desc()),
}


def _with_authors(stmt):
    return stmt.options(db.joinedload(Comment.author).joinedload(User.organisation), db.joinedload(Comment.disposition))


def clause_comments(
    clause: Clause,
    user,
    *,
    type_: str | None = None,
    group: str | None = None,
    sort: str = "newest",
    page: int = 1,
    per_page: int = 50,
) -> ClauseComments:
    """The comments on a clause that the user may see, threaded, filtered, sorted and paginated (bounded queries).

    Only the page's threads are read: its top-level comments, then every reply under them in one query.
    Reading the whole discussion and slicing it cost 26 ms of a 45 ms page at 1,000 comments.
    """
    seen = visible_filter(user)
    # One grouped query gives both the number of threads listed (with the filters) and the clause's stances (every
    # top-level comment, answers too, whatever the filters): a few dozen rows instead of a count and a second query.
    total, stance_counts = 0, Counter()
    for question_id, type_of, group_of, status, stance, n in db.session.execute(
        db.select(
            Comment.question_id,
            Comment.type,
            Comment.author_group,
            Comment.status,
            Comment.stance,
            db.func.count(Comment.id),
        )
        .where(Comment.clause_id == clause.id, Comment.parent_id.is_(None), seen)
        .group_by(Comment.question_id, Comment.type, Comment.author_group, Comment.status, Comment.stance)
    ):
        if question_id is None and type_ in (None, "", type_of) and group in (None, "", group_of):
            total += n
        if status == "visible" and stance:
            stance_counts[stance] += n
    per_page = max(1, per_page)
    page = min(max(1, page or 1), max(1, -(-total // per_page)))  # past the end: the last page
    top = db.select(Comment).where(
        Comment.clause_id == clause.id, Comment.parent_id.is_(None), Comment.question_id.is_(None), seen
    )
    if type_:
        top = top.where(Comment.type == type_)
    if group:
        top = top.where(Comment.author_group == group)
    items = (
        db.session.scalars(
            _with_authors(top).order_by(*SORTS.get(sort, SORTS["newest"])).limit(per_page).offset((page - 1) * per_page)
        )
        .unique()
        .all()
        if total
        else []
    )
    listing = Page(items=list(items), total=total, page=page, per_page=per_page)
    nodes = {c.id: Thread(c) for c in listing.items}
    if nodes:
        # Every reply under the page's threads in one query: children of the listed ids, their children, ...
        under, parents = [], list(nodes)
        for _level in range(MAX_DEPTH):
            under.append(Comment.parent_id.in_(parents))
            child = db.aliased(Comment)
            parents = db.select(child.id).where(child.parent_id.in_(parents), child.clause_id == clause.id)
        replies = (
            db.session.scalars(
                _with_authors(db.select(Comment).where(Comment.clause_id == clause.id, db.or_(*under), seen)).order_by(
                    Comment.depth, Comment.created_at, Comment.id
                )
            )
            .unique()
            .all()
        )
        for reply in replies:  # parents first (by depth); replies read oldest first, whatever the sort
            if reply.parent_id in nodes:  # a reply under a comment this reader may not see stays unseen
                nodes[reply.id] = Thread(reply)
                nodes[reply.parent_id].replies.append(nodes[reply.id])
    answers: dict[int, list[Comment]] = defaultdict(list)
    questions = db.session.scalars(
        db.select(OpenQuestion).where(OpenQuestion.clause_id == clause.id).order_by(OpenQuestion.created_at)
    ).all()
    if questions:
        for c in db.session.scalars(
            _with_authors(
                db.select(Comment).where(
                    Comment.clause_id == clause.id, Comment.parent_id.is_(None), Comment.question_id.is_not(None), seen
                )
            ).order_by(*SORTS.get(sort, SORTS["newest"]))
        ).unique():
            answers[c.question_id].append(c)
    shown = list(nodes) + [c.id for listed in answers.values() for c in listed]
    endorsed = set()
    if getattr(user, "is_authenticated", False) and shown:
        endorsed = set(
            db.session.scalars(
                db.select(Endorsement.comment_id).where(
                    Endorsement.user_id == user.id,
                    Endorsement.withdrawn_at.is_(None),
                    Endorsement.comment_id.in_(shown),
                )
            )
        )
    return ClauseComments(
        [nodes[c.id] for c in listing.items],
        listing.total,
        listing.page,
        listing.pages,
        endorsed,
        questions,
        answers,
        stance_counts,
        listing,
    )


def earlier_clause_ids(clause: Clause) -> list[int]:
    """Ids of the clauses of earlier versions that this clause continues: its lineage, and every clause whose text
    came to it along a stored link (each part of a split carries the comments of the clause it came from, a merged
    clause those of all its sources), back through every version."""
    from ..models import ClauseLink

    found: set[int] = set()
    if clause.lineage_id is not None:
        # The lineage's earlier clauses first (a few rows, by index), so the comments are read by clause_id alone:
        # joining through every comment made the query cost grow with the whole comment table.
        found.update(
            db.session.scalars(
                db.select(Clause.id)
                .join(Version, Clause.version_id == Version.id)
                .where(
                    Clause.lineage_id == clause.lineage_id,
                    Version.document_id == clause.version.document_id,
                    Version.number < clause.version.number,
                )
            ).all()
        )
    frontier = {clause.id} | found
    while frontier:
        step = set(
            db.session.scalars(
                db.select(ClauseLink.old_clause_id).where(ClauseLink.new_clause_id.in_(list(frontier)))
            ).all()
        )
        frontier = step - found - {clause.id}
        found |= frontier
    return sorted(found)


def earlier_comments(clause: Clause, user) -> list[Comment]:
    """Comments carried over from earlier versions along the clause's links, newest version first."""
    earlier_ids = earlier_clause_ids(clause)
    if not earlier_ids:
        return []
    return (
        db.session.scalars(
            db.select(Comment)
            .join(Version, Comment.version_id == Version.id)
            # coalesce() keeps SQLite, which has no statistics, from choosing the parent_id index ("IS NULL" is true
            # of nearly every comment) over the clause_id one: 21 ms instead of 0.1 ms at 100,000 comments.
            .where(
                Comment.clause_id.in_(earlier_ids), db.func.coalesce(Comment.parent_id, 0) == 0, visible_filter(user)
            )
            .options(
                db.joinedload(Comment.author),
                db.joinedload(Comment.disposition),
                db.joinedload(Comment.version),
                db.joinedload(Comment.clause),
            )
            .order_by(Version.number.desc(), Comment.created_at)
        )
        .unique()
        .all()
    )


def version_comment_counts(version: Version, user) -> dict[int, Counter]:
    """Per clause id: a Counter by stakeholder group of the comments its page lists under "Comments".

    That is the top-level comments that answer no question, as the user may see them (a withdrawn or hidden one
    is listed as a placeholder, so it counts): replies sit in their threads, answers under their questions.
    """
    counts: dict[int, Counter] = defaultdict(Counter)
    rows = db.session.execute(
        db.select(Comment.clause_id, Comment.author_group, db.func.count(Comment.id))
        .where(
            Comment.version_id == version.id,
            Comment.parent_id.is_(None),
            Comment.question_id.is_(None),
            visible_filter(user),
        )
        .group_by(Comment.clause_id, Comment.author_group)
    )
    for clause_id, group, n in rows:
        counts[clause_id][group] = n
    return counts


@dataclass
class ClauseQuestions:
    questions: list[OpenQuestion]
    answers: int  # answers listed under the questions, as the user may see them


def version_questions(version: Version, user) -> dict[int, ClauseQuestions]:
    """Per clause id with open questions: the questions and how many answers the clause page lists (two queries)."""
    questions = db.session.scalars(
        db.select(OpenQuestion)
        .join(Clause, OpenQuestion.clause_id == Clause.id)
        .where(Clause.version_id == version.id)
        .order_by(OpenQuestion.created_at, OpenQuestion.id)
    ).all()
    if not questions:
        return {}
    result: dict[int, ClauseQuestions] = {}
    for q in questions:
        result.setdefault(q.clause_id, ClauseQuestions([], 0)).questions.append(q)
    rows = db.session.execute(
        db.select(Comment.clause_id, db.func.count(Comment.id))
        .where(
            Comment.version_id == version.id,
            Comment.parent_id.is_(None),
            Comment.question_id.is_not(None),
            visible_filter(user),
        )
        .group_by(Comment.clause_id)
    )
    for clause_id, n in rows:
        if clause_id in result:
            result[clause_id].answers = n
    return result


def user_contributions(user: User, *, page: int = 1, per_page: int = 50) -> Page:
    """One page of the user's own comments across documents, newest first."""
    return paginate(
        db.select(Comment)
        .where(Comment.author_id == user.id)
        .options(
            db.joinedload(Comment.clause),
            db.joinedload(Comment.version).joinedload(Version.document),
            db.joinedload(Comment.disposition),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page,
        per_page,
    )


def public_comments(version: Version, *, clause_key: str | None = None, page: int = 1, per_page: int = 100) -> Page:
    """One page of a version's public, visible, non-confidential comments for the API (empty past the end)."""
    query = (
        db.select(Comment)
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .where(Comment.version_id == version.id, Comment.status == "visible", Comment.visibility != "confidential")
    )
    if clause_key:
        query = query.where(Clause.key == clause_key)
    return paginate(
        query.options(
            db.joinedload(Comment.author).joinedload(User.organisation),
            db.joinedload(Comment.clause),
            db.joinedload(Comment.disposition),
        ).order_by(Comment.created_at, Comment.id),
        page,
        per_page,
        clamp=False,
    )


def question_for(clause: Clause, question_id) -> OpenQuestion | None:
    """An open question of this clause by id, or None."""
    if not question_id:
        return None
    question_id = parse_id(question_id)
    question = db.session.get(OpenQuestion, question_id) if question_id is not None else None
    return question if question and question.clause_id == clause.id else None


def has_endorsed(comment: Comment, user) -> bool:
    """Whether the user currently endorses the comment."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            db.select(db.func.count(Endorsement.id)).where(
                Endorsement.comment_id == comment.id, Endorsement.user_id == user.id, Endorsement.withdrawn_at.is_(None)
            )
        )
        > 0
    )


def replies_to(comment: Comment, user) -> list[Comment]:
    """Direct replies the user may see, oldest first."""
    return (
        db.session.scalars(
            db.select(Comment)
            .where(Comment.parent_id == comment.id, visible_filter(user))
            .options(db.joinedload(Comment.author))
            .order_by(Comment.created_at)
        )
        .unique()
        .all()
    )


def revisions_of(comment: Comment, user) -> list[CommentRevision]:
    """Earlier texts of an edited comment that the user could read with the visibility each had at the time."""
    if not permissions.can_view_comment_text(user, comment):
        return []
    revisions = db.session.scalars(
        db.select(CommentRevision)
        .where(CommentRevision.comment_id == comment.id)
        .order_by(CommentRevision.created_at.desc())
    ).all()
    return [r for r in revisions if permissions.can_view_revision(user, comment, r)]


def general_comments(version: Version, user, *, page: int = 1, per_page: int = 50):
    """The general comments on a version (no clause) the user may see, newest first, one page of them."""
    stmt = (
        db.select(Comment)
        .where(
            Comment.version_id == version.id,
            Comment.clause_id.is_(None),
            Comment.parent_id.is_(None),
            visible_filter(user),
        )
        .options(db.joinedload(Comment.author), db.joinedload(Comment.disposition))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )
    return paginate(stmt, page, per_page)
