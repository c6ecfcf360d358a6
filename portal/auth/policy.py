"""THE permissions policy: who may see and do what with a case (DESIGN.md §4).

Every rule about access lives here. Views call the `require_*` twins, templates call the `can_*`
predicates through a context processor, and every list of cases starts from `visible_cases(user)`.

A case the user may not see is reported as missing (404), so references cannot be probed; a
visible case with a forbidden action is a 403.
"""

from __future__ import annotations

import sqlalchemy as sa
from werkzeug.exceptions import Forbidden, NotFound

from portal.extensions import db
from portal.models import Account, Case, Role, Status, User

_SEES_EVERYTHING = frozenset({Role.TEAM_LEAD, Role.EXECUTIVE, Role.ADMIN})


def visible_cases(user: User) -> sa.Select:
    """The one query every list of cases is built from: `select(Case)` limited to what `user` may see.

    Customers see their account's cases (only their own when the account restricts them);
    account managers see their accounts' cases and any case assigned to them; team leads,
    executives and admins see every case. Inactive users see nothing.
    """
    query = sa.select(Case)
    if not user.active:
        return query.where(sa.false())
    if user.role == Role.CUSTOMER:
        restricted = sa.select(Account.restrict_to_requester).where(Account.id == user.account_id)
        return query.where(
            Case.account_id == user.account_id,
            sa.or_(Case.requester_id == user.id, sa.not_(restricted.scalar_subquery())),
        )
    if user.role == Role.ACCOUNT_MANAGER:
        own_accounts = sa.select(Account.id).where(Account.manager_id == user.id)
        return query.where(sa.or_(Case.account_id.in_(own_accounts), Case.assignee_id == user.id))
    if user.role in _SEES_EVERYTHING:
        return query
    return query.where(sa.false())


def sees_every_case(user: User) -> bool:
    """True when `visible_cases(user)` limits nothing, so a query over cases (or their escalations)
    may leave the visibility condition out and read its own index in order."""
    return user.active and user.role in _SEES_EVERYTHING


def manages_account(user: User, case: Case) -> bool:
    return user.role == Role.ACCOUNT_MANAGER and case.account.manager_id == user.id


def can_view_case(user: User, case: Case) -> bool:
    if not user.active:
        return False
    if user.role == Role.CUSTOMER:
        if case.account_id != user.account_id:
            return False
        return case.requester_id == user.id or not case.account.restrict_to_requester
    if user.role == Role.ACCOUNT_MANAGER:
        return manages_account(user, case) or case.assignee_id == user.id
    return user.role in _SEES_EVERYTHING


def can_see_internal(user: User, case: Case) -> bool:
    """Internal notes: staff who can see the case. Never a customer."""
    return user.is_staff and can_view_case(user, case)


def can_submit_case(user: User) -> bool:
    return user.active and user.role == Role.CUSTOMER and user.account_id is not None


def can_reply(user: User, case: Case) -> bool:
    """Public replies: customers on their open (or resolved, which reopens) cases; staff as the table says.

    Nobody replies on a closed case: it is final, and a new case can reference it.
    """
    if not can_view_case(user, case) or case.status == Status.CLOSED:
        return False
    if user.role in (Role.CUSTOMER, Role.ACCOUNT_MANAGER, Role.TEAM_LEAD):
        return True
    if user.role == Role.EXECUTIVE:
        return case.escalation_level > 0
    return False


def can_write_note(user: User, case: Case) -> bool:
    if not can_view_case(user, case):
        return False
    return user.role in (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.EXECUTIVE)


def can_triage(user: User, case: Case) -> bool:
    """Assign, change severity, kind or category: the account's manager or a team lead."""
    if not can_view_case(user, case):
        return False
    return user.role == Role.TEAM_LEAD or manages_account(user, case)


def can_work_case(user: User, case: Case) -> bool:
    """Waiting on customer, resolve, close, merge: the manager of the account or assignee, or a team lead."""
    if not can_view_case(user, case):
        return False
    return user.role in (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)


def can_reopen(user: User, case: Case) -> bool:
    """Reopen or confirm a resolved case: its customers, or staff who may resolve it.

    Whether the case's status allows it is the workflow's business (a 409, not a 403).
    """
    if not can_view_case(user, case):
        return False
    return user.role == Role.CUSTOMER or can_work_case(user, case)


can_confirm_resolution = can_reopen


def can_download_attachment(user: User, attachment) -> bool:
    """An attachment is visible exactly when its event is: internal ones only to staff who see notes."""
    case = attachment.case
    if not can_view_case(user, case):
        return False
    return not attachment.event.is_internal or can_see_internal(user, case)


def can_invite_to(user: User, account: Account) -> bool:
    """Invite customers to `account`: an admin to any account, an account manager to their own."""
    if not user.active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.ACCOUNT_MANAGER and account.manager_id == user.id


def invitable_accounts(user: User) -> sa.Select:
    """`select(Account)` limited to the accounts `user` may invite customers to (as `can_invite_to`)."""
    query = sa.select(Account)
    if not user.active:
        return query.where(sa.false())
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.ACCOUNT_MANAGER:
        return query.where(Account.manager_id == user.id)
    return query.where(sa.false())


def can_use_saved_replies(user: User) -> bool:
    """List saved replies and insert them into a reply: account managers and team leads."""
    return user.active and user.role in (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)


def can_manage_saved_replies(user: User) -> bool:
    """Create, edit and delete the team's saved replies: team leads and admins."""
    return user.active and user.role in (Role.TEAM_LEAD, Role.ADMIN)


# --- escalations (DESIGN.md §4 "escalate") ------------------------------------------------------
# Level 1 is the team leads', level 2 the executives'.
_ESCALATION_HANDLERS = {1: Role.TEAM_LEAD, 2: Role.EXECUTIVE}


def can_request_escalation(user: User, case: Case) -> bool:
    """A customer asks for their (visible) case to be escalated. Whether the case is still open and
    whether 24 hours passed since the last request are the service's business (clear messages)."""
    return user.role == Role.CUSTOMER and can_view_case(user, case)


def can_raise_escalation(user: User, case: Case) -> bool:
    """Raise by hand with a reason: account managers (their accounts' and assigned cases) and team leads."""
    return user.role in (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD) and can_view_case(user, case)


def _handles(user: User, escalation) -> bool:
    return (
        escalation.closed_at is None
        and user.role == _ESCALATION_HANDLERS.get(escalation.level)
        and can_view_case(user, escalation.case)
    )


def can_acknowledge(user: User, escalation) -> bool:
    """Acknowledge (and take ownership of) an open escalation: team leads at level 1, executives at level 2."""
    return _handles(user, escalation)


can_take_ownership = can_acknowledge


def can_raise_to_level_2(user: User, escalation) -> bool:
    """Team leads hand an open level-1 escalation to the executives."""
    return escalation.closed_at is None and escalation.level == 1 and _handles(user, escalation)


def can_decide(user: User, escalation) -> bool:
    """Record a decision: executives, on an open level-2 escalation."""
    return escalation.level == 2 and _handles(user, escalation)


def can_close_escalation(user: User, escalation) -> bool:
    """Close: whoever handles its level (a level-2 one needs a decision first: the service says so)."""
    return _handles(user, escalation)


def can_de_escalate(user: User, escalation) -> bool:
    """Send a level-2 escalation back to the team leads: executives."""
    return escalation.level == 2 and _handles(user, escalation)


def can_see_escalation_board(user: User) -> bool:
    return user.active and user.role in (Role.TEAM_LEAD, Role.EXECUTIVE)


def can_rate_case(user: User, case: Case) -> bool:
    """Rate (or change a rating of) a case: the customers who can see it. Never staff.

    Whether the case is resolved yet, and whether the 7-day window is still open, are the
    service's business (a clear 409), not a permission.
    """
    return user.active and user.role == Role.CUSTOMER and can_view_case(user, case)


def can_see_reports(user: User) -> bool:
    """Reports: executives, admins and team leads over everything; account managers over their own
    accounts (see `portal.reports.scope`). Customers have none: every report route is a 404 to them."""
    return user.active and user.role in (Role.ACCOUNT_MANAGER, *_SEES_EVERYTHING)


def can_see_company_reports(user: User) -> bool:
    """Reports over every account (company, team, any manager or account)."""
    return user.active and user.role in _SEES_EVERYTHING


def require_reports(user: User) -> None:
    """404 for anyone without reports (customers): the routes do not exist for them."""
    if not can_see_reports(user):
        raise NotFound()


def fetch_visible_case(user: User, case_id: int) -> Case:
    """The case with `case_id` if `user` may see it; 404 otherwise (missing and hidden look the same)."""
    case = db.session.scalar(visible_cases(user).where(Case.id == case_id))
    if case is None:
        raise NotFound()
    return case


def require(allowed: bool) -> None:
    """Raise 403 unless `allowed`. Use after the case is known to be visible."""
    if not allowed:
        raise Forbidden()


def require_view_case(user: User, case: Case) -> None:
    if not can_view_case(user, case):
        raise NotFound()


def require_invite_to(user: User, account: Account) -> None:
    if not can_invite_to(user, account):
        raise Forbidden()


def require_download_attachment(user: User, attachment) -> None:
    if not can_download_attachment(user, attachment):
        raise NotFound()


# Predicates templates may call, exposed by a context processor.
TEMPLATE_PREDICATES = {
    "can_reply": can_reply,
    "can_write_note": can_write_note,
    "can_see_internal": can_see_internal,
    "can_reopen": can_reopen,
    "can_confirm_resolution": can_confirm_resolution,
    "can_triage": can_triage,
    "can_work_case": can_work_case,
    "can_submit_case": can_submit_case,
    "can_rate_case": can_rate_case,
    "can_see_reports": can_see_reports,
    "can_use_saved_replies": can_use_saved_replies,
    "can_manage_saved_replies": can_manage_saved_replies,
    "can_request_escalation": can_request_escalation,
    "can_raise_escalation": can_raise_escalation,
}

# Predicates on an escalation (or only the user), exposed to templates by the escalations blueprint.
ESCALATION_PREDICATES = {
    "can_acknowledge": can_acknowledge,
    "can_take_ownership": can_take_ownership,
    "can_raise_to_level_2": can_raise_to_level_2,
    "can_decide": can_decide,
    "can_close_escalation": can_close_escalation,
    "can_de_escalate": can_de_escalate,
    "can_see_escalation_board": can_see_escalation_board,
}
