"""Who may do what. Views and templates ask the same can_* rules."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Comment, CommentRevision, Document, Version

# The person asking: a signed-in User, Flask-Login's anonymous user, or None (outside a request).
Viewer = Any


class Role(StrEnum):
    PARTICIPANT = "participant"
    DRAFTER = "drafter"
    MODERATOR = "moderator"
    ADMIN = "admin"


def _signed_in(user: Viewer) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def has_role(user: Viewer, *roles: Role) -> bool:
    """True when the user is signed in, not suspended, and holds one of the roles (admins hold every role)."""
    if not _signed_in(user) or user.status not in ("active", "pending"):
        return False
    if user.role == Role.ADMIN.value:
        return True
    return user.role in {r.value for r in roles}


def is_active_staff(user: Viewer, *roles: Role) -> bool:
    """Staff rights need an active (approved) account, not a pending one."""
    return has_role(user, *roles) and user.status == "active"


def can_view_document(user: Viewer, document: Document) -> bool:
    """Published documents are public."""
    return True


def can_view_version(user: Viewer, version: Version) -> bool:
    """Published versions are public."""
    return True


def can_publish_version(user: Viewer, document: Document | None = None) -> bool:
    """Drafters (and admins) publish new documents and versions."""
    return is_active_staff(user, Role.DRAFTER)


def can_comment(user: Viewer) -> bool:
    """Only approved (active) accounts take part; pending ones may read only."""
    return _signed_in(user) and user.status == "active"


def can_moderate(user: Viewer) -> bool:
    """Moderators and admins handle registrations, accounts, reports and invitations."""
    return is_active_staff(user, Role.MODERATOR)


def can_view_audit(user: Viewer) -> bool:
    """Only moderators and admins read the audit log."""
    return is_active_staff(user, Role.MODERATOR)


def can_grant_role(actor: Viewer, target: Viewer, role: str) -> bool:
    """Moderators set participant or drafter; only admins grant moderator or admin. Nobody changes their own role."""
    if not can_moderate(actor) or actor.id == target.id:
        return False
    if role in (Role.MODERATOR.value, Role.ADMIN.value) or target.role in (Role.MODERATOR.value, Role.ADMIN.value):
        return bool(actor.role == Role.ADMIN.value)
    return True


def can_suspend(actor: Viewer, target: Viewer) -> bool:
    """Moderators suspend participants and drafters; admins anyone but themselves."""
    if not can_moderate(actor) or actor.id == target.id:
        return False
    if target.role in (Role.MODERATOR.value, Role.ADMIN.value):
        return bool(actor.role == Role.ADMIN.value)
    return True


def is_staff(user: Viewer) -> bool:
    """Drafters, moderators and admins see confidential and hidden comments."""
    return is_active_staff(user, Role.DRAFTER, Role.MODERATOR)


def _is_author(user: Viewer, comment: Comment) -> bool:
    return _signed_in(user) and comment.author_id == user.id


def can_view_comment_text(user: Viewer, comment: Comment) -> bool:
    """The text of a comment: public ones to all; confidential, hidden or withdrawn ones to the author and staff."""
    if _is_author(user, comment) or is_staff(user):
        return True
    return bool(comment.status == "visible" and comment.visibility != "confidential")


def can_view_revision(user: Viewer, comment: Comment, revision: CommentRevision) -> bool:
    """An earlier text of a comment, only to those who could read the comment with that revision's visibility:
    a text written as confidential stays with the author and staff after the comment is made public."""
    if not can_view_comment_text(user, comment):
        return False
    return revision.visibility != "confidential" or _is_author(user, comment) or is_staff(user)


def can_see_comment(user: Viewer, comment: Comment) -> bool:
    """Whether the comment appears at all (as text or placeholder): confidential ones only to the author and staff."""
    return comment.visibility != "confidential" or _is_author(user, comment) or is_staff(user)


def can_see_author(user: Viewer, comment: Comment) -> bool:
    """The author's name and organisation: public comments, or the author and staff."""
    return comment.visibility == "public" or _is_author(user, comment) or is_staff(user)


def can_edit_comment(user: Viewer, comment: Comment) -> bool:
    """The author edits while the comment is visible and the consultation is open."""
    return (
        _is_author(user, comment)
        and can_comment(user)
        and comment.status == "visible"
        and comment.version.status() == "open"
    )


def can_withdraw_comment(user: Viewer, comment: Comment) -> bool:
    """The author may withdraw a comment that is not withdrawn already."""
    return _is_author(user, comment) and comment.status != "withdrawn"


def can_endorse(user: Viewer, comment: Comment) -> bool:
    """Active participants co-sign other people's public, visible comments."""
    return (
        can_comment(user)
        and comment.author_id != user.id
        and comment.status == "visible"
        and comment.visibility != "confidential"
    )


def can_reply(user: Viewer, comment: Comment) -> bool:
    """Replies go to visible comments on a clause, up to three levels deep, while the consultation is open (general
    comments on a whole version are answered by the drafters' disposition, not by threads)."""
    return (
        can_comment(user)
        and comment.status == "visible"
        and comment.depth < 2
        and comment.clause_id is not None
        and can_see_comment(user, comment)
    )


def can_report(user: Viewer, comment: Comment) -> bool:
    """Any signed-in user may report a comment they can see, except their own."""
    return _signed_in(user) and comment.author_id != user.id and can_see_comment(user, comment)


def can_ask_question(user: Viewer) -> bool:
    """Drafters attach open questions to clauses."""
    return is_active_staff(user, Role.DRAFTER)


def can_view_receipt(user: Viewer, comment: Comment) -> bool:
    """A receipt is for its owner and the drafters."""
    return _is_author(user, comment) or is_staff(user)


def can_see_disposition(user: Viewer, comment: Comment) -> bool:
    """Dispositions are public once the drafters publish the review; before that, for the author and staff."""
    return bool(comment.version.review_published_at) or _is_author(user, comment) or is_staff(user)


def can_review(user: Viewer, version: Version | None = None) -> bool:
    """Drafters, moderators and admins open the review workspace and the drafters' exports."""
    return is_staff(user)


def can_dispose(user: Viewer, version: Version | None = None) -> bool:
    """Only active drafters and admins change dispositions, assignments and adopted wording; moderators view."""
    return is_active_staff(user, Role.DRAFTER)


def can_publish_review(user: Viewer, version: Version) -> bool:
    """Drafters publish "you said, we did" once the consultation window has closed."""
    return can_dispose(user) and version.status() == "closed"


def can_view_feedback(user: Viewer, version: Version) -> bool:
    """The published review is public; before publication only staff see a preview."""
    return version.review_published_at is not None or can_review(user, version)


def can_download_feedback(user: Viewer, version: Version) -> bool:
    """The public export of "you said, we did" exists once the review is published, for everyone (staff included)."""
    return version.review_published_at is not None


def can_view_public_comments(user: Viewer, version: Version) -> bool:
    """Every public comment of a published version, and their open data, are for everyone."""
    return can_view_version(user, version)


def can_download_version_source(user: Viewer, version: Version) -> bool:
    """The Word file a version was imported from is for drafters (and admins), like publishing."""
    return is_active_staff(user, Role.DRAFTER)


def can_edit_settings(user: Viewer, document: Document | None = None) -> bool:
    """Drafters and admins change a document's landing text and a version's consultation window."""
    return is_active_staff(user, Role.DRAFTER)


def can_follow(user: Viewer) -> bool:
    """Any signed-in account that may sign in follows documents and clauses and reads its notifications."""
    return _signed_in(user) and user.status in ("active", "pending")


def can_analyse(user: Viewer, version: Version | None = None) -> bool:
    """Campaigns, themes and unapproved summaries are for staff: they are built from every comment, confidential
    ones included."""
    return is_staff(user)


def can_edit_analysis(user: Viewer, version: Version | None = None) -> bool:
    """Drafters (and admins) rename, merge, split and delete themes, approve summaries and dispose of campaigns."""
    return can_dispose(user)
