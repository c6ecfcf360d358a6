"""Case rules: submitting, replying, internal notes, confirming and reopening.

Each function takes models and the acting user, checks the policy, changes the models, records
timeline events and flushes. The caller (a route or CLI command) commits once.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from portal.auth import policy
from portal.cases import timeline, workflow
from portal.cases.attachments import Upload, store
from portal.extensions import db
from portal.models import (
    CATEGORIES,
    OPEN_STATUSES,
    Attachment,
    Case,
    CaseEvent,
    EventType,
    Kind,
    Role,
    Severity,
    Status,
    User,
)
from portal.models.base import utcnow
from portal.pagination import Page, keyset_page, newest_first
from portal.services import ConflictError, ServiceError
from portal.sla import services as sla


def _attach(event: CaseEvent, uploads: Sequence[Upload], *, uploader: User) -> None:
    for upload in uploads:
        db.session.add(
            Attachment(
                case=event.case,
                event=event,
                uploaded_by_id=uploader.id,
                filename=upload.filename,
                content_type=upload.content_type,
                size=len(upload.data),
                storage_key=store(upload.data),
            )
        )


def submit_case(
    *,
    requester: User,
    kind: Kind,
    category: str,
    severity: Severity,
    subject: str,
    description: str,
    uploads: Sequence[Upload] = (),
) -> Case:
    """A customer opens a case for their own account. It starts as `new`, waiting for triage, with
    its SLA clocks running from now."""
    policy.require(policy.can_submit_case(requester))
    if category not in CATEGORIES:
        raise ServiceError("Choose a category from the list.", field="category")
    now = utcnow()
    case = Case(
        kind=Kind(kind),
        category=category,
        severity=Severity(severity),
        subject=subject.strip(),
        description=description.strip(),
        status=Status.NEW,
        account_id=requester.account_id,
        requester=requester,
        created_at=now,
        updated_at=now,
    )
    db.session.add(case)
    sla.start_clocks(case, now=now)
    event = timeline.record_event(case, EventType.CREATED, actor=requester, data={"kind": case.kind.value})
    _attach(event, uploads, uploader=requester)
    db.session.flush()
    return case


def reply_to_case(case: Case, *, author: User, body: str, uploads: Sequence[Upload] = ()) -> CaseEvent:
    """A public reply, seen by the customer and staff alike.

    A customer's reply on a case waiting on them puts it back to `open`; on a resolved case it
    reopens it. The first public reply by staff is the case's first response.
    """
    policy.require(policy.can_reply(author, case))
    if author.role == Role.CUSTOMER and case.status in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
        workflow.transition(case, Status.OPEN, actor=author)
    if author.is_staff and case.first_response_at is None:
        case.first_response_at = utcnow()
    event = timeline.record_event(case, EventType.PUBLIC_REPLY, actor=author, body=body.strip())
    _attach(event, uploads, uploader=author)
    db.session.flush()
    return event


def add_internal_note(case: Case, *, author: User, body: str, uploads: Sequence[Upload] = ()) -> CaseEvent:
    """A staff-only note. Its text and attachments are never shown to a customer."""
    policy.require(policy.can_write_note(author, case))
    event = timeline.record_event(case, EventType.INTERNAL_NOTE, actor=author, body=body.strip())
    _attach(event, uploads, uploader=author)
    db.session.flush()
    return event


def confirm_resolution(case: Case, *, actor: User) -> Case:
    """The customer agrees a resolved case is solved: it closes for good."""
    policy.require(policy.can_confirm_resolution(actor, case))
    if case.status != Status.RESOLVED:
        raise ConflictError("Only a resolved case can be confirmed as solved.")
    workflow.transition(case, Status.CLOSED, actor=actor, note="Resolution confirmed.")
    db.session.flush()
    return case


def reopen_case(case: Case, *, actor: User, reason: str) -> Case:
    """Reopen a resolved case with a reason, which is shown on the timeline."""
    policy.require(policy.can_reopen(actor, case))
    if case.status != Status.RESOLVED:
        raise ConflictError("Only a resolved case can be reopened.")
    reason = reason.strip()
    if not reason:
        raise ServiceError("Tell us why the case needs reopening.", field="reason")
    workflow.transition(case, Status.OPEN, actor=actor, note=reason)
    db.session.flush()
    return case


def fetch_case_page(user: User, *, status: str = "", kind: str = "", cursor: str | None, per_page: int) -> Page:
    """A page of the cases `user` may see, newest first, optionally filtered by status and kind.

    `status` may be a Status value or "active" for every not-yet-resolved status.
    """
    query = policy.visible_cases(user).options(
        selectinload(Case.account), selectinload(Case.assignee), selectinload(Case.requester)
    )
    if status == "active":
        query = query.where(Case.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(Case.status == Status(status))
    if kind:
        query = query.where(Case.kind == Kind(kind))
    return keyset_page(query, newest_first(Case), cursor=cursor, per_page=per_page)


def fetch_attachment(user: User, attachment_id: int) -> Attachment:
    """The attachment if `user` may download it; 404 otherwise, exactly as for a missing one."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound()
    policy.require_download_attachment(user, attachment)
    return attachment
