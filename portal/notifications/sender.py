"""Delivering the outbox: claim due messages, send them through Flask-Mail, retry with backoff, give up
as `dead` after MAIL_MAX_ATTEMPTS. Any number of senders may run at once (DESIGN.md §1).

The order of steps is what makes it safe:

1. Claim, in a transaction of its own: lock due pending rows with SELECT … FOR UPDATE SKIP LOCKED on
   PostgreSQL (another sender skips them instead of waiting; SQLite has one writer at a time), count
   the attempt and push `next_attempt_at` forward by a lease (MAIL_CLAIM_SECONDS). Commit.
2. Only then talk to SMTP, one message at a time, and commit each outcome on its own: `sent`, or
   the error with the next attempt after an exponential backoff with jitter, or `dead`.

A sender killed between 1 and 2 leaves its messages pending; they are due again when the lease runs
out, and the next sender takes them. Delivery is therefore at least once: a sender killed after SMTP
accepted a mail but before it recorded `sent` would send that mail again after the lease. A sender
stops before its lease could run out, so a slow batch is not sent twice by a second sender.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import Message
from sqlalchemy.orm import Session

from portal.extensions import db, mail
from portal.models import MessageStatus, OutboxMessage
from portal.models.base import utcnow
from portal.notifications.outbox import clean_header

log = logging.getLogger(__name__)

CRASHED_ON_LAST_ATTEMPT = "The sender stopped during the last attempt; whether the mail went out is unknown."


@dataclass(frozen=True)
class _Outgoing:
    """What a sender needs of a claimed row, read once (the rows are not kept in the session)."""

    id: int
    attempts: int
    to_name: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None


def backoff(attempts: int, *, base: float, cap: float, rng: Callable[[], float] = random.random) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base × 2^(attempts-1), at most `cap`, of which
    a random half is dropped ("equal jitter"), so senders that failed together do not retry together."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay / 2 + rng() * delay / 2)


def build_message(message: OutboxMessage | _Outgoing) -> Message:
    """The Flask-Mail message for a row. Headers are cleaned again here, whatever wrote the row."""
    name = clean_header(message.to_name, max_length=200)
    address = clean_header(message.to_address, max_length=254)
    return Message(
        subject=clean_header(message.subject),
        recipients=[(name, address) if name else address],
        body=message.text_body,
        html=message.html_body,
        extra_headers={"Auto-Submitted": "auto-generated", "X-Casebridge-Message": str(message.id)},
    )


def claim(session: Session, limit: int, *, now: datetime) -> list[int]:
    """Claim up to `limit` due messages for this sender and commit the claim; returns their ids.

    A message that was already on its last attempt when a sender died is not tried again but
    marked dead (an admin can retry it), so a mail that kills senders cannot loop for ever.
    """
    config = current_app.config
    lease = timedelta(seconds=config["MAIL_CLAIM_SECONDS"])
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    try:
        ids = list(session.scalars(due))
        claimed = []
        if ids:
            # The WHERE repeats the conditions: on SQLite, where FOR UPDATE does not exist, a row
            # another sender claimed since our SELECT is not claimed twice.
            claimed = list(
                session.scalars(
                    sa.update(OutboxMessage)
                    .where(
                        OutboxMessage.id.in_(ids),
                        OutboxMessage.status == MessageStatus.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    )
                    .values(attempts=OutboxMessage.attempts + 1, last_attempt_at=now, next_attempt_at=now + lease)
                    .returning(OutboxMessage.id),
                    execution_options={"synchronize_session": False},
                )
            )
            exhausted = session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(claimed), OutboxMessage.attempts > config["MAIL_MAX_ATTEMPTS"])
                .values(status=MessageStatus.DEAD, last_error=CRASHED_ON_LAST_ATTEMPT, next_attempt_at=now)
                .returning(OutboxMessage.id),
                execution_options={"synchronize_session": False},
            ).scalars()
            claimed = sorted(set(claimed) - set(exhausted))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return claimed


def _record(session: Session, message_id: int, **values) -> None:
    session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values),
        execution_options={"synchronize_session": False},
    )
    session.commit()


def _deliver(message: _Outgoing, connection) -> None:
    if current_app.config["MAIL_BACKEND"] == "console":
        log.info(
            "E-mail (MAIL_BACKEND=console, not sent)\nTo: %s <%s>\nSubject: %s\n\n%s",
            message.to_name,
            message.to_address,
            message.subject,
            message.text_body,
        )
        return
    connection.send(build_message(message))


class _Connection:
    """One SMTP connection for a batch, opened when first needed and again after a failure."""

    def __init__(self) -> None:
        self._context = None
        self._connection = None

    def get(self):
        if current_app.config["MAIL_BACKEND"] == "console":
            return None
        if self._connection is None:
            context = mail.connect()
            self._connection = context.__enter__()
            self._context = context
        return self._connection

    def close(self) -> None:
        context, self._context, self._connection = self._context, None, None
        if context is not None:
            # After a failure the connection may be broken already; it is being dropped either way.
            with contextlib.suppress(Exception):
                context.__exit__(None, None, None)


def send_batch(limit: int | None = None, *, now: datetime, session: Session | None = None) -> int:
    """Claim up to `limit` due messages, deliver them, and record each outcome; returns how many
    were delivered. `session` defaults to the app's; concurrent senders pass their own.

    A failure counts against the message: after MAIL_MAX_ATTEMPTS it is `dead`, otherwise it is due
    again after `backoff(attempts)`, its error kept in `last_error`. The batch continues with the
    next message on a fresh connection.
    """
    config = current_app.config
    session = session or db.session
    limit = limit or config["MAIL_BATCH_SIZE"]
    started = time.monotonic()
    ids = claim(session, limit, now=now)
    if not ids:
        return 0
    rows = session.execute(
        sa.select(*(getattr(OutboxMessage, field) for field in _Outgoing.__dataclass_fields__))
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
    ).all()
    messages = [_Outgoing(*row) for row in rows]
    session.commit()  # end the read; each outcome below is a transaction of its own
    connection = _Connection()
    delivered = 0
    try:
        for position, message in enumerate(messages):
            if time.monotonic() - started > config["MAIL_CLAIM_SECONDS"] / 2:
                # The lease is half gone: leave the rest to be claimed again rather than risk a
                # second sender sending them too.
                left = len(messages) - position
                log.warning("outbox: batch too slow; %d message(s) left for the next claim", left)
                break
            try:
                _deliver(message, connection.get())
            except Exception as exc:
                connection.close()
                _record_failure(session, message, exc, now=now)
                continue
            _record(session, message.id, status=MessageStatus.SENT, sent_at=now, last_error=None)
            log.info("outbox: sent message %s to %s", message.id, message.to_address)
            delivered += 1
    finally:
        connection.close()
    return delivered


def _record_failure(session: Session, message: _Outgoing, exc: Exception, *, now: datetime) -> None:
    config = current_app.config
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= config["MAIL_MAX_ATTEMPTS"]:
        log.error(
            "outbox: message %s to %s is dead after %d attempts: %s",
            message.id,
            message.to_address,
            message.attempts,
            error,
        )
        _record(session, message.id, status=MessageStatus.DEAD, last_error=error, next_attempt_at=now)
        return
    wait = backoff(message.attempts, base=config["MAIL_RETRY_BASE_SECONDS"], cap=config["MAIL_RETRY_MAX_SECONDS"])
    log.warning("outbox: message %s attempt %d failed, retrying in %s: %s", message.id, message.attempts, wait, error)
    _record(session, message.id, last_error=error, next_attempt_at=now + wait)


def run_loop(
    limit: int | None = None,
    *,
    should_stop: Callable[[], bool],
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send batches until `should_stop()`; returns how many were delivered in all.

    A full batch is followed at once by the next; otherwise the loop waits `poll_seconds` (checking
    `should_stop` every second). A database error (a restart, a failover) is logged and waited out
    rather than ending the process; the claim it interrupted rolls back, so nothing is lost.
    """
    limit = limit or current_app.config["MAIL_BATCH_SIZE"]
    total = 0
    while not should_stop():
        try:
            delivered = send_batch(limit, now=utcnow())
        except sa.exc.SQLAlchemyError:
            log.exception("outbox: database error; retrying after a pause")
            db.session.rollback()
            delivered = 0
        total += delivered
        if delivered < limit:
            waited = 0.0
            while waited < poll_seconds and not should_stop():
                step = min(1.0, poll_seconds - waited)
                sleep(step)
                waited += step
    return total
