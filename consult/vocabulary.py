"""The fixed values stored in the database and used in URLs, with their labels for people."""

from flask_babel import lazy_gettext as _l

STAKEHOLDER_GROUPS = {
    "gpai-provider": _l("GPAI model providers"),
    "industry": _l("Downstream providers and industry"),
    "civil-society": _l("Civil society"),
    "academia": _l("Academia and independent experts"),
    "rightsholder": _l("Rightsholders"),
    "public-authority": _l("Public authorities"),
    "other": _l("Other"),
}

ROLES = {
    "participant": _l("Participant"),
    "drafter": _l("Drafter"),
    "moderator": _l("Moderator"),
    "admin": _l("Administrator"),
}

ACCOUNT_STATUSES = {
    "pending": _l("Awaiting approval"),
    "active": _l("Active"),
    "suspended": _l("Suspended"),
    "rejected": _l("Rejected"),
    "closed": _l("Closed by its owner"),
}

COMMENT_TYPES = {
    "remark": _l("General remark"),
    "concern": _l("Concern"),
    "suggestion": _l("Suggestion for change"),
    "question": _l("Question"),
    "support": _l("Support"),
}

STANCES = {
    "support": _l("Support"),
    "support-with-changes": _l("Support with changes"),
    "oppose": _l("Oppose"),
}

VISIBILITIES = {
    "public": _l("Public, with my name and organisation"),
    "pseudonymous": _l("Public, with only my stakeholder group"),
    "confidential": _l("Drafters only (confidential)"),
}

REPORT_CATEGORIES = {
    "off-topic": _l("Off-topic: not about this clause or the code"),
    "abusive": _l("Abusive, hateful or threatening"),
    "personal-data": _l("Reveals someone's personal data"),
    "spam": _l("Spam or advertising"),
    "other": _l("Something else"),
}

# The same values in the drafters' and moderators' words (filters, tables, exports).
VISIBILITY_NAMES = {
    "public": _l("Public with name"),
    "pseudonymous": _l("Pseudonymous"),
    "confidential": _l("Confidential"),
}

COMMENT_STATUSES = {
    "visible": _l("Received and shown as you chose"),
    "hidden": _l("Hidden from the public by a moderator"),
    "withdrawn": _l("Withdrawn by its author"),
}

DISPOSITIONS = {
    "accepted": _l("Accepted"),
    "partly-accepted": _l("Partly accepted"),
    "rejected": _l("Rejected"),
    "noted": _l("Noted"),
    "out-of-scope": _l("Out of scope"),
    "duplicate": _l("Duplicate"),
}

VERSION_STATUSES = {
    "upcoming": _l("Upcoming"),
    "open": _l("Open"),
    "closed": _l("Closed"),
}

LINEAGE_STATUSES = {
    "unchanged": _l("Unchanged"),
    "modified": _l("Changed since the previous version"),
    "renumbered": _l("Renumbered"),
    "moved": _l("Moved"),
    "split": _l("Split"),
    "merged": _l("Merged"),
    "added": _l("New in this version"),
    "removed": _l("Removed"),
}

# The audit log: what each action and target is called, and the labels of the fields and values it records.
AUDIT_ACTIONS = {
    "approve": _l("Registration approved"),
    "reject": _l("Registration rejected"),
    "role": _l("Role changed"),
    "suspend": _l("Account suspended"),
    "reactivate": _l("Account reactivated"),
    "verify-organisation": _l("Organisation verified"),
    "invitation": _l("Invitation created"),
    "revoke-invitation": _l("Invitation revoked"),
    "hide": _l("Comment hidden"),
    "restore": _l("Comment restored"),
    "dismiss": _l("Report dismissed"),
    "adopt-wording": _l("Proposed wording adopted"),
    "document-settings": _l("Document settings changed"),
    "window": _l("Consultation window changed"),
    "close-account": _l("Account closed by its owner"),
}

AUDIT_TARGET_TYPES = {
    "user": _l("Account"),
    "organisation": _l("Organisation"),
    "invitation": _l("Invitation"),
    "comment": _l("Comment"),
    "report": _l("Report"),
    "document": _l("Document"),
    "version": _l("Version"),
}

AUDIT_FIELDS = {
    "status": _l("Status"),
    "role": _l("Role"),
    "verified": _l("Verified"),
    "email": _l("Email address"),
    "expires_at": _l("Expires (UTC)"),
    "revoked_at": _l("Revoked"),
    "clause_id": _l("Clause"),
    "version_id": _l("Version"),
    "next_version": _l("Next version"),
    "title": _l("Title"),
    "summary": _l("Summary"),
    "landing": _l("Landing text"),
    "label": _l("Label"),
    "opens_at": _l("Opens (UTC)"),
    "closes_at": _l("Closes (UTC)"),
    "comments": _l("Comments"),
}

AUDIT_VALUES = {
    **ROLES,
    **ACCOUNT_STATUSES,
    "visible": _l("Visible"),
    "hidden": _l("Hidden by a moderator"),
    "open": _l("Open"),
    "actioned": _l("Acted on"),
    "dismissed": _l("Dismissed"),
    "keep": _l("Kept under “a former participant”"),
    "withdraw": _l("Withdrawn"),
}

# Notifications (services/notifications.py): the kinds a person can choose for, and how each is delivered.
NOTIFICATION_KINDS = {
    "receipt": _l("Receipt of each comment I post"),
    "reply": _l("Replies to my comments"),
    "disposition": _l("The drafters' decision and response on my comments"),
    "review": _l("The response to the comments on a version I commented on"),
    "new_version": _l("New versions of documents I follow"),
    "window": _l("Consultation windows of documents I follow: changes, and opening or closing within 48 hours"),
    "clause_activity": _l("New comments on clauses I follow"),
    "moderated": _l("My comments hidden or restored by a moderator"),
    "account": _l("My account approved, rejected, suspended or reactivated"),
    "moderation_summary": _l("For moderators: registrations and reports waiting (once a day)"),
}

NOTIFICATION_DELIVERIES = {
    "immediately": _l("Immediately"),
    "daily": _l("In a daily digest"),
    "weekly": _l("In a weekly digest"),
    "never": _l("Never by mail"),
}
