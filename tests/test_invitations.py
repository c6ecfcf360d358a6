"""Inviting a customer by e-mail, through HTTP and a real SMTP server: who may invite whom, the
signed single-use link that expires after 7 days, and the clear page for a bad link."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden

from portal.auth import services, tokens
from portal.extensions import db
from portal.models import NotificationKind, OutboxMessage, Role, User
from portal.models.base import utcnow
from portal.notifications import sender
from tests import factories, mailserver
from tests.test_auth import hidden_inputs, is_signed_in, sign_in

smtp_server = mailserver.smtp_server  # the fixture: a real SMTP server for these tests

NEW_PASSWORD = "a brand new password"


def invite(client, account, email="new.person@example.com", name="New Person"):
    return client.post("/invitations/new", data={"account": str(account.id), "email": email, "name": name})


def find_user(email) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def invitation_messages() -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.INVITATION).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def accept(client, path, *, name="Nina Newcomer", password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"name": name, "password": password, "confirm": confirm or password})


def token_path(user, *, now=None) -> str:
    return f"/invitations/{tokens.make_token(tokens.INVITATION, user, now=now)}"


@pytest.fixture
def invitee(world):
    """Someone invited to account A who has not accepted yet."""
    return services.invite_customer(world.account_a, email="nina@example.com", name="Nina", actor=world.manager_a)


# --- the whole path: invite, mail, link, password, signed in -------------------------------------


def test_an_admin_invites_a_customer_who_sets_a_password_from_the_mailed_link(world, client_as, client, smtp_server):
    response = invite(client_as(world.admin), world.account_b, email="Nina@Example.com", name="Nina")
    assert response.status_code == 302
    nina = find_user("nina@example.com")
    assert (nina.role, nina.account_id, nina.password_hash) == (Role.CUSTOMER, world.account_b.id, None)

    assert sender.send_batch(10, now=utcnow()) == 1
    mail = smtp_server.only("nina@example.com")
    assert mail.subject == "Ada Admin invited you to Casebridge"
    assert "Bravo plc" in mail.text
    link = mail.link_to("/invitations/")
    assert link.startswith("http://portal.test/invitations/")
    assert f'href="{link}"' in mail.html

    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "nina@example.com" in html and 'value="Nina"' in html
    response = accept(client, urlsplit(link).path, name="Nina Newcomer")
    assert response.status_code == 302
    assert is_signed_in(client)
    nina = find_user("nina@example.com")
    assert nina.name == "Nina Newcomer" and nina.password_hash is not None

    other = client.application.test_client()
    assert sign_in(other, "nina@example.com", NEW_PASSWORD).status_code == 302


def test_an_account_manager_invites_to_their_own_account(world, client_as):
    response = invite(client_as(world.manager_a), world.account_a)
    assert response.status_code == 302
    assert find_user("new.person@example.com").account_id == world.account_a.id
    (message,) = invitation_messages()
    assert message.to_address == "new.person@example.com"


def test_the_invitation_page_offers_only_the_accounts_one_may_invite_to(world, client_as):
    html = client_as(world.manager_a).get("/invitations/new").get_data(as_text=True)
    assert "Acme Ltd" in html and "Bravo plc" not in html
    html = client_as(world.admin).get("/invitations/new").get_data(as_text=True)
    assert "Acme Ltd" in html and "Bravo plc" in html


def test_a_manager_without_accounts_is_told_there_is_no_one_to_invite(client_as):
    loner = factories.make_user(role=Role.ACCOUNT_MANAGER)
    html = client_as(loner).get("/invitations/new").get_data(as_text=True)
    assert "You do not manage any account yet" in html


# --- who may invite ------------------------------------------------------------------------------


def test_a_manager_cannot_invite_to_another_managers_account(world, client_as):
    response = invite(client_as(world.manager_a), world.account_b)
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert find_user("new.person@example.com") is None
    assert invitation_messages() == []


def test_the_service_refuses_an_invitation_the_policy_forbids(world):
    with pytest.raises(Forbidden):
        services.invite_customer(world.account_b, email="x@example.com", name="X", actor=world.manager_a)
    with pytest.raises(Forbidden):
        services.invite_customer(world.account_a, email="x@example.com", name="X", actor=world.lead)


@pytest.mark.parametrize("role", ["alice", "lead", "executive"])
def test_customers_team_leads_and_executives_may_not_invite(world, client_as, role):
    client = client_as(getattr(world, role))
    assert client.get("/invitations/new").status_code == 403
    assert invite(client, world.account_a).status_code == 403
    assert find_user("new.person@example.com") is None


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    response = invite(client, world.account_a)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- bad input -----------------------------------------------------------------------------------


def test_an_address_that_already_has_an_account_gets_a_clear_message(world, client_as):
    response = invite(client_as(world.admin), world.account_a, email=world.bob.email.upper(), name="Bob Again")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This address already has an account" in html
    assert 'value="Bob Again"' in html  # what was typed is kept
    assert invitation_messages() == []
    assert find_user(world.bob.email).account_id == world.account_b.id


def test_a_malformed_address_is_refused_and_kept(world, client_as):
    response = invite(client_as(world.admin), world.account_a, email="nina at example")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter an e-mail address like name@example.com." in html
    assert 'value="nina at example"' in html
    assert invitation_messages() == []


def test_a_missing_account_and_name_are_reported_on_their_fields(world, client_as):
    response = client_as(world.admin).post("/invitations/new", data={"account": "", "email": "a@example.com"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose an account." in html and "Enter their name." in html


def test_inviting_someone_who_never_accepted_sends_a_fresh_link(world, client_as, invitee):
    response = invite(client_as(world.admin), world.account_a, email="nina@example.com", name="Nina")
    assert response.status_code == 302
    assert len(invitation_messages()) == 2
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == "nina@example.com")) == 1


def test_newlines_in_the_invitees_name_do_not_reach_the_mail_headers(world, client_as, smtp_server):
    invite(client_as(world.admin), world.account_a, email="nina@example.com", name="Nina\r\nBcc: evil@example.com")
    assert sender.send_batch(10, now=utcnow()) == 1
    (mail,) = smtp_server.received
    assert mail.rcpt_tos == ["nina@example.com"]
    assert mail.message["Bcc"] is None


def test_the_invitation_form_needs_the_csrf_token(app, world, client_as, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert invite(client_as(world.admin), world.account_a).status_code == 400
    assert find_user("new.person@example.com") is None


# --- accepting: the link -------------------------------------------------------------------------


def test_a_used_link_gets_a_clear_page_and_changes_nothing(client, invitee):
    path = token_path(invitee)
    assert accept(client, path).status_code == 302
    password_hash = find_user("nina@example.com").password_hash

    other = client.application.test_client()
    page = other.get(path)
    assert page.status_code == 410
    assert "This link has already been used" in page.get_data(as_text=True)
    response = accept(other, path, password="someone else's password")
    assert response.status_code == 410
    assert find_user("nina@example.com").password_hash == password_hash
    assert not is_signed_in(other)


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, invitee):
    path = token_path(invitee, now=utcnow() - timedelta(days=7, minutes=1))
    page = client.get(path)
    assert page.status_code == 410
    html = page.get_data(as_text=True)
    assert "This link has expired" in html and "Invitations work for 7 days" in html
    assert accept(client, path).status_code == 410
    assert find_user("nina@example.com").password_hash is None


def test_a_link_is_still_good_just_before_seven_days(client, invitee):
    path = token_path(invitee, now=utcnow() - timedelta(days=6, hours=23))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "tamper", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "x" + t, lambda t: "nonsense"]
)
def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client, invitee, tamper):
    path = "/invitations/" + tamper(tokens.make_token(tokens.INVITATION, invitee))
    page = client.get(path)
    assert page.status_code == 400
    assert "This link is not valid" in page.get_data(as_text=True)
    assert accept(client, path).status_code == 400
    assert find_user("nina@example.com").password_hash is None


def test_a_password_reset_link_is_not_an_invitation(client, invitee):
    path = "/invitations/" + tokens.make_token(tokens.PASSWORD_RESET, invitee)
    assert client.get(path).status_code == 400


def test_a_link_for_a_deactivated_invitee_is_invalid(client, invitee):
    path = token_path(invitee)
    invitee.active = False
    assert client.get(path).status_code == 400


def test_a_short_or_mismatched_password_is_refused_and_the_name_kept(client, invitee):
    path = token_path(invitee)
    response = accept(client, path, name="Nina N", password="short", confirm="short")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Use at least 10 characters." in html and 'value="Nina N"' in html
    response = accept(client, path, password=NEW_PASSWORD, confirm="something else entirely")
    assert response.status_code == 400
    assert "The two differ." in response.get_data(as_text=True)
    assert find_user("nina@example.com").password_hash is None
    assert client.get(path).status_code == 200  # the link still works


def test_the_accept_page_keeps_the_csrf_check(app, client, invitee, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    path = token_path(invitee)
    page = client.get(path)
    data = {
        **hidden_inputs(page.get_data(as_text=True)),
        "name": "Nina",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    assert client.post(path, data=data).status_code == 302
    assert find_user("nina@example.com").password_hash is not None


def test_accepting_twice_in_a_race_uses_the_link_once(invitee):
    token = tokens.make_token(tokens.INVITATION, invitee)
    services.accept_invitation(token, name="Nina", password=NEW_PASSWORD)
    stale = find_user("nina@example.com")
    # A second request read the user before the first one's change: its UPDATE matches nothing.
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(stale, "password_hash", None)
    with pytest.raises(tokens.TokenError) as caught:
        services.accept_invitation(token, name="Mallory", password="another long password")
    assert caught.value.reason == "used"
