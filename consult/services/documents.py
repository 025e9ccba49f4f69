"""Publishing documents and versions."""

from __future__ import annotations

import re
from collections import namedtuple
from datetime import UTC, datetime
from operator import attrgetter

from flask_babel import gettext as _

from ..drafts.lineage import LineagePair, match_clauses
from ..drafts.parse import DraftError, ParsedDraft, decode_draft, parse_draft
from ..extensions import db
from ..markup import RenderError, check_markdown, render_markdown
from ..models import Clause, ClauseLink, Document, Lineage, Version, utcnow
from . import ServiceError

# What lineage matching needs of a stored clause, with parent_key resolved without a query per clause.
ClauseView = namedtuple("ClauseView", "key number heading body parent_key position explicit_key")

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
RESERVED_SLUGS = {"new"}  # taken by /documents/new


# A date as people type it, day first (31/03/2027, 31.03.2027, 31-03-2027), with an optional time (17:00, 17.00,
# 17h00): these sites are European, so 03/04/2027 is the 3rd of April.
DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ ,T]+(\d{1,2})[:.h](\d{2}))?$")


def _read_datetime(text: str) -> tuple[datetime, bool]:
    """(the datetime, whether a time was given) from ISO 8601 or a day-first date; ValueError if neither."""
    match = DAY_FIRST.match(text)
    if match:
        day, month, year, hour, minute = match.groups()
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0)), hour is not None
    parsed = datetime.fromisoformat(text)
    return parsed, len(text) > 10


def parse_datetime(
    value: str | None, field: str, label: str | None = None, *, end_of_day: bool = False
) -> datetime | None:
    """A date and time as an aware UTC datetime (a time without zone is UTC), from ISO 8601 or a day-first date.

    With `end_of_day`, a date without a time means the end of that day (a consultation that "closes on 31/03").
    `label` names the field for people; without it (the command line) the message names `field`.
    """
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        parsed, has_time = _read_datetime(text)
    except ValueError:
        if label:
            raise ServiceError(
                _(
                    "%(label)s: enter a date like 31/03/2027 or 2027-03-31, with a time if you wish "
                    "(31/03/2027 17:00), in UTC.",
                    label=label,
                ),
                field=field,
            ) from None
        raise ServiceError(
            _(
                "%(field)s: '%(value)s' is not an ISO 8601 date and time (e.g. 2026-05-01T12:00:00Z)",
                field=field,
                value=value,
            ),
            field=field,
        ) from None
    if end_of_day and not has_time:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    """A consultation window must close after it opens."""
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError(_("the consultation must close after it opens"), field="closes_at")


def read_draft(data: bytes | str) -> ParsedDraft:
    """Decode and parse a draft (Markdown, or a .docx converted to it); DraftError becomes a ServiceError."""
    from .word import draft_source

    data, _docx = draft_source(data)
    try:
        text = decode_draft(data) if isinstance(data, bytes) else decode_draft(data.encode("utf-8"))
        draft = parse_draft(text)
    except DraftError as exc:
        raise ServiceError(exc.message, line=exc.line, field="markdown") from None
    for clause in draft.clauses:  # refused here, before the preview, rather than failing at publication
        try:
            check_markdown(clause.body)
        except RenderError:
            raise ServiceError(
                _("this clause nests quotes or lists too deeply to be shown; make it flatter"),
                line=clause.line,
                field="markdown",
            ) from None
    return draft


def check_slug(slug: str) -> str:
    """Slugs are lower-case letters, digits and hyphens."""
    slug = (slug or "").strip()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise ServiceError(_("the document slug must be 1-80 lower-case letters, digits or hyphens"), field="slug")
    return slug


def check_publication(
    *, document: Document | None, slug: str, data: bytes | str, opens_at: str | None, closes_at: str | None
) -> tuple[ParsedDraft, datetime | None, datetime | None]:
    """Validate what a drafter submitted for publishing, without saving: the parsed draft and the window."""
    if document is None:
        check_slug(slug)
        if get_document(slug):
            raise ServiceError(
                _("A document with this slug exists already; publish a new version from its page instead."),
                field="slug",
            )
    opens = parse_datetime(opens_at, "opens_at", _("Consultation opens"))
    closes = parse_datetime(closes_at, "closes_at", _("Consultation closes"), end_of_day=True)
    check_window(opens or utcnow(), closes)
    return read_draft(data), opens, closes


def next_version_number(document: Document | None) -> int:
    """1 for a new document, else one more than its latest version."""
    if document is None:
        return 1
    latest = db.session.scalar(db.select(db.func.max(Version.number)).where(Version.document_id == document.id))
    return (latest or 0) + 1


def publish_version(
    *,
    slug: str,
    data: bytes | str,
    title: str | None = None,
    label: str | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    actor=None,
    close_previous: bool = True,
) -> Version:
    """Publish a draft as the next version of a document (creating the document if new), in one transaction."""
    slug = check_slug(slug)
    opens_at = opens_at or utcnow()
    check_window(opens_at, closes_at)
    from .word import draft_source

    data, docx = draft_source(data)
    draft = read_draft(data)
    document = db.session.scalar(db.select(Document).where(Document.slug == slug))
    if document is None:
        document = Document(slug=slug, title=(title or draft.title or slug).strip()[:300])
        db.session.add(document)
    elif title:
        document.title = title.strip()[:300]
    number = next_version_number(document if document.id else None)
    # Match before the new version joins the session, so autoflush cannot make it look like the latest.
    old_by_key, pairs = _match_latest(document, draft) if number > 1 else ({}, [])
    matches = {p.new_key: (old_by_key[p.old_key], p) for p in pairs if p.primary}
    # A new clause's relation: its primary link's, or that of its only link (a part of a split, say).
    relation = {}
    for p in pairs:
        if p.new_key and (p.primary or p.new_key not in relation):
            relation[p.new_key] = p
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    version = Version(
        document=document,
        number=number,
        label=(label or "").strip()[:200] or _("Version %(n)d", n=number),
        source_markdown=text,
        source_docx=docx,
        opens_at=opens_at,
        closes_at=closes_at,
        published_by_id=getattr(actor, "id", None),
        clause_count=len(draft.clauses),
    )
    db.session.add(version)
    by_key: dict[str, Clause] = {}
    for parsed in draft.clauses:
        old, pair = matches.get(parsed.key, (None, None))
        clause = Clause(
            version=version,
            key=parsed.key,
            explicit_key=parsed.explicit_key,
            number=parsed.number,
            heading=parsed.heading,
            body=parsed.body,
            body_html=str(render_markdown(parsed.body)),
            level=parsed.level,
            position=parsed.position,
            parent=by_key.get(parsed.parent_key) if parsed.parent_key else None,
            **({"lineage_id": old.lineage_id} if old else {"lineage": Lineage(document=document)}),
            lineage_status=relation[parsed.key].status if parsed.key in relation else ("added" if number > 1 else None),
            lineage_method=relation[parsed.key].method if parsed.key in relation else None,
        )
        by_key[parsed.key] = clause
        db.session.add(clause)
    db.session.flush()
    db.session.add_all(
        ClauseLink(
            old_clause_id=old_by_key[p.old_key].id,
            new_clause_id=by_key[p.new_key].id,
            relation=p.status,
            method=p.method,
            confidence=p.confidence,
            primary=p.primary,
        )
        for p in pairs
        if p.old_key and p.new_key
    )
    if number > 1:
        from .review import mark_adoptions_addressed

        previous = get_version(document, number - 1)
        mark_adoptions_addressed(previous, version, actor)
        from .lifecycle import close_earlier

        if close_previous:
            close_earlier(version, actor)  # two versions of one document never take comments at once
    from .notifications import version_published

    version_published(version)
    db.session.commit()
    return version


def clause_views(clauses: list[Clause]) -> list[ClauseView]:
    """What the lineage matcher needs of stored clauses, parent keys resolved from the same list."""
    keys = {c.id: c.key for c in clauses}
    return [
        ClauseView(c.key, c.number, c.heading, c.body, keys.get(c.parent_id), c.position, c.explicit_key)
        for c in clauses
    ]


def _match_latest(document: Document, draft: ParsedDraft) -> tuple[dict[str, Clause], list[LineagePair]]:
    """Match a new draft's clauses to the document's latest version: (old clauses by key, every link)."""
    previous = db.session.scalar(
        db.select(Version).where(Version.document_id == document.id).order_by(Version.number.desc()).limit(1)
    )
    if previous is None:
        return {}, []
    old_clauses = version_clauses(previous)
    return {c.key: c for c in old_clauses}, match_clauses(clause_views(old_clauses), draft.clauses)


def match_previous(document: Document, draft: ParsedDraft) -> dict[str, tuple[Clause, LineagePair]]:
    """Match a new draft's clauses to the document's latest version: {new key: (old clause, its link)}, the
    lineage link where a clause has several."""
    old_by_key, pairs = _match_latest(document, draft)
    found: dict[str, tuple[Clause, LineagePair]] = {}
    for p in pairs:
        if p.old_key and p.new_key and (p.primary or p.new_key not in found):
            found[p.new_key] = (old_by_key[p.old_key], p)
    return found


def documents_with_versions() -> list[Document]:
    """Every document, by title, with its versions loaded (two queries)."""
    return db.session.scalars(
        db.select(Document).order_by(Document.title).options(db.selectinload(Document.versions))
    ).all()


def document_titles() -> dict[str, str]:
    """Every document's title by its slug (one query, no versions)."""
    return dict(db.session.execute(db.select(Document.slug, Document.title)).all())


def get_document(slug: str) -> Document | None:
    """The document with this slug, or None."""
    return db.session.scalar(db.select(Document).where(Document.slug == slug))


def redline_versions(document: Document, from_number: int | None, to_number: int | None):
    """The (old, new) versions a redline compares, defaulting to previous → latest; None if either is missing."""
    numbers = [v.number for v in document.versions]
    if not numbers:
        return None
    to_number = to_number or numbers[-1]
    from_number = from_number or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    old, new = get_version(document, from_number), get_version(document, to_number)
    return (old, new) if old and new else None


def get_version(document: Document, number: int) -> Version | None:
    """Version `number` of the document, or None."""
    return db.session.scalar(db.select(Version).where(Version.document_id == document.id, Version.number == number))


def list_documents() -> list[tuple[Document, Version | None]]:
    """Every document with its latest version, by title (two queries)."""
    documents = db.session.scalars(db.select(Document).order_by(Document.title)).all()
    latest_ids = db.select(db.func.max(Version.id)).group_by(Version.document_id)
    versions = {v.document_id: v for v in db.session.scalars(db.select(Version).where(Version.id.in_(latest_ids)))}
    return [(d, versions.get(d.id)) for d in documents]


def version_has_source_docx(version: Version) -> bool:
    """Whether the version was imported from a Word file (without reading the file)."""
    return bool(db.session.scalar(db.select(Version.source_docx.is_not(None)).where(Version.id == version.id)))


def version_source_docx(version: Version) -> bytes | None:
    """The Word file the version was imported from, or None (read only when asked for)."""
    return db.session.scalar(db.select(Version.source_docx).where(Version.id == version.id))


def version_clauses(version: Version) -> list[Clause]:
    """The version's clauses in order, with their text."""
    return db.session.scalars(db.select(Clause).where(Clause.version_id == version.id).order_by(Clause.position)).all()


def get_clause(version: Version, key: str) -> Clause | None:
    """The clause with this key in the version, or None."""
    return db.session.scalar(db.select(Clause).where(Clause.version_id == version.id, Clause.key == key))


def version_outline(version: Version) -> list[Clause]:
    """The version's clauses in order, without bodies (for tables of contents and neighbours)."""
    return db.session.scalars(
        db.select(Clause)
        .where(Clause.version_id == version.id)
        .order_by(Clause.position)
        .options(db.defer(Clause.body), db.defer(Clause.body_html))
    ).all()


class TreeNode:
    """A clause with its children, for rendering the table of contents."""

    def __init__(self, clause):
        self.clause = clause
        self.children: list[TreeNode] = []


def clause_tree(clauses, ident=attrgetter("id"), parent=attrgetter("parent_id")) -> list[TreeNode]:
    """Nest clauses (in position order) by parent; returns the top-level nodes."""
    nodes = {ident(c): TreeNode(c) for c in clauses}
    roots = []
    for c in clauses:
        parent_node = nodes.get(parent(c))
        (parent_node.children if parent_node else roots).append(nodes[ident(c)])
    return roots


def parsed_tree(draft: ParsedDraft) -> list[TreeNode]:
    """The clause tree of a parsed (not yet saved) draft, for the publishing preview."""
    return clause_tree(draft.clauses, attrgetter("key"), attrgetter("parent_key"))


def clause_context(outline: list[Clause], clause: Clause) -> dict:
    """Breadcrumb ancestors, and previous/next clause, from the version's outline."""
    by_id = {c.id: c for c in outline}
    ancestors, parent_id = [], clause.parent_id
    while parent_id and parent_id in by_id:
        ancestors.insert(0, by_id[parent_id])
        parent_id = by_id[parent_id].parent_id
    index = next(i for i, c in enumerate(outline) if c.id == clause.id)
    return {
        "ancestors": ancestors,
        "previous": outline[index - 1] if index > 0 else None,
        "next": outline[index + 1] if index + 1 < len(outline) else None,
    }
