"""Password reset by e-mail, through HTTP and a real SMTP server: the same answer whether or not
the address exists, a single-use link valid for an hour, a clear page for a bad link, and the
rate limits per e-mail address and per client."""

import os
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.auth import tokens
from portal.extensions import db, limiter
from portal.models import NotificationKind, OutboxMessage, User
from portal.models.base import utcnow
from portal.notifications import sender
from tests import factories, mailserver
from tests.conftest import make_test_config
from tests.test_auth import is_signed_in, sign_in

smtp_server = mailserver.smtp_server  # the fixture: a real SMTP server for these tests

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def carol(db_session):
    return factories.make_user(name="Carol Customer", email="carol@example.com")


def reset_messages() -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == NotificationKind.PASSWORD_RESET)
    return list(db.session.scalars(query))


def reset_path(user, *, now=None) -> str:
    return f"/reset/{tokens.make_token(tokens.PASSWORD_RESET, user, now=now)}"


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": confirm or password})


def current_hash(user) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


# --- the whole path ------------------------------------------------------------------------------


def test_a_reset_link_is_mailed_used_once_and_the_new_password_works(client, carol, smtp_server):
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)
    assert client.get("/reset").status_code == 200
    response = client.post("/reset", data={"email": " Carol@Example.com "})
    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)

    assert sender.send_batch(10, now=utcnow()) == 1
    mail = smtp_server.only("carol@example.com")
    assert mail.subject == "Reset your Casebridge password"
    link = mail.link_to("/reset/")
    assert link.startswith("http://portal.test/reset/")
    assert f'href="{link}"' in mail.html
    path = urlsplit(link).path

    assert client.get(path).status_code == 200
    response = choose(client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sign_in(client, "carol@example.com", NEW_PASSWORD).status_code == 302
    assert is_signed_in(client)

    other = client.application.test_client()
    assert sign_in(other, "carol@example.com", factories.PASSWORD).status_code == 400  # the old one is gone
    page = other.get(path)
    assert page.status_code == 410
    assert "This link has already been used" in page.get_data(as_text=True)
    before = current_hash(carol)
    assert choose(other, path, "yet another password").status_code == 410
    assert current_hash(carol) == before


def test_the_answer_is_the_same_whether_or_not_the_address_exists(client, carol):
    known = client.post("/reset", data={"email": "carol@example.com"})
    unknown = client.post("/reset", data={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace("carol@example.com", "X") == unknown.get_data(as_text=True).replace(
        "nobody@example.com", "X"
    )
    assert [m.to_address for m in reset_messages()] == ["carol@example.com"]


def test_a_deactivated_user_gets_no_link(client, carol):
    carol.active = False
    assert client.post("/reset", data={"email": "carol@example.com"}).status_code == 200
    assert reset_messages() == []


def test_the_link_uses_the_portal_url_not_the_requests_host(client, carol):
    client.post("/reset", data={"email": "carol@example.com"}, headers={"Host": "evil.example"})
    (message,) = reset_messages()
    assert "http://portal.test/reset/" in message.text_body
    assert "evil.example" not in message.text_body and "evil.example" not in message.html_body


def test_a_malformed_address_is_refused_and_kept(client):
    response = client.post("/reset", data={"email": "carol at example"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter an e-mail address like name@example.com." in html
    assert 'value="carol at example"' in html
    assert reset_messages() == []


# --- the link ------------------------------------------------------------------------------------


def test_a_link_older_than_an_hour_has_expired_and_changes_nothing(client, carol):
    path = reset_path(carol, now=utcnow() - timedelta(minutes=61))
    page = client.get(path)
    assert page.status_code == 410
    assert "This link has expired" in page.get_data(as_text=True)
    before = current_hash(carol)
    assert choose(client, path).status_code == 410
    assert current_hash(carol) == before


def test_a_link_is_still_good_within_the_hour(client, carol):
    assert client.get(reset_path(carol, now=utcnow() - timedelta(minutes=59))).status_code == 200


def test_a_tampered_link_gets_a_clear_page_and_changes_nothing(client, carol):
    token = tokens.make_token(tokens.PASSWORD_RESET, carol)
    payload, rest = token.split(".", 1)
    forged = f"{payload[:-1]}{'A' if payload[-1] != 'A' else 'B'}.{rest}"
    for path in (f"/reset/{forged}", "/reset/not-a-token", "/reset/" + tokens.make_token(tokens.INVITATION, carol)):
        page = client.get(path)
        assert page.status_code == 400, path
        assert "This link is not valid" in page.get_data(as_text=True)
        assert choose(client, path).status_code == 400
    assert current_hash(carol) == factories.password_hash()


def test_an_older_link_dies_when_a_newer_one_is_used(client, carol):
    older, newer = reset_path(carol, now=utcnow() - timedelta(minutes=10)), reset_path(carol)
    assert choose(client, newer).status_code == 302
    assert client.get(older).status_code == 410


def test_a_short_or_mismatched_password_is_refused(client, carol):
    path = reset_path(carol)
    response = choose(client, path, "short")
    assert response.status_code == 400
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    response = choose(client, path, NEW_PASSWORD, "not the same password")
    assert response.status_code == 400
    assert "The two differ." in response.get_data(as_text=True)
    assert current_hash(carol) == factories.password_hash()


def test_a_reset_lifts_a_sign_in_lockout(client, carol):
    carol.locked_until = utcnow() + timedelta(minutes=10)
    carol.failed_logins = 3
    assert choose(client, reset_path(carol)).status_code == 302
    db.session.expire_all()
    assert (carol.locked_until, carol.failed_logins) == (None, 0)
    assert sign_in(client, "carol@example.com", NEW_PASSWORD).status_code == 302


def test_the_reset_page_keeps_the_csrf_check(app, client, carol, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/reset", data={"email": "carol@example.com"}).status_code == 400
    assert choose(client, reset_path(carol)).status_code == 400
    assert reset_messages() == []
    assert current_hash(carol) == factories.password_hash()


# --- rate limits ---------------------------------------------------------------------------------


@pytest.fixture
def rate_limited_app(app, tmp_path, monkeypatch):
    """An app of its own with tight reset limits (see test_auth's fixture of the same name). Only
    unknown addresses are used, so nothing is written to the shared PostgreSQL test database."""
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = create_app(
        make_test_config(
            tmp_path, RATELIMIT_ENABLED=True, RESET_EMAIL_RATE_LIMIT="2 per hour", RESET_RATE_LIMIT="5 per minute"
        )
    )
    if not os.environ.get("TEST_DATABASE_URL"):
        with limited.app_context():
            db.create_all()
    yield limited
    limiter.reset()
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_resets_for_one_address_are_limited_whoever_asks(rate_limited_app):
    client = rate_limited_app.test_client()
    for remote in ("192.0.2.1", "192.0.2.2"):
        response = client.post("/reset", data={"email": "victim@example.com"}, environ_base={"REMOTE_ADDR": remote})
        assert response.status_code == 200
    response = client.post("/reset", data={"email": " Victim@Example.com"}, environ_base={"REMOTE_ADDR": "192.0.2.3"})
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    # Another address is not affected.
    assert client.post("/reset", data={"email": "other@example.com"}).status_code == 200


def test_resets_from_one_client_are_limited_whatever_the_address(rate_limited_app):
    client = rate_limited_app.test_client()
    for n in range(5):
        assert client.post("/reset", data={"email": f"person{n}@example.com"}).status_code == 200
    assert client.post("/reset", data={"email": "person9@example.com"}).status_code == 429
    assert client.get("/reset").status_code == 200  # only requests count
