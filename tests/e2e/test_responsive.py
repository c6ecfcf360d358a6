"""Phone-width layout: the pages a customer uses most fit a 390 px screen without sideways scrolling."""

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import sign_in

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def _case_list(page, server):
    page.goto("/cases")


def _new_case(page, server):
    page.goto("/cases/new")


def _new_case_with_errors(page, server):
    page.goto("/cases/new")
    page.get_by_role("button", name="Send case").click()
    expect(page.get_by_text("Please check the form")).to_be_visible()


def _case_detail(page, server):
    page.goto(f"/cases/{server.open_case}")


PAGES = {
    "case-list": _case_list,
    "new-case": _new_case,
    "new-case-with-errors": _new_case_with_errors,
    "case-detail": _case_detail,
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone_screen_without_sideways_scrolling(new_page, live_server, name):
    page = new_page(**PHONE)
    sign_in(page, live_server.customer)
    PAGES[name](page, live_server)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    sizes = page.evaluate("() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})")
    assert sizes["scrollWidth"] <= sizes["innerWidth"], f"{name} scrolls sideways on a phone: {sizes}"
