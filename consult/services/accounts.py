"""Accounts: creating users, passwords, and server-side sessions."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from ..extensions import db
from ..models import User, UserSession, utcnow
from ..permissions import Role
from ..vocabulary import STAKEHOLDER_GROUPS
from . import ServiceError

log = logging.getLogger("consult.auth")

PASSWORD_MIN, PASSWORD_MAX = 12, 128
# Checked against when an email is unknown, so a sign-in takes as long either way.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing", method="scrypt")


def password_problem(password: str, *, user_inputs: list[str] | None = None) -> str | None:
    """Why a password is refused, or None: 12 to 128 characters, and zxcvbn score of at least 3."""
    if len(password) < PASSWORD_MIN:
        return _("Use at least %(n)d characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("Use at most %(n)d characters.", n=PASSWORD_MAX)
    # zxcvbn's cost grows with length; the first 100 characters decide its score well enough.
    result = zxcvbn(password[:100], user_inputs=[u for u in (user_inputs or []) if u])
    if result["score"] < 3:
        return _("This password is too easy to guess (it is common or follows a simple pattern). "
                 "Try a few unrelated words.")
    return None


def create_user(email: str, password: str, *, role: str = "participant", display_name: str | None = None,
                status: str = "active", stakeholder_group: str = "other", organisation=None) -> User:
    """Create an account with a hashed password; refuses a taken email or a weak password."""
    email = User.normalise_email(email)
    if "@" not in email:
        raise ServiceError(_("Enter a valid email address."), field="email")
    if role not in {r.value for r in Role}:
        raise ServiceError(_("Unknown role '%(role)s'.", role=role), field="role")
    if stakeholder_group not in STAKEHOLDER_GROUPS:
        raise ServiceError(_("Unknown stakeholder group '%(g)s'.", g=stakeholder_group), field="stakeholder_group")
    problem = password_problem(password, user_inputs=[email, display_name or ""])
    if problem:
        raise ServiceError(problem, field="password")
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise ServiceError(_("An account with this email already exists."), field="email")
    user = User(email=email, display_name=(display_name or email.split("@")[0]).strip()[:120], role=role,
                status=status, stakeholder_group=stakeholder_group, organisation=organisation)
    if status == "active":
        user.approved_at = utcnow()
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def new_token() -> str:
    """A fresh random token for a link or cookie (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The sha256 hex digest under which a token is stored (links and cookies carry the token itself)."""
    return hashlib.sha256((token or "").encode()).hexdigest()


_token_hash = hash_token


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password match and who may sign in, else None (same cost either way)."""
    user = db.session.scalar(db.select(User).where(User.email == User.normalise_email(email)))
    if user is None:
        from werkzeug.security import check_password_hash
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def start_session(user: User, *, remember: bool = False) -> str:
    """Record a new server-side session for a sign-in and return its token."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, remember=remember))
    user.last_sign_in_at = utcnow()
    db.session.commit()
    user.current_session_token = token
    log.info("sign-in user=%s", user.id)
    return token


def end_session(user: User) -> None:
    """End the server-side session the user is signed in with."""
    token = getattr(user, "current_session_token", None)
    if token:
        row = db.session.get(UserSession, _token_hash(token))
        if row and row.ended_at is None:
            row.ended_at = utcnow()
            db.session.commit()
    log.info("sign-out user=%s", user.id)


def _session_expired(row: UserSession, now) -> bool:
    cfg = current_app.config
    if row.remember:
        limit = timedelta(days=cfg.get("CONSULT_REMEMBER_DAYS", 14))
        return now - row.created_at > limit
    idle = timedelta(minutes=cfg.get("CONSULT_SESSION_IDLE_MINUTES", 60))
    absolute = timedelta(hours=cfg.get("CONSULT_SESSION_ABSOLUTE_HOURS", 12))
    return now - row.last_seen_at > idle or now - row.created_at > absolute


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the user of a live, unexpired session row, else None."""
    user_id, _sep, token = (session_id or "").partition(":")
    if not token or not user_id.isdigit():
        return None
    row = db.session.get(UserSession, _token_hash(token))
    now = utcnow()
    if row is None or row.ended_at is not None or row.user_id != int(user_id):
        return None
    if _session_expired(row, now) or not row.user.is_active:
        if row.ended_at is None:
            row.ended_at = now
            db.session.commit()
        return None
    # Touch at most once a minute, so reading pages does not write on every request.
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        db.session.commit()
    row.user.current_session_token = token
    return row.user
