"""The base of every form: control characters never get in through a text field.

A NUL byte or an escape sequence in a name, a reason or a comment ends up in pages, exports, mail and logs. Every
form derives from :class:`Form` (or :class:`QueryForm` for GET filters), whose Meta adds one filter in front of each
field's own filters:

- multi-line fields (``TextAreaField``) keep newlines and tabs; ``\\r\\n`` and lone ``\\r`` become ``\\n``; other
  control characters (C0, DEL, C1) are removed;
- every other text field loses all control characters (a run of tabs and line breaks becomes one space);
- password and file fields are left as sent (a password is hashed, never shown; a file is read as a file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import FileField as PlainFileField
from wtforms import Form as WTForm
from wtforms import PasswordField, TextAreaField
from wtforms.fields import SelectChoice

_LINE_BREAKS = re.compile(r"[\t\n\r]+")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # keeps \t (09) and \n (0a)


def options(pairs: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """A select or radio field's choices from a value → label mapping or (value, label) pairs (WTForms 3.3
    deprecates tuples as choices)."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return [SelectChoice(value, label) for value, label in items]


def clean_line(value):
    """A one-line value without any control character (tabs and line breaks become a space)."""
    if not isinstance(value, str):
        return value
    return _CONTROL_IN_LINE.sub("", _LINE_BREAKS.sub(" ", value))


def clean_text(value):
    """A multi-line value with \\n line ends, keeping tabs, without other control characters."""
    if not isinstance(value, str):
        return value
    return _CONTROL_IN_TEXT.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


class CleaningMeta:
    """Form Meta that puts the cleaning filter in front of each text field's own filters."""

    def bind_field(self, form, unbound_field, options):
        field_class = unbound_field.field_class
        if not issubclass(field_class, (PasswordField, FileField, PlainFileField)):
            cleaner = clean_text if issubclass(field_class, TextAreaField) else clean_line
            options = dict(options, filters=[cleaner, *unbound_field.kwargs.get("filters", ())])
        return unbound_field.bind(form=form, **options)


class Form(FlaskForm):
    """FlaskForm (CSRF included) whose text fields are cleaned of control characters."""

    class Meta(CleaningMeta):
        pass


class QueryForm(WTForm):
    """A GET filter form (no CSRF: it changes nothing) whose text fields are cleaned the same way."""

    class Meta(CleaningMeta):
        pass


def show_error(form, error, default: str | None = None, *, aliases: dict[str, str] | None = None) -> None:
    """Put an error beside its field, where the page shows it and the error summary links to it: the one way views
    do it. A service's refusal (ServiceError) goes beside the field it names (`aliases` maps the service's name to
    the form's where they differ), else beside `default`; a plain message goes beside `default`; with no such
    field, beside the first field a person fills in. A refusal that names a line of a draft says which."""
    if isinstance(error, str):
        message, name = error, None
    else:
        message, name = error.message, (aliases or {}).get(error.field, error.field)
        if getattr(error, "line", None):
            message = _("Line %(line)d: %(msg)s", line=error.line, msg=message)
    if name not in form:
        name = default
    field = form[name] if name else next(f for f in form if f.type not in ("CSRFTokenField", "HiddenField"))
    field.errors = [*field.errors, message]
