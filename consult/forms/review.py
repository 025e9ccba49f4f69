"""Forms for the drafters' review: dispositions (one or many), assignments and adopted wording."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..vocabulary import DISPOSITIONS
from .base import Form, options

RESPONSE_HINT = _l("Markdown is allowed. Up to 20,000 characters. Shown to the public once the review is published.")


class DispositionForm(Form):
    """One comment's disposition. The service checks the rules again (duplicate on the same document…)."""

    status = SelectField(
        _l("Disposition"),
        choices=options([("", _l("Choose…")), *DISPOSITIONS.items()]),
        validators=[InputRequired(_l("Choose a disposition."))],
    )
    response = TextAreaField(
        _l("Response to the stakeholder"), description=RESPONSE_HINT, validators=[Optional(), Length(max=20_000)]
    )
    addressed_in = SelectField(
        _l("Addressed in version (optional)"), choices=options([("", _l("Not yet"))]), validators=[Optional()]
    )
    duplicate_of = StringField(
        _l("Repeats the comment with receipt (duplicates only)"),
        description=_l("For example CP-7KQ2-9XMD."),
        validators=[Optional(), Length(max=20)],
    )


class BulkDispositionForm(Form):
    """The same disposition and response for every selected comment; the ids come as repeated `ids` values."""

    bulk_status = SelectField(
        _l("Disposition for the selected comments"),
        choices=options([("", _l("Choose…"))] + [(k, v) for k, v in DISPOSITIONS.items() if k != "duplicate"]),
        validators=[InputRequired(_l("Choose a disposition."))],
    )
    bulk_response = TextAreaField(
        _l("Response for the selected comments"), description=RESPONSE_HINT, validators=[Optional(), Length(max=20_000)]
    )
    # "selected": the ticked rows; "matching": every comment the filters match, on every page.
    bulk_scope = RadioField(
        _l("Apply to"),
        choices=options(
            [
                ("selected", _l("The comments ticked on this page")),
                ("matching", _l("Every comment matching the filters")),
            ]
        ),
        default="selected",
        validators=[Optional()],
    )


class AssignForm(Form):
    assignee = SelectField(_l("Assign to"), choices=[], validators=[InputRequired(_l("Choose a drafter."))])


class AdoptForm(Form):
    adopt_response = TextAreaField(
        _l("Response (optional)"),
        description=_l("Left empty, a standard response says the wording was adopted."),
        validators=[Optional(), Length(max=20_000)],
    )
