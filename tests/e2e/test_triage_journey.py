"""The working day in a real browser: a customer's case goes through triage, a question, a reply,
resolution and the customer's confirmation."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import sign_in, sign_out


def open_action(page, summary: str) -> None:
    page.locator("summary", has_text=summary).click()


@pytest.mark.e2e
def test_triage_reply_wait_customer_reply_resolve_and_confirm(page, live_server):
    # Sam's account has no manager, so a new case waits in triage.
    sign_in(page, live_server.other_customer)
    page.goto("/cases/new")
    page.get_by_label("Query — a question for us").check()
    page.get_by_label("Category").select_option("billing")
    page.get_by_label("Subject").fill("Which plan includes audit logs?")
    page.get_by_label("Description").fill("We need audit logs for our compliance review.")
    page.get_by_role("button", name="Send case").click()
    page.wait_for_url(re.compile(r"/cases/CB-[0-9]+/submitted$"))
    reference = page.locator(".reference-box .ref").inner_text()
    sign_out(page)

    # The team lead finds it in the triage queue and takes it.
    sign_in(page, live_server.team_lead, lands_on="**/work/**")
    page.goto("/work/triage")
    page.get_by_role("row").filter(has_text=reference).get_by_role("link").click()
    open_action(page, "Assign")
    assignee = page.get_by_label("Assign to")
    assignee.select_option(assignee.locator("option", has_text="Tara Lead").get_attribute("value"))
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".badges")).to_contain_text("Open")

    # A question for the customer pauses the clock.
    open_action(page, "Wait on the customer")
    page.get_by_label(re.compile("Question for the customer")).fill("Which plan are you on today?")
    page.get_by_role("button", name="Set waiting on customer").click()
    expect(page.locator(".badges")).to_contain_text("Waiting on customer")
    sign_out(page)

    # The customer answers; the case is open again.
    sign_in(page, live_server.other_customer)
    page.goto(f"/cases/{reference}")
    expect(page.get_by_text("Which plan are you on today?")).to_be_visible()
    page.get_by_label("Your reply").fill("We are on the Standard plan.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".badges")).to_contain_text("Open")
    sign_out(page)

    # The team lead resolves it with a summary.
    sign_in(page, live_server.team_lead, lands_on="**/work/**")
    page.goto(f"/cases/{reference}")
    open_action(page, "Resolve")
    page.get_by_label(re.compile("Resolution summary")).fill("Audit logs come with the Premium plan; quote sent.")
    page.get_by_role("button", name="Resolve the case").click()
    expect(page.locator(".badges")).to_contain_text("Resolved")
    sign_out(page)

    # The customer confirms, and the case closes.
    sign_in(page, live_server.other_customer)
    page.goto(f"/cases/{reference}")
    expect(page.get_by_text("Audit logs come with the Premium plan; quote sent.")).to_be_visible()
    page.get_by_role("button", name="Yes, it is solved").click()
    expect(page.locator(".badges")).to_contain_text("Closed")
    expect(page.get_by_role("button", name="Send reply")).to_have_count(0)
