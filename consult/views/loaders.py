"""Load what a URL names and check the reader's permission, once, for every view (as flaskr's `get_post` does).

Each loader raises rather than returns an answer, so a view reads: load, call a service, render or redirect.

- Missing, or hidden from this reader by a `view` rule (a confidential comment, an unpublished review): 404, the
  same answer as for something that does not exist, so that its existence does not leak.
- Visible but refused by a `permit` rule (a staff page, another person's comment to edit): an anonymous visitor is
  sent to sign in first (401 under /api/), anyone else gets 403.
- A sign-in redirect is raised as an HTTPException that carries the response (`abort(response)`), which Flask
  answers as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, request
from flask_login import current_user

from .. import permissions
from ..params import int_arg
from ..services import analysis as analysis_service
from ..services import comments as comment_service
from ..services import documents as document_service

Rule = Callable[..., bool]  # a permissions.can_* rule: rule(user, obj) -> bool


def sign_in_first() -> None:
    """Send an anonymous visitor to sign in (a JSON 401 under /api/), as Flask-Login's `login_required` does."""
    if current_user.is_authenticated:
        return
    if request.path.startswith("/api/"):
        abort(401)
    abort(current_app.login_manager.unauthorized())


def require(rule: Rule, *objects) -> None:
    """Let the reader through when `rule(current_user, *objects)` allows: otherwise sign in first, then 403."""
    if rule(current_user, *objects):
        return
    sign_in_first()
    abort(403)


def load_document(slug: str, *, permit: Rule | None = None):
    """The document `slug` names; 404 when it is missing or not viewable; `permit` as in the module's docstring."""
    document = document_service.get_document(slug)
    if document is None or not permissions.can_view_document(current_user, document):
        abort(404)
    if permit is not None:
        require(permit, document)
    return document


def version_of(document, number: int):
    """Version `number` of the document; 404 when it is missing or not viewable."""
    version = document_service.get_version(document, number)
    if version is None or not permissions.can_view_version(current_user, version):
        abort(404)
    return version


def load_version(slug: str, number: int, *, view: Rule | None = None, permit: Rule | None = None):
    """(document, version) a URL names: 404 when either is missing or hidden (`view`), then `permit`."""
    document = load_document(slug)
    version = version_of(document, number)
    if view is not None and not view(current_user, version):
        abort(404)
    if permit is not None:
        require(permit, version)
    return document, version


def clause_of(version, key: str):
    """The clause `key` of the version; 404 when it has none."""
    clause = document_service.get_clause(version, key)
    if clause is None:
        abort(404)
    return clause


def load_clause(slug: str, number: int, key: str):
    """(document, version, clause) a URL names; 404 when any is missing or not viewable."""
    document, version = load_version(slug, number)
    return document, version, clause_of(version, key)


def load_comment(comment_id: int, *, permit: Rule | None = None):
    """A comment the reader may see (404 otherwise: confidential ones do not exist for others), then `permit`."""
    comment = comment_service.get_comment(comment_id)
    if comment is None or not permissions.can_see_comment(current_user, comment):
        abort(404)
    if permit is not None:
        require(permit, comment)
    return comment


def load_receipt(receipt: str):
    """The comment a receipt names, for its author and the drafters only (404 for anyone else)."""
    comment = comment_service.get_by_receipt(receipt)
    if comment is None or not permissions.can_view_receipt(current_user, comment):
        abort(404)
    return comment


def comment_of(version, comment_id: int):
    """A comment made on this version (the review's comment pages); 404 for another version's or a missing one."""
    comment = comment_service.get_comment(comment_id)
    if comment is None or comment.version_id != version.id:
        abort(404)
    return comment


def redline_pair(document):
    """The (from, to) versions named by ?from=&to=, defaulting to previous → latest; 404 if either is missing."""
    pair = document_service.redline_versions(document, int_arg("from"), int_arg("to"))
    if pair is None:
        abort(404)
    return pair


def campaign_of(version, campaign_id: int):
    """A campaign found among the version's comments; 404 when the version has none with that id."""
    campaign = analysis_service.get_campaign(version, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def theme_of(version, theme_id: int):
    """A theme of the version's comments; 404 when the version has none with that id."""
    theme = analysis_service.get_theme(version, theme_id)
    if theme is None:
        abort(404)
    return theme
