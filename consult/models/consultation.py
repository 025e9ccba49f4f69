"""The consultation: comments and their history, endorsements, open questions, reports and dispositions."""

from __future__ import annotations

from ..extensions import db
from .types import UTCDateTime, utcnow


class Comment(db.Model):
    """A stakeholder's contribution on one clause, or on the whole version (a general comment: no clause).

    Never hard-deleted: withdrawn or hidden instead. A comment received through another channel (imported) has no
    account: author_id is empty and author_name holds the name it was sent with."""

    __table_args__ = (
        db.Index("ix_comment_clause_status", "clause_id", "status"),
        db.Index("ix_comment_version_created", "version_id", "created_at"),
        # Covers the version page's counts by clause and stakeholder group (grouped in index order) and finds a
        # version's general comments (clause_id IS NULL) without reading the comment rows: 24 ms -> 10 ms and
        # 9.6 ms -> 0.01 ms at 5,000 comments on a loaded machine.
        db.Index(
            "ix_comment_version_clause",
            "version_id",
            "clause_id",
            "author_group",
            "parent_id",
            "question_id",
            "visibility",
            "author_id",
        ),
        db.UniqueConstraint("version_id", "external_id", name="uq_comment_version_external_id"),
    )

    id = db.Column(db.Integer, primary_key=True)
    clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"))  # empty: a general comment on the version
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False)  # the clause's, for listings
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"), index=True)  # empty: imported, no account
    parent_id = db.Column(db.Integer, db.ForeignKey("comment.id"), index=True)  # a reply
    question_id = db.Column(db.Integer, db.ForeignKey("open_question.id"), index=True)  # an answer
    depth = db.Column(db.Integer, nullable=False, default=0)
    type = db.Column(db.String(20), nullable=False)
    stance = db.Column(db.String(30))
    visibility = db.Column(db.String(20), nullable=False)
    body = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)  # from markup.render_markdown, refreshed on every edit
    proposed_wording = db.Column(db.Text)
    # The author's group and organisation when they wrote it, so later account changes don't rewrite history.
    author_group = db.Column(db.String(40), nullable=False)
    author_organisation = db.Column(db.String(200))
    receipt = db.Column(db.String(12), nullable=False, unique=True)
    channel = db.Column(db.String(40), nullable=False, default="web")  # web, or how an imported one came (mail…)
    external_id = db.Column(db.String(200))  # the id an imported comment had in its channel; imports skip repeats
    author_name = db.Column(db.String(200))  # the sender's name, for imported comments (no account)
    submission_token = db.Column(db.String(64), unique=True)  # one-time form token: a replay finds this comment
    status = db.Column(db.String(20), nullable=False, default="visible")  # visible, hidden, withdrawn
    status_reason = db.Column(db.Text)  # the public reason for hiding
    endorsement_count = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    edited_at = db.Column(UTCDateTime)
    withdrawn_at = db.Column(UTCDateTime)
    hidden_at = db.Column(UTCDateTime)

    author = db.relationship("User", foreign_keys=[author_id], lazy="select")
    clause = db.relationship("Clause", lazy="select")
    version = db.relationship("Version", lazy="select")
    parent = db.relationship("Comment", remote_side=[id], lazy="select")
    disposition = db.relationship(
        "Disposition", uselist=False, back_populates="comment", lazy="select", foreign_keys="Disposition.comment_id"
    )

    @property
    def author_display(self) -> str:
        """The name to show where the visibility allows a name: the account's, or the name an import carried."""
        if self.author is not None:
            return self.author.shown_name
        return self.author_name or ""


class CommentRevision(db.Model):
    """The text of a comment before one of its edits."""

    id = db.Column(db.Integer, primary_key=True)
    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), nullable=False, index=True)
    type = db.Column(db.String(20), nullable=False)
    stance = db.Column(db.String(30))
    visibility = db.Column(db.String(20), nullable=False)
    body = db.Column(db.Text, nullable=False)
    proposed_wording = db.Column(db.Text)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)  # when it was replaced


class Endorsement(db.Model):
    """A participant co-signing a public comment; withdrawing keeps the row with withdrawn_at set."""

    __table_args__ = (db.UniqueConstraint("comment_id", "user_id", name="uq_endorsement_comment_user"),)

    id = db.Column(db.Integer, primary_key=True)
    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    withdrawn_at = db.Column(UTCDateTime)


class OpenQuestion(db.Model):
    """A question the drafters attach to a clause; answers are comments that point to it."""

    id = db.Column(db.Integer, primary_key=True)
    clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"), nullable=False, index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    text = db.Column(db.Text, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Report(db.Model):
    """A signed-in user's report of a comment, for moderators."""

    id = db.Column(db.Integer, primary_key=True)
    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), nullable=False, index=True)
    reporter_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    # off-topic, abusive, personal-data, spam or other (vocabulary.REPORT_CATEGORIES), with the reporter's words
    category = db.Column(db.String(20), nullable=False, default="other", server_default="other")
    reason = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(20), nullable=False, default="open")  # open, actioned, dismissed
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    resolved_at = db.Column(UTCDateTime)
    resolved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))

    comment = db.relationship(Comment, lazy="joined")
    reporter = db.relationship("User", foreign_keys=[reporter_id], lazy="joined")


class Disposition(db.Model):
    """The drafters' current decision on a comment; every change is also kept in DispositionHistory."""

    id = db.Column(db.Integer, primary_key=True)
    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), nullable=False, unique=True)
    status = db.Column(db.String(20), nullable=False)
    response = db.Column(db.Text, nullable=False, default="")
    response_html = db.Column(db.Text, nullable=False, default="")
    addressed_in_version_id = db.Column(db.Integer, db.ForeignKey("version.id"))
    duplicate_of_id = db.Column(db.Integer, db.ForeignKey("comment.id"))
    decided_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    decided_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    # When a drafter adopted the comment's proposed wording as its clause's starting text for the next draft
    # (services/review.py adopt_wording); empty if never. The adoption counts while the disposition is accepted
    # or partly accepted and not yet tied to a version; the latest adoption of a clause wins.
    adopted_at = db.Column(UTCDateTime)

    comment = db.relationship(Comment, foreign_keys=[comment_id], back_populates="disposition")
    addressed_in_version = db.relationship("Version", lazy="select")
    decided_by = db.relationship("User", foreign_keys=[decided_by_id], lazy="select")


class DispositionHistory(db.Model):
    """Append-only record of each disposition change: who, when, what."""

    id = db.Column(db.Integer, primary_key=True)
    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), nullable=False, index=True)
    status = db.Column(db.String(20), nullable=False)
    response = db.Column(db.Text, nullable=False, default="")
    addressed_in_version_id = db.Column(db.Integer, db.ForeignKey("version.id"))
    duplicate_of_id = db.Column(db.Integer, db.ForeignKey("comment.id"))
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class Assignment(db.Model):
    """A clause or a comment given to a drafter to handle."""

    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False, index=True)
    clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"))
    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"))
    assignee_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    assigned_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class SearchOutbox(db.Model):
    """A searchable row that changed: written in the same transaction as the change (by the session listener in
    consult/search/outbox.py, never by hand), drained into the index."""

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)  # "clause" or "comment"
    object_id = db.Column(db.Integer, nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class SearchDocument(db.Model):
    """One clause or comment as the PostgreSQL search backend reads it (SEARCH_BACKEND=postgres).

    Written only by the outbox drain and `flask search reindex` (consult/search/postgres.py). On PostgreSQL the
    migration adds a `tsv` tsvector column with a GIN index, kept outside the models because SQLite has neither;
    on SQLite the table exists and stays empty.
    """

    __table_args__ = (db.UniqueConstraint("kind", "object_id"),)

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(20), nullable=False)
    object_id = db.Column(db.Integer, nullable=False)
    clause_id = db.Column(db.Integer, nullable=False)
    document = db.Column(db.String(200), nullable=False)
    version = db.Column(db.String(20), nullable=False)
    clause_key = db.Column(db.String(200), nullable=False)
    group = db.Column(db.String(40))
    type = db.Column(db.String(40))
    disposition = db.Column(db.String(40))
    visibility = db.Column(db.String(20))
    status = db.Column(db.String(20))
    author_id = db.Column(db.Integer)
    audience = db.Column(db.String(20), nullable=False)  # "public" or "restricted", as in the Whoosh index
    created_at = db.Column(UTCDateTime)
