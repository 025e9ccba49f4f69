"""SQLAlchemy models. Importing this package registers every table."""

from .accounts import Organisation, User, UserSession
from .analysis import AnalysisRun, Campaign, CampaignMember, ClauseSummary, CommentSignature, Theme, ThemeMember
from .consultation import (
    Assignment,
    Comment,
    CommentRevision,
    Disposition,
    DispositionHistory,
    Endorsement,
    OpenQuestion,
    Report,
    SearchOutbox,
)
from .documents import Clause, ClauseLink, Document, Lineage, Version
from .moderation import AuditEntry, Invitation, OneTimeToken, ThrottleEvent
from .notifications import (
    Follow,
    MailOutbox,
    Notification,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
    SentNotice,
)
from .types import UTCDateTime, utcnow

__all__ = [
    "Assignment",
    "Comment",
    "CommentRevision",
    "Disposition",
    "DispositionHistory",
    "Endorsement",
    "OpenQuestion",
    "Report",
    "SearchOutbox",
    "AuditEntry",
    "Invitation",
    "OneTimeToken",
    "ThrottleEvent",
    "Clause",
    "ClauseLink",
    "Document",
    "Lineage",
    "Organisation",
    "User",
    "UserSession",
    "UTCDateTime",
    "Version",
    "utcnow",
    "Follow",
    "MailOutbox",
    "Notification",
    "NotificationPreference",
    "NotificationSettings",
    "SentNotice",
    "NotificationEvent",
    "AnalysisRun",
    "Campaign",
    "CampaignMember",
    "ClauseSummary",
    "CommentSignature",
    "Theme",
    "ThemeMember",
]
