"""Account status kept in step with account health (DESIGN.md §8): active ↔ at risk.

Nobody sets an account's status by hand to say it is at risk; the health score decides. The
repeating SLA sweep (`--every`) refreshes the statuses once an hour, `flask accounts refresh-status`
on demand, and the demo seed once at its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Account, AccountStatus
from portal.reports.scope import Scope
from portal.reports.services import fetch_account_health

WHOLE_COMPANY = Scope("company", "Whole company")


@dataclass(frozen=True)
class StatusChange:
    account_id: int
    name: str
    old: AccountStatus
    new: AccountStatus
    score: int  # the health score behind the change


def refresh_account_statuses(*, now: datetime) -> list[StatusChange]:
    """Set each account that is not churned to at risk when its health as of `now` says so, and
    back to active when it no longer does; return the changes, ordered by account name.

    The health comes from `fetch_account_health` for the whole company (one grouped query, which
    leaves churned accounts out). Only accounts whose status changes are written, with at most one
    UPDATE per new status; each UPDATE also requires the status it replaces, so a churned account is
    never touched, not even one churned since the health was read, and a concurrent run changes
    nothing twice. Running it again at the same `now` changes nothing. Flushes; the caller commits.
    """
    healths = fetch_account_health(WHOLE_COMPANY, as_of=now)
    wanted = {row.facts.account_id: _status_for(row.health.at_risk) for row in healths}
    changes = []
    for new, old in ((AccountStatus.AT_RISK, AccountStatus.ACTIVE), (AccountStatus.ACTIVE, AccountStatus.AT_RISK)):
        ids = [account_id for account_id, status in wanted.items() if status == new]
        if not ids:
            continue
        changed = set(
            db.session.scalars(
                sa.update(Account)
                .where(Account.id.in_(ids), Account.status == old)
                .values(status=new)
                .returning(Account.id)
            )
        )
        changes += [
            StatusChange(row.facts.account_id, row.facts.name, old, new, row.health.score)
            for row in healths
            if row.facts.account_id in changed
        ]
    return sorted(changes, key=lambda change: change.name)


def _status_for(at_risk: bool) -> AccountStatus:
    return AccountStatus.AT_RISK if at_risk else AccountStatus.ACTIVE


def describe_changes(changes: list[StatusChange]) -> str:
    """One line for the command line and the sweep's log."""
    if not changes:
        return "Account statuses: no change."
    listed = "; ".join(
        f"{change.name} {_label(change.old)} → {_label(change.new)} (health {change.score})" for change in changes
    )
    return f"Account statuses: {len(changes)} changed: {listed}."


def _label(status: AccountStatus) -> str:
    return status.value.replace("_", " ")
