"""Accessibility in a real browser: axe-core on each page, and the sign-in done by keyboard alone.

axe violations of impact "serious" or "critical" fail the test. Lesser violations, and the checks
axe could not decide ("incomplete": needs a person to review), are printed with the test's output
so they can be read with `pytest -rP`.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import factories
from tests.e2e.helpers import sign_in

BLOCKING_IMPACTS = {"serious", "critical"}


def _login(page, server):
    page.goto("/login")


def _case_list(page, server):
    sign_in(page, server.customer)


def _new_case(page, server):
    sign_in(page, server.customer)
    page.goto("/cases/new")


def _new_case_with_errors(page, server):
    _new_case(page, server)
    page.get_by_label("Subject").fill("ab")
    page.get_by_role("button", name="Send case").click()
    expect(page.get_by_text("Please check the form")).to_be_visible()


def _case_detail(page, server):
    sign_in(page, server.customer)
    page.goto(f"/cases/{server.open_case}")


def _resolved_case_detail(page, server):
    sign_in(page, server.customer)
    page.goto(f"/cases/{server.resolved_case}")
    expect(page.get_by_role("heading", name="Is this solved?")).to_be_visible()


def _not_found(page, server):
    sign_in(page, server.other_customer)
    response = page.goto(f"/cases/{server.open_case}")
    assert response.status == 404


def _staff_queue(page, server):
    sign_in(page, server.team_lead, lands_on="**/work/triage")
    expect(page.get_by_text("Single sign-on fails for new starters")).to_be_visible()


def _staff_case_detail(page, server):
    sign_in(page, server.team_lead, lands_on="**/work/triage")
    page.goto(f"/cases/{server.open_case}")
    expect(page.get_by_role("heading", name="Internal note")).to_be_visible()


PAGES = {
    "login": _login,
    "case-list": _case_list,
    "new-case": _new_case,
    "new-case-with-errors": _new_case_with_errors,
    "case-detail": _case_detail,
    "resolved-case-detail": _resolved_case_detail,
    "not-found": _not_found,
    "staff-queue": _staff_queue,
    "staff-case-detail": _staff_case_detail,
}


def describe(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}  {violation['helpUrl']}")
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return "\n".join(lines)


@pytest.mark.e2e
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(page, live_server, name):
    PAGES[name](page, live_server)
    results = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    others = [v for v in results["violations"] if v["impact"] not in BLOCKING_IMPACTS]
    if others:
        print(f"Lesser axe violations on {name} ({page.url}):\n{describe(others)}")
    if results["incomplete"]:
        print(f"axe checks to review by hand on {name} ({page.url}):\n{describe(results['incomplete'])}")
    assert not blocking, f"axe on {name} ({page.url}) found:\n{describe(blocking)}"


def _focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
                    text: (el.innerText || '').trim(), outline: style.outlineStyle,
                    onScreen: box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight};
        }"""
    )


@pytest.mark.e2e
def test_keyboard_user_reaches_skip_link_and_signs_in(page, live_server):
    keyboard = page.keyboard
    page.goto("/login")
    # The e-mail field has autofocus; going back from it reaches the brand link, then the skip link.
    assert _focused(page)["id"] == "email"
    keyboard.press("Shift+Tab")
    keyboard.press("Shift+Tab")
    focused = _focused(page)
    assert focused["text"] == "Skip to main content"
    assert focused["onScreen"], "the skip link must become visible when it has focus"
    assert focused["outline"] != "none"

    keyboard.press("Enter")
    assert _focused(page)["id"] == "main"
    keyboard.press("Tab")
    assert _focused(page)["id"] == "email"
    keyboard.type(live_server.customer)
    keyboard.press("Tab")
    assert _focused(page)["id"] == "password"
    keyboard.type(factories.PASSWORD)
    keyboard.press("Tab")
    assert _focused(page)["id"] == "remember"
    keyboard.press("Space")
    expect(page.get_by_label("Keep me signed in on this device")).to_be_checked()
    keyboard.press("Tab")
    focused = _focused(page)
    assert (focused["tag"], focused["text"]) == ("button", "Sign in")
    assert focused["outline"] != "none", "keyboard focus must be visible"
    keyboard.press("Enter")
    page.wait_for_url("**/cases")
    expect(page.get_by_role("heading", level=1)).to_have_text("Our cases")

    # On a fresh page the skip link is the first stop, and it jumps past the navigation.
    keyboard.press("Tab")
    assert _focused(page)["text"] == "Skip to main content"
    keyboard.press("Enter")
    keyboard.press("Tab")
    assert _focused(page)["text"] == "New case"
    assert page.evaluate("document.activeElement.closest('main') !== null")
