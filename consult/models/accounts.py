"""Accounts: users and the organisations they speak for."""

from __future__ import annotations

from flask_babel import gettext
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import UTCDateTime, utcnow


class Organisation(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    # EU Transparency Register id: 9-12 digits, a hyphen, 2 digits.
    transparency_register_id = db.Column(db.String(20))
    verified = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive.
    email = db.Column(db.String(254), nullable=False, unique=True)
    display_name = db.Column(db.String(120), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(20), nullable=False, default="participant")
    status = db.Column(db.String(20), nullable=False, default="pending")
    stakeholder_group = db.Column(db.String(40), nullable=False, default="other")
    organisation_id = db.Column(db.Integer, db.ForeignKey("organisation.id"))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    approved_at = db.Column(UTCDateTime)
    last_sign_in_at = db.Column(UTCDateTime)
    consented_at = db.Column(UTCDateTime)  # agreed to the privacy notice
    status_reason = db.Column(db.Text)  # why the account was rejected or suspended, shown to the user

    organisation = db.relationship(Organisation, lazy="joined")

    @staticmethod
    def normalise_email(email: str) -> str:
        """Email addresses compare case-insensitively, so they are stored lower-cased."""
        return (email or "").strip().lower()

    def set_password(self, password: str) -> None:
        """Hash with werkzeug's scrypt."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        # Pending accounts may sign in and read; suspended and rejected ones may not.
        return self.status in ("active", "pending")

    # The server-side session this request runs under; set by the session loader or at sign-in.
    current_session_token = None

    @property
    def shown_name(self) -> str:
        """The name pages show: a closed account's is "a former participant", in the reader's language."""
        if self.status == "closed":
            return str(gettext("a former participant"))
        return self.display_name

    def get_id(self) -> str:
        # Binds the cookie (and the remember-me cookie) to one server-side session row.
        return f"{self.id}:{self.current_session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserSession(db.Model):
    """A server-side record of one sign-in, so that sign-out and password changes really end sessions."""

    token_hash = db.Column(db.String(64), primary_key=True)  # sha256 of the token in the cookie
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False, index=True)
    remember = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    ended_at = db.Column(UTCDateTime)

    user = db.relationship(User, lazy="joined")
