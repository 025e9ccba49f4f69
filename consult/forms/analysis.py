"""Forms for the analysis desk: a campaign's disposition, theme edits and summary approval."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..vocabulary import DISPOSITIONS
from .base import Form, options
from .review import RESPONSE_HINT


class CampaignDispositionForm(Form):
    """One disposition and response for every member of a campaign (each keeps its own row)."""

    status = SelectField(
        _l("Disposition for every submission of this campaign"),
        choices=options([("", _l("Choose…"))] + [(k, v) for k, v in DISPOSITIONS.items() if k != "duplicate"]),
        validators=[InputRequired(_l("Choose a disposition."))],
    )
    response = TextAreaField(
        _l("Response to the senders"), description=RESPONSE_HINT, validators=[Optional(), Length(max=20_000)]
    )


class ThemeLabelForm(Form):
    label = StringField(
        _l("Name of the theme"), validators=[DataRequired(_l("Give the theme a name.")), Length(max=200)]
    )


class ThemeMergeForm(Form):
    others = SelectMultipleField(
        _l("Themes to merge into this one"),
        choices=[],
        coerce=str,
        validators=[DataRequired(_l("Choose at least one other theme."))],
    )


class ThemeMoveForm(Form):
    """Selected comments (repeated `ids` values) go to another theme, or form a new one."""

    target = SelectField(_l("Move the selected comments to"), choices=[], validators=[Optional()])
    new_label = StringField(_l("…or split them into a new theme named"), validators=[Optional(), Length(max=200)])
