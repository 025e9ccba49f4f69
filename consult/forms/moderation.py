"""Forms for the moderation console."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, IntegerField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from ..vocabulary import ACCOUNT_STATUSES, AUDIT_ACTIONS, AUDIT_TARGET_TYPES, ROLES, STAKEHOLDER_GROUPS
from .base import Form, QueryForm, options

_REASON_MAX = 2000
_ANY = ("", _l("Any"))


class ConfirmForm(Form):
    """A button that only carries the CSRF token (approve, verify)."""


class ReasonForm(Form):
    """A decision that needs a reason: reject, suspend, reactivate."""

    reason = TextAreaField(
        _l("Reason"),
        description=_l("Recorded in the audit log and shown to the account holder."),
        validators=[
            DataRequired(_l("Give a reason.")),
            Length(max=_REASON_MAX, message=_l("Use at most 2000 characters.")),
        ],
    )


class RoleForm(Form):
    role = SelectField(
        _l("New role"), choices=[], validate_choice=False, validators=[DataRequired(_l("Choose a role."))]
    )
    reason = TextAreaField(
        _l("Reason (optional)"),
        description=_l("Recorded in the audit log."),
        validators=[Length(max=_REASON_MAX, message=_l("Use at most 2000 characters."))],
    )

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles the actor may grant are offered; the view checks the rule again for any value sent.
        self.role.choices = options([("", _l("Choose…"))] + [(r, ROLES[r]) for r in roles])

    def validate_role(self, field):
        if field.data not in ROLES:
            raise ValidationError(_l("Choose a role."))


class InvitationForm(Form):
    email = EmailField(
        _l("Email address (optional)"),
        description=_l("When given, only this address can use the invitation."),
        validators=[
            Optional(),
            Length(max=254, message=_l("Use at most 254 characters.")),
            Email(_l("Enter an email address like name@example.org.")),
        ],
    )
    role = SelectField(_l("Role"), choices=[], validate_choice=False, validators=[DataRequired(_l("Choose a role."))])
    days = IntegerField(
        _l("Valid for (days)"),
        default=14,
        description=_l("From 1 to 90 days."),
        validators=[
            InputRequired(_l("Enter a number of days.")),
            NumberRange(min=1, max=90, message=_l("Choose between 1 and 90 days.")),
        ],
    )

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = options((r, ROLES[r]) for r in roles)

    def validate_role(self, field):
        if field.data not in ROLES:
            raise ValidationError(_l("Choose a role."))


# --- GET filter forms: their state lives in the URL, so they carry no CSRF token --------------------------------


class UserFilterForm(QueryForm):
    q = SearchField(
        _l("Search"),
        description=_l("Part of a name, email address or organisation."),
        validators=[Optional(), Length(max=200)],
    )
    role = SelectField(_l("Role"), choices=options([_ANY, *ROLES.items()]), validators=[Optional()])
    status = SelectField(_l("Status"), choices=options([_ANY, *ACCOUNT_STATUSES.items()]), validators=[Optional()])
    group = SelectField(
        _l("Stakeholder group"), choices=options([_ANY, *STAKEHOLDER_GROUPS.items()]), validators=[Optional()]
    )
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])


class AuditFilterForm(QueryForm):
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    actor = StringField(_l("Actor's email"), validators=[Optional(), Length(max=254)])
    target_type = SelectField(_l("Target type"), choices=[], validators=[Optional()])
    date_from = DateField(_l("From (date, UTC)"), validators=[Optional()], render_kw={"type": "date"})
    date_to = DateField(_l("To (date, UTC)"), validators=[Optional()], render_kw={"type": "date"})

    def __init__(self, *args, actions=(), target_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = options([_ANY] + [(a, AUDIT_ACTIONS.get(a, a)) for a in actions])
        self.target_type.choices = options([_ANY] + [(t, AUDIT_TARGET_TYPES.get(t, t)) for t in target_types])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must be the same as or after the start date."))
