"""Analysis results: campaigns, themes and extractive summaries, computed off the request path, only read by pages."""

from __future__ import annotations

from ..extensions import db
from .types import UTCDateTime, utcnow


class Campaign(db.Model):
    """Near-identical submissions of one version (a letter many people sent); every member is still a comment."""

    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False, index=True)
    representative_id = db.Column(db.Integer, db.ForeignKey("comment.id"), nullable=False)  # the template
    size = db.Column(db.Integer, nullable=False)
    computed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    representative = db.relationship("Comment", lazy="select")


class CampaignMember(db.Model):
    """A comment's place in a campaign (at most one campaign per comment)."""

    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), primary_key=True)
    campaign_id = db.Column(db.Integer, db.ForeignKey("campaign.id", ondelete="CASCADE"), nullable=False, index=True)
    similarity = db.Column(db.Float, nullable=False, default=1.0)  # estimated Jaccard with the template


class Theme(db.Model):
    """A group of comments on one topic. Automatic until a drafter edits it; an edited theme is kept as it is by
    recomputation (its label and members), and a deleted one stays deleted."""

    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False, index=True)
    clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"))  # empty: version-wide
    label = db.Column(db.String(200), nullable=False)
    key_terms = db.Column(db.JSON, nullable=False, default=list)
    edited = db.Column(db.Boolean, nullable=False, default=False)  # a drafter renamed, merged, split or moved
    deleted_at = db.Column(UTCDateTime)
    computed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class ThemeMember(db.Model):
    """A comment in a theme (one per comment); pinned when a drafter put it there or deleted its theme, so that
    recomputation leaves it where the drafter left it."""

    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), primary_key=True)
    theme_id = db.Column(db.Integer, db.ForeignKey("theme.id"), nullable=False, index=True)
    weight = db.Column(db.Float, nullable=False, default=0.0)  # how strongly the comment belongs (for ordering)
    pinned = db.Column(db.Boolean, nullable=False, default=False)


class ClauseSummary(db.Model):
    """An extractive summary of a clause's comments (or of the general comments): sentences with their sources."""

    __table_args__ = (db.UniqueConstraint("version_id", "clause_id", name="uq_clause_summary_version_clause"),)

    id = db.Column(db.Integer, primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False, index=True)
    clause_id = db.Column(db.Integer, db.ForeignKey("clause.id"))
    # [{"text": sentence, "comment_ids": [...]}, ...]; only non-confidential visible comments feed it.
    sentences = db.Column(db.JSON, nullable=False, default=list)
    approved_at = db.Column(UTCDateTime)
    approved_by_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    computed_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class AnalysisRun(db.Model):
    """When a version's analysis last ran, and the highest comment id it saw (for incremental runs)."""

    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), primary_key=True)
    last_comment_id = db.Column(db.Integer, nullable=False, default=0)
    comment_count = db.Column(db.Integer, nullable=False, default=0)
    finished_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    seconds = db.Column(db.Float, nullable=False, default=0.0)


class CommentSignature(db.Model):
    """A comment's MinHash signature (analysis/campaigns.py), kept so later runs compare new comments only."""

    comment_id = db.Column(db.Integer, db.ForeignKey("comment.id"), primary_key=True)
    version_id = db.Column(db.Integer, db.ForeignKey("version.id"), nullable=False, index=True)
    body_hash = db.Column(db.BigInteger, nullable=False)  # crc32 of the body it was computed from
    shingles = db.Column(db.Integer, nullable=False)
    signature = db.Column(db.LargeBinary, nullable=False)
