"""Documents, their versions, and the clauses of each version."""

from __future__ import annotations

from datetime import datetime

from ..extensions import db
from .types import UTCDateTime, utcnow


class Document(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(80), nullable=False, unique=True)
    title = db.Column(db.String(300), nullable=False)
    summary = db.Column(db.Text)  # a short summary for the home page, plain text
    landing_markdown = db.Column(db.Text)  # background, scope, who should take part, contact (Markdown)
    landing_html = db.Column(db.Text)  # from markup.render_markdown, refreshed on every edit
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    versions = db.relationship("Version", back_populates="document", order_by="Version.number", lazy="select")


class Version(db.Model):
    """One published draft. Its text, numbers and keys never change once published."""

    __table_args__ = (db.UniqueConstraint("document_id", "number", name="uq_version_document_number"),)

    id = db.Column(db.Integer, primary_key=True)
    document_id = db.Column(db.Integer, db.ForeignKey("document.id"), nullable=False, index=True)
    number = db.Column(db.Integer, nullable=False)
    label = db.Column(db.String(200), nullable=False)
    # The draft as published: the largest column, read only when a service asks for it (lists, clause pages and
    # search results join versions often, and would otherwise carry the whole draft with every row).
    source_markdown = db.deferred(db.Column(db.Text, nullable=False))
    # The Word file the draft was imported from (source_markdown then holds its conversion); None for Markdown.
    source_docx = db.deferred(db.Column(db.LargeBinary))
    published_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    published_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    opens_at = db.Column(UTCDateTime)
    closes_at = db.Column(UTCDateTime)
    clause_count = db.Column(db.Integer, nullable=False, default=0)
    review_published_at = db.Column(UTCDateTime)  # when the drafters published "you said, we did"

    document = db.relationship(Document, back_populates="versions")
    clauses = db.relationship("Clause", back_populates="version", order_by="Clause.position", lazy="select")

    def status(self, now: datetime | None = None) -> str:
        """'upcoming', 'open' or 'closed' for the consultation window at `now`."""
        now = now or utcnow()
        if self.opens_at and now < self.opens_at:
            return "upcoming"
        if self.closes_at and now >= self.closes_at:
            return "closed"
        if self.opens_at is None and self.closes_at is None:
            return "closed"  # published for reading only
        return "open"


class Lineage(db.Model):
    """The identity of a clause across versions of one document."""

    id = db.Column(db.Integer, primary_key=True)
    document_id = db.Column(db.Integer, db.ForeignKey("document.id"), nullable=False, index=True)

    document = db.relationship(Document)


class Clause(db.Model):
    __table_args__ = (
        db.UniqueConstraint("version_id", "key", name="uq_clause_version_key"),
        db.UniqueConstraint("version_id", "position", name="uq_clause_version_position"),
    )

    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False)
    parent_id = db.Column(db.Integer, db.ForeignKey("clause.id"))
    key = db.Column(db.String(80), nullable=False)
    explicit_key = db.Column(db.Boolean, nullable=False, default=False)
    number = db.Column(db.String(40), nullable=False)
    heading = db.Column(db.String(500), nullable=False)
    body = db.Column(db.Text, nullable=False)
    # Rendered once at import through markup.render_markdown; the body never changes afterwards.
    body_html = db.Column(db.Text, nullable=False)
    level = db.Column(db.Integer, nullable=False)
    position = db.Column(db.Integer, nullable=False)
    lineage_id = db.Column(db.Integer, db.ForeignKey("lineage.id"), index=True)
    # How this clause relates to its lineage in the previous version (drafts/lineage.py STATUSES), and how it was
    # matched ("key", "heading", "similarity", "manual"); empty for a document's first version.
    lineage_status = db.Column(db.String(20))
    lineage_method = db.Column(db.String(20))

    version = db.relationship(Version, back_populates="clauses")
    parent = db.relationship("Clause", remote_side=[id], lazy="select")
    lineage = db.relationship(Lineage, lazy="select")

    @property
    def parent_key(self) -> str | None:
        return self.parent.key if self.parent_id else None


class ClauseLink(db.Model):
    """One lineage link between a clause and a clause of the next version: where its text went or came from.

    The links with `primary` set are the lineage proper (they agree with `Clause.lineage_id`); the others record
    the further parts of a split and the further sources of a merge. `relation` is one of drafts/lineage.RELATIONS
    except "added" and "removed", which are clauses without links.
    """

    __table_args__ = (db.UniqueConstraint("old_clause_id", "new_clause_id", name="uq_clause_link_pair"),)

    id = db.Column(db.Integer, primary_key=True)
    old_clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"), nullable=False, index=True)
    new_clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"), nullable=False, index=True)
    relation = db.Column(db.String(20), nullable=False)
    method = db.Column(db.String(20), nullable=False)
    confidence = db.Column(db.Float, nullable=False, default=1.0)
    primary = db.Column(db.Boolean, nullable=False, default=True)

    old = db.relationship(Clause, foreign_keys=[old_clause_id], lazy="select")
    new = db.relationship(Clause, foreign_keys=[new_clause_id], lazy="select")
