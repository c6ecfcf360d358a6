"""The case services queue the right mail, in the same transaction, and never leak internal notes."""

import sqlalchemy as sa

from portal.cases import services
from portal.extensions import db
from portal.models import Kind, OutboxMessage, Severity, Status
from tests import factories


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def addresses() -> list[str]:
    return [message.to_address for message in outbox()]


def test_submitting_a_case_mails_the_receipt_and_the_routed_manager(world):
    case = services.submit_case(
        requester=world.alice,
        kind=Kind.ISSUE,
        category="billing",
        severity=Severity.HIGH,
        subject="Invoices will not download",
        description="Blank page",
    )
    messages = {m.to_address: m for m in outbox()}
    assert set(messages) == {world.alice.email, world.manager_a.email}
    assert case.reference in messages[world.alice.email].subject


def test_a_staff_reply_mails_the_requester_and_a_customer_reply_mails_the_assignee(world):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a)
    services.reply_to_case(case, author=world.manager_a, body="Looking into it")
    assert addresses() == [world.alice.email]
    services.reply_to_case(case, author=world.alice, body="Thanks")
    assert addresses() == [world.alice.email, world.manager_a.email]


def test_internal_notes_queue_no_mail_at_all(world):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a)
    services.add_internal_note(case, author=world.manager_a, body="Customer is on the legacy plan")
    assert outbox() == []


def test_waiting_on_the_customer_with_a_question_sends_one_mail_quoting_it(world):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a, status=Status.OPEN)
    services.set_waiting_on_customer(
        case, actor=world.manager_a, message="Which browser do you use?", expected_version=case.version
    )
    messages = outbox()
    assert [m.to_address for m in messages] == [world.alice.email]
    assert "Which browser do you use?" in messages[0].text_body


def test_resolving_mails_the_requester(world):
    case = factories.make_case(requester=world.alice, assignee=world.manager_a, status=Status.OPEN)
    services.resolve_case(case, actor=world.manager_a, summary="Fixed the export", expected_version=case.version)
    assert addresses() == [world.alice.email]


def test_assigning_mails_the_new_assignee_but_not_the_actor(world):
    case = factories.make_case(requester=world.alice, status=Status.NEW)
    services.assign_case(case, world.manager_a, actor=world.lead, expected_version=case.version)
    assert addresses() == [world.manager_a.email]
    services.assign_case(case, world.lead, actor=world.lead, expected_version=case.version)
    assert addresses() == [world.manager_a.email]
