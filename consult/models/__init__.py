"""SQLAlchemy models. Importing this package registers every table."""
from .accounts import Organisation, User, UserSession
from .analysis import (AnalysisRun, Campaign, CampaignMember, ClauseSummary, CommentSignature, Theme,
                       ThemeMember)
from .consultation import (Assignment, Comment, CommentRevision, Disposition, DispositionHistory, Endorsement,
                           OpenQuestion, Report, SearchOutbox)
from .documents import Clause, Document, Lineage, Version
from .moderation import AuditEntry, Invitation, OneTimeToken, ThrottleEvent
from .types import UTCDateTime, utcnow

__all__ = ["Assignment", "Comment", "CommentRevision", "Disposition", "DispositionHistory", "Endorsement",
           "OpenQuestion", "Report", "SearchOutbox", "AnalysisRun", "Campaign", "CampaignMember", "ClauseSummary",
           "CommentSignature",
           "Theme", "ThemeMember", "AuditEntry", "Invitation", "OneTimeToken", "ThrottleEvent", "Clause", "Document", "Lineage", "Organisation", "User", "UserSession", "UTCDateTime", "Version", "utcnow"]
