"""Accounts: creating users, passwords, and server-side sessions."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..extensions import db
from ..logs import get_logger
from ..mail import send_mail
from ..models import Invitation, OneTimeToken, Organisation, User, UserSession, utcnow
from ..params import parse_id
from ..permissions import Role
from ..vocabulary import STAKEHOLDER_GROUPS
from ..web import external_url
from . import ServiceError

log = get_logger("consult.auth")

PASSWORD_MIN, PASSWORD_MAX = 12, 128
# Checked against when an email is unknown, so a sign-in takes as long either way.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing", method="scrypt")


def _personal_words(inputs: list[str]) -> list[str]:
    """The user's own details as zxcvbn dictionary words: whole, the email's local part, and each word."""
    words: set[str] = set()
    for value in inputs:
        value = (value or "").strip().lower()
        if not value:
            continue
        local = value.split("@", 1)[0]
        words.update({value, local})
        words.update(w for w in re.split(r"[^a-z0-9]+", value) if len(w) >= 3)
    return sorted(words)


def password_problem(password: str, *, user_inputs: list[str] | None = None) -> str | None:
    """Why a password is refused, or None: 12 to 128 characters, and zxcvbn score of at least 3."""
    if len(password) < PASSWORD_MIN:
        return ngettext("Use at least %(num)d character.", "Use at least %(num)d characters.", PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return ngettext("Use at most %(num)d character.", "Use at most %(num)d characters.", PASSWORD_MAX)
    # zxcvbn refuses anything past its max_length (72 by default), so raise it to the longest password allowed;
    # at 128 characters it still takes well under a tenth of a second.
    result = zxcvbn(password, user_inputs=_personal_words(user_inputs or []), max_length=PASSWORD_MAX)
    if result["score"] < 3:
        return _(
            "This password is too easy to guess (it is common or follows a simple pattern). Try a few unrelated words."
        )
    return None


# ASCII digits only, and nothing after them (\d and $ would let other scripts' digits and a newline through).
TRANSPARENCY_ID = re.compile(r"[0-9]{9,12}-[0-9]{2}\Z")


def _build_user(
    email: str, password: str, *, role: str, display_name: str | None, status: str, stakeholder_group: str, organisation
) -> User:
    """Check and build an account without committing; refuses a taken email or a weak password."""
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
    if email_taken(email):
        raise ServiceError(_("An account with this email already exists."), field="email")
    user = User(
        email=email,
        display_name=(display_name or email.split("@")[0]).strip()[:120],
        role=role,
        status=status,
        stakeholder_group=stakeholder_group,
        organisation=organisation,
    )
    if status == "active":
        user.approved_at = utcnow()
    user.set_password(password)
    db.session.add(user)
    return user


def create_user(
    email: str,
    password: str,
    *,
    role: str = "participant",
    display_name: str | None = None,
    status: str = "active",
    stakeholder_group: str = "other",
    organisation=None,
) -> User:
    """Create an account with a hashed password; refuses a taken email or a weak password."""
    user = _build_user(
        email,
        password,
        role=role,
        display_name=display_name,
        status=status,
        stakeholder_group=stakeholder_group,
        organisation=organisation,
    )
    db.session.commit()
    return user


def email_taken(email: str) -> bool:
    """True when an account already uses this address (compared case-insensitively)."""
    return db.session.scalar(db.select(User.id).where(User.email == User.normalise_email(email))) is not None


def _organisation(name: str | None, transparency_id: str | None) -> Organisation | None:
    name, transparency_id = (name or "").strip(), (transparency_id or "").strip()
    if transparency_id and not TRANSPARENCY_ID.match(transparency_id):
        raise ServiceError(
            _("Enter a Transparency Register id like 123456789012-34."), field="transparency_register_id"
        )
    if not name:
        return None
    return Organisation(name=name[:200], transparency_register_id=transparency_id or None)


def register(
    *,
    email: str,
    password: str,
    display_name: str,
    stakeholder_group: str,
    organisation_name: str | None = None,
    transparency_register_id: str | None = None,
) -> User | None:
    """Self-registration: a pending (or auto-approved) account; for a taken email, None and a warning to its owner."""
    email = User.normalise_email(email)
    problem = password_problem(password, user_inputs=[email, display_name])
    if problem:
        raise ServiceError(problem, field="password")
    organisation = _organisation(organisation_name, transparency_register_id)
    existing = db.session.scalar(db.select(User).where(User.email == email))
    if existing is not None:
        # Answer as for a new account, so the form does not reveal who is registered; hash anyway for equal timing.
        generate_password_hash(password, method="scrypt")
        log.info("register refused: email already registered user=%s", existing.id)
        account_limit, _ip_limit = _limits("register")
        if not account_limit.hit(email).allowed:
            # The owner was told already; the same answer, without one more mail in their inbox.
            log.warning("register warning mail withheld (too many) user=%s", existing.id)
            return None
        send_mail(
            existing.email,
            _("Someone tried to register with your email address"),
            _(
                "Someone tried to create a new Consult account with this email address, which already has an "
                "account.\n\n"
                "If it was you, sign in instead, or reset your password here: %(url)s\n\n"
                "If it was not you, you can ignore this message; your account has not changed.",
                url=external_url("auth.reset"),
            ),
        )
        return None
    status = "active" if current_app.config.get("CONSULT_AUTO_APPROVE") else "pending"
    user = _build_user(
        email,
        password,
        role=Role.PARTICIPANT.value,
        display_name=display_name,
        status=status,
        stakeholder_group=stakeholder_group,
        organisation=organisation,
    )
    user.consented_at = utcnow()
    db.session.commit()
    log.info("register user=%s status=%s", user.id, status)
    if status == "pending":
        body = _(
            "Your Consult account has been created. A moderator will review it soon; until then you can "
            "sign in and read, but not comment.\n\nSign in: %(url)s",
            url=external_url("auth.sign_in"),
        )
    else:
        body = _(
            "Your Consult account has been created and you can take part at once.\n\nSign in: %(url)s",
            url=external_url("auth.sign_in"),
        )
    send_mail(user.email, _("Your Consult account"), body)
    return user


def new_token() -> str:
    """A fresh random token for a link or cookie (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The sha256 hex digest under which a token is stored (links and cookies carry the token itself)."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password match and who may sign in, else None (same cost either way)."""
    user = db.session.scalar(db.select(User).where(User.email == User.normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def _limits(kind: str):
    """The per-account and per-address limits for sign-in or reset requests."""
    from ..throttle import limit_from_config

    if kind == "signin":
        return (
            limit_from_config("signin_account", 5, 900, default_slow=3),
            limit_from_config("signin_ip", 20, 900, default_slow=10),
        )
    if kind == "register":
        return limit_from_config("register_account", 3, 3600), limit_from_config("register_ip", 10, 3600)
    return limit_from_config("reset_account", 3, 3600), limit_from_config("reset_ip", 5, 3600)


def minutes_left(decision) -> int:
    """Whole minutes, rounded up, until a refused action may be tried again."""
    return max(1, math.ceil((getattr(decision, "retry_after", 0) or 0) / 60))


def sign_in_refused(email: str, address: str | None):
    """The throttle decision that refuses a sign-in attempt for this account or address, else None."""
    account_limit, ip_limit = _limits("signin")
    for limit, key in ((account_limit, User.normalise_email(email)), (ip_limit, address or "unknown")):
        decision = limit.check(key)
        if not decision.allowed:
            log.warning("sign-in locked out account=%r ip=%r", User.normalise_email(email), address)
            return decision
    return None


def sign_in_failed(email: str, address: str | None) -> bool:
    """Count a failed sign-in against the account and the address; True once attempts are to be slowed."""
    account_limit, ip_limit = _limits("signin")
    by_account = account_limit.hit(User.normalise_email(email))
    by_address = ip_limit.hit(address or "unknown")
    log.warning("sign-in failed account=%r ip=%r", User.normalise_email(email), address)
    slow = by_account.slow_down or by_address.slow_down
    if slow:
        # A short pause per attempt past the threshold makes guessing slow without locking anyone out yet.
        time.sleep(current_app.config.get("CONSULT_SIGNIN_DELAY_SECONDS", 1))
    return slow


def sign_in_succeeded(user: User) -> None:
    """Forget the failed attempts of an account after a good sign-in."""
    account_limit, _ip_limit = _limits("signin")
    account_limit.clear(user.email)


def start_session(user: User, *, remember: bool = False) -> str:
    """Record a new server-side session for a sign-in and return its token."""
    token = new_token()
    db.session.add(UserSession(token_hash=hash_token(token), user_id=user.id, remember=remember))
    user.last_sign_in_at = utcnow()
    db.session.commit()
    user.current_session_token = token
    log.info("sign-in user=%s", user.id)
    return token


def end_session(user: User) -> None:
    """End the server-side session the user is signed in with."""
    token = getattr(user, "current_session_token", None)
    if token:
        row = db.session.get(UserSession, hash_token(token))
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
    if not token or parse_id(user_id) is None:
        return None
    row = db.session.get(UserSession, hash_token(token))
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


def _end_sessions(user: User, *, keep_token: str | None = None) -> int:
    """Mark every live session of the user as ended, except the one with `keep_token`; no commit."""
    keep = hash_token(keep_token) if keep_token else None
    now, ended = utcnow(), 0
    rows = db.session.scalars(
        db.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )
    for row in rows:
        if row.token_hash != keep:
            row.ended_at = now
            ended += 1
    return ended


# --- invitations ------------------------------------------------------------------------------------------


def find_invitation(token: str) -> Invitation | None:
    """The unused, unexpired invitation a link's token names, else None."""
    invitation = db.session.scalar(db.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if (
        invitation is None
        or invitation.used_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= utcnow()
    ):
        return None
    return invitation


def accept_invitation(
    token: str,
    *,
    email: str,
    password: str,
    display_name: str,
    stakeholder_group: str,
    organisation_name: str | None = None,
    transparency_register_id: str | None = None,
) -> User:
    """Create an active account with the invitation's role and use up the invitation, in one transaction."""
    invitation = find_invitation(token)
    if invitation is None:
        raise ServiceError(_("This invitation link is not valid or has expired."))
    if invitation.email and User.normalise_email(email) != User.normalise_email(invitation.email):
        raise ServiceError(_("This invitation is for a different email address."), field="email")
    email = User.normalise_email(invitation.email or email)
    if email_taken(email):
        raise ServiceError(_("This email cannot be used. If it is yours, sign in instead."), field="email")
    organisation = _organisation(organisation_name, transparency_register_id)
    user = _build_user(
        email,
        password,
        role=invitation.role,
        display_name=display_name,
        status="active",
        stakeholder_group=stakeholder_group,
        organisation=organisation,
    )
    user.consented_at = utcnow()
    db.session.flush()
    # Claim the invitation with a guarded update, so two tabs racing on one link cannot both succeed.
    claimed = db.session.execute(
        db.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow(), used_by_id=user.id)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise ServiceError(_("This invitation link is not valid or has expired."))
    db.session.commit()
    log.info("invitation accepted invitation=%s user=%s role=%s", invitation.id, user.id, user.role)
    return user


def register_refused_for_address(address: str | None):
    """Count a registration attempt from an address; the refusing throttle decision past the limit, else None."""
    _account_limit, ip_limit = _limits("register")
    decision = ip_limit.hit(address or "unknown")
    if not decision.allowed:
        log.warning("registration locked out ip=%r", address)
        return decision
    return None


# --- password reset ---------------------------------------------------------------------------------------


def reset_refused_for_address(address: str | None):
    """Count a reset request from an address; the refusing throttle decision when it asked too often, else None."""
    _account_limit, ip_limit = _limits("reset")
    decision = ip_limit.check(address or "unknown")
    if not decision.allowed:
        log.warning("reset locked out ip=%r", address)
        return decision
    ip_limit.hit(address or "unknown")
    return None


def request_password_reset(email: str) -> None:
    """Mail a reset link to a known active or pending account; silently nothing otherwise (no enumeration)."""
    email = User.normalise_email(email)
    account_limit, _ip_limit = _limits("reset")
    decision = account_limit.check(email)
    if not decision.allowed:
        log.warning("reset locked out account=%r", email)
        return
    account_limit.hit(email)
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None or not user.is_active:
        log.info("reset requested for no usable account")
        return
    token = new_token()
    minutes = current_app.config.get("CONSULT_RESET_TOKEN_MINUTES", 60)
    db.session.add(
        OneTimeToken(
            token_hash=hash_token(token),
            purpose="reset",
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    db.session.commit()
    log.info("reset requested user=%s", user.id)
    send_mail(
        user.email,
        _("Reset your Consult password"),
        _(
            "Someone (probably you) asked to reset the password of your Consult account.\n\n"
            "Choose a new password here within %(n)d minutes: %(url)s\n\n"
            "If you did not ask for this, ignore this message; your password stays as it is.",
            n=minutes,
            url=external_url("auth.reset_with_token", token=token),
        ),
    )


def _void_reset_links(user: User) -> None:
    """Mark every outstanding reset link of the account used; the caller commits."""
    db.session.execute(
        db.update(OneTimeToken)
        .where(OneTimeToken.user_id == user.id, OneTimeToken.purpose == "reset", OneTimeToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def find_reset_token(token: str) -> OneTimeToken | None:
    """The unused, unexpired reset token a link names, else None."""
    row = db.session.scalar(
        db.select(OneTimeToken).where(OneTimeToken.token_hash == hash_token(token), OneTimeToken.purpose == "reset")
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link, use up the link, and end every session of the account."""
    row = find_reset_token(token)
    user = db.session.get(User, row.user_id) if row else None
    if row is None or user is None or not user.is_active:
        raise ServiceError(_("This password reset link is not valid or has expired."))
    problem = password_problem(password, user_inputs=[user.email, user.display_name])
    if problem:
        raise ServiceError(problem, field="password")
    now = utcnow()
    claimed = db.session.execute(
        db.update(OneTimeToken).where(OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise ServiceError(_("This password reset link is not valid or has expired."))
    _void_reset_links(user)  # any other reset link still in the mail becomes useless too
    user.set_password(password)
    ended = _end_sessions(user)
    db.session.commit()
    # The rightful owner proved control of the mailbox: a lock-out that someone else caused with wrong
    # passwords must not keep them out (ASVS 6.3), so the account's failed sign-ins are forgotten.
    sign_in_succeeded(user)
    log.info("password reset user=%s sessions_ended=%s", user.id, ended)
    return user


# --- the account page -------------------------------------------------------------------------------------


def _check_own_password(user: User, password: str, field: str, message: str) -> None:
    """Check a signed-in user's password, throttled like sign-in: past the limit even the right one is refused."""
    from ..throttle import limit_from_config

    limit = limit_from_config("password_check", 5, 900)
    decision = limit.check(str(user.id))
    if not decision.allowed:
        log.warning("password checks locked out user=%s", user.id)
        raise ServiceError(
            ngettext(
                "Too many wrong passwords. Try again in %(num)d minute.",
                "Too many wrong passwords. Try again in %(num)d minutes.",
                minutes_left(decision),
            ),
            field=field,
            status=429,
        )
    if not user.check_password(password):
        limit.hit(str(user.id))
        raise ServiceError(message, field=field)
    limit.clear(str(user.id))


def change_password(user: User, current_password: str, new_password: str) -> User:
    """Change a password after checking the current one; ends every other session and every reset link."""
    _check_own_password(user, current_password, "current_password", _("Your current password is not right."))
    problem = password_problem(new_password, user_inputs=[user.email, user.display_name])
    if problem:
        raise ServiceError(problem, field="new_password")
    user.set_password(new_password)
    _void_reset_links(user)
    ended = _end_sessions(user, keep_token=getattr(user, "current_session_token", None))
    db.session.commit()
    log.info("password changed user=%s other_sessions_ended=%s", user.id, ended)
    return user


def change_email(user: User, new_email: str, password: str) -> User:
    """Change the sign-in address after checking the password; the old address is told. Ends every other
    session and every reset link (one sent to the old address must not work any more)."""
    _check_own_password(user, password, "password", _("Your password is not right."))
    new_email = User.normalise_email(new_email)
    if "@" not in new_email or new_email == user.email or email_taken(new_email):
        raise ServiceError(_("This email cannot be used."), field="email")
    old_email = user.email
    user.email = new_email
    _void_reset_links(user)
    _end_sessions(user, keep_token=getattr(user, "current_session_token", None))
    db.session.commit()
    log.info("email changed user=%s", user.id)
    send_mail(
        old_email,
        _("The email address of your Consult account changed"),
        _(
            "The email address of your Consult account was changed to another address.\n\n"
            "If you did not do this, reset your password at %(url)s and tell the moderators.",
            url=external_url("auth.reset"),
        ),
    )
    return user
