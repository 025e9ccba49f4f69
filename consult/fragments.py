"""A published version's text, rendered once per language and cached; only its per-request parts are filled in.

A version's text, numbers and keys never change once published, but rendering its 300 clauses took 45 of the
version page's 50 ms. The text and contents (templates/documents/_version_text.html) are therefore rendered once
and kept, cut at "slots": the places that depend on the viewer or on the moment (comment counts, the drafters'
questions). Every request fills the slots from fresh queries.

What the cached entry depends on is all in its key, so an entry is never stale and nothing is ever invalidated:
the version (id, publication time, document slug), the language, the lineage statuses shown as change notes (the
one thing drafters may correct after publication) and the templates and catalogues of this deployment. Nothing
about the viewer goes in: the fragment is rendered without request context, current user or permissions.

Where: in this process's memory (most recently used entries first), backed by files under PAGE_CACHE_DIR
(<instance>/page-cache), so that each gunicorn worker, and each server sharing the instance folder, renders a
version once at most. A server without the folder renders the entry itself: the key makes both identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, get_template_attribute, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from . import vocabulary
from .extensions import db
from .logs import get_logger

log = get_logger(__name__)

MEMORY_ENTRIES = 32  # about 0.5 MB each for a 300-clause version
TEMPLATE = "documents/_version_text.html"
_SLOT = re.compile(r"\x00(\w+):(\d+)\x00")
_build_stamp: str | None = None


def _slot(kind: str, clause) -> Markup:
    return Markup(f"\x00{kind}:{int(clause.id)}\x00")


def _deployment_stamp() -> str:
    """What the rendered text depends on besides the data: the templates and the compiled catalogues."""
    global _build_stamp
    if _build_stamp is None:
        digest = hashlib.sha256()
        root = Path(current_app.root_path)
        for path in [
            Path(
                current_app.template_folder
                if Path(current_app.template_folder).is_absolute()
                else root / current_app.template_folder
            )
            / "documents"
            / "_version_text.html",
            *sorted((root / "translations").glob("*/LC_MESSAGES/messages.mo")),
        ]:
            if path.exists():
                digest.update(str(path).encode() + path.read_bytes())
        _build_stamp = digest.hexdigest()[:16]
    return _build_stamp


def _key(document, version, locale: str) -> str:
    from .models import Clause

    statuses = db.session.scalars(
        db.select(Clause.lineage_status).where(Clause.version_id == version.id).order_by(Clause.position)
    ).all()
    raw = json.dumps(
        [
            "version-text",
            1,
            _deployment_stamp(),
            document.slug,
            version.id,
            version.published_at.isoformat() if version.published_at else "",
            locale,
            hashlib.sha256("|".join(s or "" for s in statuses).encode()).hexdigest(),
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _memory() -> OrderedDict:
    return current_app.extensions.setdefault("consult_fragments", OrderedDict())


def _render_entry(document, version) -> dict:
    """Render the text once: the pieces between slots, the slots, and each clause's key, number and link."""
    from .services import documents as document_service

    clauses = document_service.version_clauses(version)
    html = current_app.jinja_env.get_template(TEMPLATE).render(
        document=document,
        version=version,
        clauses=clauses,
        tree=document_service.clause_tree(clauses),
        vocab=vocabulary,
        slot=_slot,
    )
    pieces = _SLOT.split(html)
    return {
        "texts": pieces[0::3],
        "slots": [[k, int(i)] for k, i in zip(pieces[1::3], pieces[2::3], strict=False)],
        "clauses": {
            str(c.id): [
                c.key,
                c.number,
                str(escape(url_for("documents.clause", slug=document.slug, number=version.number, key=c.key))),
            ]
            for c in clauses
        },
    }


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(path: Path, entry: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(entry, fh)
        os.replace(partial, path)  # readers see the whole file or none
    except OSError as exc:  # a read-only or full disk costs speed, never the page
        log.warning("page cache: cannot write %s: %s", path, exc)


def version_entry(document, version) -> dict:
    """The cached rendering of the version's text in the reader's language (rendered and stored on a miss)."""
    key = _key(document, version, str(get_locale() or "en"))
    memory = _memory()
    entry = memory.get(key)
    if entry is None:
        path = Path(current_app.config["PAGE_CACHE_DIR"]) / f"{key}.json"
        entry = _read(path)
        if entry is None:
            entry = _render_entry(document, version)
            _write(path, entry)
        memory[key] = entry
        while len(memory) > MEMORY_ENTRIES:
            memory.popitem(last=False)
    else:
        memory.move_to_end(key)
    return entry


def version_text(document, version, *, counts: dict, questions: dict) -> Markup:
    """The version's contents and full text, with this request's comment counts and questions in their slots.

    `counts` and `questions` are comment_service.version_comment_counts / version_questions for the viewer.
    The counts of 300 clauses are written here rather than through a template macro: 300 macro calls cost more
    than the whole rest of the page."""
    entry = version_entry(document, version)
    clauses = entry["clauses"]
    groups = {k: str(escape(v)) for k, v in vocabulary.STAKEHOLDER_GROUPS.items()}
    none_yet = Markup('<span class="muted">{}</span>').format(_("no comments yet"))
    toc_tag = Markup('<span class="tag tag--question">{}</span>').format(_("open question"))
    on = escape(_("on"))
    comment_words: dict[int, str] = {}
    answer_words: dict[int, str] = {}
    questions_block = get_template_attribute("documents/_version_slots.html", "questions_block") if questions else None
    out = [entry["texts"][0]]
    for (kind, clause_id), text in zip(entry["slots"], entry["texts"][1:], strict=False):
        key, number, url = clauses[str(clause_id)]
        if kind == "counts":
            by_group = counts.get(clause_id)
            if by_group:
                n = sum(by_group.values())
                if n not in comment_words:
                    comment_words[n] = ngettext("%(num)d comment", "%(num)d comments", n)
                breakdown = ", ".join(f"{groups.get(g) or escape(g)}: {c}" for g, c in by_group.most_common())
                out.append(
                    f'<a href="{url}#comments">{escape(comment_words[n])}<span class="visually-hidden"> '
                    f'{on} {escape(number)}</span></a>\n        <span class="muted">({breakdown})</span>'
                )
            else:
                out.append(none_yet)
            asked = questions.get(clause_id)
            if asked and asked.answers:
                if asked.answers not in answer_words:
                    answer_words[asked.answers] = ngettext(
                        "%(num)d answer to the drafters' question",
                        "%(num)d answers to the drafters' questions",
                        asked.answers,
                    )
                out.append(
                    f'\n        · <a href="{url}#questions">{escape(answer_words[asked.answers])}'
                    f'<span class="visually-hidden"> {on} {escape(number)}</span></a>'
                )
        elif kind == "toc":
            if clause_id in questions:
                out.append(toc_tag)
        elif kind == "questions":
            asked = questions.get(clause_id)
            if asked:
                out.append(questions_block(asked, document, version, key, number))
        out.append(text)
    return Markup("".join(out))


@dataclass(frozen=True)
class OutlineClause:
    """What a clause page shows of the other clauses of its version (breadcrumbs, previous and next)."""

    id: int
    key: str
    number: str
    heading: str
    parent_id: int | None


def clause_context(version, clause) -> dict:
    """Breadcrumb ancestors and previous/next clause, from the version's outline kept in memory.

    The outline is read once per process and version: keys, numbers and headings never change once published,
    and reading 300 clauses cost a query and 300 objects on every clause page."""
    from .models import Clause
    from .services import documents as document_service

    outlines = current_app.extensions.setdefault("consult_outlines", OrderedDict())
    key = (version.id, version.published_at)
    outline = outlines.get(key)
    if outline is None:
        outline = [
            OutlineClause(*row)
            for row in db.session.execute(
                db.select(Clause.id, Clause.key, Clause.number, Clause.heading, Clause.parent_id)
                .where(Clause.version_id == version.id)
                .order_by(Clause.position)
            )
        ]
        outlines[key] = outline
        while len(outlines) > 4 * MEMORY_ENTRIES:
            outlines.popitem(last=False)
    return document_service.clause_context(outline, clause)
