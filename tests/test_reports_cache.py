"""The report and dashboard cache: a second look is answered without aggregating the cases again,
and no change to a case, escalation, rating or account is ever hidden behind a cached figure."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from portal.extensions import cache, db
from portal.models import Case, Escalation, EscalationReason, Status
from portal.models.base import utcnow
from portal.reports import cache as report_cache
from portal.reports.periods import quarter_of
from portal.reports.scope import Scope
from tests import factories
from tests.test_triage_queues import count_statements

COMPANY = Scope("company", "Whole company")


def use_cache(app, **config):
    cache.init_app(
        app, config={"CACHE_DEFAULT_TIMEOUT": 300, "CACHE_KEY_PREFIX": "test:", "CACHE_NO_NULL_WARNING": True, **config}
    )


@pytest.fixture
def cached(app):
    """A real (in-process) cache for the test, the suite's NullCache again after it."""
    use_cache(app, CACHE_TYPE="SimpleCache")
    cache.clear()
    yield cache
    use_cache(app, CACHE_TYPE="NullCache")


def aggregates(statements) -> list[str]:
    return [s for s in statements if "count(*)" in s.lower() and "cases" in s.lower()]


def open_total(client) -> int:
    html = client.get("/dashboard").get_data(as_text=True)
    start = html.index('<span class="kpi-value">') + len('<span class="kpi-value">')
    return int(html[start : html.index("<", start)])


def test_a_second_look_at_the_dashboard_does_not_aggregate_again(cached, client_as, world):
    factories.make_case(requester=world.alice)
    client = client_as(world.executive)
    with count_statements() as first:
        assert client.get("/dashboard").status_code == 200
    with count_statements() as second:
        assert client.get("/dashboard").status_code == 200
    assert aggregates(first)
    assert aggregates(second) == []


def test_a_new_case_shows_at_once(cached, client_as, world):
    client = client_as(world.executive)
    before = open_total(client)
    factories.make_case(requester=world.alice, status=Status.NEW)
    assert open_total(client) == before + 1


def test_a_change_made_by_an_update_statement_shows_at_once(cached, client_as, world):
    case = factories.make_case(requester=world.alice)
    client = client_as(world.executive)
    before = open_total(client)
    db.session.execute(sa.update(Case).where(Case.id == case.id).values(status=Status.CLOSED))
    assert open_total(client) == before - 1


def test_escalations_and_reports_are_refreshed_too(cached, client_as, world):
    case = factories.make_case(requester=world.alice)
    client = client_as(world.executive)
    path = f"/reports?period={quarter_of(utcnow()).label.replace(' ', '+')}"
    assert "Critical severity" not in client.get(path).get_data(as_text=True)
    now = utcnow()
    db.session.add(
        Escalation(case=case, level=1, reason=EscalationReason.CRITICAL_SEVERITY, created_at=now, raised_at=now)
    )
    assert "Critical severity" in client.get(path).get_data(as_text=True)


def test_a_rolled_back_change_keeps_the_cache(cached, app, world):
    generation = report_cache._generation()
    factories.make_case(requester=world.alice)
    db.session.rollback()
    assert report_cache._generation() == generation
    with app.app_context():
        db.session.add(factories.make_user(name="Nobody at all"))  # a user: not report data
    db.session.commit()
    assert report_cache._generation() == generation


def test_figures_are_rebuilt_in_each_new_window(cached, app, world):
    seconds = app.config["REPORT_CACHE_SECONDS"]
    window_start = datetime.fromtimestamp(int(utcnow().timestamp()) // seconds * seconds, UTC)
    report_cache.dashboard(world.executive, COMPANY, now=window_start)
    same_window = report_cache.dashboard(world.executive, COMPANY, now=window_start + timedelta(seconds=seconds - 1))
    assert same_window.now == window_start
    next_window = report_cache.dashboard(world.executive, COMPANY, now=window_start + timedelta(seconds=seconds))
    assert next_window.now == window_start + timedelta(seconds=seconds)


def test_the_cache_never_answers_someone_without_reports(cached, world):
    report_cache.dashboard(world.executive, COMPANY, now=utcnow())
    with pytest.raises(NotFound):
        report_cache.dashboard(world.alice, COMPANY, now=utcnow())


def test_reports_still_work_when_the_cache_is_unreachable(app, client_as, world):
    use_cache(app, CACHE_TYPE="RedisCache", CACHE_REDIS_URL="redis://127.0.0.1:1/0")
    try:
        factories.make_case(requester=world.alice)
        client = client_as(world.executive)
        assert client.get("/dashboard").status_code == 200
        assert client.get("/reports").status_code == 200
    finally:
        use_cache(app, CACHE_TYPE="NullCache")
