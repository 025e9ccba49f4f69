"""Who may do what. Views and templates ask the same can_* rules."""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    PARTICIPANT = "participant"
    DRAFTER = "drafter"
    MODERATOR = "moderator"
    ADMIN = "admin"


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def has_role(user, *roles: Role) -> bool:
    """True when the user is signed in, not suspended, and holds one of the roles (admins hold every role)."""
    if not _signed_in(user) or user.status not in ("active", "pending"):
        return False
    if user.role == Role.ADMIN.value:
        return True
    return user.role in {r.value for r in roles}


def is_active_staff(user, *roles: Role) -> bool:
    """Staff rights need an active (approved) account, not a pending one."""
    return has_role(user, *roles) and user.status == "active"


def can_view_document(user, document) -> bool:
    """Published documents are public."""
    return True


def can_view_version(user, version) -> bool:
    """Published versions are public."""
    return True


def can_publish_version(user, document=None) -> bool:
    """Drafters (and admins) publish new documents and versions."""
    return is_active_staff(user, Role.DRAFTER)


def can_use_staff_pages(user) -> bool:
    """Drafters, moderators and admins see the staff links."""
    return is_active_staff(user, Role.DRAFTER, Role.MODERATOR)


def can_comment(user) -> bool:
    """Only approved (active) accounts take part; pending ones may read only."""
    return _signed_in(user) and user.status == "active"


def can_moderate(user) -> bool:
    """Moderators and admins handle registrations, accounts, reports and invitations."""
    return is_active_staff(user, Role.MODERATOR)


def can_view_audit(user) -> bool:
    """Only moderators and admins read the audit log."""
    return is_active_staff(user, Role.MODERATOR)


def can_grant_role(actor, target, role: str) -> bool:
    """Moderators set participant or drafter; only admins grant moderator or admin. Nobody changes their own role."""
    if not can_moderate(actor) or actor.id == target.id:
        return False
    if role in (Role.MODERATOR.value, Role.ADMIN.value) or target.role in (Role.MODERATOR.value, Role.ADMIN.value):
        return actor.role == Role.ADMIN.value
    return True


def can_suspend(actor, target) -> bool:
    """Moderators suspend participants and drafters; admins anyone but themselves."""
    if not can_moderate(actor) or actor.id == target.id:
        return False
    if target.role in (Role.MODERATOR.value, Role.ADMIN.value):
        return actor.role == Role.ADMIN.value
    return True
