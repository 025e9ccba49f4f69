"""The public view of all feedback on a version: every public comment, filtered and counted, and its open data.

Contract: only comments whose status is "visible" and whose visibility is "public" or "pseudonymous" are ever
listed or exported. A pseudonymous comment gives its stakeholder group only (no name, no organisation), and the
organisation filter matches public comments only, so it cannot single out a pseudonymous one. Confidential
comments are counted (per version, or per clause when a clause is chosen) and never listed. Hidden and withdrawn
comments are neither listed nor counted. The page, the CSV and the JSON carry the same fields (`FIELDS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..extensions import db
from ..models import Clause, Comment, Disposition, OpenQuestion, User, Version
from ..pagination import Page, paginate
from ..vocabulary import COMMENT_TYPES, STAKEHOLDER_GROUPS, STANCES
from . import exports

PUBLIC_VISIBILITIES = ("public", "pseudonymous")
EXPORT_WINDOW = 1000  # rows fetched per round trip while streaming the open data

# The open-data fields, in order; the page shows the same ones.
FIELDS = (
    "id",
    "url",
    "clause_key",
    "clause_number",
    "clause_heading",
    "type",
    "stance",
    "stakeholder_group",
    "author",
    "organisation",
    "visibility",
    "body",
    "proposed_wording",
    "in_reply_to",
    "answers_question",
    "endorsements",
    "created_at",
    "edited_at",
    "disposition",
    "response",
)

LICENCES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("Creative Commons Zero 1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
}

SORTS = {
    "clause": (Clause.position, Comment.created_at, Comment.id),
    "newest": (Comment.created_at.desc(), Comment.id.desc()),
    "oldest": (Comment.created_at, Comment.id),
    "endorsed": (Comment.endorsement_count.desc(), Comment.created_at, Comment.id),
}


def licence(spdx: str) -> dict:
    """The open-data licence named by its SPDX id: {"id", "name", "url"} (unknown ids keep their id as name)."""
    name, url = LICENCES.get(spdx, (spdx, ""))
    return {"id": spdx, "name": name, "url": url}


@dataclass(frozen=True)
class PublicFilters:
    """The filters of the public list, as they appear in the URL; unknown values are ignored."""

    clause: str = ""
    group: str = ""
    type: str = ""
    stance: str = ""
    organisation: str = ""
    sort: str = "clause"

    @classmethod
    def from_args(cls, args) -> PublicFilters:
        """Read the filters from request arguments, keeping only values that exist."""

        def pick(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        sort = (args.get("sort") or "").strip()
        return cls(
            clause=(args.get("clause") or "").strip()[:80],
            group=pick("group", STAKEHOLDER_GROUPS),
            type=pick("type", COMMENT_TYPES),
            stance=pick("stance", STANCES),
            organisation=(args.get("organisation") or "").strip()[:200],
            sort=sort if sort in SORTS else "clause",
        )

    def as_args(self, **changes) -> dict:
        """The non-empty filters as URL arguments (with `changes` applied)."""
        values = {
            "clause": self.clause,
            "group": self.group,
            "type": self.type,
            "stance": self.stance,
            "organisation": self.organisation,
            "sort": self.sort if self.sort != "clause" else "",
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        """True when any filter (not the sort) narrows the list."""
        return any((self.clause, self.group, self.type, self.stance, self.organisation))


def _conditions(version: Version) -> list:
    return [Comment.version_id == version.id, Comment.status == "visible", Comment.visibility.in_(PUBLIC_VISIBILITIES)]


def _apply(stmt, f: PublicFilters, skip: str = ""):
    """The statement narrowed by every filter except `skip` (so each filter's counts follow the others)."""
    if f.clause and skip != "clause":
        stmt = stmt.where(Clause.key == f.clause)
    if f.group and skip != "group":
        stmt = stmt.where(Comment.author_group == f.group)
    if f.type and skip != "type":
        stmt = stmt.where(Comment.type == f.type)
    if f.stance and skip != "stance":
        stmt = stmt.where(Comment.stance == f.stance)
    if f.organisation and skip != "organisation":
        stmt = stmt.where(Comment.visibility == "public", Comment.author_organisation == f.organisation)
    return stmt


def comments_page(version: Version, f: PublicFilters, *, page: int = 1, per_page: int = 50) -> Page:
    """One page of the version's public comments that match the filters, in the chosen order."""
    stmt = (
        db.select(Comment)
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(*_conditions(version))
        .options(
            db.contains_eager(Comment.clause), db.contains_eager(Comment.disposition), db.joinedload(Comment.author)
        )
        .order_by(*SORTS[f.sort])
    )
    return paginate(_apply(stmt, f), page, per_page)


FACETS = {
    "clause": Clause.key,
    "group": Comment.author_group,
    "type": Comment.type,
    "stance": Comment.stance,
    "organisation": Comment.author_organisation,
}


def facet_counts(version: Version, f: PublicFilters) -> dict[str, dict[str, int]]:
    """For each filter, how many public comments each of its values would show, given the other filters."""
    counts: dict[str, dict[str, int]] = {}
    for name, column in FACETS.items():
        stmt = (
            db.select(column, db.func.count(Comment.id))
            .select_from(Comment)
            .outerjoin(Clause, Comment.clause_id == Clause.id)
            .where(*_conditions(version), column.is_not(None))
        )
        if name == "organisation":  # the organisations of pseudonymous comments are not public
            stmt = stmt.where(Comment.visibility == "public")
        counts[name] = dict(db.session.execute(_apply(stmt, f, skip=name).group_by(column)).all())
    return counts


def confidential_count(version: Version, clause_key: str = "") -> int:
    """How many visible confidential comments the version (or one of its clauses) received; never which."""
    stmt = (
        db.select(db.func.count(Comment.id))
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .where(Comment.version_id == version.id, Comment.status == "visible", Comment.visibility == "confidential")
    )
    if clause_key:
        stmt = stmt.where(Clause.key == clause_key)
    return db.session.scalar(stmt) or 0


def export_rows(version: Version, f: PublicFilters, comment_url) -> Iterator[dict]:
    """The open data: one dict per public comment matching the filters, with FIELDS as keys, streamed in windows.

    `comment_url(id)` builds the comment's permalink. Dispositions appear once the review is published.
    """
    published = version.review_published_at is not None
    stmt = (
        db.select(
            Comment.id,
            Clause.key,
            Clause.number,
            Clause.heading,
            Comment.type,
            Comment.stance,
            Comment.author_group,
            db.func.coalesce(User.display_name, Comment.author_name).label("display_name"),
            Comment.author_organisation,
            Comment.visibility,
            Comment.body,
            Comment.proposed_wording,
            Comment.parent_id,
            OpenQuestion.text,
            Comment.endorsement_count,
            Comment.created_at,
            Comment.edited_at,
            Disposition.status,
            Disposition.response,
        )
        .outerjoin(Clause, Comment.clause_id == Clause.id)
        .outerjoin(User, Comment.author_id == User.id)
        .outerjoin(OpenQuestion, Comment.question_id == OpenQuestion.id)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(*_conditions(version))
        .order_by(*SORTS[f.sort])
    )
    result = db.session.execute(_apply(stmt, f).execution_options(yield_per=EXPORT_WINDOW))
    for row in result:
        public = row.visibility == "public"
        yield dict(
            zip(
                FIELDS,
                (
                    row.id,
                    comment_url(row.id),
                    row.key,
                    row.number,
                    row.heading,
                    row.type,
                    row.stance or "",
                    row.author_group,
                    row.display_name if public else "",
                    (row.author_organisation or "") if public else "",
                    row.visibility,
                    row.body,
                    row.proposed_wording or "",
                    row.parent_id or "",
                    row.text or "",
                    row.endorsement_count,
                    iso(row.created_at),
                    iso(row.edited_at),
                    (row.status or "") if published else "",
                    (row.response or "") if published else "",
                ),
                strict=True,
            )
        )


def export_csv(rows: Iterator[dict]) -> Iterator[str]:
    """The open data as CSV pieces, one column per field."""
    return exports.csv_chunks(FIELDS, ([row[f] for f in FIELDS] for row in rows))


def export_json(head: dict, rows: Iterator[dict]) -> Iterator[str]:
    """The open data as JSON pieces: the head (document, licence, filters, fields...), then the comments."""
    return exports.json_chunks(head, "comments", rows)


def iso(value) -> str:
    """ISO 8601 in UTC, or an empty string."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""
