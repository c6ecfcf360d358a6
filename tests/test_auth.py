"""Signing in and out through the real form: generic errors, lockout, cookies, `next`, the rate limit."""

import os
import secrets
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from config import DEFAULT_SECRET_KEY, ProductionConfig
from portal import create_app
from portal.auth import services
from portal.extensions import db, limiter
from portal.models import Role, User
from portal.models.base import utcnow
from tests import factories
from tests.conftest import make_test_config

GENERIC_ERROR = "Invalid e-mail address or password."


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.fields


def sign_in(client, email, password=factories.PASSWORD, *, remember=False, next=None):
    """What a person does: open the sign-in page (perhaps with ?next=), fill it in and send it."""
    page = client.get("/login" + (f"?next={quote(next, safe='')}" if next is not None else ""))
    assert page.status_code == 200
    data = {**hidden_inputs(page.get_data(as_text=True)), "email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def set_cookies(response) -> dict[str, str]:
    """The Set-Cookie headers of `response`, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def is_signed_in(client) -> bool:
    response = client.get("/cases")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


@pytest.fixture
def carol(db_session):
    return factories.make_user(role=Role.TEAM_LEAD, name="Carol Lead", email="carol@example.com")


# --- signing in through the form ---------------------------------------------------------------


def test_sign_in_redirects_home_and_starts_a_session(client, carol):
    assert not is_signed_in(client)
    response = sign_in(client, "carol@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/cases")
    assert page.status_code == 200
    assert "Carol Lead" in page.get_data(as_text=True)
    assert carol.last_login_at is not None


def test_sign_in_form_works_with_csrf_protection_on(app, client, carol, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/login")
    assert "csrf_token" in hidden_inputs(page.get_data(as_text=True))
    assert sign_in(client, "carol@example.com").status_code == 302
    assert is_signed_in(client)


@pytest.mark.parametrize(
    ("email", "password"),
    [("carol@example.com", "not the password"), ("nobody@example.com", factories.PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_password_and_unknown_email_get_the_same_generic_error(client, carol, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert GENERIC_ERROR in html
    assert "locked" not in html.lower()
    assert not is_signed_in(client)


def test_email_is_case_insensitive(client, carol):
    response = sign_in(client, "  CAROL@Example.COM ")
    assert response.status_code == 302
    assert is_signed_in(client)


def test_inactive_user_cannot_sign_in(client, carol):
    carol.active = False
    db.session.flush()
    response = sign_in(client, "carol@example.com")
    assert response.status_code == 400
    assert GENERIC_ERROR in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_deactivated_user_loses_an_existing_session(client, carol):
    assert sign_in(client, "carol@example.com").status_code == 302
    carol.active = False
    db.session.flush()
    assert not is_signed_in(client)


def test_signed_in_user_visiting_the_login_page_is_sent_home(client, carol):
    sign_in(client, "carol@example.com")
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- lockout -----------------------------------------------------------------------------------


def test_account_locks_after_max_failures_until_the_lock_passes(app, client, carol):
    max_failures = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(max_failures):
        response = sign_in(client, "carol@example.com", "wrong guess")
        assert response.status_code == 400
        assert GENERIC_ERROR in response.get_data(as_text=True)
    assert carol.locked_until is not None
    assert carol.locked_until > utcnow() + timedelta(minutes=app.config["LOGIN_LOCKOUT_MINUTES"] - 1)

    # Locked: even the right password fails, with the same message.
    response = sign_in(client, "carol@example.com")
    assert response.status_code == 400
    assert GENERIC_ERROR in response.get_data(as_text=True)
    assert not is_signed_in(client)

    carol.locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert sign_in(client, "carol@example.com").status_code == 302
    assert is_signed_in(client)
    assert carol.failed_logins == 0
    assert carol.locked_until is None


def test_fewer_failures_than_the_limit_do_not_lock(app, client, carol):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert sign_in(client, "carol@example.com", "wrong guess").status_code == 400
    assert carol.locked_until is None
    assert sign_in(client, "carol@example.com").status_code == 302
    assert carol.failed_logins == 0


# --- cookies -----------------------------------------------------------------------------------


def test_remember_me_sets_an_httponly_remember_cookie_that_signs_in_again(app, client, carol):
    response = sign_in(client, "carol@example.com", remember=True)
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    cookie = set_cookies(response)[name]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # outlives the browser session

    # A new browser session with only the remember cookie is signed in again.
    fresh = app.test_client()
    fresh.set_cookie(name, client.get_cookie(name).value)
    assert is_signed_in(fresh)


def test_without_remember_me_there_is_no_remember_cookie(app, client, carol):
    response = sign_in(client, "carol@example.com")
    assert response.status_code == 302
    assert app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in set_cookies(response)


def test_session_cookie_is_httponly_and_samesite_lax(app, client, carol):
    response = sign_in(client, "carol@example.com")
    cookie = set_cookies(response)[app.config["SESSION_COOKIE_NAME"]]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# --- where to go after signing in --------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in_and_then_back(client, carol):
    response = client.get("/cases?status=open")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")

    page = client.get(login_url)
    data = {**hidden_inputs(page.get_data(as_text=True)), "email": "carol@example.com", "password": factories.PASSWORD}
    response = client.post("/login", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases?status=open"


@pytest.mark.parametrize("target", ["/cases", "/cases?status=open&kind=issue", "/cases/CB-1"])
def test_local_next_is_honoured(client, carol, target):
    response = sign_in(client, "carol@example.com", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/cases",
        "https://evil.example",
        "http://evil.example/login",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "https:/evil.example",
        "javascript:alert(1)",
        "cases",
    ],
)
def test_open_redirect_attempts_go_home(client, carol, target):
    response = sign_in(client, "carol@example.com", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- signing out -------------------------------------------------------------------------------


def test_logout_is_post_only(client, carol):
    sign_in(client, "carol@example.com")
    response = client.get("/logout")
    assert response.status_code == 405
    assert "That action is not allowed here" in response.get_data(as_text=True)
    assert is_signed_in(client)


def test_logout_signs_out_and_forgets_remember_me(app, client, carol):
    sign_in(client, "carol@example.com", remember=True)
    name = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    assert client.get_cookie(name) is not None
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert client.get_cookie(name) is None
    assert not is_signed_in(client)


def test_logout_needs_a_csrf_token(app, client, carol, monkeypatch):
    sign_in(client, "carol@example.com")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/logout")
    assert response.status_code == 400
    assert is_signed_in(client)


# --- the per-address rate limit ----------------------------------------------------------------


@pytest.fixture(params=[{}])
def rate_limited_app(app, tmp_path, monkeypatch, request):
    """An app of its own with a 3-per-minute sign-in limit.

    The limiter is one module-level object that each `create_app` reconfigures, so its `enabled`
    flag is put back afterwards: the shared test app must stay unlimited. On SQLite the new app gets
    a fresh database file with the schema; on PostgreSQL it shares the test database, whose schema
    the session `app` fixture has created. Only unknown e-mails are sent, so nothing is written.
    """
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    limited = create_app(
        make_test_config(tmp_path, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", **request.param)
    )
    if not os.environ.get("TEST_DATABASE_URL"):
        with limited.app_context():
            db.create_all()
    yield limited
    limiter.reset()
    with limited.app_context():
        db.session.remove()
        db.engine.dispose()


def test_fourth_sign_in_attempt_per_minute_from_one_address_gets_429(rate_limited_app):
    client = rate_limited_app.test_client()
    data = {"email": "nobody@example.com", "password": "wrong guess"}
    for _ in range(3):
        assert client.post("/login", data=data).status_code == 400

    response = client.post("/login", data=data)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html
    assert "Please wait a minute and try again." in html
    assert "Retry-After" in response.headers

    # Only sign-in attempts count, and only from that address.
    assert client.get("/login").status_code == 200
    other = client.post("/login", data=data, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 400


@pytest.mark.parametrize("rate_limited_app", [{"TRUSTED_PROXIES": 1}], indirect=True)
def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_address(rate_limited_app):
    client = rate_limited_app.test_client()
    data = {"email": "nobody@example.com", "password": "wrong guess"}
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(3):
        client.post("/login", data=data, environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.1"})
    blocked = client.post("/login", data=data, environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.1"})
    assert blocked.status_code == 429
    another_visitor = client.post("/login", data=data, environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.2"})
    assert another_visitor.status_code == 400


# --- authenticate(), without HTTP --------------------------------------------------------------


def authenticate(email, password, **kwargs):
    kwargs.setdefault("max_failures", 3)
    kwargs.setdefault("lockout", timedelta(minutes=15))
    return services.authenticate(email, password, **kwargs)


def test_authenticate_returns_the_user_and_records_the_sign_in(carol):
    carol.failed_logins = 2
    now = utcnow()
    assert authenticate("Carol@Example.com", factories.PASSWORD, now=now) is carol
    assert carol.last_login_at == now
    assert carol.failed_logins == 0


@pytest.mark.parametrize(
    ("email", "password"),
    [("carol@example.com", "wrong"), ("nobody@example.com", factories.PASSWORD), ("carol@example.com", "")],
)
def test_authenticate_refuses_bad_credentials(carol, email, password):
    assert authenticate(email, password) is None
    assert carol.last_login_at is None


def test_authenticate_refuses_inactive_users_and_users_without_a_password(db_session):
    inactive = factories.make_user(role=Role.ADMIN, active=False)
    invited = factories.make_user(role=Role.ADMIN, password_hash=None)
    assert authenticate(inactive.email, factories.PASSWORD) is None
    assert authenticate(invited.email, factories.PASSWORD) is None
    assert authenticate(invited.email, "") is None


def test_authenticate_locks_after_max_failures_and_unlocks_after_the_lockout(carol):
    start = utcnow()
    for attempt in range(1, 3):
        assert authenticate("carol@example.com", "wrong", now=start) is None
        assert carol.failed_logins == attempt
        assert carol.locked_until is None
    assert authenticate("carol@example.com", "wrong", now=start) is None
    assert carol.locked_until == start + timedelta(minutes=15)

    # While locked even the right password fails, and further guesses do not extend the lock.
    during = start + timedelta(minutes=14)
    assert authenticate("carol@example.com", factories.PASSWORD, now=during) is None
    assert authenticate("carol@example.com", "wrong", now=during) is None
    assert carol.locked_until == start + timedelta(minutes=15)

    after = start + timedelta(minutes=15, seconds=1)
    assert authenticate("carol@example.com", factories.PASSWORD, now=after) is carol
    assert carol.locked_until is None


def test_failed_sign_ins_are_counted_by_the_database(carol):
    # Another request (another session) has just counted failures this session has not seen:
    # counting in Python from the stale value would lose them, and parallel guesses would never lock.
    assert carol.failed_logins == 0
    db.session.execute(
        sa.update(User).where(User.id == carol.id).values(failed_logins=2),
        execution_options={"synchronize_session": False},
    )
    assert authenticate("carol@example.com", "wrong") is None
    assert carol.locked_until is not None


# --- production settings -----------------------------------------------------------------------


@pytest.fixture
def production_env(monkeypatch):
    for name in ("SESSION_COOKIE_SECURE", "RATELIMIT_STORAGE_URI", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db.internal/casebridge")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    return monkeypatch


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET_KEY, "short-but-not-default"])
def test_production_config_refuses_the_default_or_a_weak_secret_key(production_env, secret):
    if secret is None:
        production_env.delenv("SECRET_KEY")
    else:
        production_env.setenv("SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        ProductionConfig()


def test_production_config_refuses_to_start_without_a_database_url(production_env):
    production_env.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ProductionConfig()


def test_production_config_sets_secure_cookies(production_env):
    config = ProductionConfig()
    assert config.SESSION_COOKIE_SECURE is True
    assert config.REMEMBER_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.REMEMBER_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"
    assert config.PREFERRED_URL_SCHEME == "https"
    assert config.RATELIMIT_STORAGE_URI.startswith("redis://")
    assert not getattr(config, "DEBUG", False)
