"""The outbox: queue an e-mail in the caller's transaction, and the admin's view of the queue.

Nothing here talks to SMTP. `enqueue` only inserts a row; it is delivered by the sender
(`portal.notifications.sender`) after the caller's transaction commits, and lost with it if that
transaction rolls back, which is the point: no mail about a change that did not happen.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.exceptions import NotFound

from portal.extensions import db
from portal.models import MessageStatus, NotificationKind, OutboxMessage, User
from portal.models.base import utcnow
from portal.pagination import Page, keyset_page, newest_first
from portal.services import ConflictError

# CR and LF, and everything else some mail software treats as a line break.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_header(value: str | None, *, max_length: int = 255) -> str:
    """`value` made safe for a mail header: line breaks become spaces (so "Hi\\r\\nBcc: x" cannot add
    a header), other control characters are dropped, runs of spaces collapse, and it is cut to length."""
    value = _LINE_BREAKS.sub(" ", value or "")
    value = _CONTROL.sub("", value)
    return " ".join(value.split())[:max_length]


def enqueue(
    *,
    kind: NotificationKind,
    to_address: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    to_name: str = "",
    recipient: User | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Queue one e-mail in the current transaction; returns it, or None when `dedupe_key` is taken.

    A second call with the same `dedupe_key` (the same event for the same person) does nothing.
    That is decided by the unique index in one statement (INSERT … ON CONFLICT DO NOTHING), not by
    looking first, so two transactions racing to queue the same mail still queue it once.
    The caller flushed and will commit; this never commits.
    """
    address = clean_header(to_address, max_length=254)
    if "@" not in address or " " in address:
        raise ValueError(f"not an e-mail address: {to_address!r}")
    values = {
        "kind": NotificationKind(kind),
        "recipient_id": recipient.id if recipient is not None else None,
        "to_address": address,
        "to_name": clean_header(to_name, max_length=200),
        "subject": clean_header(subject),
        "text_body": text_body,
        "html_body": html_body,
        "status": MessageStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "dedupe_key": dedupe_key,
        "created_at": utcnow(),
    }
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(OutboxMessage)
    elif dialect == "sqlite":
        statement = sqlite.insert(OutboxMessage)
    else:  # pragma: no cover - the portal runs on PostgreSQL and SQLite only
        raise RuntimeError(f"the outbox does not support {dialect}")
    statement = statement.values(values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    # RETURNING the row as an object: the message without a second SELECT.
    return db.session.scalars(statement.returning(OutboxMessage)).first()


def fetch_outbox_page(*, status: str = "", cursor: str | None, per_page: int) -> Page:
    """Messages newest first, all or those with one status (backed by the created/status indexes)."""
    query = sa.select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == MessageStatus(status))
    return keyset_page(query, newest_first(OutboxMessage), cursor=cursor, per_page=per_page)


def count_by_status() -> dict[MessageStatus, int]:
    rows = db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    counts = dict.fromkeys(MessageStatus, 0)
    counts.update({MessageStatus(status): count for status, count in rows})
    return counts


def retry_message(message_id: int, *, actor: User) -> OutboxMessage:
    """Give a dead message a fresh set of attempts, due now. Its last error stays for the record.

    Only a dead message can be retried (409 otherwise: a pending one is still being tried, and a
    sent one must not go out twice). The conditional UPDATE makes two admins' clicks count once.
    """
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    retried = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == MessageStatus.DEAD)
        .values(status=MessageStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not retried:
        raise ConflictError(f"Message {message_id} is {message.status.value}, not dead: there is nothing to retry.")
    db.session.refresh(message)
    return message
