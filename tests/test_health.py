"""Account health: the pure score from named inputs, with its reasons."""

import pytest

from portal.reports.health import AT_RISK_BELOW, Health, HealthInputs, score_health

QUIET = HealthInputs(cases=0, previous_cases=0, breached=0, escalated=0, resolved=0, rated=0, satisfied=0, reopened=0)
STEADY = HealthInputs(
    cases=10, previous_cases=10, breached=0, escalated=0, resolved=8, rated=5, satisfied=5, reopened=0
)


def inputs(**changes) -> HealthInputs:
    return HealthInputs(**{**vars(STEADY), **changes})


def test_an_account_without_cases_is_perfectly_healthy():
    health = score_health(QUIET)
    assert (health.score, health.reasons, health.at_risk) == (100, [], False)


def test_a_steady_happy_account_scores_100_with_no_reasons():
    assert score_health(STEADY).score == 100
    assert score_health(STEADY).reasons == []


def test_rising_volume_costs_15():
    health = score_health(inputs(cases=16, previous_cases=10))
    assert health.score == 85
    assert health.reasons[0].text == "Case volume up from 10 to 16 on the previous 90 days"


def test_a_small_rise_is_not_a_trend():
    assert score_health(inputs(cases=12, previous_cases=10)).score == 100  # +2 cases
    assert score_health(inputs(cases=14, previous_cases=10)).score == 100  # +40%


def test_new_volume_after_a_quiet_quarter_counts_as_rising():
    health = score_health(inputs(cases=4, previous_cases=0, resolved=0, rated=0, satisfied=0))
    assert health.score == 85
    assert "after none" in health.reasons[0].text


def test_breaches_cost_60_times_their_share_capped_at_30():
    assert score_health(inputs(breached=1)).score == 94  # 10% → 6
    assert score_health(inputs(breached=3)).score == 82  # 30% → 18
    assert score_health(inputs(breached=10)).score == 70  # capped
    assert score_health(inputs(cases=200, previous_cases=200, breached=1)).score == 99  # never free


def test_escalations_cost_8_each_capped_at_24():
    assert score_health(inputs(escalated=1)).score == 92
    assert score_health(inputs(escalated=5)).score == 76


def test_low_satisfaction_costs_half_the_gap_to_80_percent():
    health = score_health(inputs(rated=5, satisfied=2))  # 40%
    assert health.score == 80
    assert health.reasons[0].text == "Satisfaction 40% (2 of 5 ratings 4–5)"


def test_too_few_ratings_say_nothing():
    assert score_health(inputs(rated=2, satisfied=0)).score == 100


def test_reopen_rate_over_10_percent_costs_up_to_15():
    assert score_health(inputs(reopened=1)).score == 100  # 10%: tolerated
    assert score_health(inputs(reopened=2)).score == 90  # 20% → 10
    assert score_health(inputs(reopened=6)).score == 85  # capped


def test_a_troubled_account_is_at_risk_with_every_reason_listed_biggest_first():
    health = score_health(
        HealthInputs(cases=20, previous_cases=8, breached=6, escalated=3, resolved=12, rated=6, satisfied=1, reopened=5)
    )
    # volume −15, breaches 30% −18, escalations −24, CSAT 17% −25 (capped), reopened 25% −12
    assert health.score == 6
    assert health.at_risk
    assert [reason.points for reason in health.reasons] == sorted((r.points for r in health.reasons), reverse=True)
    assert len(health.reasons) == 5


@pytest.mark.parametrize(("score", "at_risk"), [(AT_RISK_BELOW, False), (AT_RISK_BELOW - 1, True)])
def test_the_threshold(score, at_risk):
    assert Health(score).at_risk is at_risk


def test_the_score_never_goes_below_zero():
    worst = HealthInputs(
        cases=50, previous_cases=1, breached=50, escalated=50, resolved=50, rated=50, satisfied=0, reopened=50
    )
    assert score_health(worst).score == 0
