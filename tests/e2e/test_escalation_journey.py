"""Escalation in a real browser: a customer escalates, a team lead acknowledges and raises it to
level 2, an executive records a decision; and axe on the executive board.

The shared live server's seed has no executive, so this module serves its own portal
(`serve_portal` from tests/e2e/conftest.py: its own SQLite file, CSRF on) with a customer, a team
lead and an executive, and drives it with the shared `browser`.
"""

import re
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal.models import Role, Tier
from tests import factories
from tests.e2e.conftest import TIMEOUT_MS, serve_portal
from tests.e2e.helpers import sign_in, sign_out
from tests.e2e.test_accessibility import BLOCKING_IMPACTS


def _seed() -> SimpleNamespace:
    account = factories.make_account(name="Initech", tier=Tier.PREMIUM)
    customer = factories.make_user(
        role=Role.CUSTOMER, account=account, name="Ivy Customer", email="ivy@initech.example"
    )
    lead = factories.make_user(role=Role.TEAM_LEAD, name="Lena Lead", email="lena.lead@casebridge.example")
    executive = factories.make_user(role=Role.EXECUTIVE, name="Eli Executive", email="eli.exec@casebridge.example")
    case = factories.make_case(requester=customer, subject="Payroll export fails every Friday", category="data")
    return SimpleNamespace(customer=customer.email, lead=lead.email, executive=executive.email, case=case.reference)


@pytest.fixture(scope="module")
def escalation_server(tmp_path_factory):
    with serve_portal(tmp_path_factory.mktemp("e2e-escalation"), _seed) as (url, seed):
        yield SimpleNamespace(url=url, **vars(seed))


@pytest.fixture
def esc_page(browser, escalation_server):
    context = browser.new_context(base_url=escalation_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.mark.e2e
def test_customer_escalates_lead_acknowledges_and_raises_executive_decides(esc_page, escalation_server):
    page, server = esc_page, escalation_server
    panel = page.locator("#escalation")

    sign_in(page, server.customer)
    page.goto(f"/cases/{server.case}")
    panel.locator("summary", has_text="Escalate this case").click()
    panel.get_by_label("Why does this case need escalating?").fill("Our payroll run is blocked every week.")
    panel.get_by_role("button", name="Escalate").click()
    expect(page.get_by_text("Your case has been escalated")).to_be_visible()
    expect(panel).to_contain_text("escalated to our team leads")
    expect(page.locator(".timeline")).to_contain_text("Our payroll run is blocked every week.")
    sign_out(page)

    sign_in(page, server.lead, lands_on="**/work/**")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Escalations").click()
    page.get_by_role("link", name=re.compile("Payroll export fails")).click()
    panel.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Escalation acknowledged")).to_be_visible()
    panel.locator("summary", has_text="Raise to level 2").click()
    panel.get_by_label("Why should the executives take this?").fill("Three weeks running; they talk of leaving.")
    panel.get_by_role("button", name="Raise to level 2").click()
    expect(page.get_by_text("Raised to level 2")).to_be_visible()
    sign_out(page)

    sign_in(page, server.executive, lands_on="**/work/**")
    page.goto("/escalations")
    row = page.get_by_role("row").filter(has_text="Payroll export fails")
    expect(row).to_contain_text("Level 2")
    expect(row).to_contain_text("Unacknowledged")
    row.get_by_role("link").click()
    panel.locator("summary", has_text="Record a decision").click()
    panel.get_by_role("button", name="Record decision").click()  # no outcome yet: refused, text kept
    expect(panel.get_by_text("Choose the outcome of the decision.")).to_be_visible()
    panel.get_by_label("Outcome").select_option("fix_prioritised")
    panel.get_by_label(re.compile("^Decision")).fill("Engineering fixes the export this sprint.")
    panel.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Decision recorded")).to_be_visible()
    expect(panel).to_contain_text("Engineering fixes the export this sprint.")
    sign_out(page)

    sign_in(page, server.customer)
    page.goto(f"/cases/{server.case}")
    expect(panel).to_contain_text("escalated to our executives")
    expect(page.get_by_text("Engineering fixes the export this sprint.")).to_have_count(0)


@pytest.mark.e2e
def test_escalation_board_has_no_serious_accessibility_violations(esc_page, escalation_server):
    sign_in(esc_page, escalation_server.executive, lands_on="**/work/**")
    esc_page.goto("/escalations")
    expect(esc_page.get_by_role("heading", level=1)).to_have_text("Escalations")
    results = Axe().run(esc_page).response
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in blocking]
