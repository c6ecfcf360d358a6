"""The queue's account filter in a real browser: suggestions as you type, and the whole name filters."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.helpers import sign_in

BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.mark.e2e
def test_team_lead_picks_an_account_from_the_suggestions_and_filters_by_it(page, live_server):
    sign_in(page, live_server.team_lead, lands_on="**/work/triage")
    page.goto("/work/all")
    account = page.get_by_label("Account", exact=True)
    account.press_sequentially("north")
    expect(page.locator("#account-suggestions option")).to_have_count(1)
    expect(page.locator("#account-suggestions option")).to_have_attribute("value", "Northwind Traders")

    account.fill("northwind traders")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"account_name=northwind"))
    expect(account).to_have_value("Northwind Traders")
    expect(page.get_by_text("Export to CSV stops at 1,000 rows")).to_be_visible()
    expect(page.get_by_text("Single sign-on fails for new starters")).to_have_count(0)


@pytest.mark.e2e
def test_an_unknown_account_name_is_reported_on_the_field(page, live_server):
    sign_in(page, live_server.team_lead, lands_on="**/work/triage")
    response = page.goto("/work/all?account_name=Umbrella")
    assert response.status == 400
    account = page.get_by_label("Account", exact=True)
    expect(account).to_have_value("Umbrella")
    expect(account).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#account_name-error")).to_contain_text("No account you can filter by has that name.")
    violations = Axe().run(page).response["violations"]
    blocking = [v["id"] for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert blocking == []
