"""A customer's journey in a real browser: sign in, submit a case with a file, find it again."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import CASE_REF, png_bytes, sign_in, sign_out


def fill_case_form(page, *, subject: str, description: str) -> None:
    page.get_by_label("Issue — something is not working").check()
    page.get_by_label("Category").select_option("bug")
    page.get_by_label("How urgent is it?").select_option("high")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Description").fill(description)


@pytest.mark.e2e
def test_customer_submits_issue_with_attachment_and_other_account_gets_404(page, live_server):
    sign_in(page, live_server.customer)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New case").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell us what you need")

    fill_case_form(page, subject="Dashboard charts are blank", description="Since this morning every chart is empty.")
    page.get_by_label("Attachments").set_input_files(
        {"name": "blank-chart.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_role("button", name="Send case").click()

    page.wait_for_url(re.compile(r"/cases/CB-[0-9]+/submitted$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you — we have your case")
    reference = page.locator(".reference-box .ref").inner_text()
    assert CASE_REF.fullmatch(reference), reference
    assert page.url.endswith(f"/cases/{reference}/submitted")

    page.get_by_role("link", name="See all our cases").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Our cases")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Dashboard charts are blank")
    expect(row).to_contain_text("New")

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.get_by_role("link", name="blank-chart.png")).to_be_visible()
    case_url = page.url

    sign_out(page)
    sign_in(page, live_server.other_customer)
    expect(page.get_by_role("row").filter(has_text=reference)).to_have_count(0)
    response = page.goto(case_url)
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("Dashboard charts are blank")).to_have_count(0)


@pytest.mark.e2e
def test_rejected_case_form_keeps_typed_text_and_shows_inline_errors(page, live_server):
    sign_in(page, live_server.customer)
    page.goto("/cases/new")
    page.get_by_label("Subject").fill("ab")
    page.get_by_label("Description").fill("The typed description must survive the round trip.")
    page.get_by_role("button", name="Send case").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Tell us what you need")
    summary = page.get_by_role("alert").filter(has_text="Please check the form")
    expect(summary).to_be_visible()
    for problem in ("What is this about?", "Category", "Subject"):
        expect(summary.get_by_role("link", name=re.compile(re.escape(problem)))).to_be_visible()

    subject = page.get_by_label("Subject")
    expect(subject).to_have_value("ab")
    expect(subject).to_have_attribute("aria-invalid", "true")
    expect(subject).to_have_accessible_description(re.compile("Use 3 to 200 characters."))
    expect(page.get_by_label("Description")).to_have_value("The typed description must survive the round trip.")
    expect(page.get_by_label("Category")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#category-error")).to_have_text("Choose a category.")
    expect(page.locator("#kind-error")).to_have_text("Choose a kind.")

    # The summary's link takes the reader to the field, which can then be corrected in place.
    summary.get_by_role("link", name=re.compile("^Subject")).click()
    expect(subject).to_be_focused()
    subject.fill("Dashboard charts are blank")
    page.get_by_label("Feedback — an idea or a comment").check()
    page.get_by_label("Category").select_option("other")
    page.get_by_role("button", name="Send case").click()
    page.wait_for_url(re.compile(r"/cases/CB-[0-9]+/submitted$"))
