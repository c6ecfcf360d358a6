"""Things every feature's services share: the error a service raises for input it must refuse,
and finding an account by the name someone typed."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Account


class ServiceError(Exception):
    """A rule refused the request. `field` names the form field to show it on (None: the whole form).

    Routes catch it, attach the message to the field and re-render the form with a 4xx status.
    """

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


STALE_MESSAGE = "This case changed while you were working on it. Please review it and try again."


class ConflictError(ServiceError):
    """The case changed (or moved to another status) since the user loaded it."""

    status_code = 409


def find_account_named(accounts: sa.Select, name: str) -> Account | None:
    """The account called `name` among `accounts` (a `select(Account)` of those the user may pick).

    The exact spelling, which the suggestions give, is found through the unique index on the name;
    only a name typed in another case costs a second query, which compares lowercased names (no
    index covers lower(name), so it reads the names of the accounts in `accounts`).
    """
    name = name.strip()
    account = db.session.scalars(accounts.where(Account.name == name).limit(1)).first()
    if account is None:
        any_case = sa.func.lower(Account.name) == sa.func.lower(name)
        account = db.session.scalars(accounts.where(any_case).order_by(None).order_by(Account.name).limit(1)).first()
    return account
