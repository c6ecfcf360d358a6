"""Sign-in and sign-out."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portal.auth import services
from portal.auth.forms import LoginForm
from portal.auth.guards import public, signed_in
from portal.extensions import db, limiter
from portal.web import is_safe_next

bp = Blueprint("auth", __name__)


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.is_submitted() else 200
    config = current_app.config
    user = services.authenticate(
        form.email.data,
        form.password.data,
        max_failures=config["LOGIN_MAX_FAILURES"],
        lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
    )
    db.session.commit()
    if user is None:
        form.form_errors.append("Invalid e-mail address or password.")
        return render_template("auth/login.html", form=form), 400
    login_user(user, remember=form.remember.data)
    destination = form.next.data if is_safe_next(form.next.data) else url_for("main.home")
    return redirect(destination)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
