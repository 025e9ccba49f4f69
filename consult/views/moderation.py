"""The moderation console: registrations, users, reports, invitations and the audit log."""
from flask import Blueprint, abort
from flask_login import current_user

from .. import permissions

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.before_request
def _moderators_only():
    if not permissions.can_moderate(current_user):
        abort(404 if not current_user.is_authenticated else 403)
