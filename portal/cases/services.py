"""Case rules: submitting (and routing), replying, internal notes, confirming and reopening, and the
staff actions: assign, change details, waiting on customer, resolve, close, merge, auto-close.

Each function takes models and the acting user, checks the policy, changes the models, records
timeline events and flushes. The caller (a route or CLI command) commits once.

Staff actions take `expected_version`: the case version the person's page showed. When the case has
changed since (a reply, someone else's action), the action is refused with a ConflictError rather
than applied on top of a state the person never saw. Two actions racing past that check together
are still caught at flush by the version column (`Case.version`, SQLAlchemy's `version_id_col`):
the loser's UPDATE matches no row and raises StaleDataError, which `portal.web.perform` turns into
the same 409.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from portal.auth import policy
from portal.cases import timeline, workflow
from portal.cases.attachments import Upload, store
from portal.escalations import services as escalations
from portal.extensions import db
from portal.models import (
    CATEGORIES,
    OPEN_STATUSES,
    Account,
    Attachment,
    Case,
    CaseEvent,
    EventType,
    Kind,
    Role,
    Severity,
    Status,
    User,
    Visibility,
)
from portal.models.base import utcnow
from portal.notifications import messages as notifications
from portal.pagination import MAX_ID, Page, keyset_page, newest_first
from portal.services import STALE_MESSAGE, ConflictError, ServiceError
from portal.sla import services as sla
from portal.triage import routing


def _notify(*events: CaseEvent | None) -> None:
    """Queue the mail these (flushed) events call for, in the caller's transaction."""
    for event in events:
        if event is not None:
            notifications.notify_case_event(event)


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
    """A customer opens a case for their own account, with its SLA clocks running from now.

    It starts as `new` and is routed at once (`routing.route_new_case`): to the account's manager
    when that person can take cases, recorded as a public `assigned` event so the customer sees who
    handles it. Otherwise it has no assignee and waits in the triage queue.
    """
    policy.require(policy.can_submit_case(requester))
    if category not in CATEGORIES:
        raise ServiceError("Choose a category from the list.", field="category")
    now = utcnow()
    account = db.session.get(Account, requester.account_id)
    assignee = routing.route_new_case(account.manager)
    case = Case(
        kind=Kind(kind),
        category=category,
        severity=Severity(severity),
        subject=subject.strip(),
        description=description.strip(),
        status=Status.NEW,
        account_id=requester.account_id,
        requester=requester,
        assignee=assignee,
        created_at=now,
        updated_at=now,
    )
    sla.start_clocks(case, now=now)  # before `add`: its lookups then flush nothing, so one INSERT has the dues
    db.session.add(case)
    event = timeline.record_event(case, EventType.CREATED, actor=requester, data={"kind": case.kind.value})
    _attach(event, uploads, uploader=requester)
    assigned = None
    if assignee is not None:
        assigned = timeline.record_event(case, EventType.ASSIGNED, actor=None, data=_assignment_data(None, assignee))
    db.session.flush()
    _notify(event, assigned)
    escalations.escalate_on_submission(case, now=now)  # critical: to the team leads at once
    return case


def reply_to_case(
    case: Case, *, author: User, body: str, uploads: Sequence[Upload] = (), notify: bool = True
) -> CaseEvent:
    """A public reply, seen by the customer and staff alike, and mailed to the other side.

    A customer's reply on a case waiting on them puts it back to `open`; on a resolved case it
    reopens it. The first public reply by staff is the case's first response. `notify=False` is for
    callers that send their own mail about the same action (waiting on the customer).
    """
    policy.require(policy.can_reply(author, case))
    reopened = author.role == Role.CUSTOMER and case.status == Status.RESOLVED
    if author.role == Role.CUSTOMER and case.status in (Status.WAITING_ON_CUSTOMER, Status.RESOLVED):
        workflow.transition(case, Status.OPEN, actor=author)
    if author.is_staff and case.first_response_at is None:
        case.first_response_at = utcnow()
    event = timeline.record_event(case, EventType.PUBLIC_REPLY, actor=author, body=body.strip())
    _attach(event, uploads, uploader=author)
    db.session.flush()
    if notify:
        _notify(event)
    if reopened:
        escalations.escalate_on_reopen(case)  # the second reopen goes to the team leads
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


def reopen_case(case: Case, *, actor: User, reason: str, expected_version: int | None = None) -> Case:
    """Reopen a resolved case with a reason, which is shown on the timeline.

    Its customers and the staff who may resolve it can reopen it. Staff pages send the version they
    showed (`expected_version`); the customer's form may leave it out.
    """
    policy.require(policy.can_reopen(actor, case))
    if expected_version is not None:
        _check_version(case, expected_version)
    if case.status != Status.RESOLVED:
        raise ConflictError("Only a resolved case can be reopened.")
    reason = reason.strip()
    if not reason:
        raise ServiceError("Tell us why the case needs reopening.", field="reason")
    workflow.transition(case, Status.OPEN, actor=actor, note=reason)
    db.session.flush()
    escalations.escalate_on_reopen(case)  # the second reopen goes to the team leads
    return case


# --- staff actions ------------------------------------------------------------------------------


def _check_version(case: Case, expected_version: int) -> None:
    """Refuse to act on a case that changed since the acting person's page showed it."""
    if case.version != expected_version:
        raise ConflictError(STALE_MESSAGE)


def _assignment_data(previous: User | None, assignee: User) -> dict:
    return {"from": previous.id if previous else None, "to": assignee.id, "to_name": assignee.name}


def _refuse_unassignable(assignee: User | None) -> None:
    """Only active account managers and team leads take cases (`routing.is_assignable`)."""
    if routing.is_assignable(assignee):
        return
    if assignee is None:
        raise ServiceError("There is no such person. Choose someone from the list.", field="assignee")
    if not assignee.active:
        raise ServiceError(f"{assignee.name} is deactivated and cannot take cases.", field="assignee")
    raise ServiceError(
        f"{assignee.name} cannot take cases: only account managers and team leads handle them.", field="assignee"
    )


def _assign(case: Case, assignee: User, *, actor: User) -> tuple[bool, CaseEvent | None]:
    """Give `case` to `assignee` (already checked) and take a `new` case out of triage.

    Returns whether anything changed, and the `assigned` event to notify the assignee of (None when
    the assignee stays the same: assigning a case to its current assignee only opens a `new` case).
    """
    if case.status == Status.CLOSED:
        raise ConflictError(f"{case.reference} is closed and cannot be reassigned.")
    assigned = None
    if case.assignee_id != assignee.id:
        data = _assignment_data(case.assignee, assignee)
        case.assignee = assignee
        assigned = timeline.record_event(case, EventType.ASSIGNED, actor=actor, data=data)
    opened = case.status == Status.NEW
    if opened:
        workflow.transition(case, Status.OPEN, actor=actor)
    return assigned is not None or opened, assigned


def assign_case(case: Case, assignee: User | None, *, actor: User, expected_version: int) -> Case:
    """Give `case` to `assignee` (None: an unknown person) and record an `assigned` event.

    Rules: the actor may triage the case (its account's manager or a team lead); the assignee is an
    active account manager or team lead, never a customer, executive or admin (ServiceError on
    "assignee"); a closed case is not reassigned (409). Assigning a `new` case moves it to `open`:
    it has been triaged. Assigning a case to the person who already has it is refused as a no-op.
    """
    policy.require(policy.can_triage(actor, case))
    _check_version(case, expected_version)
    _refuse_unassignable(assignee)
    changed, assigned = _assign(case, assignee, actor=actor)
    if not changed:
        raise ServiceError(f"{case.reference} is already handled by {assignee.name}.", field="assignee")
    db.session.flush()
    _notify(assigned)
    return case


def assign_cases(cases: Iterable[Case], assignee: User | None, *, actor: User) -> int:
    """Bulk assignment from a queue: every case to `assignee`, all or nothing. Returns how many
    cases changed (those already with `assignee` and no longer `new` are left as they are).

    Every case and the assignee are checked before anything changes: a case the actor may not
    triage is a 403, an unassignable person a ServiceError on "assignee", a closed case a 409
    naming it. There is no version check (a queue page does not send one), but each case is still
    optimistically locked when flushed, so a case changed at the same moment fails the whole batch.
    """
    cases = list(cases)
    if not cases:
        raise ServiceError("Choose at least one case.", field="cases")
    for case in cases:
        policy.require(policy.can_triage(actor, case))
    _refuse_unassignable(assignee)
    closed = [case.reference for case in cases if case.status == Status.CLOSED]
    if closed:
        verb = "is" if len(closed) == 1 else "are"
        raise ConflictError(f"{', '.join(closed)} {verb} closed and cannot be reassigned. Nothing was changed.")
    results = [_assign(case, assignee, actor=actor) for case in cases]
    db.session.flush()
    _notify(*(assigned for _, assigned in results))
    return sum(changed for changed, _ in results)


def _member(enum_cls, value, *, field: str, message: str):
    try:
        return enum_cls(value)
    except ValueError:
        raise ServiceError(message, field=field) from None


def change_case_details(
    case: Case,
    *,
    actor: User,
    severity: Severity | str,
    kind: Kind | str,
    category: str,
    reason: str | None,
    expected_version: int,
) -> Case:
    """Correct a case's severity, kind and category at triage, with a reason.

    Each change is a public event (`severity_changed`, `kind_changed`, `category_changed` with
    from/to data), so the customer sees what was changed. The reason is for staff: it is recorded
    as an internal note. A severity change recomputes the SLA dues for the new severity. Values
    outside the fixed sets, a missing reason, or nothing to change are refused (ServiceError); a
    closed case cannot be changed (409).
    """
    policy.require(policy.can_triage(actor, case))
    _check_version(case, expected_version)
    if case.status == Status.CLOSED:
        raise ConflictError("A closed case cannot be changed.")
    severity = _member(Severity, severity, field="severity", message="Choose a severity from the list.")
    kind = _member(Kind, kind, field="kind", message="Choose a kind from the list.")
    if category not in CATEGORIES:
        raise ServiceError("Choose a category from the list.", field="category")
    changes = [
        (event_type, attribute, old, new)
        for event_type, attribute, old, new in (
            (EventType.SEVERITY_CHANGED, "severity", case.severity, severity),
            (EventType.KIND_CHANGED, "kind", case.kind, kind),
            (EventType.CATEGORY_CHANGED, "category", case.category, category),
        )
        if old != new
    ]
    if not changes:
        raise ServiceError("Nothing to change: the severity, kind and category are already as chosen.")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for the change. Only staff see it.", field="reason")
    for event_type, attribute, old, new in changes:
        setattr(case, attribute, new)
        timeline.record_event(case, event_type, actor=actor, data={"from": str(old), "to": str(new)})
    changed = [attribute for _, attribute, _, _ in changes]
    names = changed[0] if len(changed) == 1 else f"{', '.join(changed[:-1])} and {changed[-1]}"
    note = f"Reason for changing the {names}: {reason}"
    timeline.record_event(case, EventType.INTERNAL_NOTE, actor=actor, body=note)
    if "severity" in changed:
        sla.restart_for_severity_change(case, now=utcnow())
    db.session.flush()
    return case


def set_waiting_on_customer(case: Case, *, actor: User, message: str | None, expected_version: int) -> Case:
    """Wait on the customer: the SLA clock pauses until they reply.

    `message` (optional) is posted first as a public reply, the question the customer should answer;
    it counts as the first response like any staff reply. Only an `open` case can wait (409 otherwise:
    a `new` case is assigned first), and nothing is posted when the move is refused.
    """
    policy.require(policy.can_work_case(actor, case))
    _check_version(case, expected_version)
    workflow.require_transition(case, Status.WAITING_ON_CUSTOMER)
    message = (message or "").strip()
    if message:
        reply_to_case(case, author=actor, body=message, notify=False)
    waiting = workflow.transition(case, Status.WAITING_ON_CUSTOMER, actor=actor)
    db.session.flush()
    _notify(waiting)  # one mail, quoting the question posted just before
    return case


def resolve_case(case: Case, *, actor: User, summary: str, expected_version: int) -> Case:
    """Resolve a case with a summary of the resolution, shown publicly on the timeline.

    The summary is required (ServiceError on "summary"); resolving a resolved or closed case is a 409.
    The customer can then confirm (closing it) or reopen it; untouched it closes by itself after
    AUTO_CLOSE_DAYS (`close_stale_resolved_cases`).
    """
    policy.require(policy.can_work_case(actor, case))
    _check_version(case, expected_version)
    workflow.require_transition(case, Status.RESOLVED)
    summary = (summary or "").strip()
    if not summary:
        raise ServiceError("Write a resolution summary. The customer sees it on the timeline.", field="summary")
    resolved = workflow.transition(case, Status.RESOLVED, actor=actor, note=summary)
    db.session.flush()
    _notify(resolved)
    return case


def close_case(case: Case, *, actor: User, expected_version: int) -> Case:
    """Close a case for good (from any status but closed, which is a 409)."""
    policy.require(policy.can_work_case(actor, case))
    _check_version(case, expected_version)
    workflow.transition(case, Status.CLOSED, actor=actor)
    db.session.flush()
    return case


def merge_case(duplicate: Case, target: Case | None, *, actor: User, expected_version: int) -> Case:
    """Merge `duplicate` into `target` (None: an unknown reference): the duplicate closes.

    Refused with a ServiceError on "target": a target the actor cannot see (worded exactly as an
    unknown one, so references cannot be probed), the duplicate itself, a case of another account,
    a closed case. A closed duplicate is a 409.

    The duplicate gets a public `merged` event (data {"into": target id}) whose text tells its
    requester where the work continues, then closes. The target gets a `merged` event (data
    {"from": duplicate id}), public unless the target's customers could not see the duplicate
    (an account restricting customers to their own cases, with another requester). Returns the target.
    """
    policy.require(policy.can_work_case(actor, duplicate))
    _check_version(duplicate, expected_version)
    workflow.require_transition(duplicate, Status.CLOSED)
    if target is None or not policy.can_view_case(actor, target):
        raise ServiceError("There is no case with that reference that you can see.", field="target")
    if target.id == duplicate.id:
        raise ServiceError(
            "A case cannot be merged into itself. Enter the reference of the other case.", field="target"
        )
    if target.account_id != duplicate.account_id:
        raise ServiceError(
            f"{target.reference} belongs to another account. Only cases of the same account can be merged.",
            field="target",
        )
    if target.status == Status.CLOSED:
        raise ServiceError(f"{target.reference} is closed. Merge into a case that is still open.", field="target")
    if policy.can_view_case(duplicate.requester, target):
        message = (
            f"This case has been merged into {target.reference}, which is about the same thing. We continue there."
        )
    else:
        message = "This case has been merged into another case about the same thing. We continue there."
    timeline.record_event(duplicate, EventType.MERGED, actor=actor, body=message, data={"into": target.id})
    workflow.transition(duplicate, Status.CLOSED, actor=actor)
    shared = policy.can_view_case(target.requester, duplicate)
    timeline.record_event(
        target,
        EventType.MERGED,
        actor=actor,
        data={"from": duplicate.id},
        visibility=Visibility.PUBLIC if shared else Visibility.INTERNAL,
    )
    db.session.flush()
    return target


# --- automatic close ----------------------------------------------------------------------------


def _stale_resolved(now: datetime, days: int) -> sa.Select:
    """Resolved cases with no activity (no event at all, so `updated_at` still) for `days` days."""
    cutoff = now - timedelta(days=days)
    return sa.select(Case).where(Case.status == Status.RESOLVED, Case.updated_at <= cutoff)


def fetch_stale_resolved_case_ids(*, now: datetime, days: int) -> list[int]:
    """The ids of the cases `close_stale_resolved_cases` would close now, oldest id first."""
    query = _stale_resolved(now, days).with_only_columns(Case.id).order_by(Case.id)
    return list(db.session.scalars(query))


def auto_close_case(case_id: int, *, now: datetime, days: int) -> Case | None:
    """Close one case if it is still resolved and quiet, holding its row lock while deciding.

    Returns the case, or None when it no longer qualifies (a reply came in, another run closed it).
    Safe to run twice or on two machines at once: the second run waits for the lock, then sees the
    case closed and does nothing.
    """
    query = (
        _stale_resolved(now, days).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    )
    case = db.session.scalar(query)
    if case is None:
        return None
    workflow.transition(
        case, Status.CLOSED, actor=None, note=f"Closed automatically: resolved with no reply for {days} days."
    )
    db.session.flush()
    return case


def close_stale_resolved_cases(*, now: datetime, days: int) -> int:
    """Close every resolved case with no activity for `days` days (the config's AUTO_CLOSE_DAYS),
    through the workflow with no actor and a note saying why, in the caller's transaction. Returns
    how many were closed; idempotent: a second run finds nothing to do. (`flask cases auto-close`
    runs the same two steps itself, to commit case by case.)"""
    ids = fetch_stale_resolved_case_ids(now=now, days=days)
    return sum(auto_close_case(case_id, now=now, days=days) is not None for case_id in ids)


# --- what the staff panel offers ------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentChoices:
    """Everyone a case may be given to, their open cases, and the suggested person."""

    people: list[User]
    open_load: dict[int, int]
    suggested: User | None


def count_open_cases_by_assignee() -> dict[int, int]:
    """Open (new, open, waiting) cases per assignee id, in one grouped query. Missing means none."""
    query = (
        sa.select(Case.assignee_id, sa.func.count())  # COUNT(*): an index-only scan of ix_cases_open_assignee
        .where(Case.assignee_id.is_not(None), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.assignee_id)
    )
    return {assignee_id: count for assignee_id, count in db.session.execute(query)}


def fetch_assignment_choices() -> AssignmentChoices:
    """The assignable staff by name, their open-case counts and the least-loaded account manager
    (`routing.suggest_assignee`): two queries however many people there are."""
    people = list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), User.role.in_(sorted(routing.ASSIGNABLE_ROLES)))
            .order_by(User.name, User.id)
        )
    )
    load = count_open_cases_by_assignee()
    return AssignmentChoices(people=people, open_load=load, suggested=routing.suggest_assignee(people, load))


def find_user(user_id: int | None) -> User | None:
    """The user with `user_id`, or None (also for an id no row can have)."""
    if user_id is None or not 0 < user_id <= MAX_ID:
        return None
    return db.session.get(User, user_id)


def find_case(case_id: int | None) -> Case | None:
    """The case with `case_id` whoever may see it, or None. Callers check visibility (merge does)."""
    if case_id is None or not 0 < case_id <= MAX_ID:
        return None
    return db.session.get(Case, case_id)


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
