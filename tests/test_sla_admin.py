"""SLA pages: the admin screens for targets and the business calendar, and the promise on a case page."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import BusinessCalendar, Holiday, Role, Severity, SlaPolicy, Status, Tier
from portal.sla import services
from tests import factories

POLICY_URL = "/admin/sla/premium/high"
PREFIX = "premium-high-"


def policy_data(first="45", resolution="600"):
    return {f"{PREFIX}first_response_minutes": first, f"{PREFIX}resolution_minutes": resolution}


def calendar_data(**changes):
    data = {
        "timezone": "America/New_York",
        "workdays": ["0", "1", "2", "3"],
        "start_time": "08:00",
        "end_time": "16:30",
    }
    return data | changes


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)))


# --- targets --------------------------------------------------------------------------------------


def test_admin_sees_the_grid_of_default_targets_in_minutes_and_hours(client_as, world):
    response = client_as(world.admin).get("/admin/sla")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count('action="/admin/sla/') == len(Tier) * len(Severity)
    assert 'name="strategic-critical-first_response_minutes"' in html
    assert 'id="strategic-critical-first_response_minutes"' in html
    assert 'value="30"' in html and "= 4 h" in html  # strategic / critical: 30 min and 240 min
    assert "Default" in html


def test_admin_changes_one_policy_through_the_page(client_as, world):
    client = client_as(world.admin)
    response = client.post(POLICY_URL, data=policy_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/sla#row-premium-high")
    policy = db.session.scalar(sa.select(SlaPolicy))
    assert (policy.tier, policy.severity) == (Tier.PREMIUM, Severity.HIGH)
    assert (policy.first_response_minutes, policy.resolution_minutes) == (45, 600)
    assert policy.updated_by_id == world.admin.id
    html = client.get("/admin/sla").get_data(as_text=True)
    assert 'value="45"' in html and "= 10 h" in html
    assert "Ada Admin" in html


@pytest.mark.parametrize(
    ("first", "resolution", "message", "field"),
    [
        ("0", "600", "First response must be at least 1 minute.", "first_response_minutes"),
        ("45", "99999", "Resolution can be at most 28,800 minutes", "resolution_minutes"),
        ("700", "600", "The first response cannot take longer than the resolution.", "first_response_minutes"),
        ("abc", "600", "Not a valid integer value.", "first_response_minutes"),
        ("", "600", "Enter a whole number of minutes.", "first_response_minutes"),
    ],
)
def test_bad_targets_answer_400_with_the_message_and_change_nothing(
    client_as, world, first, resolution, message, field
):
    services.update_policy(
        Tier.PREMIUM, Severity.HIGH, first_response_minutes=50, resolution_minutes=500, actor=world.admin
    )
    db.session.commit()  # so the page's rollback can only undo its own change
    response = client_as(world.admin).post(POLICY_URL, data=policy_data(first, resolution))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{PREFIX}{field}-error"' in html  # the message is tied to its field
    assert f'value="{first}"' in html  # what was typed is kept
    rows = db.session.execute(sa.select(SlaPolicy.first_response_minutes, SlaPolicy.resolution_minutes)).all()
    assert rows == [(50, 500)]


def test_unknown_tier_or_severity_in_the_address_is_404(client_as, world):
    client = client_as(world.admin)
    assert client.post("/admin/sla/gold/high", data=policy_data()).status_code == 404
    assert client.post("/admin/sla/premium/urgent", data=policy_data()).status_code == 404


def test_new_cases_use_the_policy_an_admin_saved(client_as, world):
    client_as(world.admin).post(POLICY_URL, data=policy_data("45", "600"))
    assert services.effective_targets(Tier.PREMIUM, Severity.HIGH) == services.SlaTargets(45, 600)


# --- business calendar ----------------------------------------------------------------------------


def test_admin_sees_the_default_calendar_prefilled(client_as, world):
    response = client_as(world.admin).get("/admin/calendar")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<option selected value="Europe/London">' in html
    assert 'value="09:00"' in html and 'value="17:00"' in html
    assert html.count('type="checkbox"') == 7
    assert html.count("checked") == 5
    assert "No holidays yet." in html


def test_admin_changes_the_calendar_through_the_page(client_as, world):
    response = client_as(world.admin).post("/admin/calendar", data=calendar_data())
    assert response.status_code == 302
    row = db.session.scalar(sa.select(BusinessCalendar))
    assert (row.timezone, row.workdays, row.start_time, row.end_time) == (
        "America/New_York",
        "0,1,2,3",
        time(8),
        time(16, 30),
    )
    assert row.updated_by_id == world.admin.id
    calendar = services.business_calendar()
    assert (calendar.timezone, calendar.workdays) == ("America/New_York", frozenset({0, 1, 2, 3}))


@pytest.mark.parametrize(
    ("changes", "message", "kept"),
    [
        ({"start_time": "17:00", "end_time": "09:00"}, "The working day must end after it starts.", 'value="17:00"'),
        ({"workdays": []}, "Choose at least one working day.", 'value="08:00"'),
        ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list.", 'value="16:30"'),
        ({"start_time": "9 o'clock"}, "Not a valid time value.", 'value="9 o&#39;clock"'),
        ({"workdays": ["9"]}, "is not a valid choice", 'value="08:00"'),
    ],
)
def test_bad_calendar_answers_400_with_the_message_and_changes_nothing(client_as, world, changes, message, kept):
    services.update_calendar(
        timezone="Europe/Paris", workdays=[0, 1, 2, 3, 4], start_time=time(9), end_time=time(18), actor=world.admin
    )
    db.session.commit()  # so the page's rollback can only undo its own change
    response = client_as(world.admin).post("/admin/calendar", data=calendar_data(**changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert kept in html
    assert "error-message" in html
    rows = db.session.execute(
        sa.select(BusinessCalendar.timezone, BusinessCalendar.workdays, BusinessCalendar.end_time)
    )
    assert rows.all() == [("Europe/Paris", "0,1,2,3,4", time(18))]


def test_admin_adds_and_removes_a_holiday(client_as, world):
    client = client_as(world.admin)
    response = client.post(
        "/admin/calendar/holidays", data={"holiday-date": "2026-12-25", "holiday-name": "Christmas Day"}
    )
    assert response.status_code == 302
    holiday = db.session.scalar(sa.select(Holiday))
    assert (holiday.date, holiday.name) == (date(2026, 12, 25), "Christmas Day")
    assert "Christmas Day" in client.get("/admin/calendar").get_data(as_text=True)
    assert services.business_calendar().holidays == {date(2026, 12, 25)}

    response = client.post(f"/admin/calendar/holidays/{holiday.id}/delete")
    assert response.status_code == 302
    assert count(Holiday) == 0
    assert client.post(f"/admin/calendar/holidays/{holiday.id}/delete").status_code == 404


def test_a_duplicate_holiday_answers_400_and_keeps_what_was_typed(client_as, world):
    services.add_holiday(date=date(2026, 12, 25), name="Christmas Day", actor=world.admin)
    db.session.commit()  # so the page's rollback can only undo its own change
    response = client_as(world.admin).post(
        "/admin/calendar/holidays", data={"holiday-date": "2026-12-25", "holiday-name": "Xmas"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "25 December 2026 is already a holiday." in html
    assert 'value="Xmas"' in html
    assert [h.name for h in db.session.scalars(sa.select(Holiday))] == ["Christmas Day"]


def test_a_holiday_without_a_date_answers_400(client_as, world):
    response = client_as(world.admin).post("/admin/calendar/holidays", data={"holiday-date": "", "holiday-name": "Day"})
    assert response.status_code == 400
    assert "Enter a date." in response.get_data(as_text=True)
    assert count(Holiday) == 0


def test_admin_forms_need_the_csrf_token(app, client_as, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = client_as(world.admin)
    assert client.post(POLICY_URL, data=policy_data()).status_code == 400
    assert client.post("/admin/calendar", data=calendar_data()).status_code == 400
    assert count(SlaPolicy) == 0 and count(BusinessCalendar) == 0
    assert 'name="csrf_token"' in client.get("/admin/sla").get_data(as_text=True)


# --- who may use them -----------------------------------------------------------------------------


def admin_requests(holiday_id):
    return [
        ("get", "/admin/sla", None),
        ("post", POLICY_URL, policy_data()),
        ("get", "/admin/calendar", None),
        ("post", "/admin/calendar", calendar_data()),
        ("post", "/admin/calendar/holidays", {"holiday-date": "2026-12-24", "holiday-name": "Eve"}),
        ("post", f"/admin/calendar/holidays/{holiday_id}/delete", None),
    ]


@pytest.mark.parametrize("who", ["alice", "manager_a", "lead", "executive"])
def test_everyone_but_admins_gets_403_and_changes_nothing(client_as, world, who):
    holiday = services.add_holiday(date=date(2026, 12, 25), name="Christmas Day", actor=world.admin)
    client = client_as(getattr(world, who))
    for method, url, data in admin_requests(holiday.id):
        assert getattr(client, method)(url, data=data).status_code == 403, (method, url)
    assert count(SlaPolicy) == 0
    assert count(Holiday) == 1
    assert db.session.scalar(sa.select(BusinessCalendar.timezone)) == "Europe/London"


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for method, url, data in admin_requests(1):
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 302, (method, url)
        assert "/login" in response.headers["Location"]
    assert count(SlaPolicy) == 0 and count(BusinessCalendar) == 0


@pytest.mark.parametrize(("role", "shown"), [(Role.ADMIN, True), (Role.TEAM_LEAD, False), (Role.CUSTOMER, False)])
def test_only_admins_see_the_admin_link(client_as, world, role, shown):
    user = {Role.ADMIN: world.admin, Role.TEAM_LEAD: world.lead, Role.CUSTOMER: world.alice}[role]
    html = client_as(user).get("/cases").get_data(as_text=True)
    assert ('href="/admin/sla"' in html) is shown


# --- the promise on the case page -----------------------------------------------------------------


def started_case(world, *, due_in: timedelta, **fields):
    """An open case whose first response falls due `due_in` from now (wall-clock, ignoring the
    calendar) and whose resolution is due two days after that."""
    now = datetime.now(UTC)
    case = factories.make_case(requester=world.alice, created_at=now - timedelta(hours=1), **fields)
    case.first_response_due_at = now + due_in
    case.resolution_due_at = now + due_in + timedelta(days=2)
    db.session.flush()
    return case


def page(client, case) -> str:
    response = client.get(f"/cases/{case.reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_customer_sees_when_to_expect_a_first_response_and_resolution(client_as, world):
    case = started_case(world, due_in=timedelta(hours=3, minutes=30))
    html = page(client_as(world.alice), case)
    assert "First response by" in html and "(in 3 h)" in html
    assert "Resolution target" in html and "(in 2 days)" in html
    assert "Breached" not in html and "Due soon" not in html and "business time" not in html


def test_after_the_first_response_only_the_resolution_target_is_promised(client_as, world):
    case = started_case(world, due_in=timedelta(hours=3), first_response_at=datetime.now(UTC))
    html = page(client_as(world.alice), case)
    assert "First response by" not in html
    assert "Resolution target" in html


def test_customer_sees_the_clock_is_paused_while_we_wait_for_them(client_as, world):
    case = started_case(
        world, due_in=timedelta(hours=3), status=Status.WAITING_ON_CUSTOMER, sla_paused_at=datetime.now(UTC)
    )
    html = page(client_as(world.alice), case)
    assert "paused while we wait for your reply" in html
    assert "First response by" not in html


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
def test_no_promise_once_resolved_or_closed(client_as, world, status):
    case = started_case(world, due_in=timedelta(hours=3), status=status)
    for user in (world.alice, world.manager_a):
        html = page(client_as(user), case)
        assert "First response by" not in html and "Resolution target" not in html


def test_staff_see_a_breached_flag(client_as, world):
    case = started_case(world, due_in=-timedelta(days=8))  # past due by well over a week of business time
    html = page(client_as(world.manager_a), case)
    assert "Breached" in html
    assert "First response overdue" in html
    assert "Breached" not in page(client_as(world.alice), case)


def test_staff_see_a_due_soon_flag(client_as, world):
    # A 30-minute wall-clock margin is at most 30 business minutes: due soon on any calendar day.
    case = started_case(world, due_in=timedelta(minutes=30))
    html = page(client_as(world.manager_a), case)
    assert "Due soon" in html
    assert "Breached" not in html


def test_staff_case_list_flags_breached_cases(client_as, world):
    started_case(world, due_in=-timedelta(days=8), subject="Late one")
    html = client_as(world.lead).get("/cases").get_data(as_text=True)
    assert "Late one" in html
    assert "Breached" in html
    assert "Breached" not in client_as(world.alice).get("/cases").get_data(as_text=True)
