"""Every route, for every kind of visitor: exactly what the permission rules allow.

Roles: anonymous, pending, participant (not the author), author, drafter, moderator, admin, suspended.
A new route fails this test until it is given its row here.
"""

from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import Campaign, CampaignMember, ClauseSummary, Report, Theme, ThemeMember, utcnow
from consult.services import comments as comment_service
from consult.services import moderation as moderation_service
from tests.factories import csrf_token, make_user, publish, sign_in
from tests.integration.test_publish_lineage import NEXT_DRAFT

ROLES = ("anonymous", "pending", "participant", "author", "drafter", "moderator", "admin", "suspended")
OUT = 302  # sent to sign-in
ELSEWHERE = "redirect"  # a redirect that is not to sign-in (e.g. back to a page with a message)


def row(anonymous, pending, participant, author, drafter, moderator, admin, suspended=None):
    return dict(
        zip(
            ROLES,
            (
                anonymous,
                pending,
                participant,
                author,
                drafter,
                moderator,
                admin,
                anonymous if suspended is None else suspended,
            ),
            strict=True,
        )
    )


PUBLIC = row(200, 200, 200, 200, 200, 200, 200)
SIGNED_IN = row(OUT, 200, 200, 200, 200, 200, 200)
STAFF = row(OUT, 403, 403, 403, 200, 200, 200)
DRAFTERS = row(OUT, 403, 403, 403, 200, 403, 200)
MODERATORS = row(OUT, 403, 403, 403, 403, 200, 200)

# GET expectations, by endpoint.
GET = {
    "public.home": PUBLIC,
    "public.privacy": PUBLIC,
    "documents.document": PUBLIC,
    "documents.version": PUBLIC,
    "documents.clause": PUBLIC,
    "documents.redline": PUBLIC,
    "lineage.history": PUBLIC,
    "lineage.print_redline": PUBLIC,
    "documents.new_document": DRAFTERS,
    "documents.new_version": DRAFTERS,
    "lineage.review": DRAFTERS,
    "api.documents": PUBLIC,
    "api.document": PUBLIC,
    "api.clauses": PUBLIC,
    "api.comments": PUBLIC,
    "api.redline": PUBLIC,
    "search.api": PUBLIC,
    "search.results": PUBLIC,
    "search.similar": row(403, 403, 403, 403, 200, 200, 200),
    "auth.sign_in": PUBLIC,
    "auth.register": PUBLIC,
    "auth.reset": PUBLIC,
    "auth.invitation": row(404, 404, 404, 404, 404, 404, 404),  # an unknown token
    "auth.reset_with_token": row(404, 404, 404, 404, 404, 404, 404),  # an unknown token
    "auth.account": SIGNED_IN,
    "comments.show": PUBLIC,
    "comments.edit": row(OUT, 403, 403, 200, 403, 403, 403),
    "comments.withdraw": row(OUT, 403, 403, 200, 403, 403, 403),
    "comments.report": row(OUT, 200, 200, 403, 200, 200, 200),
    "comments.receipt": row(OUT, 404, 404, 200, 200, 200, 200),
    "comments.contributions": SIGNED_IN,
    "moderation.home": MODERATORS,
    "moderation.registrations": MODERATORS,
    "moderation.users": MODERATORS,
    "moderation.user": MODERATORS,
    "moderation.invitations": MODERATORS,
    "moderation.audit": MODERATORS,
    "moderation.invitation_created": MODERATORS,
    "moderation.audit_csv": MODERATORS,
    "moderation.revoke_invitation": MODERATORS,
    "moderation.reports": MODERATORS,
    "moderation.suspend": MODERATORS,
    # The target account is active, so there is nothing to reject: moderators are sent back to its page.
    "moderation.reject": row(OUT, 403, 403, 403, 403, ELSEWHERE, ELSEWHERE),
    "moderation.hide": MODERATORS,
    "review.workspace": STAFF,
    "review.balance": STAFF,
    "review.comment": STAFF,
    "review.export_csv": STAFF,
    "review.export_json": STAFF,
    "review.export_html": STAFF,
    "review.next_draft": STAFF,
    # Version 2 is still open, so its review is unpublished: staff see a preview, the public export waits.
    "review.feedback": row(404, 404, 404, 404, 200, 200, 200),
    "review.feedback_export_csv": row(404, 404, 404, 404, 404, 404, 404),
    "public_comments.index": PUBLIC,
    "public_comments.export_csv": PUBLIC,
    "public_comments.export_json": PUBLIC,
    "word.version_docx": PUBLIC,
    "word.redline_docx": PUBLIC,
    "word.review_docx": STAFF,
    # The world's versions were published from Markdown: drafters are let through, to find no Word file.
    "word.source_docx": row(OUT, 403, 403, 403, 404, 403, 404),
    "settings.document": DRAFTERS,
    "settings.version": DRAFTERS,
    "settings.close": DRAFTERS,
    "notifications.index": SIGNED_IN,
    "notifications.profile": SIGNED_IN,
    "notifications.data": SIGNED_IN,
    "notifications.close_account": SIGNED_IN,
    "notifications.unsubscribe": row(404, 404, 404, 404, 404, 404, 404),  # a forged token
    "analysis.campaigns": STAFF,
    "analysis.campaign": STAFF,
    "analysis.themes": STAFF,
    "analysis.theme": STAFF,
    "analysis.summaries": STAFF,
    "analysis.delete_theme": DRAFTERS,
    "api.campaigns": row(401, 403, 403, 403, 200, 200, 200),
    "api.themes": row(401, 403, 403, 403, 200, 200, 200),
}

# POST-only endpoints: who may not (they get sent to sign-in, 403 or 404 and nothing changes).
POST_REFUSED = {
    "public.set_language": (),
    "auth.sign_out": ("anonymous", "suspended"),
    "auth.change_email": ("anonymous", "suspended"),
    "auth.change_password": ("anonymous", "suspended"),
    "comments.post": ("anonymous", "suspended", "pending"),
    "documents.post_general_comment": ("anonymous", "suspended", "pending"),
    "comments.add_question": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "comments.endorse": ("anonymous", "suspended"),
    "moderation.approve": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "moderation.change_role": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "moderation.reactivate": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "moderation.verify_organisation": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "moderation.dismiss": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "moderation.approve_selected": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "moderation.restore": ("anonymous", "suspended", "pending", "participant", "author", "drafter"),
    "review.adopt": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "review.assign_clause": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "review.assign_comment": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "review.bulk_dispose": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "review.dispose": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "review.publish": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "review.unassign": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "settings.extend": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "settings.reopen": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "notifications.mark_read": ("anonymous", "suspended"),
    "notifications.follow": ("anonymous", "suspended"),
    "analysis.dispose_campaign": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "analysis.rename_theme": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "analysis.merge_themes": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "analysis.move_comments": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
    "analysis.approve_summary": ("anonymous", "suspended", "pending", "participant", "author", "moderator"),
}


@pytest.fixture
def world(app):
    first = publish(label="First draft", opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() - timedelta(days=2))
    first.review_published_at = utcnow() - timedelta(days=1)
    db.session.commit()
    second = publish(
        text=NEXT_DRAFT,
        label="Second draft",
        opens_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=9),
    )
    users = {
        role: make_user(
            role if role in ("drafter", "moderator", "admin") else "participant",
            status={"pending": "pending"}.get(role, "active"),
        )
        for role in ROLES
        if role != "anonymous"
    }
    clause = next(c for c in second.clauses if c.key == "measure-1-1-1")
    comment = comment_service.post_comment(
        author=users["author"], clause=clause, type_="concern", body="Twelve years is long.", visibility="public"
    )
    db.session.add(Report(comment_id=comment.id, reporter_id=users["participant"].id, reason="Test"))
    invitation, _token = moderation_service.create_invitation(users["moderator"], email=None, role="participant")
    campaign = Campaign(version_id=second.id, representative_id=comment.id, size=1)
    theme = Theme(version_id=second.id, label="Retention", key_terms=["retention"])
    summary = ClauseSummary(
        version_id=second.id,
        clause_id=clause.id,
        sentences=[{"text": "Twelve years is long.", "comment_ids": [comment.id]}],
    )
    db.session.add_all([campaign, theme, summary])
    db.session.flush()
    db.session.add_all(
        [
            CampaignMember(comment_id=comment.id, campaign_id=campaign.id),
            ThemeMember(comment_id=comment.id, theme_id=theme.id),
        ]
    )
    db.session.commit()
    clients = {"anonymous": app.test_client()}
    for role, user in users.items():
        clients[role] = app.test_client()
        sign_in(clients[role], user.email)
    users["suspended"].status = "suspended"
    db.session.commit()
    values = {
        "slug": "sample-code",
        "number": 2,
        "key": "measure-1-1-1",
        "comment_id": comment.id,
        "receipt": comment.receipt,
        "user_id": users["author"].id,
        "report_id": 1,
        "token": "not-a-real-token",
        "filename": "css/consult.css",
        "assignment_id": 1,
        "invitation_id": invitation.id,
        "target_type": "document",
        "target_id": second.document_id,
        "campaign_id": campaign.id,
        "theme_id": theme.id,
        "summary_id": summary.id,
    }
    return app, clients, values


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_has_a_row(world):
    app, _, _ = world
    endpoints = {r.endpoint for r in _rules(app)}
    missing = endpoints - set(GET) - set(POST_REFUSED)
    assert not missing, f"routes without a row in the matrix: {sorted(missing)}"


def test_get_routes_answer_as_the_rules_allow(world):
    app, clients, values = world
    wrong = []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        path = rule.build({k: values[k] for k in rule.arguments})[1]
        for role, expected in GET[rule.endpoint].items():
            response = clients[role].get(path)
            response.close()  # a streamed download must end inside its own request, as a server ends it
            got = response.status_code
            to_sign_in = got == 302 and "/auth/sign-in" in response.headers["Location"]
            ok = (
                (got == 302 and not to_sign_in)
                if expected == ELSEWHERE
                else (got == expected and (got != 302 or to_sign_in))
            )
            if not ok:
                wrong.append(f"{rule.endpoint} {role}: {got}, expected {expected}")
    assert not wrong, "\n".join(wrong)


def test_post_routes_refuse_those_the_rules_exclude(world):
    app, clients, values = world
    wrong = []
    for rule in _rules(app):
        if "POST" not in rule.methods:
            continue
        path = rule.build({k: values[k] for k in rule.arguments})[1]
        refused = POST_REFUSED.get(rule.endpoint)
        if refused is None:  # GET+POST forms: the GET row says who may use them
            refused = tuple(
                role
                for role, code in GET[rule.endpoint].items()
                if code in (OUT, 403, 404) and rule.endpoint not in ("auth.invitation", "auth.reset_with_token")
            )
        for role in ROLES:
            token = csrf_token(clients[role], "/privacy")
            got = clients[role].post(path, data={"csrf_token": token}).status_code
            if role in refused and got not in (OUT, 403, 404):
                wrong.append(f"{rule.endpoint} {role}: {got}, expected a refusal")
            if role not in refused and (got in (403,) or got >= 500):
                wrong.append(f"{rule.endpoint} {role}: {got}, expected to be allowed")
    assert not wrong, "\n".join(wrong)
