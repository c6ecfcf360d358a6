"""Which notifications exist, who may receive which, and whether a person wants one.

A person switches kinds off on the preferences page (a `NotificationOptOut` row each); everything
else is on. Security mails (invitation, password reset) are always sent and never offered.
"""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import NotificationKind, NotificationOptOut, Role, User

K = NotificationKind

LABELS = {
    K.CASE_RECEIVED: "We received your case (with its reference and when to expect a reply)",
    K.STAFF_REPLY: "Our team replied to your case",
    K.WAITING_ON_YOU: "A case is waiting for your answer",
    K.CASE_ESCALATED: "Your case was escalated",
    K.ESCALATION_ACKNOWLEDGED: "Senior staff acknowledged your escalation",
    K.CASE_RESOLVED: "Your case was resolved (with a link to rate our help)",
    K.CASE_ASSIGNED: "A case was assigned to me",
    K.CUSTOMER_REPLY: "A customer replied on a case I handle",
    K.DUE_SOON: "A case I handle is due soon",
    K.BREACHED: "A case I handle has breached its target",
    K.ESCALATION: "An escalation reached my level",
    K.ESCALATION_DECIDED: "An executive decided on an escalated case I handle",
}

SECURITY_KINDS = frozenset({K.INVITATION, K.PASSWORD_RESET})

# The kinds each role can receive at all, in the order the preferences page lists them.
KINDS_BY_ROLE: dict[Role, tuple[NotificationKind, ...]] = {
    Role.CUSTOMER: (
        K.CASE_RECEIVED,
        K.STAFF_REPLY,
        K.WAITING_ON_YOU,
        K.CASE_ESCALATED,
        K.ESCALATION_ACKNOWLEDGED,
        K.CASE_RESOLVED,
    ),
    Role.ACCOUNT_MANAGER: (K.CASE_ASSIGNED, K.CUSTOMER_REPLY, K.DUE_SOON, K.BREACHED, K.ESCALATION_DECIDED),
    Role.TEAM_LEAD: (K.CASE_ASSIGNED, K.CUSTOMER_REPLY, K.DUE_SOON, K.BREACHED, K.ESCALATION, K.ESCALATION_DECIDED),
    Role.EXECUTIVE: (K.ESCALATION,),
    Role.ADMIN: (),
}


def kinds_for(user: User) -> tuple[NotificationKind, ...]:
    """The kinds `user` can choose between (security mails are not among them)."""
    return KINDS_BY_ROLE.get(user.role, ())


def fetch_opt_outs(user: User) -> frozenset[NotificationKind]:
    query = sa.select(NotificationOptOut.kind).where(NotificationOptOut.user_id == user.id)
    return frozenset(db.session.scalars(query))


def wants(user: User, kind: NotificationKind) -> bool:
    """Whether `user` should get a mail of `kind`: active, with an address, the kind is one their
    role receives (or a security mail), and they have not switched it off."""
    if not user.active or not user.email:
        return False
    if kind in SECURITY_KINDS:
        return True
    return kind in kinds_for(user) and kind not in fetch_opt_outs(user)
