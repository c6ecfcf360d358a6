"""An executive opens the dashboard, then the quarterly report, and downloads the XLSX, which is
read back; axe-core checks both pages (serious and critical violations fail).

The shared live server seeds no executive and no report data, so this module adds them to the live
server's SQLite file through an app of its own (until the seed gains them: see issue 6's report).
"""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal import create_app
from portal.extensions import db
from portal.models import Account, Kind, Role, Severity, Status, User
from portal.models.base import utcnow
from portal.reports.periods import quarter_of
from tests import factories
from tests.conftest import make_test_config
from tests.e2e.helpers import sign_in
from tests.e2e.test_accessibility import BLOCKING_IMPACTS, describe

EXECUTIVE = "erin.executive@casebridge.example"


@pytest.fixture(scope="session")
def report_seed(live_server, tmp_path_factory):
    """An executive, an account manager for the seeded premium account, and this quarter's
    resolved, rated and feedback cases, written into the live server's database file."""
    database = live_server.database
    app = create_app(make_test_config(database.parent, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}"))
    with app.app_context():
        if db.session.scalar(db.select(User).where(User.email == EXECUTIVE)) is None:
            factories.make_user(role=Role.EXECUTIVE, name="Erin Executive", email=EXECUTIVE)
            manager = factories.make_user(
                role=Role.ACCOUNT_MANAGER, name="Mo Manager", email="mo.am@casebridge.example"
            )
            northwind = db.session.scalar(db.select(Account).where(Account.name == "Northwind Traders"))
            northwind.manager = manager
            dana = db.session.scalar(db.select(User).where(User.email == live_server.customer))
            now = utcnow()
            start = quarter_of(now).start
            at = start + (now - start) / 2
            for hours, score in ((2, 5), (5, 2), (1, 4)):
                factories.make_case(
                    requester=dana,
                    subject=f"Report data case {hours}",
                    status=Status.RESOLVED,
                    severity=Severity.HIGH,
                    created_at=at,
                    first_response_due_at=at + timedelta(hours=3),
                    first_response_at=at + timedelta(hours=hours),
                    resolution_due_at=at + timedelta(days=2),
                    resolved_at=at + timedelta(hours=hours * 5),
                    satisfaction_score=score,
                    escalation_level=1 if score < 3 else 0,
                )
            for subject in ("Dark mode please", "A dark mode for the portal", "Export reports to PDF"):
                factories.make_case(
                    requester=dana, subject=subject, kind=Kind.FEEDBACK, category="feature_request", created_at=at
                )
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return EXECUTIVE


def check_axe(page, name):
    results = Axe().run(page, options={"resultTypes": ["violations"]}).response
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {name} ({page.url}) found:\n{describe(blocking)}"


@pytest.mark.e2e
def test_executive_opens_dashboard_and_report_and_downloads_the_xlsx(page, live_server, report_seed):
    sign_in(page, report_seed, lands_on="**/work/**")
    page.goto("/dashboard")
    expect(page.get_by_role("heading", name="Open cases by severity and age")).to_be_visible()
    expect(page.get_by_role("img", name="Satisfaction trend")).to_be_visible()
    expect(page.get_by_role("row", name="Northwind Traders")).to_be_visible()
    check_axe(page, "dashboard")

    page.get_by_role("link", name="Quarterly report").click()
    quarter = quarter_of(utcnow()).label
    expect(page.get_by_role("heading", name=f"Report {quarter}")).to_be_visible()
    expect(page.get_by_role("heading", name="Suggestions digest")).to_be_visible()
    check_axe(page, "report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download XLSX").click()
    download = download_info.value
    assert download.suggested_filename == f"casebridge-report-{quarter}.xlsx"
    with open(download.path(), "rb") as file:  # Playwright's temporary file has no .xlsx suffix
        workbook = load_workbook(file)
    assert "Summary" in workbook.sheetnames and "Suggestions digest" in workbook.sheetnames
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Cases opened"] >= 6
    assert summary["Satisfaction: ratings"] >= 3


@pytest.mark.e2e
def test_report_with_a_bad_period_shows_the_message(page, live_server, report_seed):
    sign_in(page, report_seed, lands_on="**/work/**")
    response = page.goto("/reports?period=2026-Q7")
    assert response.status == 400
    expect(page.get_by_text("Unknown period")).to_be_visible()
    check_axe(page, "report with errors")
