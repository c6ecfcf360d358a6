"""Keyword-only builders for test data. Each flushes, so ids are set, and none commits."""

from datetime import datetime
from decimal import Decimal
from functools import cache
from itertools import count

from werkzeug.security import generate_password_hash

from portal.cases import timeline
from portal.extensions import db
from portal.models import Account, Case, EventType, Kind, Role, Severity, Status, Tier, User, Visibility
from portal.models.base import utcnow

PASSWORD = "correct horse battery"
_sequence = count(1)


@cache
def password_hash() -> str:
    # Hashing is deliberately slow; every test user shares one hash of PASSWORD.
    return generate_password_hash(PASSWORD)


def make_account(*, name=None, tier=Tier.STANDARD, manager=None, restrict_to_requester=False, **fields) -> Account:
    n = next(_sequence)
    account = Account(
        name=name or f"Account {n}",
        email_domain=fields.pop("email_domain", f"account{n}.example"),
        tier=tier,
        manager=manager,
        annual_contract_value=fields.pop("annual_contract_value", Decimal("50000")),
        restrict_to_requester=restrict_to_requester,
        **fields,
    )
    db.session.add(account)
    db.session.flush()
    return account


def make_user(*, role=Role.CUSTOMER, account=None, name=None, email=None, active=True, **fields) -> User:
    n = next(_sequence)
    if role == Role.CUSTOMER and account is None:
        account = make_account()
    user = User(
        email=email or f"user{n}@example.com",
        name=name or f"User {n}",
        role=role,
        account=account,
        active=active,
        password_hash=fields.pop("password_hash", password_hash()),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_case(
    *,
    requester,
    subject="Invoices will not download",
    description="Clicking download does nothing.",
    kind=Kind.ISSUE,
    category="billing",
    severity=Severity.MEDIUM,
    status=Status.OPEN,
    assignee=None,
    created_at: datetime | None = None,
    **fields,
) -> Case:
    created_at = created_at or utcnow()
    case = Case(
        requester=requester,
        account_id=requester.account_id,
        subject=subject,
        description=description,
        kind=kind,
        category=category,
        severity=severity,
        status=status,
        assignee=assignee,
        created_at=created_at,
        updated_at=created_at,
        **fields,
    )
    db.session.add(case)
    timeline.record_event(case, EventType.CREATED, actor=requester, at=created_at)
    db.session.flush()
    return case


def add_event(case, *, actor, type=EventType.PUBLIC_REPLY, body="A reply", visibility=Visibility.PUBLIC):
    event = timeline.record_event(case, type, actor=actor, body=body, visibility=visibility)
    db.session.flush()
    return event
