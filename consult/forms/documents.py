"""Forms for publishing drafts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional


class PublishForm(FlaskForm):
    """Publish a draft: paste or upload Markdown, preview the clause tree, then confirm."""

    slug = StringField(_l("Document slug (used in addresses)"), validators=[Optional(), Length(max=80)])
    title = StringField(_l("Document title"), validators=[Optional(), Length(max=300)])
    label = StringField(_l("Version label"), validators=[Optional(), Length(max=200)],
                        description=_l("For example: Second draft"))
    opens_at = StringField(_l("Consultation opens (UTC)"), validators=[Optional()],
                           description=_l("ISO 8601, for example 2026-05-01T09:00. Leave empty to open now."))
    closes_at = StringField(_l("Consultation closes (UTC)"), validators=[Optional()],
                            description=_l("ISO 8601, for example 2026-06-30T23:59."))
    markdown = TextAreaField(_l("Draft text (Markdown)"), validators=[Optional()])
    upload = FileField(_l("Or upload a Markdown file"))
    keep_previous_open = BooleanField(_l("Keep the earlier version open for comments as well"))
    confirm = BooleanField(_l("Publish this version"))  # sent by the publish button after the preview
