"""Who is told what (`portal.notifications.messages`): each case event type to its recipients,
with preferences, the actor's own actions, internal events and repeated calls, and the SLA mails."""

import email
import email.policy
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.cases import timeline
from portal.extensions import db
from portal.models import (
    CaseEvent,
    EventType,
    NotificationKind,
    NotificationOptOut,
    OutboxMessage,
    Role,
    Status,
    Visibility,
)
from portal.models.base import utcnow
from portal.notifications import messages
from portal.notifications.messages import notify_breached, notify_case_event, notify_due_soon
from portal.notifications.sender import build_message
from tests import factories

K = NotificationKind


def created_event(case) -> CaseEvent:
    return db.session.scalar(sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type == "created"))


def record(case, type, *, actor, data=None, body=None, visibility=Visibility.PUBLIC) -> CaseEvent:
    event = timeline.record_event(case, type, actor=actor, data=data, body=body, visibility=visibility)
    db.session.flush()
    return event


def recipients(queued) -> list[tuple[str, NotificationKind]]:
    return sorted((message.to_address, message.kind) for message in queued)


def all_messages() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def opt_out(user, kind) -> None:
    db.session.add(NotificationOptOut(user_id=user.id, kind=kind))
    db.session.flush()


@pytest.fixture
def case(world):
    """Alice's open case in account A, assigned to the account's manager."""
    return factories.make_case(
        requester=world.alice,
        assignee=world.manager_a,
        subject="Invoices will not download",
        first_response_due_at=utcnow() + timedelta(hours=4),
        resolution_due_at=utcnow() + timedelta(days=2),
    )


# --- created -------------------------------------------------------------------------------------


def test_the_requester_gets_a_receipt_with_the_reference_promise_and_link(world, case):
    world.alice.timezone = "America/New_York"
    case.first_response_due_at = case.created_at.replace(hour=15, minute=30) + timedelta(days=1)
    queued = notify_case_event(created_event(case))

    assert recipients(queued) == [(world.alice.email, K.CASE_RECEIVED)]
    (message,) = queued
    assert message.subject == f"We received your case {case.reference}: Invoices will not download"
    assert message.recipient_id == world.alice.id and message.to_name == "Alice Customer"
    promise = messages.local_time(case.first_response_due_at, world.alice)
    assert "(America/New_York)" in promise
    assert f"first response by {promise}" in message.text_body
    assert f"http://portal.test/cases/{case.reference}" in message.text_body
    assert f'href="http://portal.test/cases/{case.reference}"' in message.html_body
    assert message.dedupe_key == f"event:{created_event(case).id}:to:{world.alice.id}"


def test_the_receipt_leaves_out_the_promise_when_there_is_no_clock(world):
    case = factories.make_case(requester=world.alice)
    (message,) = notify_case_event(created_event(case))
    assert "first response by" not in message.text_body


# --- public replies ------------------------------------------------------------------------------


def test_a_staff_reply_goes_to_the_requester_only_with_its_text_and_a_reply_link(world, case):
    event = record(case, EventType.PUBLIC_REPLY, actor=world.manager_a, body="Please try again now.")
    queued = notify_case_event(event)
    # Not anna, who shares the account's cases; not the manager who wrote it.
    assert recipients(queued) == [(world.alice.email, K.STAFF_REPLY)]
    (message,) = queued
    assert message.subject == f"[{case.reference}] New reply: Invoices will not download"
    assert "Please try again now." in message.text_body
    assert f"http://portal.test/cases/{case.reference}#reply" in message.text_body


def test_a_customer_reply_goes_to_the_assignee(world, case):
    event = record(case, EventType.PUBLIC_REPLY, actor=world.anna, body="Still broken on my side.")
    queued = notify_case_event(event)
    assert recipients(queued) == [(world.manager_a.email, K.CUSTOMER_REPLY)]
    assert "Anna Customer replied" in queued[0].subject
    assert "Still broken on my side." in queued[0].text_body


def test_a_customer_reply_on_an_unassigned_case_goes_to_the_accounts_manager(world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    event = record(case, EventType.PUBLIC_REPLY, actor=world.alice, body="More detail")
    assert recipients(notify_case_event(event)) == [(world.manager_a.email, K.CUSTOMER_REPLY)]


def test_an_unassigned_case_of_an_account_without_a_manager_mails_nobody(world):
    account = factories.make_account(manager=None)
    customer = factories.make_user(role=Role.CUSTOMER, account=account)
    case = factories.make_case(requester=customer, status=Status.NEW)
    assert notify_case_event(record(case, EventType.PUBLIC_REPLY, actor=customer)) == []


def test_nobody_is_told_about_their_own_reply(world, case):
    case.assignee = world.lead
    event = record(case, EventType.PUBLIC_REPLY, actor=world.lead, body="Done")
    assert recipients(notify_case_event(event)) == [(world.alice.email, K.STAFF_REPLY)]
    event = record(case, EventType.PUBLIC_REPLY, actor=world.alice, body="Thanks")
    assert recipients(notify_case_event(event)) == [(world.lead.email, K.CUSTOMER_REPLY)]


# --- internal events -----------------------------------------------------------------------------


def test_an_internal_note_never_causes_mail(world, case):
    event = record(case, EventType.INTERNAL_NOTE, actor=world.lead, body="Customer is on the legacy plan")
    assert notify_case_event(event) == []
    assert all_messages() == []


def test_an_internal_event_reaches_staff_but_never_a_customer(world, case):
    event = record(case, EventType.ESCALATED, actor=world.manager_a, data={"level": 1}, visibility=Visibility.INTERNAL)
    queued = notify_case_event(event)
    assert recipients(queued) == [(world.lead.email, K.ESCALATION)]
    assert world.alice.email not in {m.to_address for m in all_messages()}


def test_an_internal_status_change_to_resolved_tells_the_customer_nothing(world, case):
    event = record(
        case,
        EventType.STATUS_CHANGED,
        actor=world.lead,
        data={"from": "open", "to": "resolved"},
        visibility=Visibility.INTERNAL,
    )
    assert notify_case_event(event) == []


# --- status changes ------------------------------------------------------------------------------


def test_waiting_on_the_customer_asks_the_requester_with_the_note(world, case):
    event = record(
        case,
        EventType.STATUS_CHANGED,
        actor=world.manager_a,
        body="Which browser do you use?",
        data={"from": "open", "to": "waiting_on_customer"},
    )
    (message,) = notify_case_event(event)
    assert (message.to_address, message.kind) == (world.alice.email, K.WAITING_ON_YOU)
    assert "Which browser do you use?" in message.text_body
    assert f"/cases/{case.reference}#reply" in message.text_body


def test_waiting_with_a_question_posted_just_before_sends_one_mail_with_it(world, case):
    """`set_waiting_on_customer` posts the question as a public reply, then moves the case: the
    customer gets the "waiting" mail carrying the question (the reply itself is not notified)."""
    record(case, EventType.PUBLIC_REPLY, actor=world.manager_a, body="Can you send a screenshot?")
    waiting = record(
        case, EventType.STATUS_CHANGED, actor=world.manager_a, data={"from": "open", "to": "waiting_on_customer"}
    )
    (message,) = notify_case_event(waiting)
    assert message.kind == K.WAITING_ON_YOU
    assert "Can you send a screenshot?" in message.text_body and "Can you send a screenshot?" in message.html_body


def test_waiting_does_not_quote_someone_elses_earlier_reply(world, case):
    record(case, EventType.PUBLIC_REPLY, actor=world.alice, body="My own words")
    waiting = record(
        case, EventType.STATUS_CHANGED, actor=world.manager_a, data={"from": "open", "to": "waiting_on_customer"}
    )
    (message,) = notify_case_event(waiting)
    assert "My own words" not in message.text_body


def test_resolved_tells_the_requester_with_a_one_click_rating_link(world, case):
    event = record(case, EventType.STATUS_CHANGED, actor=world.lead, data={"from": "open", "to": "resolved"})
    (message,) = notify_case_event(event)
    assert (message.to_address, message.kind) == (world.alice.email, K.CASE_RESOLVED)
    assert message.subject == f"[{case.reference}] Resolved: Invoices will not download"
    assert f"http://portal.test/cases/{case.reference}/rate" in message.text_body
    assert f'href="http://portal.test/cases/{case.reference}/rate"' in message.html_body


@pytest.mark.parametrize("to", ["open", "closed", "new"])
def test_other_status_changes_mail_nobody(world, case, to):
    event = record(case, EventType.STATUS_CHANGED, actor=world.lead, data={"from": "resolved", "to": to})
    assert notify_case_event(event) == []


# --- assignment and escalation -------------------------------------------------------------------


def test_an_assignment_tells_the_new_assignee(world, case):
    data = {"from": world.manager_a.id, "to": world.lead.id, "to_name": world.lead.name}
    case.assignee = world.lead
    event = record(case, EventType.ASSIGNED, actor=world.manager_a, data=data)
    (message,) = notify_case_event(event)
    assert (message.to_address, message.kind) == (world.lead.email, K.CASE_ASSIGNED)
    assert "by Maria Manager" in message.text_body


def test_the_automatic_assignment_at_submission_tells_the_manager(world, case):
    event = record(case, EventType.ASSIGNED, actor=None, data={"from": None, "to": world.manager_a.id})
    assert recipients(notify_case_event(event)) == [(world.manager_a.email, K.CASE_ASSIGNED)]


def test_taking_a_case_yourself_mails_nobody(world, case):
    case.assignee = world.lead
    event = record(case, EventType.ASSIGNED, actor=world.lead, data={"from": None, "to": world.lead.id})
    assert notify_case_event(event) == []


def test_level_one_escalation_reaches_every_active_team_lead_and_the_requester(world, case):
    other_lead = factories.make_user(role=Role.TEAM_LEAD)
    factories.make_user(role=Role.TEAM_LEAD, active=False)
    case.escalation_level = 1
    event = record(case, EventType.ESCALATED, actor=world.manager_a, data={"level": 1}, body="Critical outage")
    queued = notify_case_event(event)
    assert recipients(queued) == sorted(
        [(world.lead.email, K.ESCALATION), (other_lead.email, K.ESCALATION), (world.alice.email, K.CASE_ESCALATED)]
    )
    lead_mail = next(m for m in queued if m.to_address == world.lead.email)
    assert "Escalated to level 1" in lead_mail.subject


def test_level_two_escalation_reaches_the_executives(world, case):
    case.escalation_level = 2
    event = record(case, EventType.ESCALATED, actor=world.lead, data={"level": 2})
    assert recipients(notify_case_event(event)) == sorted(
        [(world.executive.email, K.ESCALATION), (world.alice.email, K.CASE_ESCALATED)]
    )


def test_an_escalation_the_customer_asked_for_is_not_mailed_back_to_them(world, case):
    event = record(case, EventType.ESCALATED, actor=world.alice, data={"level": "1", "reason": "customer_request"})
    assert recipients(notify_case_event(event)) == [(world.lead.email, K.ESCALATION)]


def test_an_acknowledged_escalation_is_mailed_to_the_requester(world, case):
    case.escalation_level = 2
    event = record(case, EventType.ESCALATION_ACKNOWLEDGED, actor=world.executive, data={"level": 2})
    (message,) = notify_case_event(event)
    assert (message.to_address, message.kind) == (world.alice.email, K.ESCALATION_ACKNOWLEDGED)
    assert "acknowledged" in message.subject
    assert world.executive.name in message.text_body


def test_a_decision_goes_to_the_case_owner_and_the_account_manager_never_the_customer(world, case):
    case.escalation_level = 2
    case.assignee = world.lead
    event = record(
        case,
        EventType.ESCALATION_DECIDED,
        actor=world.executive,
        data={"level": 2, "outcome": "credit_offered"},
        body="Offer a month's credit",
        visibility=Visibility.INTERNAL,
    )
    queued = notify_case_event(event)
    assert recipients(queued) == sorted(
        [(world.lead.email, K.ESCALATION_DECIDED), (world.manager_a.email, K.ESCALATION_DECIDED)]
    )
    assert all("Offer a month's credit" in m.text_body and "Credit offered" in m.text_body for m in queued)


@pytest.mark.parametrize("type", [EventType.SEVERITY_CHANGED, EventType.KIND_CHANGED, EventType.MERGED])
def test_other_event_types_mail_nobody(world, case, type):
    assert notify_case_event(record(case, type, actor=world.lead)) == []


# --- preferences, inactive people, repeats -------------------------------------------------------


def test_a_switched_off_kind_is_not_sent_but_others_are(world, case):
    opt_out(world.alice, K.STAFF_REPLY)
    assert notify_case_event(record(case, EventType.PUBLIC_REPLY, actor=world.lead)) == []
    resolved = record(case, EventType.STATUS_CHANGED, actor=world.lead, data={"from": "open", "to": "resolved"})
    assert recipients(notify_case_event(resolved)) == [(world.alice.email, K.CASE_RESOLVED)]


def test_a_deactivated_recipient_gets_nothing(world, case):
    world.alice.active = False
    assert notify_case_event(record(case, EventType.PUBLIC_REPLY, actor=world.lead)) == []


def test_the_same_event_queues_each_mail_once(world, case):
    event = record(case, EventType.PUBLIC_REPLY, actor=world.lead, body="Hello")
    assert len(notify_case_event(event)) == 1
    assert notify_case_event(event) == []
    assert len(all_messages()) == 1


def test_an_event_not_yet_flushed_is_flushed_first(world, case):
    event = timeline.record_event(case, EventType.PUBLIC_REPLY, actor=world.lead, body="Hi")
    assert event.id is None
    (message,) = notify_case_event(event)
    assert message.dedupe_key == f"event:{event.id}:to:{world.alice.id}"


def test_the_mail_is_queued_in_the_callers_transaction_and_lost_with_it(world, case):
    savepoint = db.session.begin_nested()
    notify_case_event(record(case, EventType.PUBLIC_REPLY, actor=world.lead, body="Hi"))
    assert len(all_messages()) == 1
    savepoint.rollback()
    assert all_messages() == []


# --- header injection ----------------------------------------------------------------------------


def test_newlines_in_names_and_subjects_cannot_add_mail_headers(world):
    world.alice.name = "Alice\r\nBcc: victim@evil.example"
    case = factories.make_case(requester=world.alice, subject="Help\r\nBcc: victim@evil.example\nX-Evil: 1")
    (message,) = notify_case_event(created_event(case))
    for value in (message.subject, message.to_name):
        assert "\r" not in value and "\n" not in value
    assert message.subject == f"We received your case {case.reference}: Help Bcc: victim@evil.example X-Evil: 1"
    assert message.to_name == "Alice Bcc: victim@evil.example"
    mail = build_message(message)
    assert not mail.has_bad_headers()
    headers = email.message_from_string(mail.as_string(), policy=email.policy.default)
    assert headers["Bcc"] is None and headers["X-Evil"] is None
    (to,) = headers["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Alice Bcc: victim@evil.example", world.alice.email)


@pytest.mark.parametrize("separator", ["\r\n", "\n", "\r", "\u2028", "\x85", "\x0b"])
def test_clean_header_turns_every_line_break_into_a_space(separator):
    from portal.notifications.outbox import clean_header

    assert clean_header(f"Hello{separator}Bcc: x@y") == "Hello Bcc: x@y"


# --- SLA mails -----------------------------------------------------------------------------------


def test_due_soon_tells_the_assignee_once_per_target_and_due_time(world, case):
    (message,) = notify_due_soon(case)
    assert (message.to_address, message.kind) == (world.manager_a.email, K.DUE_SOON)
    assert "first response" in message.subject and case.reference in message.subject
    assert notify_due_soon(case) == []  # the sweep ran again
    case.first_response_due_at += timedelta(hours=2)  # the clock paused and resumed: a new deadline
    assert len(notify_due_soon(case)) == 1


def test_breached_targets_the_running_clock_and_goes_to_the_manager_when_unassigned(world, case):
    case.assignee = None
    case.first_response_at = utcnow()
    (message,) = notify_breached(case)
    assert (message.to_address, message.kind) == (world.manager_a.email, K.BREACHED)
    assert "resolution" in message.subject
    assert message.dedupe_key.startswith(f"sla:{case.id}:resolution:")


def test_no_sla_mail_while_the_clock_is_paused_or_stopped(world, case):
    case.status = Status.WAITING_ON_CUSTOMER
    case.sla_paused_at = utcnow()
    assert notify_due_soon(case) == [] and notify_breached(case) == []
    case.status, case.sla_paused_at = Status.RESOLVED, None
    assert notify_breached(case) == []


def test_an_sla_breached_event_and_the_sweeps_direct_call_queue_one_mail(world, case):
    event = record(case, EventType.SLA_BREACHED, actor=None, visibility=Visibility.INTERNAL)
    assert len(notify_case_event(event)) == 1
    assert notify_breached(case) == []


def test_sla_mail_respects_preferences(world, case):
    opt_out(world.manager_a, K.BREACHED)
    assert notify_breached(case) == []
    assert len(notify_due_soon(case)) == 1


def test_customer_text_is_escaped_in_the_html_part(world):
    case = factories.make_case(requester=world.alice, subject='<script>alert("x")</script>')
    (message,) = notify_case_event(created_event(case))
    assert "<script>" not in message.html_body
    assert "&lt;script&gt;" in message.html_body
    assert '<script>alert("x")</script>' in message.text_body  # plain text is plain
