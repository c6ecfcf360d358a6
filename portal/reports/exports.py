"""The report as tables — one per section — and those tables as CSV and XLSX.

The report page, the CSV and the XLSX all render `report_sections(report)`, so they show the
same numbers. Durations are in hours (one decimal), shares in percent (one decimal).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font

from portal.models import CATEGORIES
from portal.models.escalations import DecisionOutcome, EscalationReason
from portal.reports.queries import BREAKDOWN_DIMENSIONS
from portal.reports.services import Report

CHANGE_HEADERS = ["Current period", "Previous period", "Change"]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    headers: list[str]
    rows: list[list]
    full_count: int | None = None  # rows the section has in full, when `rows` holds only the first

    @property
    def total(self) -> int:
        return len(self.rows) if self.full_count is None else self.full_count


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text a spreadsheet would run as a formula (a subject such as "=HYPERLINK(…)") is prefixed with
    an apostrophe, so it stays text in Excel and LibreOffice."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def change(current, previous):
    if current is None or previous is None:
        return None
    return round(current - previous, 1)


def _label(dimension: str, value: str) -> str:
    if dimension == "category":
        return CATEGORIES.get(value, value)
    if dimension == "reason":
        try:
            return EscalationReason(value).label
        except ValueError:
            return value
    if dimension == "outcome":
        try:
            return DecisionOutcome(value).label
        except ValueError:
            return "Not decided yet" if value == "undecided" else value
    if dimension == "level":
        return f"Level {value}"
    return value.replace("_", " ").capitalize()


def _summary_rows(report: Report) -> list[list]:
    now, before = report.summary, report.previous_summary
    fr, res = report.durations["first_response"], report.durations["resolution"]
    metrics = [
        ("Cases opened", now.cases, before.cases),
        ("Resolved or closed", now.resolved, before.resolved),
        ("First response within SLA (%)", now.first_response_compliance, before.first_response_compliance),
        ("First-response targets counted", now.first_response_targets, before.first_response_targets),
        ("Resolution within SLA (%)", now.resolution_compliance, before.resolution_compliance),
        ("Resolution targets counted", now.resolution_targets, before.resolution_targets),
        ("Median time to first response (h)", hours(fr[0].median), hours(fr[1].median)),
        ("p90 time to first response (h)", hours(fr[0].p90), hours(fr[1].p90)),
        ("Median time to resolution (h)", hours(res[0].median), hours(res[1].median)),
        ("p90 time to resolution (h)", hours(res[0].p90), hours(res[1].p90)),
        ("Escalated to level 1", now.escalated_level_1, before.escalated_level_1),
        ("Escalated to level 2", now.escalated_level_2, before.escalated_level_2),
        ("Reopened", now.reopened, before.reopened),
        ("Satisfaction: CSAT (% rated 4–5)", now.csat, before.csat),
        ("Satisfaction: ratings", now.rated, before.rated),
        ("Satisfaction: response rate (%)", now.response_rate, before.response_rate),
    ]
    return [[name, current, previous, change(current, previous)] for name, current, previous in metrics]


def _counts_rows(dimension: str, per_period: list[dict[str, int]]) -> list[list]:
    current, previous = per_period
    values = sorted(set(current) | set(previous), key=lambda value: (-current.get(value, 0), value))
    return [
        [
            _label(dimension, value),
            current.get(value, 0),
            previous.get(value, 0),
            current.get(value, 0) - previous.get(value, 0),
        ]
        for value in values
    ]


def report_sections(report: Report, *, max_rows: int | None = None) -> list[Section]:
    """The report as titled tables, for the page and the downloads alike. With `max_rows` (the page)
    each section keeps only its first rows, and says how many it has in full."""
    sections = [Section("summary", "Summary", ["Measure", *CHANGE_HEADERS], _summary_rows(report))]
    titles = {"kind": "Cases by kind", "category": "Cases by category", "severity": "Cases by severity"}
    for dimension in BREAKDOWN_DIMENSIONS:
        sections.append(
            Section(
                f"by_{dimension}",
                titles[dimension],
                [dimension.capitalize(), *CHANGE_HEADERS],
                _counts_rows(dimension, report.breakdown[dimension]),
            )
        )
    escalation_rows = []
    for dimension in ("level", "reason", "outcome"):
        for row in _counts_rows(dimension, report.escalations[dimension]):
            escalation_rows.append([dimension.capitalize(), *row])
    sections.append(Section("escalations", "Escalations opened", ["By", "Value", *CHANGE_HEADERS], escalation_rows))
    digest_rows = []
    for category in report.digest:
        for group in category.groups:
            examples = "; ".join(f"CB-{case_id} {subject}" for case_id, subject in group.examples)
            digest_rows.append(
                [category.label, category.count, category.previous_count, group.title, group.count, examples]
            )
    sections.append(
        Section(
            "suggestions",
            "Suggestions digest",
            ["Category", "Suggestions", "Previous period", "Similar suggestions", "Count", "Examples"],
            digest_rows,
        )
    )
    risk_rows = [
        [
            account.name,
            account.manager_name or "",
            account.tier.capitalize(),
            account.score,
            account.annual_contract_value,
            account.renewal_date.isoformat() if account.renewal_date else "",
            "; ".join(account.reasons),
        ]
        for account in report.at_risk[:max_rows]  # hundreds in a large company: build only what is shown
    ]
    sections.append(
        Section(
            "accounts_at_risk",
            "Accounts at risk",
            ["Account", "Account manager", "Tier", "Health", "Contract value", "Renewal", "Reasons"],
            risk_rows,
            len(report.at_risk),
        )
    )
    if max_rows is None:
        return sections
    return [Section(s.key, s.title, s.headers, s.rows[:max_rows], s.total) for s in sections]


def _title_rows(report: Report) -> list[list]:
    return [
        ["Report", f"{report.period.label} ({report.scope.label})"],
        ["Period", f"{report.period.start.date()} to {report.period.last_day}"],
        ["Compared with", f"{report.previous.start.date()} to {report.previous.last_day}"],
        ["Contract value at risk", report.value_at_risk],
    ]


def to_csv(report: Report) -> str:
    """All sections in one CSV: each section's title row, its header row and its rows, then a blank row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([[safe_cell(value) for value in row] for row in _title_rows(report)])
    writer.writerow([])
    for section in report_sections(report):
        writer.writerow([section.title])
        writer.writerow(section.headers)
        writer.writerows([[safe_cell(value) for value in row] for row in section.rows])
        writer.writerow([])
    return buffer.getvalue()


def to_xlsx(report: Report) -> bytes:
    """A workbook: an "About" sheet, then one sheet per section with a bold header row."""
    workbook = Workbook()
    about = workbook.active
    about.title = "About"
    for row in _title_rows(report):
        about.append([safe_cell(value) for value in row])
    for section in report_sections(report):
        sheet = workbook.create_sheet(section.title[:31])
        sheet.append(section.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section.rows:
            sheet.append([None if value is None else safe_cell(value) for value in row])
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
