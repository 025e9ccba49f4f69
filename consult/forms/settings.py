"""Forms for the drafters' settings pages, the notification preferences and the account self-service."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..vocabulary import NOTIFICATION_DELIVERIES, NOTIFICATION_KINDS
from .base import Form, options


class DocumentSettingsForm(Form):
    """A document's title, its summary for the home page and its landing text."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=1000)],
        description=_l("One or two sentences, shown on the home page."),
    )
    landing = TextAreaField(
        _l("Landing text (Markdown)"),
        validators=[Optional(), Length(max=50000)],
        description=_l(
            "Background, scope, who should take part, how comments are used, and "
            "a contact. Shown on the document's page above its versions."
        ),
    )


class VersionSettingsForm(Form):
    """A version's label and consultation window, as dates and times in UTC."""

    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)])
    opens_date = DateField(
        _l("Opens on (date)"),
        validators=[Optional()],
        description=_l("Leave the date empty to keep the version for reading only."),
    )
    opens_time = TimeField(_l("Opens at (time, UTC)"), validators=[Optional()])
    closes_date = DateField(
        _l("Closes on (date)"), validators=[Optional()], description=_l("Leave empty for no closing date.")
    )
    closes_time = TimeField(_l("Closes at (time, UTC)"), validators=[Optional()])
    close_previous = BooleanField(_l("Close any earlier version that is still open when this one opens"), default=True)


class DaysForm(Form):
    """Extend or reopen a window by a number of days."""

    days = IntegerField(_l("Number of days"), validators=[InputRequired(), NumberRange(min=1, max=365)], default=7)


def preferences_form(choices: dict[str, str], kinds: list[str], language: str, autofollow: bool):
    """A form with one choice per notification kind, the mail language and the follow-on-comment switch."""

    class PreferencesForm(Form):
        pass

    for kind in kinds:
        setattr(
            PreferencesForm,
            f"kind_{kind}",
            RadioField(
                NOTIFICATION_KINDS[kind],
                choices=options(NOTIFICATION_DELIVERIES),
                default=choices[kind],
                validators=[InputRequired()],
            ),
        )
    PreferencesForm.language = SelectField(
        _l("Language of my mails"), choices=options([("en", "English"), ("fr", "Français")]), default=language
    )
    PreferencesForm.autofollow = BooleanField(_l("Follow a clause when I comment on it"), default=autofollow)
    return PreferencesForm()


class ProfileForm(Form):
    """The account's name and organisation; the group changes only through a moderator."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])


class CloseAccountForm(Form):
    """Close one's account: keep the comments under "a former participant", or withdraw them."""

    comments = RadioField(
        _l("What happens to my comments"),
        validators=[InputRequired()],
        choices=options(
            [
                ("keep", _l("Keep them, shown as from “a former participant”, without my name or organisation")),
                ("withdraw", _l("Withdraw them")),
            ]
        ),
    )
    password = PasswordField(_l("Password"), validators=[DataRequired()])
