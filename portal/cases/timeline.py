"""The case timeline: the only writer of CaseEvent and the only filter of what a viewer may read.

Events are append-only; nothing here updates or deletes one.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.auth import policy
from portal.extensions import db
from portal.models import Case, CaseEvent, EventType, User, Visibility
from portal.models.base import utcnow

# Events whose very type is internal, whatever the caller asks for.
_ALWAYS_INTERNAL = frozenset({EventType.INTERNAL_NOTE})


def record_event(
    case: Case,
    type: EventType,
    *,
    actor: User | None,
    body: str | None = None,
    data: dict | None = None,
    visibility: Visibility = Visibility.PUBLIC,
    at: datetime | None = None,
) -> CaseEvent:
    """Append an event to `case`'s timeline and touch the case's `updated_at`.

    `at` backdates the event; only imports and demo data use it.
    """
    if type in _ALWAYS_INTERNAL:
        visibility = Visibility.INTERNAL
    now = at or utcnow()
    event = CaseEvent(case=case, actor=actor, type=type, body=body, data=data, visibility=visibility, created_at=now)
    db.session.add(event)
    case.updated_at = now
    return event


def events_query(case: Case, *, include_internal: bool) -> sa.Select:
    query = (
        sa.select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .options(selectinload(CaseEvent.attachments), selectinload(CaseEvent.actor))
        .order_by(CaseEvent.created_at, CaseEvent.id)
    )
    if not include_internal:
        query = query.where(CaseEvent.visibility == Visibility.PUBLIC)
    return query


def public_events(case: Case) -> list[CaseEvent]:
    """What a customer may read: public events only."""
    return list(db.session.scalars(events_query(case, include_internal=False)))


def events_for(viewer: User, case: Case) -> list[CaseEvent]:
    """The timeline as `viewer` may read it: internal notes only for staff who may see them."""
    include_internal = policy.can_see_internal(viewer, case)
    return list(db.session.scalars(events_query(case, include_internal=include_internal)))
