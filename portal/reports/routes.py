"""Report pages: the quarterly/annual report with its CSV and XLSX downloads, and the dashboard.

Every route is for signed-in staff with reports; customers (and anyone else without reports)
get 404, as if the routes did not exist. Bad input re-renders the page with the message (400).
"""

from flask import Blueprint, Response, current_app, render_template, request

from portal.auth import policy
from portal.auth.guards import signed_in
from portal.extensions import db
from portal.models.base import utcnow
from portal.reports import cache, charts, exports
from portal.reports.forms import DashboardForm, ReportForm
from portal.reports.periods import parse_period, quarter_of
from portal.reports.queries import AGE_BUCKETS
from portal.reports.scope import find_reportable_account_id, reportable_managers, resolve_scope
from portal.services import ServiceError
from portal.web import current_actor

bp = Blueprint("reports", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows of a section shown on the page (the accounts at risk of a large company run to hundreds);
# the downloads have every row.
PAGE_ROWS = 50


def _report_form(user) -> ReportForm:
    form = ReportForm(request.args)
    form.set_choices(
        company=policy.can_see_company_reports(user), managers=db.session.scalars(reportable_managers(user))
    )
    return form


def _parse(user, form):
    """(scope, period) from a valid form; ServiceError (with its field) for input that means nothing."""
    if not form.validate():
        raise ServiceError("Please check the dates and choices.")
    period = parse_period(form.period.data or quarter_of(utcnow()).label, form.start.data, form.end.data)
    account_id = form.account.data
    if form.scope.data == "account" and form.account_name.data:
        account_id = find_reportable_account_id(user, form.account_name.data)  # a typed name wins over an id
    scope = resolve_scope(user, form.scope.data, manager_id=form.manager.data, account_id=account_id)
    if scope.account_id is not None:
        form.account_name.data = scope.label  # an `account=<id>` link shows whose report this is
    return scope, period


def _refuse(form, error: ServiceError, template: str):
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
    return render_template(template, form=form, report=None, dashboard=None, charts=None), error.status_code


def _requested_report():
    """(form, report, None) for what the query string asks, or (form, None, refusal page) when it
    asks for something that means nothing or that the user may not see."""
    user = current_actor()
    policy.require_reports(user)
    form = _report_form(user)
    try:
        scope, period = _parse(user, form)
    except ServiceError as error:
        return form, None, _refuse(form, error, "reports/report.html")
    return form, cache.report(user, scope, period, now=utcnow()), None


@bp.route("/reports")
@signed_in
def report():
    form, result, refusal = _requested_report()
    if refusal is not None:
        return refusal
    sections = exports.report_sections(result, max_rows=PAGE_ROWS)
    return render_template("reports/report.html", form=form, report=result, sections=sections)


@bp.route("/reports/export.<any(csv, xlsx):fmt>")
@signed_in
def export(fmt):
    _, result, refusal = _requested_report()
    if refusal is not None:
        return refusal
    name = f"casebridge-report-{result.period.label.replace(' ', '_')}"
    if fmt == "csv":
        body, mimetype = exports.to_csv(result), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(result), XLSX
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@bp.route("/dashboard")
@signed_in
def dashboard():
    user = current_actor()
    policy.require_reports(user)
    form = DashboardForm(request.args)
    try:
        if not form.validate():
            raise ServiceError("Please check the choices.")
        scope = resolve_scope(user, form.scope.data, manager_id=form.manager.data, account_id=form.account.data)
    except ServiceError as error:
        return _refuse(form, error, "reports/dashboard.html")
    board = cache.dashboard(user, scope, now=utcnow())
    return render_template(
        "reports/dashboard.html",
        form=form,
        dashboard=board,
        cache_minutes=current_app.config["REPORT_CACHE_SECONDS"] // 60,
        charts=charts.dashboard_charts(board),
        age_labels=[label for label, _ in AGE_BUCKETS],
    )
