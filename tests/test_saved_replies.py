"""Saved replies: who may list and manage them, the placeholder rules, and inserting one on a case."""

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.extensions import db
from portal.models import SavedReply, Status
from portal.replies import services
from portal.services import ServiceError
from tests import factories

GREETING = "Hi {customer_first_name},\n\nThanks for {case_reference} ({case_subject}).\n\n{agent_name}"


def saved(title="Greeting", body=GREETING, *, by) -> SavedReply:
    return services.create_saved_reply(title=title, body=body, actor=by)


def rows() -> list[tuple[str, str]]:
    return [
        tuple(row) for row in db.session.execute(sa.select(SavedReply.title, SavedReply.body).order_by(SavedReply.id))
    ]


# --- placeholders --------------------------------------------------------------------------------


def test_every_placeholder_is_filled_in_for_the_case(world):
    body = "{customer_name}|{customer_first_name}|{case_reference}|{case_subject}|{agent_name}|{account_name}"
    reply = saved(body=body, by=world.lead)
    case = factories.make_case(requester=world.alice, subject="Exports fail")
    text = services.render_saved_reply(reply, case=case, agent=world.manager_a)
    assert text == f"Alice Customer|Alice|{case.reference}|Exports fail|Maria Manager|Acme Ltd"


def test_doubled_braces_are_literal_braces(world):
    reply = saved(body="Use {{customer_name}} literally, {customer_first_name}.", by=world.lead)
    case = factories.make_case(requester=world.alice)
    assert services.render_saved_reply(reply, case=case, agent=world.lead) == "Use {customer_name} literally, Alice."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hello {customer}", "Unknown placeholder {customer}."),
        ("Hello {Customer_Name}", "Unknown placeholder {Customer_Name}."),
        ("Hello {}", "Unknown placeholder {}."),
        ("Hello {0}", "Unknown placeholder {0}."),
        ("Hello {customer_name.__class__}", "Unknown placeholder {customer_name.__class__}."),
        ("Hello {customer_name[0]}", "Unknown placeholder {customer_name[0]}."),
        ("Hello {customer_name:>99999}", "without ! or : after its name"),
        ("Hello {customer_name!r}", "without ! or : after its name"),
        ("Hello {customer_name", "A brace is not closed."),
        ("Hello customer_name}", "A brace is not closed."),
    ],
)
def test_saved_reply_with_a_bad_placeholder_is_refused_naming_it(world, body, message):
    with pytest.raises(ServiceError) as refused:
        saved(body=body, by=world.lead)
    assert refused.value.field == "body"
    assert message in refused.value.message
    assert rows() == []


def test_editing_in_an_unknown_placeholder_keeps_the_saved_reply_as_it_was(world):
    reply = saved(by=world.lead)
    with pytest.raises(ServiceError, match=r"Unknown placeholder \{ticket_id\}"):
        services.update_saved_reply(reply, title="Greeting 2", body="See {ticket_id}", actor=world.lead)
    assert rows() == [("Greeting", GREETING)]


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [("", "Text", "title"), ("   ", "Text", "title"), ("Title", "", "body"), ("Title", " \n ", "body")],
)
def test_saved_reply_needs_a_title_and_a_body(world, title, body, field):
    with pytest.raises(ServiceError) as refused:
        services.create_saved_reply(title=title, body=body, actor=world.lead)
    assert refused.value.field == field
    assert rows() == []


def test_titles_are_unique_ignoring_case(world):
    saved("Greeting", by=world.lead)
    other = saved("Farewell", body="Bye", by=world.lead)
    with pytest.raises(ServiceError, match="already a saved reply with this title"):
        saved("greeting", body="Hello", by=world.admin)
    with pytest.raises(ServiceError, match="already a saved reply with this title"):
        services.update_saved_reply(other, title="GREETING", body="Bye", actor=world.lead)
    assert rows() == [("Greeting", GREETING), ("Farewell", "Bye")]
    services.update_saved_reply(other, title="Farewell", body="Bye for now", actor=world.lead)  # its own title is fine
    assert rows()[1] == ("Farewell", "Bye for now")


# --- who may do what -----------------------------------------------------------------------------


@pytest.mark.parametrize(("user", "allowed"), [("lead", True), ("admin", True), ("manager_a", False), ("alice", False)])
def test_only_team_leads_and_admins_manage_saved_replies(world, user, allowed):
    actor = getattr(world, user)
    if allowed:
        reply = saved(by=actor)
        services.update_saved_reply(reply, title="Hello", body="Hello", actor=actor)
        services.delete_saved_reply(reply, actor=actor)
    else:
        with pytest.raises(Forbidden):
            saved(by=actor)
    assert rows() == []


LIST = {"alice": 403, "manager_a": 200, "lead": 200, "executive": 403, "admin": 200}
MANAGE = {"alice": 403, "manager_a": 403, "lead": None, "executive": 403, "admin": None}


@pytest.mark.parametrize(("user", "status"), LIST.items())
def test_saved_reply_list_is_for_the_people_who_reply_and_those_who_manage(client_as, world, user, status):
    saved(by=world.lead)
    response = client_as(getattr(world, user)).get("/saved-replies")
    assert response.status_code == status
    if status == 200:
        html = response.get_data(as_text=True)
        assert "Greeting" in html
        assert ("/saved-replies/new" in html) is (user in ("lead", "admin"))


@pytest.mark.parametrize(("user", "status"), MANAGE.items())
def test_create_edit_and_delete_pages_are_for_team_leads_and_admins(client_as, world, user, status):
    reply = saved(by=world.lead)
    client = client_as(getattr(world, user))
    new = client.post("/saved-replies/new", data={"title": "Chaser", "body": "Any news, {customer_first_name}?"})
    edit = client.post(f"/saved-replies/{reply.id}/edit", data={"title": "Hello", "body": "Hello {agent_name}"})
    if status is None:
        assert new.status_code == edit.status_code == 302
        assert rows() == [("Hello", "Hello {agent_name}"), ("Chaser", "Any news, {customer_first_name}?")]
        assert client.post(f"/saved-replies/{reply.id}/delete").status_code == 302
        assert rows() == [("Chaser", "Any news, {customer_first_name}?")]
    else:
        assert new.status_code == edit.status_code == status
        assert client.post(f"/saved-replies/{reply.id}/delete").status_code == status
        assert rows() == [("Greeting", GREETING)]


def test_form_shows_the_unknown_placeholder_and_keeps_what_was_typed(client_as, world):
    response = client_as(world.lead).post(
        "/saved-replies/new", data={"title": "Chaser", "body": "Dear {customer_surname}, any news?"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Unknown placeholder {customer_surname}." in html
    assert 'id="body-error"' in html
    assert "Dear {customer_surname}, any news?" in html
    assert rows() == []


def test_edit_form_is_filled_with_the_saved_reply(client_as, world):
    reply = saved(by=world.lead)
    html = client_as(world.lead).get(f"/saved-replies/{reply.id}/edit").get_data(as_text=True)
    assert 'value="Greeting"' in html
    assert "Thanks for {case_reference}" in html


def test_unknown_saved_reply_is_404(client_as, world):
    client = client_as(world.lead)
    assert client.get("/saved-replies/999999/edit").status_code == 404
    assert client.post("/saved-replies/999999/delete").status_code == 404
    assert client.get("/saved-replies/99999999999/edit").status_code == 404


# --- inserting one into a reply on the case page -------------------------------------------------


def test_insert_fills_the_reply_box_with_the_rendered_text(client_as, world):
    reply = saved(by=world.lead)
    case = factories.make_case(requester=world.alice, subject="Exports fail")
    client = client_as(world.manager_a)
    html = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert f'<option value="{reply.id}">Greeting</option>' in html
    assert 'action="/cases/' + case.reference + '#reply"' in html

    html = client.get(f"/cases/{case.reference}?saved_reply={reply.id}").get_data(as_text=True)
    textarea = html.split('<textarea id="body"')[1].split("</textarea>")[0]
    assert f"Hi Alice,\n\nThanks for {case.reference} (Exports fail).\n\nMaria Manager" in textarea


def test_inserted_text_is_escaped(client_as, world):
    reply = saved(body="<script>alert(1)</script> {customer_name}", by=world.lead)
    world.alice.name = "Alice <b>Bold</b>"
    case = factories.make_case(requester=world.alice)
    html = client_as(world.lead).get(f"/cases/{case.reference}?saved_reply={reply.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Alice &lt;b&gt;Bold&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


def test_customers_get_no_saved_replies(client_as, world):
    reply = saved(body="Internal wording for {customer_name}", by=world.lead)
    case = factories.make_case(requester=world.alice)
    response = client_as(world.alice).get(f"/cases/{case.reference}?saved_reply={reply.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Internal wording" not in html
    assert "Saved reply" not in html


def test_unknown_or_malformed_saved_reply_leaves_the_reply_box_empty(client_as, world):
    saved(by=world.lead)
    case = factories.make_case(requester=world.alice)
    client = client_as(world.lead)
    response = client.get(f"/cases/{case.reference}?saved_reply=999999")
    assert response.status_code == 200
    assert "That saved reply no longer exists." in response.get_data(as_text=True)
    for junk in ("abc", "", "-1", "99999999999999"):
        response = client.get(f"/cases/{case.reference}?saved_reply={junk}")
        assert response.status_code == 200
        assert "Thanks for" not in response.get_data(as_text=True)


def test_no_picker_where_the_viewer_cannot_reply(client_as, world):
    saved(by=world.lead)
    closed = factories.make_case(requester=world.alice, status=Status.CLOSED)
    html = client_as(world.lead).get(f"/cases/{closed.reference}").get_data(as_text=True)
    assert "Saved reply" not in html
