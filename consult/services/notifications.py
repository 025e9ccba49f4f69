"""Notifications: who is told what, on the site and by mail (now or in a digest), in their own language.

Every event function adds Notification rows (and, for those who chose "immediately", mail outbox rows) to the
session; the calling service commits them with the change they tell of. Recipients are filtered with the same
`permissions` rules as the pages, so hidden or confidential text never reaches someone who may not read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from flask import current_app, has_request_context, url_for
from flask_babel import force_locale, format_datetime, get_locale, ngettext
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from .. import permissions
from ..extensions import db
from ..logs import get_logger
from ..models import (
    Clause,
    Comment,
    Document,
    Follow,
    Notification,
    NotificationEvent,
    NotificationPreference,
    NotificationSettings,
    Report,
    SentNotice,
    User,
    Version,
    utcnow,
)
from ..pagination import Page, paginate
from ..vocabulary import DISPOSITIONS, STAKEHOLDER_GROUPS
from .mailqueue import mail_values, mark_queued, queue_mail_rows

log = get_logger("consult.notifications")

DELIVERIES = ("immediately", "daily", "weekly", "never")
# At most one mail a day unless a person chooses otherwise; receipts and account decisions come at once, as
# they answer something the person just did or tell them why they can no longer sign in.
DEFAULTS = {
    "receipt": "immediately",
    "reply": "daily",
    "disposition": "daily",
    "review": "daily",
    "new_version": "daily",
    "window": "daily",
    "clause_activity": "daily",
    "moderated": "daily",
    "account": "immediately",
    "moderation_summary": "immediately",
}
DIGEST_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
# A digest run a little early (cron drift) still counts as the day's.
DIGEST_SLACK = timedelta(hours=1)
SOON = timedelta(hours=48)
BATCH = 200


# --- links, language, tokens --------------------------------------------------------------------------------


def site_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, built from CONSULT_BASE_URL, never from the request."""
    base = (current_app.config.get("CONSULT_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context("/"):
            path = url_for(endpoint, **values)
    return base + path


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="consult-unsubscribe")


def unsubscribe_token(user_id: int, kinds: Iterable[str]) -> str:
    """A signed token naming a person and the kinds a mail's unsubscribe link turns off (works without sign-in)."""
    return _serializer().dumps({"u": user_id, "k": sorted(set(kinds))})


def read_unsubscribe_token(token: str) -> tuple[User, list[str]] | None:
    """The person and kinds a token names, or None when it is forged or the account is gone."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    kinds = [k for k in data.get("k", []) if k in DEFAULTS] if user else []
    return (user, kinds) if user and kinds else None


def settings_for(user_id: int, *, create: bool = False, language: str | None = None) -> NotificationSettings | None:
    """A person's mail settings row (created when asked, with `language` or else the current one)."""
    row = db.session.get(NotificationSettings, user_id)
    if row is None and create:
        # Two first comments of one person at the same moment both find no row: insert-if-absent, so the second
        # does not fail on the key the first just wrote (both databases have ON CONFLICT DO NOTHING).
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(
            insert(NotificationSettings)
            .values(user_id=user_id, language=language or str(get_locale() or "en"), autofollow=True)
            .on_conflict_do_nothing()
        )
        row = db.session.get(NotificationSettings, user_id)
    return row


def preferences(user_id: int) -> dict[str, str]:
    """Every kind with the person's choice, or the default."""
    chosen = dict(
        db.session.execute(
            db.select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {kind: chosen.get(kind, default) for kind, default in DEFAULTS.items()}


# --- the core: add notifications and mails ------------------------------------------------------------------

Builder = Callable[[], tuple[str, str]]  # returns (subject, text) in the locale in force


def notify_users(user_ids: Iterable[int], kind: str, build: Builder, link: str | None = None) -> int:
    """Tell each person (once) about one event; returns how many were told. The caller commits."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    now = utcnow()
    users, chosen, languages = {}, {}, {}
    for start in range(0, len(ids), 900):  # SQLite allows at most 999 parameters in a statement
        chunk = ids[start : start + 900]
        users.update(
            {
                u.id: u
                for u in db.session.execute(db.select(User.id, User.email, User.status).where(User.id.in_(chunk))).all()
            }
        )
        chosen.update(
            dict(
                db.session.execute(
                    db.select(NotificationPreference.user_id, NotificationPreference.delivery).where(
                        NotificationPreference.user_id.in_(chunk), NotificationPreference.kind == kind
                    )
                ).all()
            )
        )
        languages.update(
            dict(
                db.session.execute(
                    db.select(NotificationSettings.user_id, NotificationSettings.language).where(
                        NotificationSettings.user_id.in_(chunk)
                    )
                ).all()
            )
        )
    default_language = current_app.config["BABEL_DEFAULT_LOCALE"]
    by_language: dict[str, list[int]] = {}
    for user_id in ids:
        user = users.get(user_id)
        if user is not None and user.status != "closed":
            by_language.setdefault(languages.get(user_id) or default_language, []).append(user_id)
    rows, mails = [], []
    # One locale switch per language, not per person: each switch reloads the catalogue.
    for language, members in by_language.items():
        with force_locale(language):
            subject, text = build()
            for user_id in members:
                delivery = chosen.get(user_id, DEFAULTS[kind])
                rows.append(
                    {
                        "user_id": user_id,
                        "kind": kind,
                        "subject": subject[:300],
                        "text": text,
                        "link": link,
                        "delivery": delivery,
                        "created_at": now,
                        "mailed_at": now if delivery == "immediately" else None,
                    }
                )
                if delivery == "immediately":
                    mails.append(_mail_values(users[user_id], [(subject, text, link)], [kind], subject))
    for start in range(0, len(rows), 500):
        db.session.execute(db.insert(Notification), rows[start : start + 500])
    queue_mail_rows(mails)
    return len(rows)


def notify(user, kind: str, build: Builder, link: str | None = None) -> int:
    """Tell one person about one event (two small reads: their choice for this kind and their language)."""
    if user is None or user.status == "closed":
        return 0
    delivery = (
        db.session.scalar(
            db.select(NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id, NotificationPreference.kind == kind
            )
        )
        or DEFAULTS[kind]
    )
    settings = db.session.get(NotificationSettings, user.id)
    language = (settings.language if settings else None) or current_app.config["BABEL_DEFAULT_LOCALE"]
    now = utcnow()
    with force_locale(language):
        subject, text = build()
        db.session.add(
            Notification(
                user_id=user.id,
                kind=kind,
                subject=subject[:300],
                text=text,
                link=link,
                delivery=delivery,
                created_at=now,
                mailed_at=now if delivery == "immediately" else None,
            )
        )
        if delivery == "immediately":
            queue_mail_rows([_mail_values(user, [(subject, text, link)], [kind], subject)])
    return 1


def _mail_values(
    user, items: list[tuple[str, str, str | None]], kinds: list[str], subject: str, intro: str | None = None
) -> dict:
    """One mail (a single notification or a digest) with both parts and a one-click unsubscribe (RFC 8058)."""
    unsubscribe = site_url("notifications.unsubscribe", token=unsubscribe_token(user.id, kinds))
    context = dict(
        items=[(s, t, site_url_for_path(link)) for s, t, link in items],
        intro=intro,
        unsubscribe_url=unsubscribe,
        preferences_url=site_url("notifications.index"),
        subject=subject,
    )
    env = current_app.jinja_env
    context["current_locale"] = str(get_locale() or "en")
    return mail_values(
        user.email,
        subject,
        env.get_template("mail/notification.txt").render(context),
        html=env.get_template("mail/notification.html").render(context),
        user_id=user.id,
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )


def site_url_for_path(path: str | None) -> str | None:
    """A site path made absolute with CONSULT_BASE_URL."""
    if not path:
        return None
    return (current_app.config.get("CONSULT_BASE_URL") or "http://127.0.0.1:5000").rstrip("/") + path


def _path(endpoint: str, **values) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def _when(value: datetime | None) -> str:
    return f"{format_datetime(value, 'd MMMM y, HH:mm')} UTC" if value else _("no closing date")


def _clause_name(clause: Clause) -> str:
    from ..labels import clause_label

    return clause_label(clause)


# --- following ----------------------------------------------------------------------------------------------


def is_following(user, target_type: str, target_id: int) -> bool:
    """True when the person follows this document or clause."""
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            db.select(Follow.id).where(
                Follow.user_id == user.id, Follow.target_type == target_type, Follow.target_id == target_id
            )
        )
        is not None
    )


def _add_follow(user_id: int, target_type: str, target_id: int) -> None:
    exists = db.session.scalar(
        db.select(Follow.id).where(
            Follow.user_id == user_id, Follow.target_type == target_type, Follow.target_id == target_id
        )
    )
    if exists is None:
        db.session.add(Follow(user_id=user_id, target_type=target_type, target_id=target_id))


def set_follow(user, target_type: str, target_id: int, follow: bool) -> bool:
    """Follow or stop following a document or a clause; one commit. Returns the new state."""
    settings_for(user.id, create=True)
    if follow:
        _add_follow(user.id, target_type, target_id)
    else:
        db.session.execute(
            db.delete(Follow).where(
                Follow.user_id == user.id, Follow.target_type == target_type, Follow.target_id == target_id
            )
        )
    db.session.commit()
    return follow


def followers(target_type: str, target_id: int) -> list[int]:
    """The ids of everyone following this document or clause."""
    return db.session.scalars(
        db.select(Follow.user_id).where(Follow.target_type == target_type, Follow.target_id == target_id)
    ).all()


def user_follows(user_id: int) -> list[tuple[str, object]]:
    """What a person follows, as (type, document or clause), for their notifications page."""
    rows = db.session.execute(
        db.select(Follow.target_type, Follow.target_id).where(Follow.user_id == user_id).order_by(Follow.created_at)
    ).all()
    out = []
    for target_type, target_id in rows:
        obj = db.session.get(Document if target_type == "document" else Clause, target_id)
        if obj is not None:
            out.append((target_type, obj))
    return out


# --- events -------------------------------------------------------------------------------------------------


def comment_posted(comment: Comment) -> None:
    """In the comment's transaction: one event row, from which everything else follows after the response.

    The receipt (notification and mail), the follow on comment, the reply notice and the clause followers'
    notices are written by fan_out_pending, in the transaction that takes the event: nothing is lost (the event
    row is committed with the comment) and nothing is told twice (the event is deleted in that transaction), and
    posting a comment costs one small row in the request however many people are told. The row keeps the
    request's language, for a first comment's author, whose settings are made from it.
    """
    db.session.add(NotificationEvent(kind="comment", object_id=comment.id, language=str(get_locale() or "") or None))
    mark_queued()


def _receipt(comment: Comment) -> None:
    clause, version = comment.clause, comment.version
    notify(
        comment.author,
        "receipt",
        lambda: (
            _("Comment received — receipt %(receipt)s", receipt=comment.receipt),
            _(
                "We received your comment on %(clause)s of %(document)s (%(version)s).\n\nReceipt: %(receipt)s\n\n"
                "Your comment:\n\n%(body)s",
                clause=_clause_name(clause),
                document=version.document.title,
                version=version.label,
                receipt=comment.receipt,
                body=comment.body,
            ),
        ),
        _path("comments.show", comment_id=comment.id),
    )


def fan_out_pending(limit: int = 50) -> int:
    """Tell clause followers of new comments; each event is taken (deleted) and fanned out in one transaction."""
    done = 0
    events = db.session.execute(
        db.select(NotificationEvent.id, NotificationEvent.object_id, NotificationEvent.language)
        .order_by(NotificationEvent.id)
        .limit(limit)
    ).all()
    for event_id, object_id, language in events:
        taken = db.session.execute(
            db.delete(NotificationEvent)
            .where(NotificationEvent.id == event_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            db.session.rollback()  # another worker has it
            continue
        # With what the notices name, in one query instead of four.
        comment = db.session.get(
            Comment,
            object_id,
            options=[
                db.joinedload(Comment.clause),
                db.joinedload(Comment.version).joinedload(Version.document),
                db.joinedload(Comment.author),
            ],
        )
        try:
            if comment is not None:
                _comment_consequences(comment, language)
            db.session.commit()
        except Exception:  # noqa: BLE001  (the event stays for the next run; the others are not held up behind it)
            db.session.rollback()
            log.exception("notification event %s could not be fanned out; kept for the next run", event_id)
            continue
        done += 1
    return done


def _comment_consequences(comment: Comment, language: str | None = None) -> None:
    """After a comment: its author follows the clause (unless turned off), the parent's author hears of the
    reply, and the clause's followers hear of it; each only if they may read it (checked again now, as the
    comment may have been hidden or withdrawn since). First its author's receipt, whatever became of it."""
    settings = settings_for(comment.author_id, create=True, language=language)
    _receipt(comment)
    if settings.autofollow and comment.clause_id is not None:  # a general comment has no clause to follow
        _add_follow(comment.author_id, "clause", comment.clause_id)
    if comment.status != "visible":
        return
    told = {comment.author_id}
    if comment.parent_id:
        parent = db.session.get(Comment, comment.parent_id)
        parent_author = db.session.get(User, parent.author_id)
        if parent_author.id not in told and permissions.can_view_comment_text(parent_author, comment):
            clause, document = comment.clause, comment.version.document
            who = _author_words(parent_author, comment)
            notify(
                parent_author,
                "reply",
                lambda: (
                    _("A reply to your comment %(receipt)s", receipt=parent.receipt),
                    _(
                        "%(who)s replied to your comment on %(clause)s of %(document)s:\n\n%(body)s",
                        who=who(),
                        clause=_clause_name(clause),
                        document=document.title,
                        body=comment.body,
                    ),
                ),
                _path("comments.show", comment_id=comment.id),
            )
        told.add(parent_author.id)
    if comment.visibility != "confidential" and comment.clause_id is not None:
        _tell_clause_followers(comment, told)


def _tell_clause_followers(comment: Comment, told: set[int]) -> None:
    """Followers are told only what the public can read; the author's name only for a public comment."""
    clause, version = comment.clause, comment.version
    document = version.document
    others = [uid for uid in followers("clause", clause.id) if uid not in told]
    notify_users(
        others,
        "clause_activity",
        lambda: (
            _("New comment on %(clause)s", clause=_clause_name(clause)),
            _(
                "%(who)s commented on %(clause)s of %(document)s (%(version)s):\n\n%(body)s",
                who=_public_author(comment),
                clause=_clause_name(clause),
                document=document.title,
                version=version.label,
                body=comment.body,
            ),
        ),
        _path("comments.show", comment_id=comment.id),
    )


def _public_author(comment: Comment) -> str:
    if comment.visibility == "public":
        return comment.author_display
    return str(STAKEHOLDER_GROUPS.get(comment.author_group, comment.author_group))


def _author_words(recipient, comment: Comment):
    def who():
        if permissions.can_see_author(recipient, comment):
            return comment.author_display
        return str(STAKEHOLDER_GROUPS.get(comment.author_group, comment.author_group))

    return who


def disposition_given(comment: Comment) -> None:
    """The author hears of the drafters' decision and response on their comment."""
    disposition = comment.disposition
    if disposition is None:
        return
    clause = comment.clause
    notify(
        comment.author,
        "disposition",
        lambda: (
            _("The drafters responded to your comment %(receipt)s", receipt=comment.receipt),
            _(
                "Your comment on %(clause)s: %(status)s.\n\n%(response)s",
                clause=_clause_name(clause),
                status=str(DISPOSITIONS.get(disposition.status, disposition.status)),
                response=disposition.response or _("(no written response)"),
            ),
        ),
        _path("comments.show", comment_id=comment.id),
    )


def review_published(version: Version) -> None:
    """Everyone who commented on the version hears that "you said, we did" is out."""
    authors = db.session.scalars(db.select(Comment.author_id).where(Comment.version_id == version.id).distinct()).all()
    document = version.document
    notify_users(
        authors,
        "review",
        lambda: (
            _(
                "%(document)s: the response to the comments on %(version)s is published",
                document=document.title,
                version=version.label,
            ),
            _(
                "The drafters published their response to the comments on %(version)s of %(document)s.",
                version=version.label,
                document=document.title,
            ),
        ),
        _path("review.feedback", slug=document.slug, number=version.number),
    )


def version_published(version: Version) -> None:
    """Followers of the document hear of a new version and its consultation window."""
    document = version.document
    notify_users(
        followers("document", document.id),
        "new_version",
        lambda: (
            _("%(document)s: %(version)s is published", document=document.title, version=version.label),
            _(
                "A new version of %(document)s is published: %(version)s.\n\nConsultation: %(opens)s – %(closes)s",
                document=document.title,
                version=version.label,
                opens=_when(version.opens_at),
                closes=_when(version.closes_at),
            ),
        ),
        _path("documents.version", slug=document.slug, number=version.number),
    )


def window_changed(version: Version) -> None:
    """Followers of the document hear that the drafters changed a version's consultation window."""
    document = version.document
    notify_users(
        followers("document", document.id),
        "window",
        lambda: (
            _(
                "%(document)s, %(version)s: the consultation window changed",
                document=document.title,
                version=version.label,
            ),
            _(
                "The consultation on %(version)s of %(document)s now runs from %(opens)s to %(closes)s.",
                version=version.label,
                document=document.title,
                opens=_when(version.opens_at),
                closes=_when(version.closes_at),
            ),
        ),
        _path("documents.version", slug=document.slug, number=version.number),
    )


def comment_moderated(comment: Comment, hidden: bool) -> None:
    """The author hears that their comment was hidden (with the public reason) or restored."""

    def build() -> tuple[str, str]:
        if hidden:
            return (
                _("Your comment %(receipt)s was hidden", receipt=comment.receipt),
                _(
                    "A moderator hid your comment from the public. The public reason: %(reason)s",
                    reason=comment.status_reason or "",
                ),
            )
        return (
            _("Your comment %(receipt)s is shown again", receipt=comment.receipt),
            _("A moderator restored your comment; the public can read it again."),
        )

    notify(comment.author, "moderated", build, _path("comments.show", comment_id=comment.id))


ACCOUNT_TEXTS = {
    "approved": lambda reason: (
        _("Your Consult account is approved"),
        _("A moderator has approved your Consult account. You can now comment on the documents under consultation."),
    ),
    "rejected": lambda reason: (
        _("Your Consult registration"),
        _(
            "A moderator has not approved your registration for Consult.\n\nReason: %(reason)s\n\n"
            "If you think this is a mistake, reply to this message.",
            reason=reason,
        ),
    ),
    "suspended": lambda reason: (
        _("Your Consult account is suspended"),
        _("A moderator has suspended your Consult account.\n\nReason: %(reason)s", reason=reason),
    ),
    "reactivated": lambda reason: (
        _("Your Consult account is active again"),
        _("A moderator has reactivated your Consult account.\n\nReason: %(reason)s", reason=reason),
    ),
}


def account_changed(user: User, change: str, reason: str | None = None) -> None:
    """The owner hears that their account was approved, rejected, suspended or reactivated, with the reason."""
    notify(user, "account", lambda: ACCOUNT_TEXTS[change](reason or ""), _path("auth.sign_in"))


# --- scheduled: windows soon, moderators' summary, digests --------------------------------------------------


def _once(key: str) -> bool:
    """Record a time-based notice; False when it was given already."""
    if db.session.get(SentNotice, key) is not None:
        return False
    db.session.add(SentNotice(key=key))
    return True


def announce_windows(now: datetime) -> int:
    """Tell followers of windows that open or close within 48 hours (once for each date)."""
    told = 0
    soon = now + SOON
    closing = db.session.scalars(db.select(Version).where(Version.closes_at > now, Version.closes_at <= soon)).all()
    opening = db.session.scalars(db.select(Version).where(Version.opens_at > now, Version.opens_at <= soon)).all()
    for version, what in [(v, "closes") for v in closing] + [(v, "opens") for v in opening]:
        if what == "closes" and version.status(now) != "open":
            continue
        at = version.closes_at if what == "closes" else version.opens_at
        if not _once(f"window:{what}:{version.id}:{at.isoformat()}"):
            continue
        document = version.document

        def build(v: Version = version, d: Document = document, what: str = what) -> tuple[str, str]:
            if what == "closes":
                return (
                    _("%(document)s: the consultation on %(version)s closes soon", document=d.title, version=v.label),
                    _(
                        "The consultation on %(version)s of %(document)s closes on %(when)s.",
                        version=v.label,
                        document=d.title,
                        when=_when(v.closes_at),
                    ),
                )
            return (
                _("%(document)s: the consultation on %(version)s opens soon", document=d.title, version=v.label),
                _(
                    "The consultation on %(version)s of %(document)s opens on %(when)s.",
                    version=v.label,
                    document=d.title,
                    when=_when(v.opens_at),
                ),
            )

        told += notify_users(
            followers("document", document.id),
            "window",
            build,
            _path("documents.version", slug=document.slug, number=version.number),
        )
    db.session.commit()
    return told


def moderation_summary(now: datetime) -> int:
    """Once a day, moderators hear how many registrations and reports wait for them (if any)."""
    pending = db.session.scalar(db.select(db.func.count(User.id)).where(User.status == "pending")) or 0
    reports = db.session.scalar(db.select(db.func.count(Report.id)).where(Report.status == "open")) or 0
    if not (pending or reports) or not _once(f"moderation:{now.date().isoformat()}"):
        db.session.rollback()
        return 0
    moderators = db.session.scalars(
        db.select(User.id).where(User.role.in_(("moderator", "admin")), User.status == "active")
    ).all()
    told = notify_users(
        moderators,
        "moderation_summary",
        lambda: (
            _("Waiting for moderators"),
            ngettext("%(num)d registration awaits approval.", "%(num)d registrations await approval.", pending)
            + "\n"
            + ngettext("%(num)d report is open.", "%(num)d reports are open.", reports),
        ),
        _path("moderation.home"),
    )
    db.session.commit()
    return told


def build_digests(now: datetime | None = None) -> dict[str, int]:
    """Queue the daily and weekly digests that are due, in short batches so commenting is never blocked."""
    now = now or utcnow()
    counts = {}
    for period, length in DIGEST_PERIODS.items():
        column = getattr(NotificationSettings, f"{period}_digest_at")
        due_before = now - length + DIGEST_SLACK
        waiting = (
            db.select(Notification.user_id)
            .where(Notification.delivery == period, Notification.mailed_at.is_(None))
            .distinct()
        )
        user_ids = db.session.scalars(
            db.select(User.id)
            .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
            .where(User.id.in_(waiting), db.or_(column.is_(None), column <= due_before))
            .order_by(User.id)
        ).all()
        db.session.rollback()  # end the read transaction: nothing is held while the digests are built
        sent = 0
        for start in range(0, len(user_ids), BATCH):
            sent += _digest_batch(user_ids[start : start + BATCH], period, now)
        counts[period] = sent
    return counts


def _digest_batch(user_ids: list[int], period: str, now: datetime) -> int:
    """Queue one digest for each person of a batch and mark their notifications mailed; one short transaction."""
    users = {
        u.id: u
        for u in db.session.execute(db.select(User.id, User.email, User.status).where(User.id.in_(user_ids))).all()
    }
    languages = dict(
        db.session.execute(
            db.select(NotificationSettings.user_id, NotificationSettings.language).where(
                NotificationSettings.user_id.in_(user_ids)
            )
        ).all()
    )
    pending: dict[int, list] = {}
    for n in db.session.execute(
        db.select(
            Notification.id,
            Notification.user_id,
            Notification.kind,
            Notification.subject,
            Notification.text,
            Notification.link,
        )
        .where(
            Notification.user_id.in_(user_ids),
            Notification.delivery == period,
            Notification.mailed_at.is_(None),
            Notification.created_at <= now,
        )
        .order_by(Notification.created_at, Notification.id)
    ):
        pending.setdefault(n.user_id, []).append(n)
    default_language = current_app.config["BABEL_DEFAULT_LOCALE"]
    by_language: dict[str, list[int]] = {}
    for user_id in pending:
        user = users.get(user_id)
        if user is not None and user.status in ("active", "pending"):  # closed or suspended: on the site only
            by_language.setdefault(languages.get(user_id) or default_language, []).append(user_id)
    mails = []
    for language, members in by_language.items():
        with force_locale(language):  # once per language: each switch reloads the catalogue
            intro = _("What happened on Consult since your last digest.")
            for user_id in members:
                items = pending[user_id]
                if period == "daily":
                    subject = ngettext(
                        "Your daily Consult digest: %(num)d update",
                        "Your daily Consult digest: %(num)d updates",
                        len(items),
                    )
                else:
                    subject = ngettext(
                        "Your weekly Consult digest: %(num)d update",
                        "Your weekly Consult digest: %(num)d updates",
                        len(items),
                    )
                mails.append(
                    _mail_values(
                        users[user_id],
                        [(n.subject, n.text, n.link) for n in items],
                        sorted({n.kind for n in items}),
                        subject,
                        intro=intro,
                    )
                )
    queue_mail_rows(mails)
    ids = [n.id for items in pending.values() for n in items]
    for start in range(0, len(ids), 900):
        db.session.execute(
            db.update(Notification)
            .where(Notification.id.in_(ids[start : start + 900]))
            .values(mailed_at=now)
            .execution_options(synchronize_session=False)
        )
    column = f"{period}_digest_at"
    have = set(languages)
    if have:
        db.session.execute(
            db.update(NotificationSettings)
            .where(NotificationSettings.user_id.in_(have))
            .values({column: now})
            .execution_options(synchronize_session=False)
        )
    missing = [uid for uid in pending if uid not in have]
    if missing:
        db.session.execute(
            db.insert(NotificationSettings),
            [{"user_id": uid, "language": default_language, "autofollow": True, column: now} for uid in missing],
        )
    db.session.commit()
    return len(mails)


def run_scheduled(now: datetime | None = None) -> dict[str, int]:
    """What `flask notify digests` does: window notices, the moderators' summary, then the digests due."""
    now = now or utcnow()
    result = {
        "followers": fan_out_pending(limit=10_000),
        "windows": announce_windows(now),
        "moderation": moderation_summary(now),
    }
    result.update(build_digests(now))
    return result


# --- the person's own page ----------------------------------------------------------------------------------


def user_notifications(user, page: int, per_page: int) -> Page:
    """A person's notifications, newest first."""
    stmt = (
        db.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return paginate(stmt, page, per_page)


def unread_count(user) -> int:
    """How many notifications the person has not marked read."""
    return (
        db.session.scalar(
            db.select(db.func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_all_read(user) -> int:
    """Mark every notification of the person read; one commit."""
    done = db.session.execute(
        db.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount
    db.session.commit()
    return done


def save_preferences(user, choices: dict[str, str], *, language: str, autofollow: bool) -> None:
    """Store a person's choice for each kind, their mail language and whether commenting follows the clause."""
    existing = {
        p.kind: p
        for p in db.session.scalars(db.select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    for kind, delivery in choices.items():
        if kind not in DEFAULTS or delivery not in DELIVERIES:
            continue
        if kind in existing:
            existing[kind].delivery = delivery
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
    row = settings_for(user.id, create=True)
    if language and language in current_app.config["CONSULT_LANGUAGES"]:
        row.language = language
    row.autofollow = autofollow
    db.session.commit()


def unsubscribe(user, kinds: list[str]) -> None:
    """Turn the named kinds to "never" (the one-click unsubscribe of RFC 8058); one commit."""
    row = settings_for(user.id)
    save_preferences(
        user,
        {k: "never" for k in kinds},
        language=row.language if row else "",
        autofollow=row.autofollow if row else True,
    )
