"""Demo comments, questions, endorsements, a report and dispositions, written for this project."""

from __future__ import annotations

from datetime import timedelta

from ..extensions import db
from ..markup import render_markdown
from ..models import (
    Clause,
    Comment,
    Disposition,
    DispositionHistory,
    Endorsement,
    OpenQuestion,
    Report,
    User,
    Version,
    utcnow,
)
from ..services.comments import new_receipt

# On the first draft (closed, review published): (author email, clause key, type, stance, visibility, body,
# proposed wording, disposition, response)
FIRST_DRAFT = [
    (
        "provider@demo.consult.example",
        "measure-i-1-2",
        "concern",
        "support-with-changes",
        "public",
        "Updating the documentation within 30 days is workable, but the text says providers *should* update it. "
        "If the Code means this as a firm commitment it should say so, or downstream providers cannot rely on it.",
        None,
        "accepted",
        'Agreed. The second draft says "shall" in both sentences of Measure I.1.2.',
    ),
    (
        "civil@demo.consult.example",
        "measure-ii-2-2",
        "suggestion",
        "support-with-changes",
        "public",
        "Thirty days is too long when a downstream provider is dealing with an incident. Requests linked to an "
        "incident need a much shorter answer time.",
        "Where a downstream provider asks for information that is not in the information package, and that it "
        "reasonably needs in order to integrate the model or to meet its legal obligations, Signatories will provide "
        "the information, or explain why they cannot, within 14 days of receiving the request. Requests linked to an "
        "incident reported under Measure II.2.1 are answered within five working days.\n\n"
        "If a request cannot be answered in full within that period, Signatories will provide what they can and give "
        "a date by which the remainder will follow.",
        "partly-accepted",
        "The second draft shortens the general deadline to 14 days and adds a five-working-day "
        "deadline for incident-related requests.",
    ),
    (
        "academic@demo.consult.example",
        "measure-ii-1-2",
        "remark",
        None,
        "pseudonymous",
        "A machine-readable format matters more than the page layout. Researchers comparing models need the same "
        "fields in the same place across providers.",
        None,
        "noted",
        "Measure II.1.2 was removed; its useful parts now sit in Measure II.1.1, which asks for a "
        "searchable electronic format. A common template is being discussed with the Office.",
    ),
    (
        "industry@demo.consult.example",
        "measure-iii-2-2",
        "concern",
        "oppose",
        "public",
        "A report due on 31 March falls in the busiest reporting season for our members. April would allow the "
        "report to cover a full calendar year without rushing.",
        None,
        "accepted",
        "The second draft moves the deadline to 30 April.",
    ),
    (
        "provider@demo.consult.example",
        "measure-ii-1-4",
        "question",
        None,
        "confidential",
        "Can a provider share the confidential parts of the package only under a non-disclosure agreement, "
        "or must it use the Office's template agreement?",
        None,
        "out-of-scope",
        "Contract terms between providers are outside the Code; the template remains optional.",
    ),
]

# On the second draft (open): (author email, clause key, type, stance, visibility, body, proposed wording)
SECOND_DRAFT = [
    (
        "civil@demo.consult.example",
        "measure-iii-1-1",
        "support",
        "support",
        "public",
        "Adding the date up to which the training data extend is a real improvement: it tells readers at once "
        "whether a model can know about recent events.",
        None,
    ),
    (
        "academic@demo.consult.example",
        "measure-iii-1-1",
        "suggestion",
        "support-with-changes",
        "public",
        "The summary should also say which languages the model was mainly trained on, so that users in smaller "
        "language communities can judge how well it serves them.",
        "The public summary includes at least:\n\n"
        "- the name, version and release date of the model;\n"
        "- its main capabilities and intended uses;\n"
        "- its known limitations, and the uses the Signatory does not permit;\n"
        "- a general description of the kinds of data used for training, including whether personal data, publicly "
        "available web content or licensed material were used;\n"
        "- the date up to which the training data extend;\n"
        "- the main languages of the training data, with their approximate shares;\n"
        "- contact details for questions and complaints.\n\n"
        "The public summary does not need to repeat information that is confidential under Measure II.1.3.",
    ),
    (
        "provider@demo.consult.example",
        "measure-i-1-2",
        "remark",
        "support",
        "pseudonymous",
        "Recording a short explanation for each update is good practice and costs little once the process is in place.",
        None,
    ),
    (
        "industry@demo.consult.example",
        "measure-ii-2-2",
        "concern",
        "oppose",
        "public",
        "Five working days for incident-related requests is tight for smaller providers without a dedicated "
        "team. Could the Code allow an acknowledgement within five days and a full answer within fourteen?",
        None,
    ),
    (
        "civil@demo.consult.example",
        "measure-ii-1-1",
        "question",
        None,
        "confidential",
        "We have been told informally that one provider plans to omit evaluation results from its package. "
        "Would that breach Measure II.1.1 as now drafted?",
        None,
    ),
    (
        "industry@demo.consult.example",
        "commitment-i-1",
        "remark",
        None,
        "public",
        "BUY CHEAP MODEL WEIGHTS at this link!!! Best prices, no questions asked.",
        None,
    ),
]

QUESTION = (
    "measure-ii-1-3",
    "Is the timing in this measure realistic for models released with little notice, such as urgent security fixes?",
)
ANSWERS = [
    (
        "provider@demo.consult.example",
        "For security fixes we would need an exception: the package could follow within 10 days of the release.",
    ),
    (
        "academic@demo.consult.example",
        "The timing is realistic if the package is prepared alongside the model rather than after it.",
    ),
]


def _comment(
    version: Version, clauses: dict, users: dict, email, key, type_, stance, visibility, body, wording, when, **extra
) -> Comment:
    author = users[email]
    comment = Comment(
        clause_id=clauses[key].id,
        version_id=version.id,
        author_id=author.id,
        type=type_,
        stance=stance,
        visibility=visibility,
        body=body,
        body_html=str(render_markdown(body)),
        proposed_wording=wording,
        author_group=author.stakeholder_group,
        author_organisation=author.organisation.name if author.organisation else None,
        receipt=new_receipt(),
        created_at=when,
        **extra,
    )
    db.session.add(comment)
    db.session.flush()
    return comment


def load_demo_comments(first: Version, second: Version) -> None:
    """Add the demo consultation to both versions (in the caller's transaction)."""
    users = {u.email: u for u in db.session.scalars(db.select(User))}
    drafter = next(u for u in users.values() if u.role == "drafter")
    moderator = next(u for u in users.values() if u.role == "moderator")
    now = utcnow()
    clauses1 = {c.key: c for c in db.session.scalars(db.select(Clause).where(Clause.version_id == first.id))}
    clauses2 = {c.key: c for c in db.session.scalars(db.select(Clause).where(Clause.version_id == second.id))}
    for i, (email, key, type_, stance, vis, body, wording, status, response) in enumerate(FIRST_DRAFT):
        when = first.opens_at + timedelta(days=3 + 4 * i, hours=i)
        comment = _comment(first, clauses1, users, email, key, type_, stance, vis, body, wording, when)
        decided = first.closes_at + timedelta(days=5 + i)
        db.session.add(
            Disposition(
                comment_id=comment.id,
                status=status,
                response=response,
                response_html=str(render_markdown(response)),
                addressed_in_version_id=second.id,
                decided_by_id=drafter.id,
                decided_at=decided,
            )
        )
        db.session.add(
            DispositionHistory(
                comment_id=comment.id,
                status=status,
                response=response,
                addressed_in_version_id=second.id,
                actor_id=drafter.id,
                created_at=decided,
            )
        )
    first.review_published_at = first.closes_at + timedelta(days=20)
    made = []
    for i, (email, key, type_, stance, vis, body, wording) in enumerate(SECOND_DRAFT):
        made.append(
            _comment(
                second,
                clauses2,
                users,
                email,
                key,
                type_,
                stance,
                vis,
                body,
                wording,
                now - timedelta(hours=30 - 4 * i),
            )
        )
    spam = made[-1]
    spam.status, spam.hidden_at, spam.status_reason = "hidden", now - timedelta(hours=2), "Advertising."
    db.session.add(
        Report(
            comment_id=spam.id,
            reporter_id=users["civil@demo.consult.example"].id,
            reason="Advertising unrelated to the Code.",
            status="actioned",
            resolved_at=now - timedelta(hours=2),
            resolved_by_id=moderator.id,
        )
    )
    # A reply, endorsements on the first public comment, and an open question with answers.
    reply = _comment(
        second,
        clauses2,
        users,
        "provider@demo.consult.example",
        "measure-ii-2-2",
        "remark",
        None,
        "public",
        "A two-step answer would work for us as well, provided the acknowledgement names a contact person.",
        None,
        now - timedelta(hours=3),
        parent_id=made[3].id,
        depth=1,
    )
    for email in ("academic@demo.consult.example", "industry@demo.consult.example", "provider@demo.consult.example"):
        db.session.add(Endorsement(comment_id=made[0].id, user_id=users[email].id))
    made[0].endorsement_count = 3
    db.session.add(Endorsement(comment_id=made[3].id, user_id=users["provider@demo.consult.example"].id))
    made[3].endorsement_count = 1
    key, text = QUESTION
    question = OpenQuestion(
        clause_id=clauses2[key].id, author_id=drafter.id, text=text, created_at=now - timedelta(days=1)
    )
    db.session.add(question)
    db.session.flush()
    for i, (email, body) in enumerate(ANSWERS):
        _comment(
            second,
            clauses2,
            users,
            email,
            key,
            "remark",
            None,
            "public",
            body,
            None,
            now - timedelta(hours=10 - i),
            question_id=question.id,
        )
    assert reply.id
