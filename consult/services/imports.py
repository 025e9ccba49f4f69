"""Submissions received through other channels (mail, e-mail, another platform), imported from a CSV file.

The whole file is checked before anything is written: one bad row rejects the file, naming every bad line, so an
operator fixes the file and runs the same command again. Rows whose `external_id` the version already holds are
skipped, so a second run of the same file (or of a longer export from the same channel) imports only what is new.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..markup import render_markdown
from ..models import Clause, Comment, Version, utcnow
from ..vocabulary import COMMENT_TYPES, STAKEHOLDER_GROUPS, STANCES, VISIBILITIES
from . import ServiceError
from .comments import new_receipt
from .documents import parse_datetime

COLUMNS = (
    "external_id",
    "received_at",
    "clause",
    "author_name",
    "organisation",
    "group",
    "type",
    "stance",
    "visibility",
    "body",
    "proposed_wording",
    "channel",
)
REQUIRED_COLUMNS = ("external_id", "body")
IMPORT_BODY_MAX = 200_000  # written submissions run long (position papers), unlike the web form's 10,000
MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_ERRORS = 50  # the first errors are enough to fix a file; the rest are counted
DEFAULT_VISIBILITY = "confidential"  # a letter sent by post never agreed to publication
csv.field_size_limit(IMPORT_BODY_MAX * 4)


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0


class ImportRejected(ServiceError):
    """The file was rejected; `errors` lists (line, message) for every bad row found."""

    def __init__(self, errors: list[tuple[int | None, str]], total: int | None = None):
        self.errors = errors
        more = (total or len(errors)) - len(errors)
        text = "; ".join(f"line {line}: {msg}" if line else msg for line, msg in errors)
        if more > 0:
            text += f"; and {more} more"
        super().__init__(text)


@dataclass
class _Row:
    line: int
    external_id: str
    received_at: object
    clause_id: int | None
    author_name: str | None
    organisation: str | None
    group: str
    type: str
    stance: str | None
    visibility: str
    body: str
    proposed_wording: str | None
    channel: str


def _clause_lookup(version: Version) -> dict[str, int]:
    """Clause ids by key and by number (keys win where a number equals another clause's key)."""
    lookup: dict[str, int] = {}
    rows = db.session.execute(
        db.select(Clause.id, Clause.key, Clause.number).where(Clause.version_id == version.id).order_by(Clause.position)
    ).all()
    for row in rows:
        lookup.setdefault(row.number.strip().rstrip(".").lower(), row.id)
    for row in rows:
        lookup[row.key.lower()] = row.id
    return lookup


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Count the line of the first bad byte, so the operator can find it.
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRejected([(line, _("the file is not UTF-8 text"))]) from None


def parse_rows(version: Version, data: bytes) -> list[_Row]:
    """Check every row of the CSV; return them all, or raise ImportRejected naming every bad line."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRejected([(None, _("the file is larger than 200 MB"))])
    text = _decode(data)
    if not text.strip():
        raise ImportRejected([(None, _("the file is empty"))])
    if "\x00" in text:
        raise ImportRejected([(text[: text.index("\x00")].count("\n") + 1, _("the file is not CSV text"))])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise ImportRejected([(1, _("the header is not CSV: %(error)s", error=str(exc)))]) from None
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = []
        if unknown:
            problems.append(_("unknown columns: %(names)s", names=", ".join(unknown)))
        if missing:
            problems.append(_("missing columns: %(names)s", names=", ".join(missing)))
        if len(set(header)) != len(header):
            problems.append(_("a column appears twice"))
        raise ImportRejected(
            [(1, "; ".join(problems) + ". " + _("The columns are: %(names)s.", names=", ".join(COLUMNS)))]
        )
    clauses = _clause_lookup(version)
    rows: list[_Row] = []
    errors: list[tuple[int | None, str]] = []
    error_count = 0
    seen: dict[str, int] = {}
    now = utcnow()

    def bad(line: int, message: str) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < MAX_ERRORS:
            errors.append((line, message))

    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad(line, _("not readable as CSV: %(error)s", error=str(exc)))
            break
        if not any(v.strip() for v in values):
            continue  # a blank line
        if len(values) != len(header):
            bad(line, _("%(n)d fields where the header has %(m)d", n=len(values), m=len(header)))
            continue
        cell = {name: value.strip() for name, value in zip(header, values, strict=True)}
        raw_body = dict(zip(header, values, strict=True)).get("body", "")
        problems = []
        external_id = cell.get("external_id", "")
        if not external_id:
            problems.append(_("external_id is empty"))
        elif len(external_id) > 200:
            problems.append(_("external_id is longer than 200 characters"))
        elif external_id in seen:
            problems.append(_("external_id %(id)s repeats line %(line)d", id=external_id, line=seen[external_id]))
        else:
            seen[external_id] = line
        try:
            received_at = parse_datetime(cell.get("received_at"), "received_at") or now
        except ServiceError as exc:
            problems.append(exc.message)
            received_at = now
        clause_ref = cell.get("clause", "")
        clause_id = None
        if clause_ref:
            clause_id = clauses.get(clause_ref.lower()) or clauses.get(clause_ref.rstrip(".").lower())
            if clause_id is None:
                problems.append(_("no clause with the key or number “%(ref)s” in this version", ref=clause_ref))
        group = cell.get("group", "") or "other"
        if group not in STAKEHOLDER_GROUPS:
            problems.append(
                _("unknown group “%(value)s” (one of: %(values)s)", value=group, values=", ".join(STAKEHOLDER_GROUPS))
            )
        type_ = cell.get("type", "") or "remark"
        if type_ not in COMMENT_TYPES:
            problems.append(
                _("unknown type “%(value)s” (one of: %(values)s)", value=type_, values=", ".join(COMMENT_TYPES))
            )
        stance = cell.get("stance", "") or None
        if stance and stance not in STANCES:
            problems.append(
                _("unknown stance “%(value)s” (one of: %(values)s, or empty)", value=stance, values=", ".join(STANCES))
            )
        visibility = cell.get("visibility", "") or DEFAULT_VISIBILITY
        if visibility not in VISIBILITIES:
            problems.append(
                _(
                    "unknown visibility “%(value)s” (one of: %(values)s)",
                    value=visibility,
                    values=", ".join(VISIBILITIES),
                )
            )
        if not raw_body.strip():
            problems.append(_("body is empty"))
        elif len(raw_body) > IMPORT_BODY_MAX:
            problems.append(
                ngettext(
                    "body is longer than %(num)d character", "body is longer than %(num)d characters", IMPORT_BODY_MAX
                )
            )
        author_name = cell.get("author_name", "")[:200] or None
        organisation = cell.get("organisation", "")[:200] or None
        channel = cell.get("channel", "").lower() or "import"
        if len(channel) > 40:
            problems.append(_("channel is longer than 40 characters"))
        if channel == "web":
            problems.append(_("channel “web” is for comments made on this site; name the channel it came by"))
        wording = (dict(zip(header, values, strict=True)).get("proposed_wording") or "").strip() or None
        for problem in problems:
            bad(line, problem)
        if not problems:
            rows.append(
                _Row(
                    line,
                    external_id,
                    received_at,
                    clause_id,
                    author_name,
                    organisation,
                    group,
                    type_,
                    stance,
                    visibility,
                    raw_body.strip(),
                    wording,
                    channel,
                )
            )
    if error_count:
        raise ImportRejected(errors, error_count)
    return rows


def import_comments(version: Version, data: bytes) -> ImportResult:
    """Import a CSV of submissions into a version in one transaction; skips external ids the version already has."""
    rows = parse_rows(version, data)
    existing = set(
        db.session.scalars(
            db.select(Comment.external_id).where(Comment.version_id == version.id, Comment.external_id.is_not(None))
        )
    )
    result = ImportResult()
    new: list[Comment] = []
    for row in rows:
        if row.external_id in existing:
            result.skipped += 1
            continue
        new.append(
            Comment(
                clause_id=row.clause_id,
                version_id=version.id,
                author_id=None,
                author_name=row.author_name,
                author_group=row.group,
                author_organisation=row.organisation,
                type=row.type,
                stance=row.stance,
                visibility=row.visibility,
                body=row.body,
                body_html=str(render_markdown(row.body)),
                proposed_wording=row.proposed_wording,
                receipt=new_receipt(),
                channel=row.channel,
                external_id=row.external_id,
                created_at=row.received_at,
                depth=0,
                status="visible",
                endorsement_count=0,
            )
        )
    db.session.add_all(new)
    db.session.commit()
    result.imported = len(new)
    return result
