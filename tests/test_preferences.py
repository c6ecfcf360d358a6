"""The notification preferences page: a checkbox per kind the person's role receives, switched off
kinds are not sent, and security mails cannot be switched off."""

from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from portal.auth import services as auth_services
from portal.extensions import db
from portal.models import NotificationKind, NotificationOptOut, OutboxMessage, Role
from portal.notifications import preferences
from portal.users import services
from tests import factories

K = NotificationKind


def opt_outs(user) -> set[str]:
    query = sa.select(NotificationOptOut.kind).where(NotificationOptOut.user_id == user.id)
    return {kind.value for kind in db.session.scalars(query)}


class _Checkboxes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "checkbox":
            self.names.add(attrs["name"])


def checkbox_names(html: str) -> set[str]:
    parser = _Checkboxes()
    parser.feed(html)
    return parser.names


def test_a_customer_sees_the_customer_kinds_all_on_at_first(client_as, world):
    response = client_as(world.alice).get("/preferences")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert checkbox_names(html) == {k.value for k in preferences.KINDS_BY_ROLE[Role.CUSTOMER]}
    assert html.count("checked") == len(preferences.KINDS_BY_ROLE[Role.CUSTOMER])
    assert "Security e-mails" in html and "cannot be switched off" in html
    assert "invitation" not in checkbox_names(html) and "password_reset" not in checkbox_names(html)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("manager_a", {"case_assigned", "customer_reply", "due_soon", "breached", "escalation_decided"}),
        ("lead", {"case_assigned", "customer_reply", "due_soon", "breached", "escalation", "escalation_decided"}),
        ("executive", {"escalation"}),
        ("admin", set()),
    ],
)
def test_staff_see_the_kinds_their_role_receives(client_as, world, role, expected):
    html = client_as(getattr(world, role)).get("/preferences").get_data(as_text=True)
    assert checkbox_names(html) == expected


def test_unticking_a_kind_switches_it_off_and_ticking_switches_it_back_on(client_as, world):
    client = client_as(world.alice)
    kept = {
        "case_received": "y",
        "waiting_on_you": "y",
        "case_escalated": "y",
        "escalation_acknowledged": "y",
        "case_resolved": "y",
    }
    response = client.post("/preferences", data=kept)
    assert response.status_code == 302 and response.headers["Location"] == "/preferences"
    assert opt_outs(world.alice) == {"staff_reply"}
    assert not preferences.wants(world.alice, K.STAFF_REPLY)
    assert preferences.wants(world.alice, K.CASE_RESOLVED)
    html = client.get("/preferences").get_data(as_text=True)
    assert html.count("checked") == 5

    client.post("/preferences", data={**kept, "staff_reply": "y"})
    assert opt_outs(world.alice) == set()


def test_kinds_from_another_role_or_security_kinds_cannot_be_stored(world):
    services.update_notification_preferences(world.alice, enabled=[])
    assert opt_outs(world.alice) == {k.value for k in preferences.KINDS_BY_ROLE[Role.CUSTOMER]}
    assert preferences.wants(world.alice, K.PASSWORD_RESET)  # security: always on
    assert preferences.wants(world.alice, K.INVITATION)
    assert not preferences.wants(world.alice, K.ESCALATION)  # not a customer's kind at all


def test_security_mails_go_out_whatever_the_settings(client_as, world):
    services.update_notification_preferences(world.alice, enabled=[])
    auth_services.request_password_reset(world.alice.email)
    (message,) = db.session.scalars(sa.select(OutboxMessage))
    assert message.kind == K.PASSWORD_RESET


def test_every_role_may_open_the_page_and_anonymous_visitors_sign_in_first(client_as, client, world):
    for person in (world.alice, world.manager_a, world.lead, world.executive, world.admin):
        assert client_as(person).get("/preferences").status_code == 200
    response = client.get("/preferences")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_needs_the_csrf_token(app, client_as, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client_as(world.alice).post("/preferences", data={}).status_code == 400
    assert opt_outs(world.alice) == set()


def test_the_profile_links_to_the_preferences(client_as, world):
    assert "/preferences" in client_as(world.alice).get("/profile").get_data(as_text=True)


def test_a_deactivated_user_wants_nothing(world):
    inactive = factories.make_user(role=Role.CUSTOMER, active=False)
    assert not preferences.wants(inactive, K.CASE_RECEIVED)
    assert not preferences.wants(inactive, K.PASSWORD_RESET)
