"""Saved-reply pages: the list (staff who reply), and create, edit, delete (team leads and admins)."""

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.auth import policy
from portal.auth.guards import roles_required
from portal.models import Role
from portal.pagination import MAX_ID
from portal.replies import services
from portal.replies.forms import DeleteSavedReplyForm, SavedReplyForm
from portal.web import current_actor, perform

bp = Blueprint("replies", __name__)

MANAGERS = (Role.TEAM_LEAD, Role.ADMIN)


@bp.route("/saved-replies")
@roles_required(Role.ACCOUNT_MANAGER, *MANAGERS)
def index():
    return render_template(
        "replies/index.html",
        replies=services.fetch_saved_replies(),
        placeholders=services.PLACEHOLDERS,
        can_manage=policy.can_manage_saved_replies(current_actor()),
        delete_form=DeleteSavedReplyForm(formdata=None),
    )


def _save(form, work, *, template_args):
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        _, status = perform(form, work)
        if status is None:
            flash("The saved reply has been saved.", "success")
            return redirect(url_for("replies.index"))
    return render_template("replies/edit.html", form=form, placeholders=services.PLACEHOLDERS, **template_args), status


@bp.route("/saved-replies/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    form = SavedReplyForm()
    return _save(
        form,
        lambda: services.create_saved_reply(title=form.title.data, body=form.body.data, actor=current_actor()),
        template_args={"reply": None},
    )


@bp.route(f"/saved-replies/<int(max={MAX_ID}):reply_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(reply_id):
    reply = services.fetch_saved_reply(reply_id)
    form = SavedReplyForm(obj=reply)
    return _save(
        form,
        lambda: services.update_saved_reply(reply, title=form.title.data, body=form.body.data, actor=current_actor()),
        template_args={"reply": reply},
    )


@bp.route(f"/saved-replies/<int(max={MAX_ID}):reply_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def delete(reply_id):
    reply = services.fetch_saved_reply(reply_id)
    title = reply.title
    form = DeleteSavedReplyForm()
    status = 400
    if form.validate_on_submit():
        _, status = perform(form, lambda: services.delete_saved_reply(reply, actor=current_actor()))
    if status is None:
        flash(f"The saved reply “{title}” has been deleted.", "success")
    else:
        flash(" ".join(form.form_errors) or "That could not be done.", "error")
    return redirect(url_for("replies.index"))
