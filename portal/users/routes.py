"""The signed-in person's own profile."""

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.auth.guards import signed_in
from portal.users import services
from portal.users.forms import ProfileForm
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
