"""The case lifecycle (DESIGN.md §5): the allowed transitions and the one function that makes them.

    new -> open -> waiting_on_customer <-> open -> resolved -> closed
    resolved -> open (reopen)        closed is final

Every change of status goes through `transition`, which records a `status_changed` event.
"""

from __future__ import annotations

from datetime import datetime

from portal.cases import timeline
from portal.models import Case, EventType, Status, User
from portal.models.base import utcnow
from portal.services import ConflictError
from portal.sla import services as sla

ALLOWED = {
    Status.NEW: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.WAITING_ON_CUSTOMER, Status.RESOLVED, Status.CLOSED}),
    Status.WAITING_ON_CUSTOMER: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def can_transition(case: Case, to: Status) -> bool:
    return to in ALLOWED[case.status]


def require_transition(case: Case, to: Status) -> None:
    """Raise the ConflictError `transition` would, without changing anything: lets a service refuse
    an action before it writes the other parts of it (such as the reply sent with "waiting")."""
    if not can_transition(case, to):
        raise ConflictError(f"A {case.status.label.lower()} case cannot be moved to {to.label.lower()}.")


def transition(case: Case, to: Status, *, actor: User | None, note: str | None = None, at: datetime | None = None):
    """Move `case` to status `to`, stamping resolved/closed times and recording the change.

    Entering `waiting_on_customer` pauses the SLA clock; leaving it (for any status) resumes it.
    `at` (default now) is the moment of the move, used for the stamps, the clock and the event;
    only imports and demo data pass it, as with `timeline.record_event`.

    Raises ConflictError (409) for a move the lifecycle does not allow, such as anything out of
    `closed`; nothing is changed then.
    """
    require_transition(case, to)
    previous = case.status
    now = at or utcnow()
    case.status = to
    if to == Status.RESOLVED:
        case.resolved_at = now
    elif to == Status.CLOSED:
        case.closed_at = now
    elif to == Status.OPEN and previous == Status.RESOLVED:
        case.resolved_at = None
        case.reopen_count += 1
    # The SLA clock stands still while the case waits on the customer.
    if to == Status.WAITING_ON_CUSTOMER:
        sla.pause_clock(case, now=now)
    elif previous == Status.WAITING_ON_CUSTOMER:
        sla.resume_clock(case, now=now)
    return timeline.record_event(
        case,
        EventType.STATUS_CHANGED,
        actor=actor,
        body=note,
        data={"from": previous.value, "to": to.value},
        at=now,
    )
