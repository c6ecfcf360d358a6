"""Lookups the staff queues need: the account filter, assignable staff and the team's workload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import OPEN_STATUSES, Account, Case, Role, User
from portal.services import ServiceError, find_account_named
from portal.triage.queues import DUE_SOON, escape_like
from portal.triage.routing import ASSIGNABLE_ROLES

# Most suggestions the account filter offers at once: enough to pick from, small at any scale.
SUGGESTION_LIMIT = 10


def _filterable_accounts(user: User, *columns) -> sa.Select:
    """Accounts `user` may filter the queues by: an account manager's own, every account for other staff."""
    query = sa.select(*columns) if columns else sa.select(Account)
    if user.role == Role.ACCOUNT_MANAGER:
        query = query.where(Account.manager_id == user.id)
    return query


def find_filter_account(user: User, *, account_id: int | None = None, name: str = "") -> Account | None:
    """The account a queue is filtered by, or None when no account is asked for.

    A typed `name` wins over `account_id` (which links may carry). The name must match a whole
    account name, in any case (`find_account_named`). An account `user` may not filter by answers
    as if it did not exist: a ServiceError on the field that asked for it.
    """
    if name.strip():
        account = find_account_named(_filterable_accounts(user), name)
        if account is None:
            raise ServiceError(
                "No account you can filter by has that name. Type its full name or pick a suggestion.",
                field="account_name",
            )
        return account
    if account_id is not None:
        account = db.session.scalars(_filterable_accounts(user).where(Account.id == account_id)).first()
        if account is None:
            raise ServiceError("That account is not one you can filter by.", field="account")
        return account
    return None


def suggest_filter_accounts(user: User, text: str) -> list[sa.Row]:
    """Up to SUGGESTION_LIMIT (id, name) rows of the accounts `user` may filter by whose name
    contains `text` (any case; % and _ match only themselves), in name order. Blank text: none."""
    text = text.strip()
    if not text:
        return []
    pattern = f"%{escape_like(text)}%"
    query = (
        _filterable_accounts(user, Account.id, Account.name)
        .where(Account.name.ilike(pattern, escape="\\"))
        .order_by(Account.name)
        .limit(SUGGESTION_LIMIT)
    )
    return list(db.session.execute(query))


def _assignable(query: sa.Select) -> sa.Select:
    return query.where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES)).order_by(User.role, User.name)


def fetch_assignable_staff() -> list[User]:
    """Everyone a case can be assigned to: active account managers and team leads."""
    return list(db.session.scalars(_assignable(sa.select(User))))


def fetch_assignable_names() -> list[sa.Row]:
    """(id, name) of everyone a case can be assigned to, for a list of choices: rows, not users."""
    return list(db.session.execute(_assignable(sa.select(User.id, User.name))))


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
