"""Forms for signing in, registering, resetting a password and managing one's account."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, Regexp, ValidationError

from ..vocabulary import STAKEHOLDER_GROUPS
from .base import Form, options

# Long enough for any passphrase the policy accepts (128), with room so that a longer one gets a clear message.
_PASSWORD_FIELD_MAX = 1024


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field(label=None):
    return EmailField(
        label or _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("Use at most 254 characters.")),
            Email(_l("Enter an email address like name@example.org.")),
        ],
    )


def _new_password_fields():
    password = PasswordField(
        _l("Password"),
        description=_l(
            "At least 12 characters. A few unrelated words make a strong password that is easy to remember."
        ),
        validators=[DataRequired(_l("Choose a password.")), Length(max=_PASSWORD_FIELD_MAX)],
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[
            DataRequired(_l("Enter the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
    )
    return password, confirm


class SignInForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=_PASSWORD_FIELD_MAX)]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class RegisterForm(Form):
    email = _email_field()
    display_name = StringField(
        _l("Your name"),
        filters=[_strip],
        description=_l("Shown with your public comments."),
        validators=[DataRequired(_l("Enter your name.")), Length(max=120, message=_l("Use at most 120 characters."))],
    )
    password, password_confirm = _new_password_fields()
    stakeholder_group = SelectField(
        _l("Stakeholder group"), choices=[], validators=[DataRequired(_l("Choose your stakeholder group."))]
    )
    organisation = StringField(
        _l("Organisation"),
        filters=[_strip],
        description=_l("The body you speak for. You may leave it empty only for the group “Other”."),
        validators=[Length(max=200, message=_l("Use at most 200 characters."))],
    )
    transparency_register_id = StringField(
        _l("EU Transparency Register id (optional)"),
        description=_l("For example 123456789012-34."),
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(r"^[0-9]{9,12}-[0-9]{2}\Z", message=_l("Enter a Transparency Register id like 123456789012-34.")),
        ],
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that my account data is kept as it says"),
        validators=[DataRequired(_l("Agree to the privacy notice to create an account."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stakeholder_group.choices = options([("", _l("Choose…")), *STAKEHOLDER_GROUPS.items()])

    def validate_stakeholder_group(self, field):
        if field.data not in STAKEHOLDER_GROUPS:
            raise ValidationError(_l("Choose your stakeholder group."))

    def validate_organisation(self, field):
        if not (field.data or "").strip() and self.stakeholder_group.data != "other":
            raise ValidationError(_l("Enter the name of your organisation."))

    def validate_password(self, field):
        # Checked with the other fields, so that a weak password and a missing organisation show at once.
        from ..services.accounts import password_problem

        problem = password_problem(field.data or "", user_inputs=[self.email.data or "", self.display_name.data or ""])
        if problem:
            raise ValidationError(problem)


class ResetRequestForm(Form):
    email = _email_field()


class ResetPasswordForm(Form):
    password, password_confirm = _new_password_fields()


class ChangePasswordForm(Form):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=_PASSWORD_FIELD_MAX)],
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters."),
        validators=[DataRequired(_l("Choose a new password.")), Length(max=_PASSWORD_FIELD_MAX)],
    )
    new_password_confirm = PasswordField(
        _l("Confirm new password"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new_password", _l("The two passwords are not the same.")),
        ],
    )


class ChangeEmailForm(Form):
    email = _email_field(_l("New email address"))
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Enter your password to confirm.")), Length(max=_PASSWORD_FIELD_MAX)],
    )
