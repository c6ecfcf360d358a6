"""The signed-in person's own profile and notification preferences."""

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.auth.guards import signed_in
from portal.notifications import preferences as notification_preferences
from portal.users import services
from portal.users.forms import ProfileForm, preferences_form
from portal.web import current_actor, perform

bp = Blueprint("users", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@signed_in
def profile():
    user = current_actor()
    form = ProfileForm(obj=user)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        _, status = perform(
            form, lambda: services.update_profile(user, name=form.name.data, timezone=form.timezone.data)
        )
        if status is None:
            flash("Your profile has been saved.", "success")
            return redirect(url_for("users.profile"))
    return render_template("users/profile.html", form=form), status


@bp.route("/preferences", methods=["GET", "POST"])
@signed_in
def preferences():
    user = current_actor()
    kinds = notification_preferences.kinds_for(user)
    form = preferences_form(kinds, notification_preferences.fetch_opt_outs(user), notification_preferences.LABELS)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        _, status = perform(
            form, lambda: services.update_notification_preferences(user, enabled=form.enabled_kinds(kinds))
        )
        if status is None:
            flash("Your notification settings have been saved.", "success")
            return redirect(url_for("users.preferences"))
    return render_template("users/preferences.html", form=form, kinds=kinds), status
