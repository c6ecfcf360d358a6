"""Case pages: thin views that parse a form, call one service, commit and respond.

Also the command `flask cases auto-close`, which closes resolved cases nobody has touched for
AUTO_CLOSE_DAYS days.
"""

import click
from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy.orm.exc import StaleDataError

from portal.auth import policy
from portal.auth.guards import roles_required, signed_in
from portal.cases import services, timeline, workflow
from portal.cases.attachments import check_uploads, storage_path
from portal.cases.forms import (
    AssignForm,
    CaseFilterForm,
    CaseForm,
    CloseForm,
    ConfirmForm,
    DetailsForm,
    MergeForm,
    NoteForm,
    ReopenForm,
    ReplyForm,
    ResolveForm,
    SavedReplyPickForm,
    WaitingForm,
    case_id_from_reference,
)
from portal.escalations import forms as escalation_forms
from portal.escalations import services as escalations
from portal.extensions import db
from portal.models import CATEGORIES, Role
from portal.models.base import utcnow
from portal.pagination import MAX_ID
from portal.replies import services as replies
from portal.services import ServiceError
from portal.web import current_actor, perform

bp = Blueprint("cases", __name__)

# Who may reach the staff action routes at all; the policy then decides per case.
CASE_WORKERS = (Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)


@bp.app_template_global()
def case_can_move(case, status) -> bool:
    """Whether the lifecycle allows `case` to move to `status` now (to offer only possible actions)."""
    return workflow.can_transition(case, status)


@bp.app_template_global()
def category_label(value: str) -> str:
    return CATEGORIES.get(value, value)


def _uploads(form):
    config = current_app.config
    return check_uploads(
        form.attachments.data or [], max_count=config["MAX_ATTACHMENTS"], max_bytes=config["MAX_ATTACHMENT_BYTES"]
    )


@bp.route("/cases")
@signed_in
def index():
    form = CaseFilterForm(request.args)
    valid = form.validate()
    page = services.fetch_case_page(
        current_actor(),
        status=form.status.data if valid else "",
        kind=form.kind.data if valid else "",
        cursor=form.cursor.data,
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("cases/index.html", form=form, page=page), 200 if valid else 400


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(Role.CUSTOMER)
def new():
    form = CaseForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        case, status = perform(
            form,
            lambda: services.submit_case(
                requester=current_actor(),
                kind=form.kind.data,
                category=form.category.data,
                severity=form.severity.data,
                subject=form.subject.data,
                description=form.description.data,
                uploads=_uploads(form),
            ),
        )
        if status is None:
            return redirect(url_for("cases.submitted", case_id=case.id))
    return render_template("cases/new.html", form=form), status


@bp.route("/cases/<caseref:case_id>/submitted")
@roles_required(Role.CUSTOMER)
def submitted(case_id):
    case = policy.fetch_visible_case(current_actor(), case_id)
    return render_template("cases/submitted.html", case=case)


def _blank_forms(case) -> dict:
    """Every form the case page may show, empty (`formdata=None`: never filled from another form's POST)."""
    details = {"severity": case.severity.value, "kind": case.kind.value, "category": case.category}
    return {
        "reply_form": ReplyForm(formdata=None),
        "note_form": NoteForm(formdata=None, prefix="note"),
        "reopen_form": ReopenForm(formdata=None, prefix="reopen"),
        "confirm_form": ConfirmForm(formdata=None, prefix="confirm"),
        "assign_form": AssignForm(formdata=None, prefix="assign"),
        "details_form": DetailsForm(formdata=None, prefix="details", data=details),
        "waiting_form": WaitingForm(formdata=None, prefix="waiting"),
        "resolve_form": ResolveForm(formdata=None, prefix="resolve"),
        "close_form": CloseForm(formdata=None, prefix="close"),
        "merge_form": MergeForm(formdata=None, prefix="merge"),
        "picker": SavedReplyPickForm(formdata=None),
        "escalate_form": escalation_forms.EscalateRequestForm(formdata=None, prefix="escalate"),
        "raise_form": escalation_forms.RaiseForm(formdata=None, prefix="raise"),
        "ack_form": escalation_forms.EscalationActionForm(formdata=None, prefix="ack"),
        "own_form": escalation_forms.EscalationActionForm(formdata=None, prefix="own"),
        "raise2_form": escalation_forms.RaiseToLevel2Form(formdata=None, prefix="raise2"),
        "decide_form": escalation_forms.DecideForm(formdata=None, prefix="decide"),
        "close_escalation_form": escalation_forms.EscalationActionForm(formdata=None, prefix="close_escalation"),
        "deescalate_form": escalation_forms.DeEscalateForm(formdata=None, prefix="deescalate"),
    }


def _assignee_choices(form, choices, case) -> None:
    """Fill the assign select: each person with their open cases, the suggestion marked and, for a
    case nobody has yet, chosen."""
    options = [("", "Choose a person")]
    for person in choices.people:
        label = f"{person.name} — {person.role.label.lower()}, {choices.open_load.get(person.id, 0)} open"
        if person == choices.suggested:
            label += " (suggested: fewest open cases)"
        options.append((person.id, label))
    form.assignee.choices = options
    if form.assignee.data is None and case.assignee_id is None and choices.suggested is not None:
        form.assignee.data = choices.suggested.id


def _render_detail(case, *, status=200, **forms):
    user = current_actor()
    forms = {**_blank_forms(case), **forms}
    assignment = None
    if policy.can_triage(user, case):
        assignment = services.fetch_assignment_choices()
        _assignee_choices(forms["assign_form"], assignment, case)
    saved_replies = []
    if policy.can_reply(user, case) and policy.can_use_saved_replies(user):
        saved_replies = replies.fetch_saved_replies()
        forms["picker"].saved_reply.choices = [("", "Choose a saved reply"), *((r.id, r.title) for r in saved_replies)]
    return render_template(
        "cases/detail.html",
        case=case,
        events=timeline.events_for(user, case),
        escalations=escalations.fetch_case_escalations(case),
        assignment=assignment,
        saved_replies=saved_replies,
        **forms,
    ), status


render_case_page = _render_detail  # other features' case-page forms re-render it with their errors


@bp.route("/cases/<caseref:case_id>")
@signed_in
def detail(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    picker = SavedReplyPickForm(request.args)
    reply_form = ReplyForm(formdata=None)
    if picker.validate() and picker.saved_reply.data is not None:
        try:
            reply_form.body.data = replies.render_for_case(picker.saved_reply.data, case=case, agent=user)
        except ServiceError as error:
            picker.saved_reply.errors.append(error.message)
    return _render_detail(case, reply_form=reply_form, picker=picker)


@bp.route("/cases/<caseref:case_id>/reply", methods=["POST"])
@signed_in
def reply(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_reply(user, case))
    form = ReplyForm()
    status = 400
    if form.validate_on_submit():
        _, status = perform(
            form, lambda: services.reply_to_case(case, author=user, body=form.body.data, uploads=_uploads(form))
        )
        if status is None:
            flash("Your reply has been added.", "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="latest"))
    return _render_detail(case, reply_form=form, status=status)


@bp.route("/cases/<caseref:case_id>/note", methods=["POST"])
@roles_required(Role.ACCOUNT_MANAGER, Role.TEAM_LEAD, Role.EXECUTIVE)
def note(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_write_note(user, case))
    form = NoteForm(prefix="note")
    status = 400
    if form.validate_on_submit():
        _, status = perform(
            form, lambda: services.add_internal_note(case, author=user, body=form.body.data, uploads=_uploads(form))
        )
        if status is None:
            flash("Internal note added. Customers cannot see it.", "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="latest"))
    return _render_detail(case, note_form=form, status=status)


@bp.route("/cases/<caseref:case_id>/confirm", methods=["POST"])
@signed_in
def confirm(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_confirm_resolution(user, case))
    form = ConfirmForm(prefix="confirm")
    status = 400
    if form.validate_on_submit():
        _, status = perform(form, lambda: services.confirm_resolution(case, actor=user))
    if status is None:
        flash("Thank you. The case is now closed.", "success")
        return redirect(url_for("cases.detail", case_id=case.id))
    flash(" ".join(form.form_errors) or "That could not be done.", "error")
    return _render_detail(case, status=status)


@bp.route("/cases/<caseref:case_id>/reopen", methods=["POST"])
@signed_in
def reopen(case_id):
    user, case = _fetch_for(case_id, policy.can_reopen)
    form = ReopenForm(prefix="reopen")
    return _act(
        case,
        form,
        "reopen_form",
        "The case is open again.",
        lambda: services.reopen_case(case, actor=user, reason=form.reason.data, expected_version=form.version.data),
    )


# --- staff actions: each posts one form from the case page's "Work on this case" panel ---------------


def _fetch_for(case_id, predicate):
    """The signed-in user and the case, if they may see it (else 404) and `predicate` allows (else 403)."""
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(predicate(user, case))
    return user, case


def _act(case, form, form_name: str, success: str, work):
    """Run one action posted from the case page. Done: flash `success` and go back to the case.
    Refused: the case page again, 400 with the message on the form for bad input, or 409 for a
    conflict, said at the top of the page (the case moved on: the form may no longer be offered)."""
    status = 400
    if form.validate_on_submit():
        _, status = perform(form, work)
        if status is None:
            flash(success, "success")
            return redirect(url_for("cases.detail", case_id=case.id))
        if status == 409:
            for message in form.form_errors:
                flash(message, "error")
            form.form_errors.clear()
    return _render_detail(case, status=status, **{form_name: form})


@bp.route("/cases/<caseref:case_id>/assign", methods=["POST"])
@roles_required(*CASE_WORKERS)
def assign(case_id):
    user, case = _fetch_for(case_id, policy.can_triage)
    form = AssignForm(prefix="assign")
    return _act(
        case,
        form,
        "assign_form",
        "The case has been assigned.",
        lambda: services.assign_case(
            case, services.find_user(form.assignee.data), actor=user, expected_version=form.version.data
        ),
    )


@bp.route("/cases/<caseref:case_id>/details", methods=["POST"])
@roles_required(*CASE_WORKERS)
def details(case_id):
    user, case = _fetch_for(case_id, policy.can_triage)
    form = DetailsForm(prefix="details")
    return _act(
        case,
        form,
        "details_form",
        "The case details have been changed.",
        lambda: services.change_case_details(
            case,
            actor=user,
            severity=form.severity.data,
            kind=form.kind.data,
            category=form.category.data,
            reason=form.reason.data,
            expected_version=form.version.data,
        ),
    )


@bp.route("/cases/<caseref:case_id>/waiting", methods=["POST"])
@roles_required(*CASE_WORKERS)
def waiting(case_id):
    user, case = _fetch_for(case_id, policy.can_work_case)
    form = WaitingForm(prefix="waiting")
    return _act(
        case,
        form,
        "waiting_form",
        "The case is waiting on the customer; the SLA clock is paused.",
        lambda: services.set_waiting_on_customer(
            case, actor=user, message=form.message.data, expected_version=form.version.data
        ),
    )


@bp.route("/cases/<caseref:case_id>/resolve", methods=["POST"])
@roles_required(*CASE_WORKERS)
def resolve(case_id):
    user, case = _fetch_for(case_id, policy.can_work_case)
    form = ResolveForm(prefix="resolve")
    return _act(
        case,
        form,
        "resolve_form",
        "The case is resolved. The customer can confirm or reopen it.",
        lambda: services.resolve_case(case, actor=user, summary=form.summary.data, expected_version=form.version.data),
    )


@bp.route("/cases/<caseref:case_id>/close", methods=["POST"])
@roles_required(*CASE_WORKERS)
def close(case_id):
    user, case = _fetch_for(case_id, policy.can_work_case)
    form = CloseForm(prefix="close")
    return _act(
        case,
        form,
        "close_form",
        "The case is closed.",
        lambda: services.close_case(case, actor=user, expected_version=form.version.data),
    )


@bp.route("/cases/<caseref:case_id>/merge", methods=["POST"])
@roles_required(*CASE_WORKERS)
def merge(case_id):
    user, case = _fetch_for(case_id, policy.can_work_case)
    form = MergeForm(prefix="merge")
    return _act(
        case,
        form,
        "merge_form",
        "The case has been merged and closed.",
        lambda: services.merge_case(
            case,
            services.find_case(case_id_from_reference(form.target.data)),
            actor=user,
            expected_version=form.version.data,
        ),
    )


@bp.route(f"/attachments/<int(max={MAX_ID}):attachment_id>")
@signed_in
def download(attachment_id):
    attachment = services.fetch_attachment(current_actor(), attachment_id)
    response = send_file(
        storage_path(attachment.storage_key),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- command line ---------------------------------------------------------------------------------


@bp.cli.command("auto-close")
@click.option("--days", type=click.IntRange(min=1), help="Quiet days before closing (default: AUTO_CLOSE_DAYS).")
def auto_close(days):
    """Close resolved cases with no activity for AUTO_CLOSE_DAYS days, committing case by case."""
    days = days or current_app.config["AUTO_CLOSE_DAYS"]
    now = utcnow()
    closed = skipped = 0
    for case_id in services.fetch_stale_resolved_case_ids(now=now, days=days):
        try:
            closed += services.auto_close_case(case_id, now=now, days=days) is not None
            db.session.commit()
        except StaleDataError:
            # The case changed as it was being closed, so it is no longer quiet: leave it.
            db.session.rollback()
            skipped += 1
    click.echo(f"Closed {closed} resolved case(s) with no activity for {days} days.")
    if skipped:
        click.echo(f"Left {skipped} case(s) that changed meanwhile.")
