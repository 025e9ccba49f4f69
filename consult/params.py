"""Numbers from URLs, query strings and forms: ids and page numbers, parsed in one place.

Every integer a request carries goes through here, so that no value can reach the database that it cannot store
(PostgreSQL's `integer` ends at 2**31 - 1; SQLite raises OverflowError past 2**63) and no digit from another script
("²", "٣") reaches `int()`:

- the `int` URL converter (``<int:comment_id>``) is :class:`IdConverter`: ASCII digits, 0 to :data:`MAX_ID`;
  anything else does not match the route, so it is a 404;
- :func:`parse_id` reads an id from a form or query value: the number, or None;
- :func:`int_arg` reads an optional integer query argument (a page, a version number): the default when the
  argument is absent or empty, and a 400 when it is present but not such a number.
"""

from __future__ import annotations

import re

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}\Z")


def parse_id(value) -> int | None:
    """A positive id from a string of ASCII digits up to MAX_ID, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ID else None
    value = (value or "").strip() if isinstance(value, str) else ""
    if not _DIGITS.match(value):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def int_arg(name: str, default: int | None = None) -> int | None:
    """The integer query argument `name` (1 to MAX_ID), `default` when absent or empty, 400 when malformed."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    number = parse_id(raw)
    if number is None:
        abort(
            400,
            description=_(
                "The address asks for %(name)s=%(value)s, which is not a number this site has. "
                "Check the link, or start again from the home page.",
                name=name,
                value=raw[:40],
            ),
        )
    return number


def page_arg(name: str = "page") -> int:
    """The page number a list was asked for (1 when absent); 400 when it is not a number in range."""
    return int_arg(name, 1)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits only, at most MAX_ID (Werkzeug's `\\d` would also match "²")."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # Werkzeug's names
        super().__init__(
            map,
            fixed_digits=fixed_digits,
            min=min if min is not None else 0,
            max=max if max is not None else MAX_ID,
            signed=False,
        )


def install(app) -> None:
    """Make `<int:...>` the bounded converter for every route of the app (call before registering blueprints)."""
    app.url_map.converters["int"] = IdConverter
