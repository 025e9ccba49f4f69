"""Forms for publishing drafts."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from .base import Form


class PublishForm(Form):
    """Publish a draft: paste or upload Markdown, preview the clause tree, then confirm."""

    slug = StringField(_l("Document slug (used in addresses)"), validators=[Optional(), Length(max=80)])
    title = StringField(_l("Document title"), validators=[Optional(), Length(max=300)])
    label = StringField(
        _l("Version label"), validators=[Optional(), Length(max=200)], description=_l("For example: Second draft")
    )
    opens_at = StringField(
        _l("Consultation opens (UTC)"),
        validators=[Optional()],
        description=_l("In UTC, for example 01/05/2026 09:00 or 2026-05-01 09:00. Leave empty to open now."),
    )
    closes_at = StringField(
        _l("Consultation closes (UTC)"),
        validators=[Optional()],
        description=_l("In UTC, for example 30/06/2026 (the end of that day) or 2026-06-30 17:00."),
    )
    markdown = TextAreaField(_l("Draft text (Markdown)"), validators=[Optional()])
    upload = FileField(
        _l("Or upload a Markdown or Word (.docx) file"),
        description=_l("In Word, the heading styles (Heading 1, Heading 2, …) give the clauses."),
    )
    docx_token = HiddenField()  # the uploaded Word file, kept on the server between the preview and the confirmation
    keep_previous_open = BooleanField(_l("Keep the earlier version open for comments as well"))
    confirm = BooleanField(_l("Publish this version"))  # sent by the publish button after the preview
