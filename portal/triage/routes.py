"""Staff queues: Triage, My cases, Team and All; account suggestions for their filter; bulk assignment;
the team lead's workload view."""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.guards import STAFF, roles_required
from portal.cases import services as case_services
from portal.extensions import db
from portal.models import Role, User
from portal.models.base import utcnow
from portal.services import ServiceError
from portal.triage import queues, services
from portal.triage.forms import BulkAssignForm, QueueFilterForm
from portal.web import current_actor, is_safe_next, perform

bp = Blueprint("triage", __name__, url_prefix="/work")


def _filters(form: QueueFilterForm, user: User) -> queues.CaseFilters | None:
    """The queue's filters, or None when one is not recognised (its error is then on the form)."""
    if not form.validate():
        return None
    try:
        account = services.find_filter_account(user, account_id=form.account.data, name=form.account_name.data or "")
    except ServiceError as error:
        getattr(form, error.field).errors.append(error.message)
        return None
    if account is not None:
        form.account_name.data = account.name  # an `account=<id>` link shows whose cases these are
    if not form.sort.raw_data:
        # A text search lists the newest matches first unless another order is asked for: ranking a
        # common word's every match by SLA time left would sort a large share of all cases.
        form.sort.data = "newest" if form.q.data else "sla"
    data = form.data
    return queues.CaseFilters(
        status=data["status"] or "",
        kind=data["kind"] or "",
        severity=data["severity"] or "",
        category=data["category"] or "",
        account_id=account.id if account else None,
        assignee_id=data["assignee"],
        due=data["due"] or "",
        q=data["q"] or "",
        sort=data["sort"],
    )


@bp.route("/")
@roles_required(*STAFF)
def home():
    return redirect(url_for("triage.queue", name=queues.queues_for(current_actor())[0]))


@bp.route("/<name>")
@roles_required(*STAFF)
def queue(name):
    user = current_actor()
    if name not in queues.queues_for(user):
        abort(404)
    form = QueueFilterForm(request.args)
    form.set_choices(services.fetch_assignable_names())
    filters = _filters(form, user)
    page = queues.fetch_queue_page(
        user,
        name,
        filters or queues.CaseFilters(),
        cursor=form.cursor.data,
        per_page=current_app.config["PAGE_SIZE"],
        now=utcnow(),
    )
    assign_form = BulkAssignForm(formdata=None, prefix="bulk", next=request.full_path)
    assign_form.assignee.choices = form.assignee.choices
    return render_template(
        "triage/queue.html", name=name, form=form, page=page, assign_form=assign_form, queues=queues
    ), 200 if filters is not None else 400


@bp.route("/accounts")
@roles_required(*STAFF)
def account_suggestions():
    rows = services.suggest_filter_accounts(current_actor(), request.args.get("q", ""))
    return jsonify([{"id": row.id, "name": row.name} for row in rows])


@bp.route("/assign", methods=["POST"])
@roles_required(Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)
def bulk_assign():
    user = current_actor()
    form = BulkAssignForm(prefix="bulk")
    form.assignee.choices = [(u.id, u.name) for u in services.fetch_assignable_names()]
    back = form.next.data if is_safe_next(form.next.data) else url_for("triage.home")
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(back, code=303)
    cases = queues.fetch_visible_cases_by_id(user, form.case_ids.data)
    if len(cases) != len(set(form.case_ids.data)):
        abort(404)
    assignee = db.session.get(User, form.assignee.data)
    changed, status = perform(form, lambda: case_services.assign_cases(cases, assignee, actor=user))
    if status is None:
        flash(f"{changed} case(s) assigned to {assignee.name}.", "success")
    else:
        flash(" ".join(form.form_errors + form.assignee.errors), "error")
    return redirect(back, code=303)


@bp.route("/workload")
@roles_required(Role.TEAM_LEAD)
def workload():
    return render_template("triage/workload.html", rows=services.fetch_workload(now=utcnow()))


@bp.app_context_processor
def queue_counts():
    """Case counts for the staff navigation ("Triage 4", "My cases 12")."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return {}
    return {"queue_counts": queues.count_queues(current_actor()), "staff_queues": queues.queues_for(current_actor())}
