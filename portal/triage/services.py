"""Lookups the staff queues need: filter choices and the team's workload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import OPEN_STATUSES, Account, Case, Role, User
from portal.triage.queues import DUE_SOON
from portal.triage.routing import ASSIGNABLE_ROLES


def fetch_filter_accounts(user: User) -> list[Account]:
    """Accounts offered in the queue filter: an account manager's own, everyone's for other staff."""
    query = sa.select(Account).order_by(Account.name)
    if user.role == Role.ACCOUNT_MANAGER:
        query = query.where(Account.manager_id == user.id)
    return list(db.session.scalars(query))


def fetch_assignable_staff() -> list[User]:
    """Everyone a case can be assigned to: active account managers and team leads."""
    query = sa.select(User).where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES)).order_by(User.role, User.name)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class Workload:
    user: User
    open: int
    due_soon: int
    breached: int


def fetch_workload(*, now: datetime) -> list[Workload]:
    """Open, due-soon and breached cases per assignable staff member, busiest first (one grouped query).

    "Due soon" and "breached" read the same `Case.next_due_at` as the queue filters, so the counts
    match what the linked queue shows.
    """
    due = Case.next_due_at
    counts = (
        sa.select(
            Case.assignee_id,
            sa.func.count(Case.id).label("open"),
            sa.func.count(Case.id).filter(due >= now, due < now + DUE_SOON).label("due_soon"),
            sa.func.count(Case.id).filter(due < now).label("breached"),
        )
        .where(Case.status.in_(OPEN_STATUSES), Case.assignee_id.is_not(None))
        .group_by(Case.assignee_id)
    )
    by_user = {row.assignee_id: row for row in db.session.execute(counts)}
    rows = []
    for user in fetch_assignable_staff():
        row = by_user.get(user.id)
        rows.append(Workload(user, row.open if row else 0, row.due_soon if row else 0, row.breached if row else 0))
    return sorted(rows, key=lambda w: (-w.breached, -w.open, w.user.name))
