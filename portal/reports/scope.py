"""Which accounts a report covers, and which of those choices a user may make (DESIGN.md §4).

The permissions themselves are `portal.auth.policy`'s: executives and admins see everything; team
leads the whole team (the portal has one support team, so: everything); account managers only
their own accounts — never another account's numbers, not even in a company total. Customers have
no reports at all: every report route answers them 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from portal.auth.policy import can_see_company_reports, can_see_reports, require_reports
from portal.extensions import db
from portal.models import Account, Role, User
from portal.pagination import MAX_ID
from portal.services import ServiceError, find_account_named

SCOPE_KINDS = ("company", "team", "manager", "account")


@dataclass(frozen=True)
class Scope:
    """Which accounts a report covers: all (`account_ids` None), one manager's, or one account."""

    kind: str
    label: str
    manager_id: int | None = None
    account_id: int | None = None

    def condition(self, account_column):
        """A SQL condition limiting `account_column` (an account id column) to this scope."""
        if self.account_id is not None:
            return account_column == self.account_id
        if self.manager_id is not None:
            return account_column.in_(sa.select(Account.id).where(Account.manager_id == self.manager_id))
        return sa.true()


def resolve_scope(
    user: User, kind: str | None, *, manager_id: int | None = None, account_id: int | None = None
) -> Scope:
    """The scope `user` asked for, if they may see it.

    An account manager's default (and widest) scope is their own accounts; a manager or account
    they may not see is a 404 (like a hidden case); asking for the whole company is refused with
    a message (400). Others default to the whole company.
    """
    require_reports(user)
    own_only = not can_see_company_reports(user)
    kind = kind or ("manager" if own_only else "company")
    if kind not in SCOPE_KINDS:
        raise ServiceError("Unknown scope: choose the company, the team, an account manager or an account.", "scope")
    if kind in ("company", "team"):
        if own_only:
            raise ServiceError("You can report on your own accounts only.", "scope")
        return Scope(kind, "Whole company" if kind == "company" else "Whole support team")
    if kind == "manager":
        manager_id = user.id if own_only and manager_id is None else manager_id
        if manager_id is None:
            raise ServiceError("Choose an account manager.", "manager")
        manager = db.session.get(User, manager_id) if 0 < manager_id <= MAX_ID else None
        if manager is None or manager.role != Role.ACCOUNT_MANAGER or (own_only and manager.id != user.id):
            raise NotFound()
        return Scope("manager", f"Accounts of {manager.name}", manager_id=manager.id)
    if account_id is None:
        raise ServiceError("Type the name of an account.", "account_name")
    account = db.session.get(Account, account_id) if 0 < account_id <= MAX_ID else None
    if account is None or (own_only and account.manager_id != user.id):
        raise NotFound()
    return Scope("account", account.name, account_id=account.id)


def find_reportable_account_id(user: User, name: str) -> int:
    """The id of the account called `name` (in any case, `find_account_named`) that `user` may
    report on. Any other answers as if it did not exist: a ServiceError on the name box."""
    account = find_account_named(reportable_accounts(user), name)
    if account is None:
        raise ServiceError(
            "No account you can report on has that name. Type its full name or pick a suggestion.", "account_name"
        )
    return account.id


def reportable_accounts(user: User) -> sa.Select:
    """`select(Account)` the user may pick as a report's scope."""
    query = sa.select(Account).order_by(Account.name)
    if can_see_company_reports(user):
        return query
    if user.active and user.role == Role.ACCOUNT_MANAGER:
        return query.where(Account.manager_id == user.id)
    return query.where(sa.false())


def reportable_managers(user: User) -> sa.Select:
    query = sa.select(User).where(User.role == Role.ACCOUNT_MANAGER).order_by(User.name)
    if can_see_company_reports(user):
        return query
    return query.where(User.id == user.id) if can_see_reports(user) else query.where(sa.false())
