"""Build test data through the services, the way the app itself does."""

from __future__ import annotations

import itertools
import re

from consult.services import accounts as account_service
from consult.services import documents as document_service

PASSWORD = "a sturdy passphrase for tests 91"
_seq = itertools.count(1)

SAMPLE_DRAFT = """# Sample Code

Opening words of the sample code.

## Chapter I. Scope

Who the code is for.

### Commitment I.1. Keeping records

Signatories keep records.

#### Measure I.1.1. Content of records

Records list the model's training data sources.

#### Measure I.1.2. Retention

Records are kept for ten years.

## Chapter II. Reporting

Reports go to the Office.
"""


def make_user(
    role: str = "participant",
    *,
    email: str | None = None,
    status: str = "active",
    group: str = "other",
    name: str | None = None,
    password: str = PASSWORD,
):
    """An account with a known password."""
    email = email or f"{role}{next(_seq)}@example.org"
    return account_service.create_user(
        email, password, role=role, display_name=name or email.split("@")[0], status=status, stakeholder_group=group
    )


def publish(slug: str = "sample-code", text: str = SAMPLE_DRAFT, **kwargs):
    """Publish a draft as the next version of `slug`."""
    return document_service.publish_version(slug=slug, data=text.encode("utf-8"), **kwargs)


def csrf_token(client, path: str) -> str:
    """The CSRF token from a page's form, as a browser would send it back."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    """Sign in through the real form, with its CSRF token."""
    token = csrf_token(client, "/auth/sign-in")
    response = client.post("/auth/sign-in", data={"csrf_token": token, "email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response
