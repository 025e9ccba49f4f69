"""How a version and a clause are named in pages, mail and messages. Pure: plain values in, text out (through
gettext, so in the reader's language), for the web layer and the services alike."""

from __future__ import annotations

import re

from flask_babel import gettext as _


def version_name(version) -> str:
    """The version's label, followed by its number only when the label does not already say it: "Second draft
    (version 2)", but "Version 2" alone (not "Version 2 (version 2)")."""
    label = version.label or ""
    if re.search(rf"\b{version.number}\b", label):
        return label
    return _("%(label)s (version %(n)d)", label=label, n=version.number)


def clause_label(clause) -> str:
    """The heading, prefixed with the number only when the heading does not already say it; a general comment's
    missing clause reads as the whole version."""
    if clause is None:
        return _("the whole version (general comment)")
    number, heading = clause.number or "", clause.heading or ""
    if not number or number == "0" or number in heading:  # "0" is the preamble's
        return heading
    return f"{number} {heading}"


def clause_number(clause) -> str:
    """The clause's number as its heading writes it, with its label word ("Appendix 1.2", "Measure 3.4"), or ""
    when the heading has no number: "1.2" alone would read like another kind of provision."""
    number, heading = clause.number or "", clause.heading or ""
    at = heading.find(number) if number else -1
    if at < 0:
        return number
    return heading[: at + len(number)].strip()
