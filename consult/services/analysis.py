"""The drafters' analysis desk: campaigns, themes and clause summaries, computed off the request path and stored.

`refresh` runs from `flask analysis refresh` (a background job): it reads a version's comments, calls the pure
algorithms in consult/analysis/, and replaces the stored results in one transaction. Pages and the API only read
the tables, so the review workspace never waits for a computation.

What feeds what:
* campaigns and themes: every visible top-level comment of the version (confidential ones too: only staff see
  campaigns and themes; participants never see either, nor counts drawn from them);
* summaries: visible comments that are not confidential, because an approved summary becomes public.

Drafters' edits to themes survive recomputation: a theme a drafter renamed, merged, split or moved comments into is
`edited`, and recomputation keeps it and its members as they are; a comment a drafter moved (or whose theme they
deleted) is `pinned` and is never re-themed. Only automatic themes and unpinned comments are recomputed. An
approved summary is kept as approved; recomputation leaves it alone.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from .. import permissions
from ..extensions import db
from ..models import (
    AnalysisRun,
    Campaign,
    CampaignMember,
    Clause,
    ClauseSummary,
    Comment,
    CommentSignature,
    Document,
    Theme,
    ThemeMember,
    Version,
    utcnow,
)
from . import ServiceError
from .moderation import record
from .review import bulk_dispose

INCREMENTAL_MAX = 5_000  # more new comments than this: a full run is as quick and better
LABEL_MAX = 200
SUMMARY_SENTENCES = 3
SUMMARY_SAMPLE = 1_000  # comments per clause read for its summary (all of them up to this many)


# --- computing ------------------------------------------------------------------------------------------------


def _analysable(version: Version, after: int | None = None):
    """(id, body, clause_id, visibility) of the visible top-level comments of a version (with ids above `after`)."""
    stmt = db.select(Comment.id, Comment.body, Comment.clause_id, Comment.visibility).where(
        Comment.version_id == version.id, Comment.status == "visible", Comment.parent_id.is_(None)
    )
    if after is not None:
        stmt = stmt.where(Comment.id > after)
    return db.session.execute(stmt.order_by(Comment.id)).all()


def _body_hash(body: str) -> int:
    return zlib.crc32(body.encode("utf-8"))


def _signatures(version: Version, rows, only_these: bool = False) -> dict[int, tuple[int, object]]:
    """{comment id: (shingle count, signature)}: stored ones reused while the body is unchanged, others computed
    and stored (the caller commits)."""
    from ..analysis import campaigns as campaign_algo  # numpy and datasketch load only where analysis runs

    stmt = db.select(CommentSignature).where(CommentSignature.version_id == version.id)
    if only_these:
        stmt = stmt.where(CommentSignature.comment_id.in_([r.id for r in rows] or [-1]))
    stored = {s.comment_id: s for s in db.session.scalars(stmt)}
    out = {}
    todo: dict[int, str] = {}
    hashes: dict[int, int] = {}
    for row in rows:
        h = hashes[row.id] = _body_hash(row.body)
        kept = stored.get(row.id)
        if kept is not None and kept.body_hash == h:
            if kept.shingles:
                out[row.id] = (kept.shingles, campaign_algo.signature_from_bytes(kept.signature))
            continue
        todo[row.id] = row.body
    computed = campaign_algo.prepare(todo)  # a chunk of texts at a time
    inserts = []
    for cid in todo:
        size, sig = computed.get(cid, (0, None))
        values = {
            "body_hash": hashes[cid],
            "shingles": size,
            "signature": campaign_algo.signature_bytes(sig) if sig is not None else b"",
        }
        kept = stored.get(cid)
        if kept is None:
            inserts.append(dict(values, comment_id=cid, version_id=version.id))
        else:  # an edited comment
            kept.body_hash, kept.shingles, kept.signature = values["body_hash"], size, values["signature"]
        if sig is not None:
            out[cid] = (size, sig)
    if inserts:  # one executemany: ORM objects cost 1 ms each at 100,000 comments
        db.session.execute(db.insert(CommentSignature), inserts)
    return out


def _store_campaigns(version: Version, found, now) -> None:
    db.session.execute(
        db.delete(CampaignMember).where(
            CampaignMember.campaign_id.in_(db.select(Campaign.id).where(Campaign.version_id == version.id))
        )
    )
    db.session.execute(db.delete(Campaign).where(Campaign.version_id == version.id))
    if not found:
        return
    ids = db.session.scalars(
        db.insert(Campaign).returning(Campaign.id, sort_by_parameter_order=True),
        [
            {"version_id": version.id, "representative_id": c.representative, "size": c.size, "computed_at": now}
            for c in found
        ],
    ).all()
    db.session.execute(
        db.insert(CampaignMember),
        [
            {"comment_id": m, "campaign_id": campaign_id, "similarity": round(c.similarity.get(m, 1.0), 4)}
            for campaign_id, c in zip(ids, found, strict=True)
            for m in c.members
        ],
    )


def _existing_campaigns(version: Version) -> dict[int, list[int]]:
    """{representative id: member ids} of the stored campaigns."""
    groups: dict[int, list[int]] = defaultdict(list)
    for rep, member in db.session.execute(
        db.select(Campaign.representative_id, CampaignMember.comment_id)
        .join(CampaignMember, CampaignMember.campaign_id == Campaign.id)
        .where(Campaign.version_id == version.id)
    ):
        groups[rep].append(member)
    return groups


def _campaigns_incremental(version: Version, new_rows, now) -> None:
    """File new comments into the stored campaigns, or into new ones with an earlier comment or each other.

    Append-only: stored campaigns keep their rows and gain members. Candidates come from LSH banding done with
    numpy over every stored signature (read as one matrix, never as objects), so a few new comments among 100,000
    take seconds."""
    import numpy as np

    from ..analysis import campaigns as campaign_algo

    new_ids = {r.id for r in new_rows}
    old = db.session.execute(
        db.select(CommentSignature.comment_id, CommentSignature.shingles, CommentSignature.signature)
        .join(Comment, Comment.id == CommentSignature.comment_id)
        .where(
            CommentSignature.version_id == version.id,
            CommentSignature.shingles > 0,
            Comment.status == "visible",
            CommentSignature.comment_id.not_in(new_ids or [-1]),
        )
        .order_by(CommentSignature.comment_id)
    ).all()
    old_ids = np.array([r.comment_id for r in old], dtype=np.int64)
    old_sizes = np.array([r.shingles for r in old], dtype=np.int64)
    matrix = (
        np.frombuffer(b"".join(r.signature for r in old), dtype=np.uint32).reshape(len(old), -1)
        if old
        else np.empty((0, campaign_algo.NUM_PERM), dtype=np.uint32)
    )
    bands = campaign_algo.band_keys(matrix)
    fresh = campaign_algo.prepare({r.id: r.body for r in new_rows})
    member_of = dict(
        db.session.execute(
            db.select(CampaignMember.comment_id, CampaignMember.campaign_id)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(Campaign.version_id == version.id)
        ).all()
    )
    filed: list[tuple[int, int, np.ndarray]] = []  # new comments so far: (id, size, hash values)
    for cid in sorted(fresh):
        size, sig = fresh[cid]
        values = np.asarray(sig.hashvalues, dtype=np.uint32)
        best, best_j = None, -1.0
        candidates = np.nonzero(np.any(bands == campaign_algo.band_keys(values.reshape(1, -1))[0], axis=1))[0]
        for row in candidates:
            j = float(np.mean(matrix[row] == values))
            if j > best_j and campaign_algo.same_letter(j, size, int(old_sizes[row])):
                best, best_j = int(old_ids[row]), j
        for other, other_size, other_values in filed:
            j = float(np.mean(other_values == values))
            if j > best_j and campaign_algo.same_letter(j, size, other_size):
                best, best_j = other, j
        filed.append((cid, size, values))
        if best is None:
            continue
        campaign_id = member_of.get(best)
        if campaign_id is None:  # a new campaign: the earlier comment (its template) and this one
            campaign = Campaign(version_id=version.id, representative_id=best, size=1, computed_at=now)
            db.session.add(campaign)
            db.session.flush()
            db.session.add(CampaignMember(comment_id=best, campaign_id=campaign.id, similarity=1.0))
            campaign_id = member_of[best] = campaign.id
        db.session.add(CampaignMember(comment_id=cid, campaign_id=campaign_id, similarity=round(best_j, 4)))
        member_of[cid] = campaign_id
        db.session.execute(
            db.update(Campaign).where(Campaign.id == campaign_id).values(size=Campaign.size + 1, computed_at=now)
        )


def _store_themes(version: Version, rows, now) -> None:
    """Recompute automatic themes over the comments no drafter has placed; see the module's docstring."""
    from ..analysis import themes as theme_algo  # scikit-learn loads only where analysis runs

    kept_members = dict(
        db.session.execute(
            db.select(ThemeMember.comment_id, ThemeMember.theme_id)
            .join(Theme, ThemeMember.theme_id == Theme.id)
            .where(
                Theme.version_id == version.id,
                db.or_(Theme.edited.is_(True), ThemeMember.pinned.is_(True), Theme.deleted_at.is_not(None)),
            )
        ).all()
    )
    bodies = {r.id: r.body for r in rows if r.id not in kept_members}
    auto = db.select(Theme.id).where(
        Theme.version_id == version.id, Theme.edited.is_(False), Theme.deleted_at.is_(None)
    )
    db.session.execute(db.delete(ThemeMember).where(ThemeMember.theme_id.in_(auto), ThemeMember.pinned.is_(False)))
    db.session.execute(
        db.delete(Theme).where(
            Theme.id.in_(auto.scalar_subquery()), ~db.exists().where(ThemeMember.theme_id == Theme.id)
        )
    )
    # A campaign is one text in the factorisation, weighted by its size; its members follow its template.
    follows: dict[int, int] = {}
    weights: dict[int, int] = {}
    for rep, members in _existing_campaigns(version).items():
        present = [m for m in members if m in bodies]
        if rep not in bodies or not present:
            continue
        weights[rep] = len(present)
        for m in present:
            if m != rep:
                follows[m] = rep
    texts = {i: t for i, t in bodies.items() if i not in follows}
    found = theme_algo.find_themes(texts, weights=weights)
    for result in found:
        theme = Theme(
            version_id=version.id,
            label=result.label or _("Unlabelled theme"),
            key_terms=result.key_terms,
            computed_at=now,
        )
        db.session.add(theme)
        db.session.flush()
        members = list(result.members) + [m for m, rep in follows.items() if rep in result.weights]
        db.session.execute(
            db.insert(ThemeMember),
            [
                {
                    "comment_id": m,
                    "theme_id": theme.id,
                    "pinned": False,
                    "weight": result.weights.get(m, result.weights.get(follows.get(m), 0.0)),
                }
                for m in members
            ],
        )


def _assign_new(version: Version, texts: dict[int, str]) -> None:
    """Put new comments in the live theme whose key terms they share most (ranked terms weigh more)."""
    if not texts:
        return
    themes = db.session.scalars(
        db.select(Theme).where(Theme.version_id == version.id, Theme.deleted_at.is_(None))
    ).all()
    for cid, text in texts.items():
        lowered = " ".join(text.lower().split())
        best, best_score = None, 0.0
        for theme in themes:
            score = sum(1.0 / (rank + 1) for rank, term in enumerate(theme.key_terms or []) if term in lowered)
            if score > best_score:
                best, best_score = theme, score
        if best is not None:
            db.session.merge(ThemeMember(comment_id=cid, theme_id=best.id, weight=0.0, pinned=False))


def _store_summaries(version: Version, rows, now, clause_ids: set | None = None) -> None:
    """Extractive summaries per clause (and for the general comments) from non-confidential comments."""
    from ..analysis import themes as theme_algo

    by_clause: dict[int | None, dict[int, str]] = defaultdict(dict)
    for r in rows:
        if r.visibility != "confidential":
            by_clause[r.clause_id][r.id] = r.body
    for clause_id, texts in by_clause.items():
        if len(texts) > SUMMARY_SAMPLE:  # an evenly spaced sample by id: the sentences many wrote still surface
            ids = sorted(texts)
            step = len(ids) / SUMMARY_SAMPLE
            by_clause[clause_id] = {ids[int(k * step)]: texts[ids[int(k * step)]] for k in range(SUMMARY_SAMPLE)}
    existing = {
        s.clause_id: s
        for s in db.session.scalars(db.select(ClauseSummary).where(ClauseSummary.version_id == version.id))
    }
    targets = set(by_clause) | set(existing) if clause_ids is None else clause_ids
    for clause_id in targets:
        summary = existing.get(clause_id)
        if summary is not None and summary.approved_at is not None:
            continue
        sentences = [
            {"text": text, "comment_ids": ids}
            for text, ids in theme_algo.summarise(by_clause.get(clause_id, {}), SUMMARY_SENTENCES)
        ]
        if not sentences:
            if summary is not None:
                db.session.delete(summary)
            continue
        if summary is None:
            summary = ClauseSummary(version_id=version.id, clause_id=clause_id)
            db.session.add(summary)
        summary.sentences, summary.computed_at = sentences, now


@dataclass
class RefreshResult:
    document: str
    version: int
    comments: int
    new: int
    mode: str
    campaigns: int
    themes: int
    seconds: float
    stages: dict  # seconds per stage of a full run


def refresh(version: Version, *, full: bool = False) -> RefreshResult:
    """Recompute a version's campaigns, themes and summaries (incrementally when only a few comments are new)."""
    from ..analysis import campaigns as campaign_algo

    started = time.perf_counter()
    now = utcnow()
    run = db.session.get(AnalysisRun, version.id)
    if not full and run is not None:
        new_rows = _analysable(version, after=run.last_comment_id)
        if len(new_rows) <= INCREMENTAL_MAX:
            return _refresh_incremental(version, run, new_rows, started, now)
    stages: dict[str, float] = {}

    mark = [started]

    def lap(name: str) -> None:
        now_ = time.perf_counter()
        stages[name] = round(now_ - mark[0], 2)
        mark[0] = now_

    rows = _analysable(version)
    new_ids = {r.id for r in rows if run is None or r.id > run.last_comment_id}
    lap("read")
    sigs = _signatures(version, rows)
    lap("signatures")
    found = campaign_algo.cluster(sigs)
    lap("campaigns")
    _store_campaigns(version, found, now)
    db.session.flush()
    lap("store campaigns")
    _store_themes(version, rows, now)
    lap("themes")
    _store_summaries(version, rows, now)
    lap("summaries")
    if run is None:
        run = AnalysisRun(version_id=version.id)
        db.session.add(run)
    run.last_comment_id = max((r.id for r in rows), default=run.last_comment_id or 0)
    run.comment_count = len(rows)
    return _finish(version, run, started, len(new_ids), "full", stages)


def _refresh_incremental(version: Version, run: AnalysisRun, new_rows, started, now) -> RefreshResult:
    """File only the new comments: into campaigns (append-only) and into the nearest live theme. Summaries and
    the themes themselves are recomputed by full runs (`analysis refresh --full`, e.g. nightly)."""
    if new_rows:
        _campaigns_incremental(version, new_rows, now)
        _store_signatures(version, new_rows)
        pinned = set(
            db.session.scalars(
                db.select(ThemeMember.comment_id).where(ThemeMember.comment_id.in_([r.id for r in new_rows]))
            )
        )
        _assign_new(version, {r.id: r.body for r in new_rows if r.id not in pinned})
        run.last_comment_id = max(r.id for r in new_rows)
        run.comment_count = (run.comment_count or 0) + len(new_rows)
    return _finish(version, run, started, len(new_rows), "incremental")


def _store_signatures(version: Version, rows) -> None:
    """Store the signatures of these comments (the caller commits)."""
    _signatures(version, rows, only_these=True)


def _finish(
    version: Version, run: AnalysisRun, started, new: int, mode: str, stages: dict | None = None
) -> RefreshResult:
    run.finished_at = utcnow()
    run.seconds = round(time.perf_counter() - started, 3)
    db.session.commit()
    campaigns = db.session.scalar(db.select(db.func.count(Campaign.id)).where(Campaign.version_id == version.id))
    themes = db.session.scalar(
        db.select(db.func.count(Theme.id)).where(Theme.version_id == version.id, Theme.deleted_at.is_(None))
    )
    return RefreshResult(
        version.document.slug,
        version.number,
        run.comment_count,
        new,
        mode,
        campaigns,
        themes,
        run.seconds,
        stages or {},
    )


def versions_to_refresh(slug: str | None = None, number: int | None = None) -> list[Version]:
    """The versions `analysis refresh` works on: one, a document's, or every version."""
    stmt = db.select(Version).join(Document, Version.document_id == Document.id).order_by(Document.slug, Version.number)
    if slug:
        stmt = stmt.where(Document.slug == slug)
    if number is not None:
        stmt = stmt.where(Version.number == number)
    return list(db.session.scalars(stmt))


# --- reading --------------------------------------------------------------------------------------------------


def last_run(version: Version) -> AnalysisRun | None:
    """When the version's analysis last ran, or None."""
    return db.session.get(AnalysisRun, version.id)


def campaigns(version: Version) -> list[Campaign]:
    """The version's campaigns, largest first."""
    return list(
        db.session.scalars(
            db.select(Campaign).where(Campaign.version_id == version.id).order_by(Campaign.size.desc(), Campaign.id)
        )
    )


def campaign_members(campaign: Campaign) -> list[list[int]]:
    """The member ids of each campaign given, in the same order."""
    return list(
        db.session.scalars(
            db.select(CampaignMember.comment_id)
            .where(CampaignMember.campaign_id == campaign.id)
            .order_by(CampaignMember.comment_id)
        )
    )


def campaigns_json(version: Version) -> list[dict]:
    """The campaigns as the API gives them."""
    members: dict[int, list[int]] = defaultdict(list)
    for campaign_id, comment_id in db.session.execute(
        db.select(CampaignMember.campaign_id, CampaignMember.comment_id)
        .join(Campaign, CampaignMember.campaign_id == Campaign.id)
        .where(Campaign.version_id == version.id)
        .order_by(CampaignMember.comment_id)
    ):
        members[campaign_id].append(comment_id)
    return [
        {"id": c.id, "size": c.size, "representative_id": c.representative_id, "comment_ids": members[c.id]}
        for c in campaigns(version)
    ]


def get_campaign(version: Version, campaign_id: int) -> Campaign | None:
    """A campaign of this version, or None."""
    campaign = db.session.get(Campaign, campaign_id)
    return campaign if campaign is not None and campaign.version_id == version.id else None


def group_breakdowns(version: Version) -> dict[int, Counter]:
    """{campaign id: Counter(stakeholder group)} for the version's campaigns (one query)."""
    out: dict[int, Counter] = defaultdict(Counter)
    for campaign_id, group, n in db.session.execute(
        db.select(CampaignMember.campaign_id, Comment.author_group, db.func.count())
        .join(Comment, Comment.id == CampaignMember.comment_id)
        .join(Campaign, Campaign.id == CampaignMember.campaign_id)
        .where(Campaign.version_id == version.id)
        .group_by(CampaignMember.campaign_id, Comment.author_group)
    ):
        out[campaign_id][group] = n
    return out


def campaign_comments(campaign: Campaign, *, page: int = 1, per_page: int = 50):
    """One page of a campaign's members (the representative first), with their dispositions."""
    from ..pagination import paginate

    stmt = (
        db.select(Comment)
        .join(CampaignMember, CampaignMember.comment_id == Comment.id)
        .where(CampaignMember.campaign_id == campaign.id)
        .options(db.joinedload(Comment.disposition), db.joinedload(Comment.author))
        .order_by(db.case((Comment.id == campaign.representative_id, 0), else_=1), Comment.id)
    )
    return paginate(stmt, page, per_page)


def dispose_campaign(campaign: Campaign, actor, status: str, response: str) -> int:
    """Give every member of a campaign the same disposition (each keeps its own row); returns how many."""
    if not permissions.can_edit_analysis(actor):
        raise ServiceError(_("Only drafters can set dispositions."), status=403)
    members = list(
        db.session.scalars(
            db.select(Comment)
            .join(CampaignMember, CampaignMember.comment_id == Comment.id)
            .where(CampaignMember.campaign_id == campaign.id)
            .options(db.joinedload(Comment.disposition), db.joinedload(Comment.version))
        ).unique()
    )
    return bulk_dispose(members, actor, status, response)


def campaign_members_of(version: Version):
    """A SQL condition true of comments that are a campaign's non-representative member (to count a campaign once)."""
    return Comment.id.in_(
        db.select(CampaignMember.comment_id)
        .join(Campaign, Campaign.id == CampaignMember.campaign_id)
        .where(Campaign.version_id == version.id, CampaignMember.comment_id != Campaign.representative_id)
    )


# --- themes ---------------------------------------------------------------------------------------------------


def _on_clause(stmt, clause: Clause | None):
    """Narrow a statement over ThemeMember to comments on one clause (None: every comment)."""
    if clause is None:
        return stmt
    return stmt.where(ThemeMember.comment_id.in_(db.select(Comment.id).where(Comment.clause_id == clause.id)))


def themes(version: Version, clause: Clause | None = None) -> list[Theme]:
    """The version's live themes, by size then label; with a clause, sized by its comments and only those found
    there."""
    sizes = dict(
        db.session.execute(
            _on_clause(
                db.select(ThemeMember.theme_id, db.func.count())
                .join(Theme, Theme.id == ThemeMember.theme_id)
                .where(Theme.version_id == version.id)
                .group_by(ThemeMember.theme_id),
                clause,
            )
        ).all()
    )
    found = list(db.session.scalars(db.select(Theme).where(Theme.version_id == version.id, Theme.deleted_at.is_(None))))
    for theme in found:
        theme.size = sizes.get(theme.id, 0)
    if clause is not None:
        found = [t for t in found if t.size]
    found.sort(key=lambda t: (-t.size, t.label))
    return found


def themes_json(version: Version) -> list[dict]:
    """The themes as the API gives them."""
    members: dict[int, list[int]] = defaultdict(list)
    for theme_id, comment_id in db.session.execute(
        db.select(ThemeMember.theme_id, ThemeMember.comment_id)
        .join(Theme, Theme.id == ThemeMember.theme_id)
        .where(Theme.version_id == version.id, Theme.deleted_at.is_(None))
        .order_by(ThemeMember.comment_id)
    ):
        members[theme_id].append(comment_id)
    return [
        {"id": t.id, "label": t.label, "key_terms": list(t.key_terms or []), "comment_ids": members[t.id]}
        for t in themes(version)
    ]


def get_theme(version: Version, theme_id) -> Theme | None:
    """A live theme of this version, or None."""
    try:
        theme = db.session.get(Theme, int(theme_id))
    except (TypeError, ValueError):
        return None
    if theme is None or theme.version_id != version.id or theme.deleted_at is not None:
        return None
    return theme


def theme_breakdowns(version: Version, clause: Clause | None = None) -> tuple[dict[int, Counter], dict[int, Counter]]:
    """({theme id: Counter(group)}, {theme id: Counter(stance)}) over the version's themes (one query)."""
    groups: dict[int, Counter] = defaultdict(Counter)
    stances: dict[int, Counter] = defaultdict(Counter)
    for theme_id, group, stance, n in db.session.execute(
        _on_clause(
            db.select(ThemeMember.theme_id, Comment.author_group, Comment.stance, db.func.count())
            .join(Comment, Comment.id == ThemeMember.comment_id)
            .join(Theme, Theme.id == ThemeMember.theme_id)
            .where(Theme.version_id == version.id)
            .group_by(ThemeMember.theme_id, Comment.author_group, Comment.stance),
            clause,
        )
    ):
        groups[theme_id][group] += n
        stances[theme_id][stance or "none"] += n
    return groups, stances


def theme_examples(version: Version, per_theme: int = 3, clause: Clause | None = None) -> dict[int, list[Comment]]:
    """The most representative comments of each theme (highest weight first), read a few per theme."""
    out: dict[int, list[Comment]] = defaultdict(list)
    rank = (
        db.func.row_number()
        .over(partition_by=ThemeMember.theme_id, order_by=(ThemeMember.weight.desc(), ThemeMember.comment_id))
        .label("rank")
    )
    ranked = _on_clause(
        db.select(ThemeMember.theme_id, ThemeMember.comment_id, rank)
        .join(Theme, Theme.id == ThemeMember.theme_id)
        .where(Theme.version_id == version.id, Theme.deleted_at.is_(None)),
        clause,
    ).subquery()
    rows = db.session.execute(
        db.select(ranked.c.theme_id, ranked.c.comment_id)
        .where(ranked.c.rank <= per_theme)
        .order_by(ranked.c.theme_id, ranked.c.rank)
    ).all()
    wanted: dict[int, list[int]] = defaultdict(list)
    for theme_id, comment_id in rows:
        wanted[theme_id].append(comment_id)
    ids = [i for v in wanted.values() for i in v]
    comments = {c.id: c for c in db.session.scalars(db.select(Comment).where(Comment.id.in_(ids or [-1])))}
    for theme_id, comment_ids in wanted.items():
        out[theme_id] = [comments[i] for i in comment_ids if i in comments]
    return out


def theme_of(comment_ids) -> dict[int, Theme]:
    """{comment id: live theme} for these comments."""
    ids = list(comment_ids)
    if not ids:
        return {}
    return {
        cid: theme
        for cid, theme in db.session.execute(
            db.select(ThemeMember.comment_id, Theme)
            .join(Theme, Theme.id == ThemeMember.theme_id)
            .where(ThemeMember.comment_id.in_(ids), Theme.deleted_at.is_(None))
        ).all()
    }


def _label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ServiceError(_("Give the theme a name."), field="label")
    if len(label) > LABEL_MAX:
        raise ServiceError(
            ngettext(
                "A theme's name can be at most %(num)d character.",
                "A theme's name can be at most %(num)d characters.",
                LABEL_MAX,
            ),
            field="label",
        )
    return label


def _check_editor(actor) -> None:
    if not permissions.can_edit_analysis(actor):
        raise ServiceError(_("Only drafters can change themes."), status=403)


def rename_theme(theme: Theme, actor, label: str) -> Theme:
    """A drafter names a theme; the theme is then kept as it is by recomputation."""
    _check_editor(actor)
    label = _label(label)
    before = theme.label
    theme.label, theme.edited = label, True
    record(actor, "rename-theme", "theme", theme.id, {"label": before}, {"label": label})
    db.session.commit()
    return theme


def merge_themes(target: Theme, others: list[Theme], actor) -> Theme:
    """Move every comment of `others` into `target` and delete the others."""
    _check_editor(actor)
    others = [t for t in others if t.id != target.id]
    if not others:
        raise ServiceError(_("Choose at least one other theme to merge into this one."), field="others")
    now = utcnow()
    for other in others:
        db.session.execute(db.update(ThemeMember).where(ThemeMember.theme_id == other.id).values(theme_id=target.id))
        other.deleted_at = now
    target.edited = True
    target.key_terms = list(
        dict.fromkeys(list(target.key_terms or []) + [t for o in others for t in (o.key_terms or [])])
    )[:12]
    record(actor, "merge-themes", "theme", target.id, {"merged": [o.id for o in others]}, {"into": target.id})
    db.session.commit()
    return target


def split_theme(theme: Theme, comment_ids, actor, label: str) -> Theme:
    """Move some of a theme's comments into a new theme of their own, named by the drafter."""
    _check_editor(actor)
    label = _label(label)
    wanted = {int(i) for i in comment_ids if str(i).isdigit()}
    members = set(
        db.session.scalars(
            db.select(ThemeMember.comment_id).where(
                ThemeMember.theme_id == theme.id, ThemeMember.comment_id.in_(wanted)
            )
        )
    )
    if not members:
        raise ServiceError(_("Select the comments that form the new theme."), field="ids")
    new = Theme(version_id=theme.version_id, label=label, key_terms=[], edited=True)
    db.session.add(new)
    db.session.flush()
    db.session.execute(
        db.update(ThemeMember).where(ThemeMember.comment_id.in_(members)).values(theme_id=new.id, pinned=True)
    )
    theme.edited = True
    record(actor, "split-theme", "theme", theme.id, None, {"new_theme": new.id, "comments": sorted(members)})
    db.session.commit()
    return new


def delete_theme(theme: Theme, actor) -> None:
    """Delete a theme: its comments are left without a theme, and recomputation does not re-theme them."""
    _check_editor(actor)
    theme.deleted_at = utcnow()
    db.session.execute(db.update(ThemeMember).where(ThemeMember.theme_id == theme.id).values(pinned=True))
    record(actor, "delete-theme", "theme", theme.id, {"label": theme.label}, None)
    db.session.commit()


def move_comment(comment: Comment, target: Theme, actor) -> None:
    """Put a comment in another theme; it stays there through recomputation."""
    _check_editor(actor)
    if comment.version_id != target.version_id:
        raise ServiceError(_("The comment and the theme belong to different versions."))
    member = db.session.get(ThemeMember, comment.id)
    before = member.theme_id if member else None
    if member is None:
        db.session.add(ThemeMember(comment_id=comment.id, theme_id=target.id, pinned=True))
    else:
        member.theme_id, member.pinned = target.id, True
    target.edited = True
    record(actor, "move-to-theme", "comment", comment.id, {"theme": before}, {"theme": target.id})
    db.session.commit()


# --- summaries ------------------------------------------------------------------------------------------------


def summary_for(version: Version, clause: Clause | None) -> ClauseSummary | None:
    """The stored summary of a clause's comments (or of the general comments), or None."""
    return db.session.scalar(
        db.select(ClauseSummary).where(
            ClauseSummary.version_id == version.id,
            ClauseSummary.clause_id == clause.id if clause is not None else ClauseSummary.clause_id.is_(None),
        )
    )


def summaries(version: Version) -> list[ClauseSummary]:
    """Every summary of the version, in clause order (general comments first)."""
    return list(
        db.session.scalars(
            db.select(ClauseSummary)
            .outerjoin(Clause, Clause.id == ClauseSummary.clause_id)
            .where(ClauseSummary.version_id == version.id)
            .order_by(Clause.position.is_not(None), Clause.position)
        )
    )


def approve_summary(summary: ClauseSummary, actor, approve: bool = True) -> ClauseSummary:
    """A drafter approves a summary (it becomes public) or withdraws the approval."""
    if not permissions.can_edit_analysis(actor):
        raise ServiceError(_("Only drafters can approve summaries."), status=403)
    before = summary.approved_at is not None
    summary.approved_at = utcnow() if approve else None
    summary.approved_by_id = actor.id if approve else None
    record(
        actor,
        "approve-summary" if approve else "withdraw-summary",
        "summary",
        summary.id,
        {"approved": before},
        {"approved": approve},
    )
    db.session.commit()
    return summary


def visible_summary(version: Version, clause: Clause | None, user) -> ClauseSummary | None:
    """The summary the user may read: staff see it before approval, everyone else only once approved."""
    summary = summary_for(version, clause)
    if summary is None:
        return None
    if permissions.can_analyse(user, version):
        return summary
    if summary.approved_at is None:
        return None
    # A source comment hidden, withdrawn or made confidential since the summary was approved takes its sentences
    # out of the public summary (and its link out of every sentence).
    ids = {i for sentence in summary.sentences for i in sentence.get("comment_ids", [])}
    still = set(
        db.session.scalars(
            db.select(Comment.id).where(
                Comment.id.in_(ids or [-1]), Comment.status == "visible", Comment.visibility != "confidential"
            )
        )
    )
    sentences = [
        {"text": sentence["text"], "comment_ids": [i for i in sentence.get("comment_ids", []) if i in still]}
        for sentence in summary.sentences
    ]
    sentences = [sentence for sentence in sentences if sentence["comment_ids"]]
    if not sentences:
        return None
    return PublicSummary(summary.id, sentences, summary.approved_at)


@dataclass
class PublicSummary:
    """An approved summary as the public reads it: only sentences whose sources are still public."""

    id: int
    sentences: list
    approved_at: object
