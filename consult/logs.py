"""Loggers for Consult's modules: values a user typed can never start a forged line in the server log.

Every module takes its logger from :func:`get_logger`. Its filter rewrites each string argument of a record
(and the message itself) so that control characters (newlines, carriage returns, escapes) appear escaped,
as ``\\n``; a sign-in email with a newline once wrote a second, forged line into the log. Call sites also log
user-supplied values with ``%r``, which quotes them and makes their boundaries visible.
"""

from __future__ import annotations

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(value: str) -> str:
    """The string with every control character written as its escape (``\\n``, ``\\x1b``, ``\\u2028``)."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), value)


class EscapeControlCharacters(logging.Filter):
    """Escapes control characters in a record's message and string arguments (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = escape_controls(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(escape_controls(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: escape_controls(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


_FILTER = EscapeControlCharacters()


def get_logger(name: str) -> logging.Logger:
    """The named logger, with the escaping filter attached once."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
