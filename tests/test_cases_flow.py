"""The customer's journey through the pages: submit, list, read, reply, confirm or reopen."""

import io

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Attachment, Case, CaseEvent, EventType, Status
from tests import factories

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def submit(client, **overrides):
    data = {
        "kind": "issue",
        "category": "billing",
        "severity": "high",
        "subject": "Invoices will not download",
        "description": "Clicking download on any invoice shows a blank page.",
        **overrides,
    }
    return client.post("/cases/new", data=data, content_type="multipart/form-data")


def test_customer_submits_a_case_and_gets_a_reference(client_as, world):
    client = client_as(world.alice)
    response = submit(client, attachments=[(io.BytesIO(PNG), "screen.png")])
    assert response.status_code == 302
    case = db.session.scalar(sa.select(Case).order_by(Case.id.desc()))
    assert response.headers["Location"].endswith(f"/cases/{case.reference}/submitted")
    assert case.status == Status.NEW
    assert case.account_id == world.account_a.id
    assert case.requester_id == world.alice.id
    page = client.get(response.headers["Location"])
    assert case.reference in page.get_data(as_text=True)
    attachment = db.session.scalar(sa.select(Attachment).where(Attachment.case_id == case.id))
    assert attachment.filename == "screen.png"
    assert attachment.content_type == "image/png"


def test_rejected_case_form_keeps_what_was_typed_and_writes_nothing(client_as, world):
    client = client_as(world.alice)
    response = submit(client, subject="ab", description="Still typed here")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Use 3 to 200 characters." in html
    assert "Still typed here" in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0


def test_attachment_whose_content_does_not_match_its_name_is_refused(client_as, world):
    client = client_as(world.alice)
    response = submit(client, attachments=[(io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")])
    assert response.status_code == 400
    assert "does not match" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0


def test_customer_reply_and_staff_internal_note_visibility(client_as, world):
    case = factories.make_case(requester=world.alice)
    staff = client_as(world.manager_a)
    assert staff.post(f"/cases/{case.reference}/note", data={"note-body": "Customer is on old plan"}).status_code == 302
    assert staff.post(f"/cases/{case.reference}/reply", data={"body": "We are looking into it"}).status_code == 302

    customer_page = client_as(world.alice).get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "We are looking into it" in customer_page
    assert "Customer is on old plan" not in customer_page
    staff_page = staff.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Customer is on old plan" in staff_page
    assert db.session.get(Case, case.id).first_response_at is not None


def test_customer_confirms_a_resolved_case(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    response = client_as(world.alice).post(f"/cases/{case.reference}/confirm")
    assert response.status_code == 302
    assert db.session.get(Case, case.id).status == Status.CLOSED


def test_customer_reopens_a_resolved_case_with_a_reason(client_as, world):
    case = factories.make_case(requester=world.alice, status=Status.RESOLVED)
    response = client_as(world.alice).post(f"/cases/{case.reference}/reopen", data={"reopen-reason": "Still broken"})
    assert response.status_code == 302
    case = db.session.get(Case, case.id)
    assert case.status == Status.OPEN
    assert case.reopen_count == 1
    event = db.session.scalar(
        sa.select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.type == EventType.STATUS_CHANGED)
    )
    assert event.body == "Still broken"


def test_list_shows_only_own_accounts_cases(client_as, world):
    mine = factories.make_case(requester=world.anna, subject="Ours to see")
    theirs = factories.make_case(requester=world.bob, subject="Not for Acme")
    html = client_as(world.alice).get("/cases").get_data(as_text=True)
    assert mine.subject in html
    assert theirs.subject not in html
