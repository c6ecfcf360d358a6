"""The outbox against a real SMTP server (aiosmtpd on a free loopback port, tests/mailserver.py):
the right people get the right mail with the right links; an outage delays mail but loses none; a
sender killed mid-way loses nothing; and on PostgreSQL two senders at once send each mail once.
"""

import os
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.cases import timeline
from portal.extensions import db
from portal.models import CaseEvent, EventType, MessageStatus, NotificationKind, OutboxMessage
from portal.models.base import utcnow
from portal.notifications import outbox, sender
from portal.notifications.messages import notify_case_event
from tests import factories, mailserver

smtp_server = mailserver.smtp_server  # the fixture: a real SMTP server for these tests

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs two truly concurrent database sessions with row locks: set TEST_DATABASE_URL to a "
    "PostgreSQL database (SQLite has no SELECT … FOR UPDATE SKIP LOCKED and lets one writer in at a time)",
)


def messages_in_db() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_case_mail_reaches_the_right_people_with_the_right_links(app, world, smtp_server):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a, subject="Export is empty")
    case.first_response_due_at = utcnow() + timedelta(hours=3)
    created = db.session.scalar(sa.select(CaseEvent).where(CaseEvent.case_id == case.id))
    notify_case_event(created)
    reply = timeline.record_event(case, EventType.PUBLIC_REPLY, actor=world.manager_a, body="Fixed, try again.")
    db.session.flush()
    notify_case_event(reply)
    note = timeline.record_event(case, EventType.INTERNAL_NOTE, actor=world.manager_a, body="Secret pricing")
    db.session.flush()
    notify_case_event(note)

    assert sender.send_batch(10, now=utcnow()) == 2

    assert len(smtp_server.received) == 2
    receipt, staff_reply = smtp_server.to(world.alice.email)
    for mail in (receipt, staff_reply):
        assert mail.rcpt_tos == [world.alice.email]
        assert mail.mail_from == "support@casebridge.local"
        assert mail.message["From"] == "Casebridge <support@casebridge.local>"
        assert mail.message["Auto-Submitted"] == "auto-generated"
        assert "Secret pricing" not in mail.text and "Secret pricing" not in mail.html
    case_url = f"http://portal.test/cases/{case.reference}"
    assert receipt.subject == f"We received your case {case.reference}: Export is empty"
    assert receipt.to == f"Alice Customer <{world.alice.email}>"
    assert "first response by" in receipt.text
    assert receipt.link_to("/cases/") == case_url
    assert f'href="{case_url}"' in receipt.html
    assert staff_reply.subject == f"[{case.reference}] New reply: Export is empty"
    assert "Fixed, try again." in staff_reply.text
    assert staff_reply.link_to("#reply") == f"{case_url}#reply"
    assert all(message.status == MessageStatus.SENT for message in messages_in_db())


def test_header_injection_reaches_no_one_else(app, world, smtp_server):
    world.alice.name = "Alice\r\nBcc: victim@evil.example"
    case = factories.make_case(requester=world.alice, subject="Hello\r\nBcc: victim2@evil.example")
    notify_case_event(db.session.scalar(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)))
    assert sender.send_batch(10, now=utcnow()) == 1
    (mail,) = smtp_server.received
    assert mail.rcpt_tos == [world.alice.email]
    assert mail.message["Bcc"] is None
    assert mail.subject == f"We received your case {case.reference}: Hello Bcc: victim2@evil.example"


def test_with_the_server_down_mail_stays_pending_and_goes_out_when_it_returns(app, db_session, smtp_server):
    first = outbox.enqueue(kind=NotificationKind.STAFF_REPLY, to_address="a@example.com", subject="One", text_body="1")
    second = outbox.enqueue(kind=NotificationKind.STAFF_REPLY, to_address="b@example.com", subject="Two", text_body="2")
    smtp_server.stop()
    now = utcnow()
    assert sender.send_batch(10, now=now) == 0

    base = timedelta(seconds=app.config["MAIL_RETRY_BASE_SECONDS"])
    for message in messages_in_db():
        assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
        assert "Connection refused" in message.last_error
        assert now + base / 2 <= message.next_attempt_at <= now + base
    assert sender.send_batch(10, now=now + base / 4) == 0  # backing off: not even tried
    assert {m.attempts for m in messages_in_db()} == {1}

    smtp_server.start()
    assert sender.send_batch(10, now=now + base) == 2
    assert sorted(mail.subject for mail in smtp_server.received) == ["One", "Two"]
    for message in messages_in_db():
        assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
        assert message.id in (first.id, second.id)


def test_a_sender_killed_after_claiming_leaves_the_mail_to_the_next_one(app, db_session, smtp_server):
    message = outbox.enqueue(kind=NotificationKind.STAFF_REPLY, to_address="a@example.com", subject="Hi", text_body=".")
    now = utcnow()
    assert sender.claim(db.session, 10, now=now) == [message.id]  # ... and the process dies
    lease = timedelta(seconds=app.config["MAIL_CLAIM_SECONDS"])
    assert sender.send_batch(10, now=now + lease / 2) == 0
    assert smtp_server.received == []
    assert sender.send_batch(10, now=now + lease) == 1
    assert [mail.subject for mail in smtp_server.received] == ["Hi"]


# --- PostgreSQL: real concurrency ----------------------------------------------------------------


@pytest.fixture
def committed_messages(app):
    """40 messages committed for real (the senders' sessions cannot see the test's transaction);
    deleted again afterwards."""
    marker = f"concurrency-{uuid.uuid4().hex[:8]}"
    with app.app_context(), Session(bind=db.engine) as session:
        table = OutboxMessage.__table__
        now = utcnow()
        session.execute(
            table.insert(),
            [
                {
                    "kind": "staff_reply",
                    "to_address": f"person{i}@example.com",
                    "to_name": "",
                    "subject": f"{marker} {i}",
                    "text_body": "x",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "dedupe_key": f"{marker}:{i}",
                    "created_at": now,
                }
                for i in range(40)
            ],
        )
        session.commit()
    yield marker
    with app.app_context(), Session(bind=db.engine) as session:
        session.execute(sa.delete(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"{marker}:%")))
        session.commit()


@needs_postgres
def test_two_senders_at_once_deliver_each_message_exactly_once(app, smtp_server, committed_messages):
    smtp_server.delay = 0.01  # slow enough that the two senders' batches overlap
    start = threading.Barrier(2)
    delivered, errors = [0, 0], []

    def run(index):
        try:
            with app.app_context(), Session(bind=db.engine) as session:
                start.wait(timeout=10)
                while True:
                    count = sender.send_batch(5, now=utcnow(), session=session)
                    delivered[index] += count
                    if count == 0:
                        break
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and not any(thread.is_alive() for thread in threads)

    subjects = [mail.subject for mail in smtp_server.received]
    assert sorted(subjects) == sorted(f"{committed_messages} {i}" for i in range(40))  # all, none twice
    assert sum(delivered) == 40
    assert all(delivered), f"one sender did all the work ({delivered}): the test did not race"
    with app.app_context(), Session(bind=db.engine) as session:
        rows = session.execute(
            sa.select(OutboxMessage.status, OutboxMessage.attempts).where(
                OutboxMessage.dedupe_key.like(f"{committed_messages}:%")
            )
        ).all()
    assert set(rows) == {(MessageStatus.SENT, 1)}


@needs_postgres
def test_two_transactions_queueing_the_same_mail_at_once_queue_it_once(app):
    key = f"race-{uuid.uuid4().hex[:8]}"
    results = {}

    def enqueue(session_name, session):
        from portal.notifications import outbox as outbox_module

        original = db.session
        db.session = session  # enqueue writes through db.session, as in a request
        try:
            results[session_name] = outbox_module.enqueue(
                kind=NotificationKind.STAFF_REPLY,
                to_address="a@example.com",
                subject=session_name,
                text_body=".",
                dedupe_key=key,
            )
        finally:
            db.session = original

    with app.app_context():
        first, second = Session(bind=db.engine), Session(bind=db.engine)
        try:
            enqueue("first", first)  # inserted, not yet committed: the key is locked
            waiting = threading.Thread(target=lambda: _in_context(app, enqueue, "second", second))
            waiting.start()
            waiting.join(timeout=1)
            assert waiting.is_alive(), "the second insert should wait for the first transaction"
            first.commit()
            waiting.join(timeout=10)
            second.commit()
            assert results["first"] is not None and results["second"] is None
            rows = first.scalars(sa.select(OutboxMessage.subject).where(OutboxMessage.dedupe_key == key)).all()
            assert rows == ["first"]
        finally:
            first.rollback()
            second.rollback()
            first.execute(sa.delete(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            first.commit()
            first.close()
            second.close()


def _in_context(app, function, *args):
    with app.app_context():
        function(*args)
