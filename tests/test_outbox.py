"""The outbox: queueing with a dedupe key, the sender's claim, lease, retries with backoff, dead
messages, the console backend, `flask outbox send`, and the admin's outbox page.

Flask-Mail is in its testing mode here (it records instead of sending); the same paths against a
real SMTP server are in test_outbox_smtp.py.
"""

import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db, mail
from portal.models import MessageStatus, NotificationKind, OutboxMessage, Role
from portal.models.base import utcnow
from portal.notifications import outbox, sender
from tests import factories

LEASE = timedelta(seconds=300)


def queue(n: int = 1, **fields) -> list[OutboxMessage]:
    messages = []
    for i in range(n):
        values = {
            "kind": NotificationKind.STAFF_REPLY,
            "to_address": f"person{i}@example.com",
            "to_name": f"Person {i}",
            "subject": f"Subject {i}",
            "text_body": f"Body {i}",
            "html_body": f"<p>Body {i}</p>",
            **fields,
        }
        messages.append(outbox.enqueue(**values))
    db.session.flush()
    return messages


def reload(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


class FailingConnection:
    def send(self, message):
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.fixture
def smtp_down(monkeypatch):
    """Every connection the sender opens fails to send, as when the SMTP server is down."""
    monkeypatch.setattr(sender._Connection, "get", lambda self: FailingConnection())


# --- enqueue --------------------------------------------------------------------------------------


def test_enqueue_writes_a_pending_row_due_now(db_session):
    (message,) = queue()
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at <= utcnow()
    assert message.sent_at is None


def test_a_second_enqueue_with_the_same_dedupe_key_does_nothing(db_session):
    (first,) = queue(dedupe_key="event:1:to:1")
    assert (
        outbox.enqueue(
            kind=NotificationKind.STAFF_REPLY,
            to_address="x@example.com",
            subject="Again",
            text_body="x",
            dedupe_key="event:1:to:1",
        )
        is None
    )
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    assert reload(first).subject == "Subject 0"


def test_messages_without_a_dedupe_key_are_never_deduplicated(db_session):
    queue(2, dedupe_key=None)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2


def test_enqueue_cleans_headers_and_refuses_a_broken_address(db_session):
    (message,) = queue(subject="Hi\r\nBcc: a@b.example", to_name="Eve\nCc: c@d.example")
    assert (message.subject, message.to_name) == ("Hi Bcc: a@b.example", "Eve Cc: c@d.example")
    with pytest.raises(ValueError):
        queue(to_address="a@b.example\r\nBcc: c@d.example")


# --- the sender ----------------------------------------------------------------------------------


def test_send_batch_delivers_due_messages_and_marks_them_sent(db_session):
    first, second = queue(2)
    now = utcnow()
    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=now) == 2
    assert sorted(m.subject for m in sent) == ["Subject 0", "Subject 1"]
    assert sent[0].recipients == [("Person 0", "person0@example.com")]
    assert sent[0].body == "Body 0" and sent[0].html == "<p>Body 0</p>"
    for message in (first, second):
        message = reload(message)
        assert (message.status, message.attempts, message.sent_at) == (MessageStatus.SENT, 1, now)
    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=now + timedelta(days=1)) == 0  # nothing is sent twice
    assert sent == []


def test_send_batch_takes_at_most_limit_oldest_first(db_session):
    messages = queue(3)
    with mail.record_messages() as sent:
        assert sender.send_batch(2, now=utcnow()) == 2
    assert [m.subject for m in sent] == ["Subject 0", "Subject 1"]
    assert reload(messages[2]).status == MessageStatus.PENDING


def test_messages_not_yet_due_wait(db_session):
    (message,) = queue()
    message.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.session.flush()
    assert sender.send_batch(10, now=utcnow()) == 0
    assert sender.send_batch(10, now=utcnow() + timedelta(minutes=6)) == 1


def test_a_failure_is_recorded_and_retried_after_an_exponential_backoff(app, db_session, smtp_down):
    (message,) = queue()
    now = utcnow()
    base = app.config["MAIL_RETRY_BASE_SECONDS"]
    for attempt in (1, 2, 3):
        assert sender.send_batch(10, now=now) == 0
        message = reload(message)
        assert message.status == MessageStatus.PENDING
        assert message.attempts == attempt
        assert message.last_error == "ConnectionRefusedError: [Errno 111] Connection refused"
        wait = message.next_attempt_at - now
        full = timedelta(seconds=base * 2 ** (attempt - 1))
        assert full / 2 <= wait <= full  # "equal jitter": between half and all of the doubled delay
        assert sender.send_batch(10, now=now + wait - timedelta(seconds=1)) == 0  # not before
        assert reload(message).attempts == attempt
        now += wait


def test_after_max_attempts_a_message_is_dead_not_dropped(app, db_session, smtp_down, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    (message,) = queue()
    now = utcnow()
    for _ in range(3):
        sender.send_batch(10, now=now)
        now += timedelta(days=1)
    message = reload(message)
    assert (message.status, message.attempts) == (MessageStatus.DEAD, 3)
    assert "Connection refused" in message.last_error
    assert sender.send_batch(10, now=now + timedelta(days=30)) == 0
    assert reload(message).status == MessageStatus.DEAD


def test_the_backoff_is_capped_and_jittered():
    def base_60(attempts, rng):
        return sender.backoff(attempts, base=60, cap=3600, rng=rng)

    assert base_60(1, lambda: 0.0) == timedelta(seconds=30)
    assert base_60(1, lambda: 1.0) == timedelta(seconds=60)
    assert base_60(4, lambda: 1.0) == timedelta(seconds=480)
    assert base_60(20, lambda: 1.0) == timedelta(seconds=3600)
    assert base_60(20, lambda: 0.0) == timedelta(seconds=1800)


def test_one_failure_does_not_stop_the_rest_of_the_batch(db_session, monkeypatch):
    queue(3)
    real_send = type(mail.connect()).send

    def send(connection, message):
        if message.subject == "Subject 1":
            raise OSError("mailbox unavailable")
        return real_send(connection, message)

    monkeypatch.setattr(type(mail.connect()), "send", send)
    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=utcnow()) == 2
    assert sorted(m.subject for m in sent) == ["Subject 0", "Subject 2"]
    statuses = db.session.execute(sa.select(OutboxMessage.subject, OutboxMessage.status)).all()
    assert dict(statuses) == {"Subject 0": "sent", "Subject 1": "pending", "Subject 2": "sent"}


# --- a sender that dies between claiming and sending ---------------------------------------------


def test_a_claimed_message_is_claimable_again_once_the_lease_runs_out(db_session):
    (message,) = queue()
    now = utcnow()
    assert sender.claim(db.session, 10, now=now) == [message.id]
    # ... and the sender is killed here: nothing was sent, nothing recorded.
    claimed = reload(message)
    assert (claimed.status, claimed.attempts, claimed.next_attempt_at) == (MessageStatus.PENDING, 1, now + LEASE)

    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=now + LEASE - timedelta(seconds=1)) == 0  # still leased
        assert sent == []
        assert sender.send_batch(10, now=now + LEASE) == 1  # the next sender takes it
    assert [m.subject for m in sent] == ["Subject 0"]
    message = reload(message)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)


def test_a_message_whose_last_attempt_died_with_its_sender_is_marked_dead(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    (message,) = queue()
    now = utcnow()
    sender.claim(db.session, 10, now=now)
    sender.claim(db.session, 10, now=now + LEASE)  # killed twice
    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=now + 2 * LEASE) == 0
    assert sent == []
    message = reload(message)
    assert message.status == MessageStatus.DEAD
    assert message.last_error == sender.CRASHED_ON_LAST_ATTEMPT


def test_a_claim_that_fails_is_rolled_back(db_session, monkeypatch):
    (message,) = queue()
    db.session.commit()  # the setup stays whatever the claim does
    monkeypatch.setattr(db.session, "commit", lambda: (_ for _ in ()).throw(sa.exc.OperationalError("x", {}, None)))
    with pytest.raises(sa.exc.OperationalError):
        sender.claim(db.session, 10, now=utcnow())
    monkeypatch.undo()
    assert reload(message).attempts == 0


# --- the console backend, the loop and the command ----------------------------------------------


def test_the_console_backend_logs_the_mail_and_marks_it_sent(app, db_session, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    (message,) = queue(subject="Your case", text_body="Hello there")
    with caplog.at_level(logging.INFO, logger=sender.__name__), mail.record_messages() as sent:
        assert sender.send_batch(10, now=utcnow()) == 1
    assert sent == []  # nothing went to Flask-Mail
    assert "To: Person 0 <person0@example.com>" in caplog.text
    assert "Subject: Your case" in caplog.text and "Hello there" in caplog.text
    assert reload(message).status == MessageStatus.SENT


def test_development_uses_the_console_unless_a_mail_server_is_configured(monkeypatch):
    from config import DevelopmentConfig, ProductionConfig

    for name in ("MAIL_BACKEND", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)
    assert DevelopmentConfig().MAIL_BACKEND == "console"
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.com")
    assert DevelopmentConfig().MAIL_BACKEND == "smtp"
    monkeypatch.setenv("MAIL_BACKEND", "Console")
    assert DevelopmentConfig().MAIL_BACKEND == "console"
    monkeypatch.setenv("MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(RuntimeError, match="MAIL_BACKEND"):
        DevelopmentConfig()
    monkeypatch.delenv("MAIL_BACKEND")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.internal/casebridge")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("MAIL_SERVER")
    assert ProductionConfig().MAIL_BACKEND == "smtp"


def test_the_loop_sends_until_told_to_stop(app, db_session):
    queue(3)
    calls = []

    def stop_after_two_batches():
        return len(calls) >= 2

    with mail.record_messages() as sent:
        total = sender.run_loop(2, should_stop=stop_after_two_batches, poll_seconds=3, sleep=calls.append)
    assert total == 3 and len(sent) == 3
    # A full batch (2) went straight on; the short one (1) waited, a second at a time.
    assert calls == [1.0, 1.0]


def test_the_loop_survives_a_database_error(app, db_session, monkeypatch):
    errors = iter([sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))])

    def flaky(limit, *, now):
        for error in errors:
            raise error
        return 0

    monkeypatch.setattr(sender, "send_batch", flaky)
    sleeps = []
    total = sender.run_loop(5, should_stop=lambda: len(sleeps) >= 2, poll_seconds=1, sleep=sleeps.append)
    assert total == 0 and sleeps == [1, 1]


def test_flask_outbox_send_delivers_one_batch(app, db_session):
    queue(2)
    with mail.record_messages() as sent:
        result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "Delivered 2 message(s)." in result.output
    assert len(sent) == 2


# --- retrying a dead message --------------------------------------------------------------------


def test_retry_gives_a_dead_message_fresh_attempts_due_now(db_session, world):
    (message,) = queue()
    message.status, message.attempts, message.last_error = MessageStatus.DEAD, 8, "Boom"
    db.session.flush()
    retried = outbox.retry_message(message.id, actor=world.admin)
    assert (retried.status, retried.attempts, retried.last_error) == (MessageStatus.PENDING, 0, "Boom")
    assert retried.next_attempt_at <= utcnow()
    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=utcnow()) == 1
    assert len(sent) == 1


@pytest.mark.parametrize("status", [MessageStatus.PENDING, MessageStatus.SENT])
def test_only_a_dead_message_can_be_retried(db_session, world, status):
    from portal.services import ConflictError

    (message,) = queue()
    message.status = status
    db.session.flush()
    with pytest.raises(ConflictError, match="not dead"):
        outbox.retry_message(message.id, actor=world.admin)


# --- the admin's outbox page ---------------------------------------------------------------------


def make_mixed_outbox():
    pending, sent, dead = queue(3)
    sent.status, sent.sent_at, sent.attempts = MessageStatus.SENT, utcnow(), 1
    dead.status, dead.attempts, dead.last_error = MessageStatus.DEAD, 8, "SMTPRecipientsRefused: no such user"
    db.session.flush()
    return pending, sent, dead


def test_admin_sees_pending_sent_and_dead_messages_with_errors(client_as, world):
    make_mixed_outbox()
    response = client_as(world.admin).get("/admin/outbox")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("Subject 0", "Subject 1", "Subject 2", "SMTPRecipientsRefused: no such user", "Dead: 1"):
        assert text in html
    assert html.count(">Retry<") == 1


def test_admin_filters_the_outbox_by_status(client_as, world):
    make_mixed_outbox()
    html = client_as(world.admin).get("/admin/outbox?status=dead").get_data(as_text=True)
    assert "Subject 2" in html and "Subject 0" not in html and "Subject 1" not in html


def test_an_unknown_status_filter_is_a_400_showing_everything(client_as, world):
    make_mixed_outbox()
    response = client_as(world.admin).get("/admin/outbox?status=lost")
    assert response.status_code == 400
    assert "not recognised" in response.get_data(as_text=True)


def test_the_outbox_pages_by_keyset_newest_first(app, client_as, world, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    queue(5)
    client = client_as(world.admin)
    seen, url = [], "/admin/outbox"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"<strong>(Subject \d)</strong>", html)
        marker = 'rel="next"'
        url = None
        if marker in html:
            href = html.split(marker)[0].rsplit('href="', 1)[1].split('"')[0]
            url = href.replace("&amp;", "&")
    assert seen == ["Subject 4", "Subject 3", "Subject 2", "Subject 1", "Subject 0"]


def test_admin_retries_a_dead_message(client_as, world):
    _, _, dead = make_mixed_outbox()
    response = client_as(world.admin).post(f"/admin/outbox/{dead.id}/retry", data={"status": "dead"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/outbox?status=dead"
    message = reload(dead)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)


def test_retrying_a_message_that_is_not_dead_is_a_409(client_as, world):
    _, sent, _ = make_mixed_outbox()
    response = client_as(world.admin).post(f"/admin/outbox/{sent.id}/retry", data={"status": ""})
    assert response.status_code == 409
    assert "nothing to retry" in response.get_data(as_text=True)
    assert reload(sent).status == MessageStatus.SENT


def test_retrying_an_unknown_message_is_a_404(client_as, world):
    assert client_as(world.admin).post("/admin/outbox/999999/retry", data={"status": ""}).status_code == 404


def test_retry_needs_the_csrf_token(app, client_as, world, monkeypatch):
    _, _, dead = make_mixed_outbox()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client_as(world.admin).post(f"/admin/outbox/{dead.id}/retry", data={"status": "dead"})
    assert response.status_code == 400
    assert reload(dead).status == MessageStatus.DEAD


@pytest.mark.parametrize("role", ["alice", "manager_a", "lead", "executive"])
def test_only_admins_may_see_or_retry_the_outbox(client_as, world, role):
    _, _, dead = make_mixed_outbox()
    client = client_as(getattr(world, role))
    assert client.get("/admin/outbox").status_code == 403
    assert client.post(f"/admin/outbox/{dead.id}/retry", data={"status": ""}).status_code == 403
    assert reload(dead).status == MessageStatus.DEAD


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/outbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deactivated_admin_cannot_retry(client_as, world):
    _, _, dead = make_mixed_outbox()
    inactive = factories.make_user(role=Role.ADMIN, active=False)
    response = client_as(inactive).post(f"/admin/outbox/{dead.id}/retry", data={"status": ""})
    assert response.status_code == 302  # not signed in: Flask-Login refuses inactive users
    assert reload(dead).status == MessageStatus.DEAD


def test_links_need_an_absolute_portal_url(monkeypatch):
    from config import Config

    monkeypatch.setenv("PORTAL_URL", "cases.example.com")
    with pytest.raises(RuntimeError, match="PORTAL_URL"):
        Config()
    monkeypatch.setenv("PORTAL_URL", "https://example.com/support/")
    assert Config().PORTAL_URL == "https://example.com/support"


def test_links_keep_the_portal_urls_path_prefix(app, monkeypatch):
    from portal.notifications.messages import external_url

    monkeypatch.setitem(app.config, "PORTAL_URL", "https://example.com/support")
    with app.app_context():
        assert external_url("cases.detail", case_id=12, anchor="rate") == "https://example.com/support/cases/CB-12#rate"


def test_a_batch_stops_when_half_its_lease_is_gone(app, db_session, monkeypatch):
    first, second = queue(2)
    clock = iter([0.0, 1.0, 200.0])  # start, before the first message, before the second
    monkeypatch.setattr(sender.time, "monotonic", lambda: next(clock))
    now = utcnow()
    with mail.record_messages() as sent:
        assert sender.send_batch(10, now=now) == 1
    assert [m.subject for m in sent] == ["Subject 0"]
    left = reload(second)
    assert (left.status, left.next_attempt_at) == (MessageStatus.PENDING, now + LEASE)  # the next claim takes it


def test_a_retry_without_the_filter_goes_back_to_every_message(client_as, world):
    _, _, dead = make_mixed_outbox()
    response = client_as(world.admin).post(f"/admin/outbox/{dead.id}/retry")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/outbox"


def test_a_retry_with_a_forged_filter_is_a_400_and_changes_nothing(client_as, world):
    _, _, dead = make_mixed_outbox()
    response = client_as(world.admin).post(f"/admin/outbox/{dead.id}/retry", data={"status": "javascript:x"})
    assert response.status_code == 400
    assert "Unknown status filter." in response.get_data(as_text=True)
    assert reload(dead).status == MessageStatus.DEAD
