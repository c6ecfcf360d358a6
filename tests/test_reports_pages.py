"""Report and dashboard pages: who sees what, bad input, the CSV and XLSX downloads, and a
constant number of SQL statements however much data there is."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from portal.extensions import db
from portal.models import Kind, Severity, Status
from portal.models.base import utcnow
from portal.reports.periods import quarter_of
from tests import factories
from tests.test_triage_queues import count_statements

REPORT_ROUTES = ("/reports", "/reports/export.csv", "/reports/export.xlsx", "/dashboard")


@pytest.fixture
def data(world):
    """This quarter: two feedback cases in account A, one (with a secret subject) in account B,
    one resolved and rated case in each account."""
    now = utcnow()
    start = quarter_of(now).start
    at = start + (now - start) / 2
    factories.make_case(
        requester=world.alice, kind=Kind.FEEDBACK, category="feature_request", subject="Dark mode please", created_at=at
    )
    factories.make_case(
        requester=world.anna, kind=Kind.FEEDBACK, category="feature_request", subject="A dark mode", created_at=at
    )
    factories.make_case(
        requester=world.bob, kind=Kind.FEEDBACK, category="feature_request", subject="Bravo secret wish", created_at=at
    )
    for requester, score in ((world.alice, 5), (world.bob, 1)):
        factories.make_case(
            requester=requester,
            status=Status.RESOLVED,
            severity=Severity.HIGH,
            created_at=at,
            first_response_due_at=at + timedelta(hours=4),
            first_response_at=at + timedelta(hours=2),
            resolved_at=at + timedelta(hours=30),
            satisfaction_score=score,
        )
    return world


def test_executive_sees_the_company_report(client_as, data):
    response = client_as(data.executive).get("/reports")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Report {quarter_of(utcnow()).label}" in html
    assert "Dark mode please" in html and "Bravo secret wish" in html
    assert "Suggestions digest" in html


@pytest.mark.parametrize("role", ["alice", "bob"])
def test_customers_get_404_from_every_report_route(client_as, data, role):
    client = client_as(getattr(data, role))
    for path in REPORT_ROUTES:
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("role", ["lead", "executive", "admin"])
def test_team_leads_executives_and_admins_see_every_scope(client_as, data, role):
    client = client_as(getattr(data, role))
    for query in (
        "scope=company",
        "scope=team",
        f"scope=manager&manager={data.manager_b.id}",
        f"scope=account&account={data.account_b.id}",
    ):
        assert client.get(f"/reports?{query}").status_code == 200, query
    assert client.get("/dashboard").status_code == 200


def test_account_manager_sees_only_their_own_accounts(client_as, data):
    client = client_as(data.manager_a)
    html = client.get("/reports").get_data(as_text=True)
    assert "Accounts of Maria Manager" in html
    assert "Dark mode please" in html
    assert "Bravo secret wish" not in html
    assert "Bravo plc" not in html
    xlsx = load_workbook(io.BytesIO(client.get("/reports/export.xlsx").data))
    everything = " ".join(str(cell.value) for sheet in xlsx for row in sheet.iter_rows() for cell in row)
    assert "Bravo" not in everything
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Acme Ltd" in dashboard and "Bravo plc" not in dashboard


def test_account_manager_counts_exclude_other_accounts_even_assigned_cases(client_as, data):
    # A case of account B assigned to manager A: visible to them as a case, never in their report.
    factories.make_case(requester=data.bob, assignee=data.manager_a, kind=Kind.FEEDBACK, subject="Assigned bravo idea")
    html = client_as(data.manager_a).get("/reports").get_data(as_text=True)
    assert "Assigned bravo idea" not in html


@pytest.mark.parametrize(
    "query",
    ["scope=company", "scope=team"],
)
def test_account_manager_is_refused_company_wide_scopes(client_as, data, query):
    response = client_as(data.manager_a).get(f"/reports?{query}")
    assert response.status_code == 400
    assert "your own accounts only" in response.get_data(as_text=True)
    assert client_as(data.manager_a).get(f"/dashboard?{query}").status_code == 400


def test_account_manager_gets_404_for_other_accounts_and_managers(client_as, data):
    client = client_as(data.manager_a)
    assert client.get(f"/reports?scope=account&account={data.account_b.id}").status_code == 404
    assert client.get(f"/reports?scope=manager&manager={data.manager_b.id}").status_code == 404
    assert client.get(f"/reports/export.xlsx?scope=account&account={data.account_b.id}").status_code == 404
    assert client.get(f"/dashboard?scope=account&account={data.account_b.id}").status_code == 404
    assert client.get(f"/reports?scope=account&account={data.account_a.id}").status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("period=2026-Q5", 400, "Unknown period"),
        ("period=yesterday", 400, "Unknown period"),
        ("period=custom&start=2026-03-10&end=2026-03-01", 400, "before the start"),
        ("period=custom&start=2019-01-01&end=2026-03-01", 400, "at most 5 years"),
        ("period=custom&start=2026-03-01", 400, "both a start and an end"),
        ("period=custom&start=notadate&end=2026-03-01", 400, "Please check"),
        ("scope=galaxy", 400, "Unknown scope"),
        ("scope=account", 400, "Type the name of an account"),
        ("scope=account&account=abc", 400, "Please check"),
        ("scope=account&account=99999999999999999999", 404, None),
        ("scope=account&account=-3", 404, None),
        ("scope=account&account=999999", 404, None),
        ("scope=manager&manager=999999", 404, None),
    ],
)
def test_bad_input_gets_a_clear_message_or_404_never_500(client_as, data, query, status, message):
    for path in ("/reports", "/reports/export.xlsx"):
        response = client_as(data.executive).get(f"{path}?{query}")
        assert response.status_code == status, (path, query)
        if message:
            assert message in response.get_data(as_text=True)


def test_a_manager_scope_must_name_an_account_manager(client_as, data):
    assert client_as(data.executive).get(f"/reports?scope=manager&manager={data.lead.id}").status_code == 404


def test_xlsx_has_one_sheet_per_section_with_the_reports_numbers(client_as, data):
    response = client_as(data.executive).get("/reports/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "About",
        "Summary",
        "Cases by kind",
        "Cases by category",
        "Cases by severity",
        "Escalations opened",
        "Suggestions digest",
        "Accounts at risk",
    ]
    summary = {row[0]: row[1:] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Cases opened"][0] == 5
    assert summary["Resolved or closed"][0] == 2
    assert summary["Satisfaction: CSAT (% rated 4–5)"][0] == 50.0
    assert summary["Median time to first response (h)"][0] == 2.0
    assert summary["First response within SLA (%)"][0] == 100.0
    kinds = {row[0]: row[1] for row in workbook["Cases by kind"].iter_rows(min_row=2, values_only=True)}
    assert kinds == {"Feedback": 3, "Issue": 2}
    digest = list(workbook["Suggestions digest"].iter_rows(min_row=2, values_only=True))
    # Both dark-mode ideas in one group (titled by the newest); Bravo's idea alone.
    assert [row[:3] + row[4:5] for row in digest] == [
        ("Suggestion or new feature", 3, 0, 2),
        ("Suggestion or new feature", 3, 0, 1),
    ]
    assert digest[0][3] == "A dark mode" and digest[1][3] == "Bravo secret wish"


def test_csv_carries_the_same_sections(client_as, data):
    response = client_as(data.executive).get("/reports/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert ["Summary"] in rows and ["Suggestions digest"] in rows
    assert next(row for row in rows if row and row[0] == "Cases opened")[1] == "5"


def test_exports_defuse_subjects_that_look_like_formulas(client_as, data):
    factories.make_case(requester=data.alice, kind=Kind.FEEDBACK, category="other", subject='=HYPERLINK("http://x")')
    workbook = load_workbook(io.BytesIO(client_as(data.executive).get("/reports/export.xlsx").data))
    titles = [row[3] for row in workbook["Suggestions digest"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("http://x")' in titles
    text = client_as(data.executive).get("/reports/export.csv").get_data(as_text=True)
    assert ",=HYPERLINK" not in text


def test_dashboard_draws_accessible_charts(client_as, data):
    response = client_as(data.executive).get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('role="img"') == 3
    assert '<title id="chart-open-title">' in html
    assert "Accounts most at risk" in html and "Acme Ltd" in html


def test_report_page_issues_the_same_number_of_statements_for_few_and_many_cases(client_as, data):
    client = client_as(data.executive)
    now = utcnow()

    def statements_for(count):
        for n in range(count):
            for requester in (data.alice, data.bob):
                factories.make_case(
                    requester=requester,
                    kind=Kind.FEEDBACK,
                    subject=f"Idea number {n} {requester.id}",
                    created_at=now - timedelta(minutes=n + 1),
                    status=Status.RESOLVED,
                    resolved_at=now,
                    first_response_at=now,
                    satisfaction_score=4,
                )
        db.session.commit()
        counts = []
        for path in ("/reports", "/dashboard", "/reports/export.xlsx"):
            with count_statements() as statements:
                assert client.get(path).status_code == 200
            counts.append(len(statements))
        return counts

    few = statements_for(1)
    many = statements_for(15)
    assert few == many


def test_an_account_report_can_be_asked_for_by_name(client_as, data):
    client = client_as(data.executive)
    for name in ("Bravo plc", "bravo PLC", "  Bravo plc "):
        html = client.get(f"/reports?scope=account&account_name={name}").get_data(as_text=True)
        assert "Bravo secret wish" in html and "Dark mode please" not in html, name
    # An `account=<id>` link shows the account's name in the box.
    html = client.get(f"/reports?scope=account&account={data.account_a.id}").get_data(as_text=True)
    assert 'value="Acme Ltd"' in html


@pytest.mark.parametrize(
    ("role", "name"),
    [("executive", "Nobody Ltd"), ("executive", "Bravo"), ("manager_a", "Bravo plc")],
)
def test_an_unknown_or_hidden_account_name_is_a_field_error(client_as, data, role, name):
    for path in ("/reports", "/reports/export.csv"):
        response = client_as(getattr(data, role)).get(f"{path}?scope=account&account_name={name}")
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "No account you can report on has that name" in html
        assert f'value="{name}"' in html  # what was typed stays in the box


def test_the_report_form_does_not_list_every_account(client_as, data):
    client = client_as(data.executive)
    before = client.get("/reports").get_data(as_text=True).count("<option")
    for n in range(30):
        factories.make_account(name=f"Extra account {n:02d}")
    html = client.get("/reports").get_data(as_text=True)
    assert html.count("<option") == before
    assert "Extra account" not in html


def test_long_sections_are_cut_on_the_page_but_not_in_the_downloads(client_as, data, monkeypatch):
    from portal.reports import routes

    monkeypatch.setattr(routes, "PAGE_ROWS", 1)
    client = client_as(data.executive)
    html = client.get("/reports").get_data(as_text=True)
    assert "The first 1 of 2 rows; the XLSX and CSV downloads have them all." in html  # cases by kind
    rows = list(csv.reader(io.StringIO(client.get("/reports/export.csv").get_data(as_text=True))))
    start = rows.index(["Cases by kind"])
    section = rows[start + 2 : rows.index([], start)]  # after the title and header rows, up to the blank row
    assert len(section) == 2


def test_accounts_at_risk_are_listed_with_their_reasons(client_as, data):
    from tests.test_account_status import make_unhealthy

    make_unhealthy(data.account_b, now=utcnow())
    client = client_as(data.executive)
    workbook = load_workbook(io.BytesIO(client.get("/reports/export.xlsx").data))
    rows = list(workbook["Accounts at risk"].iter_rows(min_row=2, values_only=True))
    [bravo] = [row for row in rows if row[0] == "Bravo plc"]
    assert bravo[1:4] == (data.manager_b.name, "Standard", 31)
    assert "escalat" in bravo[6].lower() and ";" in bravo[6]  # every reason, biggest first
    html = client.get("/reports").get_data(as_text=True)
    assert "Bravo plc" in html and "contract value at risk" in html
