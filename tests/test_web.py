"""Web plumbing: security headers, downloads, friendly error pages, CSRF, time filters, `next`,
case references in URLs, keyset pagination and the list filters."""

import base64
import html
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import g
from flask_login import login_user
from werkzeug.exceptions import InternalServerError

from portal import errors
from portal.cases import services
from portal.cases.attachments import Upload
from portal.extensions import db
from portal.models import Account, Case, CaseEvent, Kind, Status
from portal.web import MAX_ID, CaseRefConverter, is_safe_next, localtime, relative
from tests import factories

ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
FRIENDLY_404 = "We could not find that page or case."


def text(response) -> str:
    return response.get_data(as_text=True)


# --- security headers ----------------------------------------------------------------------------


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    for directive in ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Case addresses must not leak to other sites, yet same-origin POSTs need their Referer:
    # Flask-WTF checks it on HTTPS, so "no-referrer" would break every form.
    assert response.headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin"}


def test_pages_carry_security_headers(client, client_as, world):
    assert_security_headers(client.get("/login"))
    assert_security_headers(client_as(world.alice).get("/cases"))
    assert_security_headers(client_as(world.alice).get("/cases/CB-999999"))


def test_pages_need_no_inline_script_or_style(client, client_as, world):
    # The CSP forbids inline code, so a page that relied on it would break in the browser.
    case = factories.make_case(requester=world.alice)
    for response in (client.get("/login"), client_as(world.manager_a).get(f"/cases/{case.reference}")):
        page = text(response)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
        assert not re.search(r"\sstyle=", page)
        assert not re.search(r"\son[a-z]+=", page)


def test_hsts_is_sent_only_when_cookies_are_secure(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


# --- attachment downloads --------------------------------------------------------------------------


def test_attachment_download_is_an_attachment_never_rendered_inline(client_as, world):
    case = factories.make_case(requester=world.alice)
    payload = b"<script>alert(1)</script> looks like HTML"
    event = services.reply_to_case(
        case, author=world.alice, body="log", uploads=[Upload("trace.txt", "text/plain", payload)]
    )
    response = client_as(world.alice).get(f"/attachments/{event.attachments[0].id}")
    assert response.status_code == 200
    assert response.get_data() == payload
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "trace.txt" in response.headers["Content-Disposition"]
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cache_control = response.headers["Cache-Control"]
    assert "private" in cache_control
    assert "no-store" in cache_control
    assert "public" not in cache_control


# --- friendly error pages --------------------------------------------------------------------------


def assert_friendly(response, status, title):
    assert response.status_code == status
    page = text(response)
    assert f"Error {status}" in page
    assert title in page
    assert "Go to the start page" in page
    assert "<title>" in page and "Casebridge" in page  # the site's layout, not Werkzeug's bare page


def test_unknown_case_reference_gets_a_friendly_404(client_as, world):
    response = client_as(world.alice).get("/cases/CB-999999")
    assert_friendly(response, 404, "Page not found")
    assert FRIENDLY_404 in text(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/cases/CB-999999999999"),  # no id that large exists (PostgreSQL would refuse to compare it)
        ("POST", "/cases/CB-2147483648/reply"),
        ("GET", "/nowhere"),
        ("GET", "/cases/CB-x"),
    ],
)
def test_unmatchable_addresses_get_a_friendly_404(client_as, world, method, path):
    assert_friendly(client_as(world.alice).open(path, method=method), 404, "Page not found")


def test_impossible_attachment_id_gets_a_friendly_404(client_as, world):
    assert_friendly(client_as(world.alice).get(f"/attachments/{MAX_ID + 1}"), 404, "Page not found")


def test_wrong_method_gets_a_friendly_405_that_says_what_is_allowed(client_as, world):
    response = client_as(world.alice).get("/logout")
    assert_friendly(response, 405, "That action is not allowed here")
    assert "POST" in response.headers["Allow"]
    assert "GET" not in response.headers["Allow"]


def test_oversize_upload_gets_a_friendly_413_and_saves_nothing(app, client_as, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    data = {
        "kind": "issue",
        "category": "billing",
        "severity": "low",
        "subject": "Too big",
        "description": "See attached",
        "attachments": (io.BytesIO(b"x" * 8192), "big.txt"),
    }
    response = client_as(world.alice).post("/cases/new", data=data, content_type="multipart/form-data")
    assert_friendly(response, 413, "That upload is too large")
    assert "at most 10 MB" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 0


def test_post_without_csrf_token_gets_a_friendly_400(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client.post("/login", data={"email": "someone@example.com", "password": "whatever"})
    assert_friendly(response, 400, "That request could not be understood")
    assert "Nothing was saved" in text(response)


def test_reply_without_csrf_token_is_refused_and_not_saved(app, client_as, world, monkeypatch):
    case = factories.make_case(requester=world.alice)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = client_as(world.alice).post(f"/cases/{case.reference}/reply", data={"body": "Forged"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)) == 1


def test_api_paths_get_json_errors(client_as, world):
    response = client_as(world.alice).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == 404
    assert error["message"] == FRIENDLY_404 + " It may have been moved, or you may not have access to it."
    assert error["fields"] == {}


def test_server_error_rolls_back_the_unit_of_work_and_shows_a_friendly_page(app, db_session):
    account = Account(name="Half-written Ltd")
    db.session.add(account)
    with app.test_request_context("/cases"):
        body, status, _ = errors.handle_server_error(InternalServerError())
    assert status == 500
    assert "Something went wrong on our side" in body
    assert account not in db.session
    assert db.session.scalar(sa.select(Account).where(Account.name == "Half-written Ltd")) is None


# --- time filters ----------------------------------------------------------------------------------

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=-30), "just now"),
        (timedelta(seconds=30), "in under a minute"),
        (timedelta(minutes=-5), "5 min ago"),
        (timedelta(minutes=59, seconds=59), "in 59 min"),
        (timedelta(hours=-3), "3 h ago"),
        (timedelta(days=1), "in 1 day"),
        (timedelta(days=-2, hours=-5), "2 days ago"),
        (timedelta(days=-59), "59 days ago"),
        (timedelta(days=-90), "3 months ago"),
    ],
)
def test_relative_times(delta, expected):
    assert relative(NOW + delta, now=NOW) == expected


def test_relative_and_localtime_of_nothing_are_empty(app):
    assert relative(None) == ""
    with app.test_request_context():
        assert localtime(None) == ""


@pytest.fixture
def signed_in_as(app, db_session):
    """Run code in a request as a given user, then forget them again."""

    def _as(user):
        context = app.test_request_context()
        context.push()
        login_user(user)
        return context

    contexts = []
    yield lambda user: contexts.append(_as(user))
    for context in reversed(contexts):
        context.pop()
    g.pop("_login_user", None)


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("America/New_York", "Mon 15 Jan 2024, 07:00"),
        ("Asia/Tokyo", "Mon 15 Jan 2024, 21:00"),
        ("Not/AZone", "Mon 15 Jan 2024, 12:00"),  # unknown zone: shown in UTC rather than failing
    ],
)
def test_localtime_uses_the_viewers_time_zone(world, signed_in_as, zone, expected):
    world.alice.timezone = zone
    signed_in_as(world.alice)
    assert localtime(datetime(2024, 1, 15, 12, 0, tzinfo=UTC)) == expected


def test_localtime_for_anonymous_visitors_uses_the_portal_zone(app):
    with app.test_request_context():
        # Europe/London is on summer time (UTC+1) in July.
        assert localtime(datetime(2024, 7, 15, 12, 0, tzinfo=UTC)) == "Mon 15 Jul 2024, 13:00"


def test_case_page_shows_times_in_each_viewers_zone(client_as, world):
    world.alice.timezone = "America/New_York"
    world.anna.timezone = "Asia/Tokyo"
    case = factories.make_case(requester=world.alice, created_at=datetime(2024, 1, 15, 12, 0, tzinfo=UTC))
    assert "Mon 15 Jan 2024, 07:00" in text(client_as(world.alice).get(f"/cases/{case.reference}"))
    assert "Mon 15 Jan 2024, 21:00" in text(client_as(world.anna).get(f"/cases/{case.reference}"))


# --- next, and case references in URLs ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["/", "/cases", "/cases/CB-12?x=1#latest", "/profile"])
def test_local_paths_are_safe_next_targets(target):
    assert is_safe_next(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "///evil.example",
        "https://evil.example/cases",
        "http:evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "cases",
        " /cases",
    ],
)
def test_other_targets_are_not_safe_next_targets(target):
    assert not is_safe_next(target)


def test_case_reference_converter_round_trips_and_refuses_impossible_ids(app):
    converter = CaseRefConverter(app.url_map)
    assert converter.to_python("CB-42") == 42
    assert converter.to_url(42) == "CB-42"
    assert converter.to_python(f"CB-{MAX_ID}") == MAX_ID
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        assert adapter.match("/cases/CB-7") == ("cases.detail", {"case_id": 7})
        with pytest.raises(Exception) as refused:
            adapter.match(f"/cases/CB-{MAX_ID + 1}")
        assert refused.value.code == 404


# --- keyset pagination ---------------------------------------------------------------------------------


def listed_refs(page: str) -> list[str]:
    return re.findall(r'class="ref">(CB-\d+)</span>', page)


def next_link(page: str) -> str | None:
    match = re.search(r'href="([^"]+)" rel="next"', page)
    return html.unescape(match.group(1)) if match else None


@pytest.fixture
def thirty_cases(world):
    """30 cases of account A, newest first; every three share a creation time, to test the tie-break."""
    start = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    cases = [
        factories.make_case(
            requester=world.alice, subject=f"Case number {n}", created_at=start - timedelta(minutes=n // 3)
        )
        for n in range(30)
    ]
    return sorted(cases, key=lambda c: (c.created_at, c.id), reverse=True)


def test_keyset_pagination_walks_every_case_once(app, client_as, world, thirty_cases):
    client = client_as(world.alice)
    first = text(client.get("/cases"))
    page_size = app.config["PAGE_SIZE"]
    assert page_size == 25
    first_refs = listed_refs(first)
    assert first_refs == [c.reference for c in thirty_cases[:page_size]]

    second = client.get(next_link(first))
    assert second.status_code == 200
    second_refs = listed_refs(text(second))
    assert second_refs == [c.reference for c in thirty_cases[page_size:]]
    assert len(second_refs) == 5
    assert not set(first_refs) & set(second_refs)
    assert next_link(text(second)) is None


def test_pagination_keeps_the_filters(client_as, world, thirty_cases):
    for case in thirty_cases[::2]:
        case.kind = Kind.FEEDBACK
    db.session.flush()
    client = client_as(world.alice)
    first = text(client.get("/cases?kind=feedback"))
    assert len(listed_refs(first)) == 15
    assert next_link(first) is None


def _cursor(raw) -> str:
    return base64.urlsafe_b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        "é",
        _cursor("garbage"),
        _cursor(json.dumps(["2024-05-01T09:00:00", 5])),  # a naive time
        _cursor(json.dumps(["yesterday", 5])),
        _cursor(json.dumps(["2024-05-01T09:00:00+00:00", "5"])),
        _cursor(json.dumps({"a": 1})),
        _cursor(b"\xff\xfe"),
    ],
)
def test_malformed_cursor_is_treated_as_the_first_page(client_as, world, thirty_cases, cursor):
    client = client_as(world.alice)
    first = listed_refs(text(client.get("/cases")))
    response = client.get("/cases", query_string={"cursor": cursor})
    assert response.status_code == 200
    assert listed_refs(text(response)) == first


def test_cursor_with_an_out_of_range_time_is_treated_as_the_first_page(client_as, world, thirty_cases):
    client = client_as(world.alice)
    response = client.get("/cases", query_string={"cursor": _cursor(json.dumps(["0001-01-01T00:00:00+05:00", 5]))})
    assert response.status_code == 200


def test_cursor_with_an_impossible_id_does_not_fail(client_as, world, thirty_cases):
    client = client_as(world.alice)
    response = client.get("/cases", query_string={"cursor": _cursor(json.dumps(["2024-05-01T09:00:00+00:00", 10**15]))})
    assert response.status_code == 200


# --- list filters -------------------------------------------------------------------------------------


@pytest.fixture
def mixed_cases(world):
    return {
        "new-issue": factories.make_case(requester=world.alice, subject="Alpha new issue", status=Status.NEW),
        "open-query": factories.make_case(
            requester=world.alice, subject="Bravo open query", status=Status.OPEN, kind=Kind.QUERY
        ),
        "waiting-feedback": factories.make_case(
            requester=world.alice,
            subject="Charlie waiting feedback",
            status=Status.WAITING_ON_CUSTOMER,
            kind=Kind.FEEDBACK,
        ),
        "resolved-issue": factories.make_case(
            requester=world.alice, subject="Delta resolved issue", status=Status.RESOLVED
        ),
        "closed-feedback": factories.make_case(
            requester=world.alice, subject="Echo closed feedback", status=Status.CLOSED, kind=Kind.FEEDBACK
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"new-issue", "open-query", "waiting-feedback", "resolved-issue", "closed-feedback"}),
        ("status=resolved", {"resolved-issue"}),
        ("status=active", {"new-issue", "open-query", "waiting-feedback"}),
        ("kind=feedback", {"waiting-feedback", "closed-feedback"}),
        ("status=closed&kind=feedback", {"closed-feedback"}),
        ("status=open&kind=feedback", set()),
    ],
)
def test_list_filters_by_status_and_kind(client_as, world, mixed_cases, query, expected):
    response = client_as(world.alice).get(f"/cases?{query}")
    assert response.status_code == 200
    shown = set(listed_refs(text(response)))
    assert shown == {mixed_cases[name].reference for name in expected}


@pytest.mark.parametrize("query", ["status=bogus", "kind=bogus", "status=open&kind=%00", "status=OPEN"])
def test_unknown_filter_value_gets_400_and_every_case(client_as, world, mixed_cases, query):
    response = client_as(world.alice).get(f"/cases?{query}")
    assert response.status_code == 400
    page = text(response)
    assert "That filter was not recognised" in page
    assert set(listed_refs(page)) == {case.reference for case in mixed_cases.values()}
