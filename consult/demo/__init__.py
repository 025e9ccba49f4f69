"""The demo content: an original sample code of practice in two versions, with accounts for each role."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from flask_babel import gettext as _

from ..extensions import db
from ..models import Document, Organisation, User, utcnow
from ..services import ServiceError
from ..services import accounts as account_service
from ..services import documents as document_service
from .comments import load_demo_comments

HERE = Path(__file__).resolve().parent
SLUG = "transparency-code"

# (email, role, display name, stakeholder group, organisation)
ACCOUNTS = [
    ("admin@demo.consult.example", "admin", "Ada Administrator", "other", None),
    ("moderator@demo.consult.example", "moderator", "Milan Moderator", "other", None),
    (
        "drafter@demo.consult.example",
        "drafter",
        "Dora Drafter",
        "public-authority",
        "Office for Digital Model Oversight",
    ),
    ("provider@demo.consult.example", "participant", "Priya Natarajan", "gpai-provider", "Northwind Models"),
    ("civil@demo.consult.example", "participant", "Tomás Ferreira", "civil-society", "Open Algorithms Watch"),
    ("academic@demo.consult.example", "participant", "Dr Ines Kowalczyk", "academia", "Institute for Model Evaluation"),
    ("industry@demo.consult.example", "participant", "Lukas Brenner", "industry", "Applied AI Integrators Association"),
]


def new_password() -> str:
    """A random password, shown once at load; none is fixed in the code."""
    return secrets.token_urlsafe(15)


def database_is_empty() -> bool:
    """True when there is no document and no account yet."""
    return not (
        db.session.scalar(db.select(db.func.count(Document.id))) or db.session.scalar(db.select(db.func.count(User.id)))
    )


def load_demo() -> list[tuple[str, str, str]]:
    """Load accounts and both versions of the demo code; refuses a database that has content."""
    if not database_is_empty():
        raise ServiceError(_("The database already has content; the demo loads only into an empty one."))
    accounts = []
    for email, role, name, group, org_name in ACCOUNTS:
        password = new_password()
        organisation = Organisation(name=org_name) if org_name else None
        account_service.create_user(
            email, password, role=role, display_name=name, stakeholder_group=group, organisation=organisation
        )
        accounts.append((email, role, password))
    now = utcnow()
    drafter = db.session.scalar(db.select(User).where(User.role == "drafter"))
    first = document_service.publish_version(
        slug=SLUG,
        data=(HERE / "transparency-code-v1.md").read_bytes(),
        label="First draft",
        opens_at=now - timedelta(days=120),
        closes_at=now - timedelta(days=75),
        actor=drafter,
    )
    second = document_service.publish_version(
        slug=SLUG,
        data=(HERE / "transparency-code-v2.md").read_bytes(),
        label="Second draft",
        opens_at=now - timedelta(days=2),
        closes_at=now + timedelta(days=60),
        actor=drafter,
    )
    load_demo_comments(first, second)
    db.session.commit()
    return accounts
