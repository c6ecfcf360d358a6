"""Escalation rules applied: raising (by the rules, a customer's request or staff), acknowledging,
taking ownership, raising to level 2, deciding, closing and de-escalating; and the board's queries.

Plain functions with an explicit actor; they flush, the caller commits. Which level and why is
`portal.escalations.rules`; who may is `portal.auth.policy`. Every step is a timeline event
(`portal.cases.timeline`) handed to `notifications.notify_case_event`, in the caller's transaction.

A case has at most one open escalation, guaranteed by a partial unique index: a new one is
inserted with INSERT … ON CONFLICT DO NOTHING, so two transactions racing to open one open one.
`Case.escalation_level` mirrors the open escalation's level (0 when none is open).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import NotFound

from portal.auth import policy
from portal.cases import timeline
from portal.escalations import rules
from portal.extensions import db
from portal.models import (
    Account,
    Case,
    CaseEvent,
    DecisionOutcome,
    Escalation,
    EscalationReason,
    EventType,
    Status,
    User,
    Visibility,
)
from portal.models.base import utcnow
from portal.models.escalations import urgency_rank
from portal.notifications import messages as notifications
from portal.pagination import MAX_ID, Page
from portal.services import ConflictError, ServiceError

ESCALATION_STALE_MESSAGE = "This escalation changed while you were looking at it. Please review it and try again."
LEVEL_NAMES = {1: "level 1 (team leads)", 2: "level 2 (executives)"}


def _notify(event: CaseEvent) -> None:
    notifications.notify_case_event(event)


def fetch_open_escalation(case: Case) -> Escalation | None:
    """The case's open escalation, read fresh from the database (another transaction may have opened it)."""
    return db.session.scalar(
        sa.select(Escalation)
        .where(Escalation.case_id == case.id, Escalation.closed_at.is_(None))
        .execution_options(populate_existing=True)
    )


def _insert_open(case: Case, proposal: rules.Proposal, *, actor: User | None, now: datetime) -> Escalation | None:
    """Open an escalation for `case` in one statement; None when one is already open (the unique index)."""
    values = {
        "case_id": case.id,
        "level": proposal.level,
        "reason": EscalationReason(proposal.reason),
        "created_at": now,
        "raised_at": now,
        "raised_by_id": actor.id if actor is not None else None,
        "urgency": urgency_rank(proposal.level, False),
        "version": 1,
    }
    table = Escalation.__table__
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = (
        insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=["case_id"], index_where=table.c.closed_at.is_(None))
        .returning(table.c.id)
    )
    escalation_id = db.session.execute(statement).scalar()
    return db.session.get(Escalation, escalation_id) if escalation_id is not None else None


def _reset_for_level(escalation: Escalation, level: int, *, actor: User | None, now: datetime) -> None:
    """A new level is new work for other people: nobody has acknowledged or owns it there yet."""
    escalation.level = level
    escalation.raised_at = now
    escalation.raised_by_id = actor.id if actor is not None else None
    escalation.acknowledged_at = None
    escalation.acknowledged_by_id = None
    escalation.owner_id = None
    escalation.urgency = urgency_rank(level, False)


def apply_proposal(
    case: Case,
    proposal: rules.Proposal | None,
    *,
    actor: User | None,
    note: str | None = None,
    public_body: str | None = None,
    now: datetime | None = None,
) -> Escalation | None:
    """Raise `case` as `proposal` says, if that is higher than it stands; return the escalation, or
    None when nothing changed (the rule's level is already reached: rules never lower a case).

    Opens an escalation, or raises the open one (which then waits for acknowledgement at its new
    level). Records a public `escalated` event (data: level, from, reason, escalation id) whose
    body is `public_body` (a customer's own words), and `note`, a staff reason, as an internal note.
    """
    now = now or utcnow()
    step = rules.next_step(case.escalation_level, proposal)
    if step is None:
        return None
    db.session.flush()
    escalation = fetch_open_escalation(case)
    previous = escalation.level if escalation is not None else 0
    if escalation is None:
        escalation = _insert_open(case, step, actor=actor, now=now)
        if escalation is None:  # opened by another transaction since we looked
            escalation = fetch_open_escalation(case)
            previous = escalation.level
            if escalation.level >= step.level:
                case.escalation_level = escalation.level
                return None
            _reset_for_level(escalation, step.level, actor=actor, now=now)
            escalation.reason = EscalationReason(step.reason)
    elif escalation.level >= step.level:
        case.escalation_level = escalation.level
        return None
    else:
        _reset_for_level(escalation, step.level, actor=actor, now=now)
        escalation.reason = EscalationReason(step.reason)
    case.escalation_level = step.level
    event = timeline.record_event(
        case,
        EventType.ESCALATED,
        actor=actor,
        body=public_body,
        data={"level": step.level, "from": previous, "reason": step.reason, "escalation_id": escalation.id},
        at=now,
    )
    if note:
        timeline.record_event(
            case,
            EventType.INTERNAL_NOTE,
            actor=actor,
            body=f"Reason for escalating to level {step.level}: {note}",
            at=now,
        )
    db.session.flush()
    _notify(event)
    return escalation


# --- triggered by case events -------------------------------------------------------------------


def escalate_on_submission(case: Case, *, now: datetime | None = None) -> Escalation | None:
    """A critical case goes to the team leads at once (no actor: the rule did it)."""
    return apply_proposal(case, rules.on_submission(case.severity), actor=None, now=now)


def escalate_on_reopen(case: Case, *, now: datetime | None = None) -> Escalation | None:
    """The second reopen escalates to level 1."""
    return apply_proposal(case, rules.on_reopen(case.reopen_count), actor=None, now=now)


# --- people raising -----------------------------------------------------------------------------


def request_escalation(case: Case, *, customer: User, reason: str, now: datetime | None = None) -> Escalation:
    """A customer asks for their open case to be escalated, saying why (shown on the timeline).

    Level 1, or level 2 for a strategic account. Refused with a clear message: a resolved or closed
    case (409), an empty reason, a case already at that level, or a second request within 24 hours
    of the last one. The 24-hour rule is one conditional UPDATE, so two requests at once count once.
    """
    policy.require(policy.can_request_escalation(customer, case))
    now = now or utcnow()
    if case.status == Status.CLOSED:
        raise ConflictError(f"{case.reference} is closed, so it cannot be escalated. Open a new case and mention it.")
    if case.status == Status.RESOLVED:
        raise ConflictError(f"{case.reference} is resolved. Reopen it if something is still wrong.")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Tell us why this case needs escalating.", field="reason")
    account = db.session.get(Account, case.account_id)
    proposal = rules.on_customer_request(account.tier)
    if rules.next_step(case.escalation_level, proposal) is None:
        raise ServiceError(f"{case.reference} is already escalated to {LEVEL_NAMES[case.escalation_level]}.")
    cutoff = now - rules.CUSTOMER_REQUEST_INTERVAL
    counted = db.session.execute(
        sa.update(Case)
        .where(
            Case.id == case.id,
            sa.or_(Case.escalation_requested_at.is_(None), Case.escalation_requested_at <= cutoff),
        )
        .values(escalation_requested_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        raise ServiceError(
            "You already asked to escalate this case in the last 24 hours. "
            "We are on it; you can ask again once 24 hours have passed."
        )
    set_committed_value(case, "escalation_requested_at", now)
    return apply_proposal(case, proposal, actor=customer, public_body=reason, now=now)


def _check_case_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and case.version != expected_version:
        raise ConflictError("This case changed while you were working on it. Please review it and try again.")


def raise_escalation(case: Case, *, actor: User, level: int, reason: str, expected_version: int | None = None):
    """Staff raise a case by hand with a reason (saved as an internal note): team leads to level 1
    or 2, account managers to level 1. Refused: a closed case (409), no reason, a level the role may
    not raise to, or a level the case already has."""
    policy.require(policy.can_raise_escalation(actor, case))
    _check_case_version(case, expected_version)
    if case.status == Status.CLOSED:
        raise ConflictError(f"{case.reference} is closed and cannot be escalated.")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for escalating. Only staff see it.", field="reason")
    proposal = rules.on_manual(level=level, role=actor.role.value)
    if proposal is None:
        raise ServiceError("Account managers escalate to level 1; a team lead takes it to level 2.", field="level")
    if rules.next_step(case.escalation_level, proposal) is None:
        raise ServiceError(
            f"{case.reference} is already escalated to {LEVEL_NAMES[case.escalation_level]}.", field="level"
        )
    return apply_proposal(case, proposal, actor=actor, note=reason)


# --- handling an escalation ---------------------------------------------------------------------


def _check_version(escalation: Escalation, expected_version: int | None) -> None:
    if expected_version is None or escalation.version != expected_version:
        raise ConflictError(ESCALATION_STALE_MESSAGE)


def _require_open(escalation: Escalation) -> None:
    if escalation.closed_at is not None:
        raise ConflictError("This escalation is closed.")


def _record(escalation: Escalation, type: EventType, *, actor: User, visibility=Visibility.PUBLIC, body=None, **data):
    event = timeline.record_event(
        escalation.case,
        type,
        actor=actor,
        body=body,
        data={"level": escalation.level, "escalation_id": escalation.id, **data},
        visibility=visibility,
    )
    db.session.flush()
    _notify(event)
    return event


def _acknowledge(escalation: Escalation, actor: User, now: datetime) -> None:
    escalation.acknowledged_at = now
    escalation.acknowledged_by_id = actor.id
    escalation.urgency = urgency_rank(escalation.level, True)
    _record(escalation, EventType.ESCALATION_ACKNOWLEDGED, actor=actor)


def acknowledge_escalation(escalation: Escalation, *, actor: User, expected_version: int | None) -> Escalation:
    """Say the escalation is seen: team leads at level 1, executives at level 2 (403 otherwise).
    Public: the customer sees it was acknowledged. Acknowledging twice is a 409."""
    _check_version(escalation, expected_version)
    _require_open(escalation)
    policy.require(policy.can_acknowledge(actor, escalation))
    if escalation.acknowledged_at is not None:
        raise ConflictError(f"{escalation.acknowledged_by.name} already acknowledged this escalation.")
    _acknowledge(escalation, actor, utcnow())
    return escalation


def take_ownership(escalation: Escalation, *, actor: User, expected_version: int | None) -> Escalation:
    """Become the escalation's owner (acknowledging it too if nobody has). Internal."""
    _check_version(escalation, expected_version)
    _require_open(escalation)
    policy.require(policy.can_take_ownership(actor, escalation))
    if escalation.owner_id == actor.id:
        raise ServiceError("You already own this escalation.")
    if escalation.acknowledged_at is None:
        _acknowledge(escalation, actor, utcnow())
    escalation.owner_id = actor.id
    _record(escalation, EventType.ESCALATION_OWNED, actor=actor, visibility=Visibility.INTERNAL, owner=actor.name)
    return escalation


def raise_to_level_2(escalation: Escalation, *, actor: User, reason: str, expected_version: int | None) -> Escalation:
    """A team lead hands a level-1 escalation to the executives, with a reason (internal)."""
    _check_version(escalation, expected_version)
    _require_open(escalation)
    policy.require(policy.can_raise_to_level_2(actor, escalation))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for raising this to the executives.", field="reason")
    apply_proposal(escalation.case, rules.Proposal(2, rules.MANUAL), actor=actor, note=reason)
    return escalation


def decide_escalation(
    escalation: Escalation, *, actor: User, outcome: str | None, decision: str, expected_version: int | None
) -> Escalation:
    """An executive records the decision on a level-2 escalation: an outcome from the fixed list and
    the decision itself. Internal: customers never see decisions. A later decision replaces it."""
    _check_version(escalation, expected_version)
    _require_open(escalation)
    policy.require(policy.can_decide(actor, escalation))
    try:
        outcome = DecisionOutcome(outcome)
    except ValueError:
        raise ServiceError("Choose the outcome of the decision.", field="outcome") from None
    decision = (decision or "").strip()
    if not decision:
        raise ServiceError("Write down the decision.", field="decision")
    now = utcnow()
    if escalation.acknowledged_at is None:
        _acknowledge(escalation, actor, now)
    escalation.decision_outcome = outcome
    escalation.decision = decision
    escalation.decided_at = now
    escalation.decided_by_id = actor.id
    _record(
        escalation,
        EventType.ESCALATION_DECIDED,
        actor=actor,
        visibility=Visibility.INTERNAL,
        body=decision,
        outcome=outcome.value,
    )
    return escalation


def close_escalation(escalation: Escalation, *, actor: User, expected_version: int | None) -> Escalation:
    """Close the escalation: the case is back to normal handling (level 0). A level-2 escalation
    needs a decision first. Public: the customer sees the escalation was resolved."""
    _check_version(escalation, expected_version)
    _require_open(escalation)
    policy.require(policy.can_close_escalation(actor, escalation))
    if escalation.level == 2 and escalation.decided_at is None:
        raise ServiceError("Record a decision before closing a level-2 escalation.")
    escalation.closed_at = utcnow()
    escalation.closed_by_id = actor.id
    escalation.case.escalation_level = 0
    _record(escalation, EventType.ESCALATION_CLOSED, actor=actor)
    return escalation


def de_escalate(escalation: Escalation, *, actor: User, reason: str, expected_version: int | None) -> Escalation:
    """An executive sends a level-2 escalation back to the team leads (level 1), with a reason (internal)."""
    _check_version(escalation, expected_version)
    _require_open(escalation)
    policy.require(policy.can_de_escalate(actor, escalation))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for sending this back to the team leads.", field="reason")
    _reset_for_level(escalation, 1, actor=actor, now=utcnow())
    escalation.case.escalation_level = 1
    _record(escalation, EventType.DE_ESCALATED, actor=actor, visibility=Visibility.INTERNAL, body=reason, **{"from": 2})
    return escalation


# --- reading ------------------------------------------------------------------------------------


def fetch_visible_escalation(user: User, escalation_id: int) -> Escalation:
    """The escalation if `user` may see its case; 404 otherwise, exactly as for a missing one."""
    if not 0 < escalation_id <= MAX_ID:
        raise NotFound()
    visible = policy.visible_cases(user).with_only_columns(Case.id).scalar_subquery()
    escalation = db.session.scalar(
        sa.select(Escalation).where(Escalation.id == escalation_id, Escalation.case_id.in_(visible))
    )
    if escalation is None:
        raise NotFound()
    return escalation


def fetch_case_escalations(case: Case) -> list[Escalation]:
    """The case's escalations, newest first (the open one, if any, is first)."""
    return list(
        db.session.scalars(
            sa.select(Escalation)
            .where(Escalation.case_id == case.id)
            .options(selectinload(Escalation.owner), selectinload(Escalation.acknowledged_by))
            .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        )
    )


STATES = ("open", "unacknowledged", "acknowledged", "owned", "decided", "closed", "all")


@dataclass(frozen=True)
class BoardFilters:
    level: int | None = None
    state: str = "open"
    reason: str = ""


def _state_condition(state: str):
    E = Escalation
    return {
        "open": E.closed_at.is_(None),
        "unacknowledged": sa.and_(E.closed_at.is_(None), E.acknowledged_at.is_(None)),
        "acknowledged": sa.and_(
            E.closed_at.is_(None), E.acknowledged_at.is_not(None), E.owner_id.is_(None), E.decided_at.is_(None)
        ),
        "owned": sa.and_(E.closed_at.is_(None), E.owner_id.is_not(None), E.decided_at.is_(None)),
        "decided": sa.and_(E.closed_at.is_(None), E.decided_at.is_not(None)),
        "closed": E.closed_at.is_not(None),
        "all": sa.true(),
    }[state]


def encode_board_cursor(escalation: Escalation) -> str:
    raw = json.dumps([escalation.urgency, escalation.created_at.isoformat(), escalation.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_board_cursor(cursor: str | None) -> tuple[int, datetime, int] | None:
    if not cursor:
        return None
    try:
        urgency, stamp, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created = datetime.fromisoformat(stamp)
        if created.tzinfo is None or not isinstance(urgency, int) or not isinstance(row_id, int):
            return None
        if not 0 <= urgency <= 9 or not 0 < row_id <= MAX_ID:
            return None
        return urgency, created.astimezone(UTC), row_id
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        return None


def fetch_board_page(user: User, filters: BoardFilters, *, cursor: str | None, per_page: int) -> Page:
    """A page of the escalation board: most urgent first (unacknowledged, then level 2, then oldest),
    keyset-paginated on (urgency, created_at, id), which `ix_escalations_board` serves. The cases,
    accounts and people shown are loaded in a fixed number of queries however long the page."""
    policy.require(policy.can_see_escalation_board(user))
    E = Escalation
    query = (
        sa.select(E)
        .where(_state_condition(filters.state if filters.state in STATES else "open"))
        .options(
            selectinload(E.case).selectinload(Case.account),
            selectinload(E.owner),
            selectinload(E.acknowledged_by),
            selectinload(E.raised_by),
        )
    )
    if not policy.sees_every_case(user):
        # Only escalations of cases the user may see. Someone who sees every case needs no such
        # condition, and without it PostgreSQL reads ix_escalations_board in order instead of
        # joining every open escalation to its case and sorting them.
        visible = policy.visible_cases(user).with_only_columns(Case.id).scalar_subquery()
        query = query.where(E.case_id.in_(visible))
    if filters.level:
        query = query.where(E.level == filters.level)
    if filters.reason:
        query = query.where(E.reason == EscalationReason(filters.reason))
    position = decode_board_cursor(cursor)
    if position is not None:
        query = query.where(sa.tuple_(E.urgency, E.created_at, E.id) > sa.tuple_(*position))
    query = query.order_by(E.urgency, E.created_at, E.id).limit(per_page + 1)
    rows = list(db.session.scalars(query))
    next_cursor = encode_board_cursor(rows[per_page - 1]) if len(rows) > per_page else None
    return Page(items=rows[:per_page], next_cursor=next_cursor, is_first=position is None)


def is_flagged(escalation: Escalation, *, now: datetime, window: timedelta) -> bool:
    """Unacknowledged at level 2 for longer than the window: the board shows it flagged."""
    return escalation.is_open and rules.is_overdue_for_acknowledgement(
        level=escalation.level,
        acknowledged=escalation.acknowledged_at is not None,
        raised_at=escalation.raised_at,
        now=now,
        window=window,
    )
