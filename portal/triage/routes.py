"""Staff queues: Triage, My cases, Team and All; bulk assignment; the team lead's workload view."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.guards import STAFF, roles_required
from portal.cases import services as case_services
from portal.extensions import db
from portal.models import Role, User
from portal.models.base import utcnow
from portal.triage import queues, services
from portal.triage.forms import BulkAssignForm, QueueFilterForm
from portal.web import current_actor, is_safe_next, perform

bp = Blueprint("triage", __name__, url_prefix="/work")


def _filters(form: QueueFilterForm) -> queues.CaseFilters:
    data = form.data
    return queues.CaseFilters(
        status=data["status"] or "",
        kind=data["kind"] or "",
        severity=data["severity"] or "",
        category=data["category"] or "",
        account_id=data["account"],
        assignee_id=data["assignee"],
        due=data["due"] or "",
        q=data["q"] or "",
        sort=data["sort"] or "sla",
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
    staff = services.fetch_assignable_staff()
    form.set_choices(services.fetch_filter_accounts(user), staff)
    valid = form.validate()
    page = queues.fetch_queue_page(
        user,
        name,
        _filters(form) if valid else queues.CaseFilters(),
        cursor=form.cursor.data,
        per_page=current_app.config["PAGE_SIZE"],
        now=utcnow(),
    )
    assign_form = BulkAssignForm(formdata=None, prefix="bulk", next=request.full_path)
    assign_form.assignee.choices = form.assignee.choices
    return render_template(
        "triage/queue.html", name=name, form=form, page=page, assign_form=assign_form, queues=queues
    ), 200 if valid else 400


@bp.route("/assign", methods=["POST"])
@roles_required(Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)
def bulk_assign():
    user = current_actor()
    form = BulkAssignForm(prefix="bulk")
    form.assignee.choices = [(u.id, u.name) for u in services.fetch_assignable_staff()]
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
