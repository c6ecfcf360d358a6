"""Case pages: thin views that parse a form, call one service, commit and respond."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for

from portal.auth import policy
from portal.auth.guards import roles_required, signed_in
from portal.cases import services, timeline
from portal.cases.attachments import check_uploads, storage_path
from portal.cases.forms import CaseFilterForm, CaseForm, ConfirmForm, NoteForm, ReopenForm, ReplyForm
from portal.models import Role
from portal.pagination import MAX_ID
from portal.web import current_actor, perform

bp = Blueprint("cases", __name__)


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


def _render_detail(case, *, status=200, **forms):
    user = current_actor()
    return render_template(
        "cases/detail.html",
        case=case,
        events=timeline.events_for(user, case),
        reply_form=forms.get("reply_form") or ReplyForm(),
        note_form=forms.get("note_form") or NoteForm(prefix="note"),
        reopen_form=forms.get("reopen_form") or ReopenForm(prefix="reopen"),
        confirm_form=ConfirmForm(prefix="confirm"),
    ), status


@bp.route("/cases/<caseref:case_id>")
@signed_in
def detail(case_id):
    return _render_detail(policy.fetch_visible_case(current_actor(), case_id))


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
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_reopen(user, case))
    form = ReopenForm(prefix="reopen")
    status = 400
    if form.validate_on_submit():
        _, status = perform(form, lambda: services.reopen_case(case, actor=user, reason=form.reason.data))
        if status is None:
            flash("The case is open again.", "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    return _render_detail(case, reopen_form=form, status=status)


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
