"""Forms for commenting on clauses."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..vocabulary import COMMENT_TYPES, REPORT_CATEGORIES, STANCES, VISIBILITIES
from .base import Form, options


class CommentForm(Form):
    """A comment, reply or answer. The body limit is checked here and again in the service."""

    type = SelectField(
        _l("Kind of contribution"),
        choices=options(COMMENT_TYPES),
        default="remark",
        validators=[InputRequired(_l("Choose a type of comment."))],
    )
    body = TextAreaField(
        _l("Your comment"),
        description=_l("Markdown is allowed. Up to 10,000 characters."),
        validators=[
            DataRequired(_l("Write your comment.")),
            Length(max=10_000, message=_l("A comment can be at most 10,000 characters.")),
        ],
    )
    proposed_wording = TextAreaField(
        _l("Proposed wording (optional)"),
        description=_l(
            "It starts as the clause's current text: edit it into the text you "
            "would put in its place. It is shown as a redline against the "
            "current text; left unchanged, it proposes nothing."
        ),
        validators=[Optional(), Length(max=50_000)],
    )
    stance = SelectField(
        _l("Your stance on this clause (optional)"),
        choices=options([("", _l("No stance")), *STANCES.items()]),
        default="",
        validators=[Optional()],
    )
    visibility = RadioField(
        _l("Who may see this comment"),
        choices=options(VISIBILITIES),
        default="public",
        validators=[InputRequired(_l("Choose who may see your comment."))],
    )
    submission_token = HiddenField()
    parent_id = HiddenField()
    question_id = HiddenField()


class EditCommentForm(CommentForm):
    pass


class QuestionForm(Form):
    text = TextAreaField(
        _l("Open question for stakeholders"), validators=[DataRequired(_l("Write the question.")), Length(max=2000)]
    )


class ReportForm(Form):
    # Without a choice a report counts as "other" (its words then say why); the service checks the value.
    category = RadioField(
        _l("What is wrong with this comment?"),
        choices=options(REPORT_CATEGORIES),
        default="other",
        validate_choice=False,
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("Anything the moderators should know"),
        description=_l("Required if you chose “Something else”. Up to 2,000 characters."),
        validators=[Optional(), Length(max=2000)],
    )

    def validate_reason(self, field):
        if (self.category.data or "other") == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say why you report this comment."))


class ConfirmForm(Form):
    """A POST with only the CSRF token: for confirmations and one-click actions."""
