"""Real-browser fixtures: a live portal on 127.0.0.1 and Playwright driving Debian's Chromium.

The live server is its own app on its own fresh SQLite file, whatever TEST_DATABASE_URL says:
it serves requests from another thread, so it cannot share the per-test rolled-back transaction
the rest of the suite runs in. CSRF protection is on, as in production, so every form the
browser sends proves it carries its token. Without /usr/bin/chromium these tests are skipped.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from portal import create_app
from portal.extensions import db
from portal.models import Role, Severity, Status, Tier
from tests import factories
from tests.conftest import make_test_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "Chromium not installed: apt-get install chromium"
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(config, items):
    if os.access(CHROMIUM, os.X_OK):
        return
    skip = pytest.mark.skip(reason=NO_CHROMIUM)
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


class QuietHandler(WSGIRequestHandler):
    """Keeps one log line per request (and per static file) out of the test output."""

    def log_request(self, code="-", size="-"):
        pass


def _seed() -> SimpleNamespace:
    """Two accounts with one customer each and a team lead; two cases of the first account's customer
    (open, resolved) and one of the second's, new and waiting for triage."""
    northwind = factories.make_account(name="Northwind Traders", tier=Tier.PREMIUM)
    globex = factories.make_account(name="Globex Corporation")
    dana = factories.make_user(
        role=Role.CUSTOMER, account=northwind, name="Dana Customer", email="dana@northwind.example"
    )
    sam = factories.make_user(role=Role.CUSTOMER, account=globex, name="Sam Customer", email="sam@globex.example")
    tara = factories.make_user(role=Role.TEAM_LEAD, name="Tara Lead", email="tara.lead@casebridge.example")
    open_case = factories.make_case(
        requester=dana,
        subject="Export to CSV stops at 1,000 rows",
        description="The monthly export ends at row 1,000.\nWe expected about 4,200 rows.",
        category="data",
    )
    factories.add_event(open_case, actor=dana, body="It happens in every browser we tried.")
    resolved_case = factories.make_case(
        requester=dana, subject="Invoice address is out of date", category="billing", status=Status.RESOLVED
    )
    factories.make_case(
        requester=sam,
        subject="Single sign-on fails for new starters",
        category="account_access",
        severity=Severity.HIGH,
        status=Status.NEW,
    )
    return SimpleNamespace(
        customer=dana.email,
        other_customer=sam.email,
        team_lead=tara.email,
        open_case=open_case.reference,
        resolved_case=resolved_case.reference,
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The portal served on 127.0.0.1 from a background thread, with its seed data.

    Yields `url`, the SQLite `database` file (for modules that add data of their own), plus the
    seeded sign-in e-mails (`customer`, `other_customer`, `team_lead`;
    password factories.PASSWORD) and case references (`open_case`, `resolved_case`).
    """
    folder = tmp_path_factory.mktemp("e2e")
    with serve_portal(folder, _seed) as (url, seed):
        yield SimpleNamespace(url=url, database=folder / "e2e.db", **vars(seed))


@contextmanager
def serve_portal(folder, seed):
    """Serve a portal of its own from `folder/e2e.db` (CSRF on, as in production) in a background
    thread; `seed()` fills it first. Yields the base URL and what `seed` returned."""
    app = create_app(
        make_test_config(folder, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'e2e.db'}", WTF_CSRF_ENABLED=True)
    )
    with app.app_context():
        db.create_all()
        seeded = seed()
        db.session.commit()
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seeded
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """`new_page(**context_options)`: a page in a fresh browser context (no cookies) on the live server."""
    contexts = []

    def _new_page(**options):
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
