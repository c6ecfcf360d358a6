"""Report periods and the suggestions digest's grouping: pure rules."""

from datetime import UTC, date, datetime

import pytest

from portal.reports.periods import last_quarters, parse_period, quarter_of
from portal.reports.services import are_similar, group_suggestions, subject_words
from portal.services import ServiceError


def at(*args):
    return datetime(*args, tzinfo=UTC)


def test_a_quarter_is_three_months_and_compares_with_the_quarter_before():
    period = parse_period("2026-Q3")
    assert (period.start, period.end, period.label) == (at(2026, 7, 1), at(2026, 10, 1), "2026-Q3")
    previous = period.previous()
    assert (previous.start, previous.end, previous.label) == (at(2026, 4, 1), at(2026, 7, 1), "2026-Q2")
    assert parse_period("2026-Q1").previous().label == "2025-Q4"
    assert parse_period("2026q4").end == at(2027, 1, 1)


def test_a_year_compares_with_the_year_before():
    period = parse_period("2026")
    assert (period.start, period.end) == (at(2026, 1, 1), at(2027, 1, 1))
    assert period.previous().label == "2025"


def test_custom_dates_include_the_last_day_and_compare_with_as_many_days_before():
    period = parse_period("custom", date(2026, 3, 1), date(2026, 3, 10))
    assert (period.start, period.end, period.days) == (at(2026, 3, 1), at(2026, 3, 11), 10)
    previous = period.previous()
    assert (previous.start, previous.end) == (at(2026, 2, 19), at(2026, 3, 1))


def test_a_single_day_is_a_period():
    assert parse_period("custom", date(2026, 3, 1), date(2026, 3, 1)).days == 1


@pytest.mark.parametrize(
    ("text", "start", "end", "message"),
    [
        ("2026-Q5", None, None, "Unknown period"),
        ("last year", None, None, "Unknown period"),
        ("1066", None, None, "between"),
        ("custom", date(2026, 3, 10), date(2026, 3, 1), "before the start"),
        ("custom", date(2020, 1, 1), date(2026, 3, 1), "at most 5 years"),
        ("custom", None, date(2026, 3, 1), "both a start and an end"),
    ],
)
def test_bad_periods_are_refused_with_a_message(text, start, end, message):
    with pytest.raises(ServiceError, match=message):
        parse_period(text, start, end)


def test_exactly_five_years_is_allowed():
    assert parse_period("custom", date(2021, 1, 1), date(2025, 12, 31)).days == 1826


def test_last_quarters_end_with_the_current_one():
    quarters = last_quarters(at(2026, 2, 14), 8)
    assert [q.label for q in quarters] == [f"{y}-Q{q}" for y, q in [(2024, 2), (2024, 3), (2024, 4)]] + [
        "2025-Q1",
        "2025-Q2",
        "2025-Q3",
        "2025-Q4",
        "2026-Q1",
    ]
    assert quarter_of(at(2026, 12, 31, 23, 59)).label == "2026-Q4"


def test_subject_words_are_normalised():
    assert subject_words("Please add a DARK mode, dark themes!") == {"dark", "mode", "theme"}


def test_similar_subjects_share_half_their_words_or_two_words():
    assert are_similar(subject_words("Dark mode please"), subject_words("Add a dark mode"))
    assert are_similar(subject_words("Export reports to PDF"), subject_words("PDF export of the monthly report"))
    assert not are_similar(subject_words("Dark mode"), subject_words("Export to PDF"))
    assert not are_similar(subject_words("the"), subject_words("the"))


def test_suggestions_are_grouped_with_counts_and_examples_biggest_group_first():
    groups = group_suggestions(
        [
            (1, "Export reports to PDF"),
            (2, "Dark mode please"),
            (3, "PDF export for reports"),
            (4, "A dark mode for the portal"),
            (5, "Export report as PDF"),
            (6, "Slack notifications"),
        ]
    )
    assert [(g.title, g.count) for g in groups] == [
        ("Export reports to PDF", 3),
        ("Dark mode please", 2),
        ("Slack notifications", 1),
    ]
    assert [case_id for case_id, _ in groups[0].examples] == [1, 3, 5]
