"""SLA admin pages (targets, business calendar) and the template helpers that show a case's promise."""

import time
from dataclasses import asdict
from datetime import timedelta

import click
from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from portal.auth.guards import roles_required
from portal.extensions import db
from portal.models import Role, Severity, Tier
from portal.models.base import utcnow
from portal.pagination import MAX_ID
from portal.sla import services
from portal.sla.forms import CalendarForm, HolidayForm, PolicyForm, RemoveHolidayForm, policy_prefix
from portal.web import current_actor, perform

bp = Blueprint("sla", __name__)

TIERS = f"any({','.join(t.value for t in Tier)})"
SEVERITIES = f"any({','.join(s.value for s in Severity)})"


@bp.app_template_global()
def sla_state_for(case):
    """The case's SLA state now, for templates (see templates/cases/_sla_promise.html)."""
    return services.sla_state(case, now=utcnow())


@bp.app_template_global()
def sla_states_for(cases):
    """SLA states of a page of cases by case id, in a fixed number of queries (for lists)."""
    return services.sla_states(cases, now=utcnow())


@bp.app_template_filter()
def business_duration(value: timedelta | int | None) -> str:
    """Business time (a timedelta, or whole minutes), sign dropped, as "2 h 15 min", "45 min" or
    "26 h". No days: a business day is not 24 hours."""
    if value is None:
        return ""
    if isinstance(value, timedelta):
        value = int(abs(value) // timedelta(minutes=1))
    hours, minutes = divmod(abs(value), 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _render_policies(*, status=200, failed: PolicyForm | None = None, failed_prefix: str = ""):
    """The grid of targets, one form per row; a row that failed keeps what was typed and its errors."""
    grid = services.fetch_policy_grid()
    forms = {}
    for row in grid:
        prefix = policy_prefix(row.tier.value, row.severity.value)
        if failed is not None and prefix == failed_prefix:
            forms[prefix] = failed
        else:
            forms[prefix] = PolicyForm(formdata=None, prefix=prefix, data=asdict(row.targets))
    return render_template("sla/policies.html", grid=grid, forms=forms), status


@bp.route("/admin/sla")
@roles_required(Role.ADMIN)
def policies():
    return _render_policies()


@bp.route(f"/admin/sla/<{TIERS}:tier>/<{SEVERITIES}:severity>", methods=["POST"])
@roles_required(Role.ADMIN)
def update_policy(tier, severity):
    prefix = policy_prefix(tier, severity)
    form = PolicyForm(prefix=prefix)
    status = 400
    if form.validate_on_submit():
        _, status = perform(
            form,
            lambda: services.update_policy(
                Tier(tier),
                Severity(severity),
                first_response_minutes=form.first_response_minutes.data,
                resolution_minutes=form.resolution_minutes.data,
                actor=current_actor(),
            ),
        )
        if status is None:
            flash(f"Targets for {tier} / {severity} cases saved. New cases use them from now on.", "success")
            return redirect(url_for("sla.policies", _anchor=f"row-{tier}-{severity}"))
    return _render_policies(status=status, failed=form, failed_prefix=prefix)


def _render_calendar(*, status=200, calendar_form=None, holiday_form=None):
    row = services.fetch_calendar_row()
    current = services.business_calendar()
    if calendar_form is None:
        calendar_form = CalendarForm(
            formdata=None,
            data={
                "timezone": current.timezone,
                "workdays": sorted(current.workdays),
                "start_time": current.start,
                "end_time": current.end,
            },
        )
    return render_template(
        "sla/calendar.html",
        row=row,
        holidays=row.holidays if row else [],
        calendar_form=calendar_form,
        holiday_form=holiday_form or HolidayForm(prefix="holiday"),
        remove_form=RemoveHolidayForm(prefix="remove"),
    ), status


@bp.route("/admin/calendar", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def calendar():
    form = CalendarForm()
    if not form.is_submitted():
        return _render_calendar()
    status = 400
    if form.validate():
        _, status = perform(
            form,
            lambda: services.update_calendar(
                timezone=form.timezone.data,
                workdays=form.workdays.data,
                start_time=form.start_time.data,
                end_time=form.end_time.data,
                actor=current_actor(),
            ),
        )
        if status is None:
            flash("Business hours saved. New cases use them from now on.", "success")
            return redirect(url_for("sla.calendar"))
    return _render_calendar(status=status, calendar_form=form)


@bp.route("/admin/calendar/holidays", methods=["POST"])
@roles_required(Role.ADMIN)
def add_holiday():
    form = HolidayForm(prefix="holiday")
    status = 400
    if form.validate_on_submit():
        holiday, status = perform(
            form, lambda: services.add_holiday(date=form.date.data, name=form.name.data, actor=current_actor())
        )
        if status is None:
            flash(f"{holiday.name} ({holiday.date:%d %b %Y}) added as a holiday.", "success")
            return redirect(url_for("sla.calendar", _anchor="holidays"))
    return _render_calendar(status=status, holiday_form=form)


@bp.route(f"/admin/calendar/holidays/<int(max={MAX_ID}):holiday_id>/delete", methods=["POST"])
@roles_required(Role.ADMIN)
def remove_holiday(holiday_id):
    form = RemoveHolidayForm(prefix="remove")
    if not form.validate_on_submit():
        return _render_calendar(status=400)
    holiday, status = perform(form, lambda: services.remove_holiday(holiday_id, actor=current_actor()))
    if status is not None:
        return _render_calendar(status=status)
    flash(f"{holiday.name} removed from the holidays.", "success")
    return redirect(url_for("sla.calendar", _anchor="holidays"))


# --- command line ---------------------------------------------------------------------------------


# How often the repeating sweep sets the accounts' statuses from their health: the health covers
# 90 days, so an hour late changes nothing that matters, and the grouped query reads half a year
# of cases.
ACCOUNT_STATUS_INTERVAL = timedelta(hours=1)


@bp.cli.command("sweep")
@click.option("--every", type=click.IntRange(min=1), help="Repeat every SECONDS (for deployment); once if not given.")
def sweep(every):
    """Mark SLA breaches, raise the escalations they call for, mail due-soon cases and auto-close
    quiet resolved ones, committing case by case. Safe to run twice or on several machines.

    With --every, also set the accounts' statuses from their health: on the first pass and then
    at most once an hour. A single run does not (cron can run it every minute): schedule
    `flask accounts refresh-status` for that."""
    from portal.reports.status import describe_changes, refresh_account_statuses
    from portal.sla.sweep import run_sweep  # the sweep uses the case services, which use this package

    config = current_app.config
    statuses_refreshed_at = None
    while True:
        now = utcnow()
        report = run_sweep(
            now=now,
            ack_minutes=config["ESCALATION_ACK_MINUTES"],
            auto_close_days=config["AUTO_CLOSE_DAYS"],
            commit=db.session.commit,
            rollback=db.session.rollback,
        )
        click.echo(f"SLA sweep: {report.summary()}.")
        if not every:
            return
        if statuses_refreshed_at is None or now - statuses_refreshed_at >= ACCOUNT_STATUS_INTERVAL:
            changes = refresh_account_statuses(now=now)
            db.session.commit()
            statuses_refreshed_at = now
            click.echo(describe_changes(changes))
        db.session.remove()
        time.sleep(every)
