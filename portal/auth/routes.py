"""Sign-in and sign-out, invitations, and password resets."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portal.auth import services, tokens
from portal.auth.forms import AcceptInvitationForm, InviteForm, LoginForm, ResetPasswordForm, ResetRequestForm
from portal.auth.guards import public, roles_required, signed_in
from portal.extensions import db, limiter
from portal.models import Account, Role
from portal.web import current_actor, is_safe_next, perform

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


# --- invitations --------------------------------------------------------------------------------


@bp.route("/invitations/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.ACCOUNT_MANAGER)
def invite():
    actor = current_actor()
    form = InviteForm(account=request.args.get("account", type=int))
    accounts = services.fetch_invitable_accounts(actor)
    form.account.choices = [("", "Choose an account"), *((a.id, a.name) for a in accounts)]
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        account = db.session.get(Account, form.account.data)
        user, status = perform(
            form,
            lambda: services.invite_customer(account, email=form.email.data, name=form.name.data, actor=actor),
        )
        if status is None:
            days = current_app.config["INVITATION_DAYS"]
            flash(f"Invitation sent to {user.email}. The link works once, for {days} days.", "success")
            return redirect(url_for("auth.invite", account=account.id))
    return render_template("auth/invite.html", form=form, accounts=accounts), status


def _token_problem(error: tokens.TokenError, *, kind: str):
    return render_template("auth/token_problem.html", reason=error.reason, kind=kind), error.status_code


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    try:
        invitee = tokens.read_token(tokens.INVITATION, token)
    except tokens.TokenError as error:
        return _token_problem(error, kind="invitation")
    form = AcceptInvitationForm(name=invitee.name)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        user, status = perform(
            form, lambda: services.accept_invitation(token, name=form.name.data, password=form.password.data)
        )
        if status is None:
            login_user(user)
            flash("Welcome! Your password is set and you are signed in.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/accept_invitation.html", form=form, invitee=invitee), status


# --- password reset -----------------------------------------------------------------------------


def _reset_rate_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _reset_email_rate_limit() -> str:
    return current_app.config["RESET_EMAIL_RATE_LIMIT"]


def _submitted_email() -> str:
    """The rate-limit key of a reset request: the address asked for, however it was typed."""
    return "reset-email:" + (request.form.get("email") or "").strip().lower()


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_reset_rate_limit, methods=["POST"])
@limiter.limit(_reset_email_rate_limit, methods=["POST"], key_func=_submitted_email)
@public
def forgot_password():
    form = ResetRequestForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot_password.html", form=form), 400 if form.is_submitted() else 200
    services.request_password_reset(form.email.data)
    db.session.commit()
    # The same page whether or not the address has an account.
    return render_template("auth/reset_requested.html", email=form.email.data)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    try:
        tokens.read_token(tokens.PASSWORD_RESET, token)
    except tokens.TokenError as error:
        return _token_problem(error, kind="reset")
    form = ResetPasswordForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        _, status = perform(form, lambda: services.reset_password(token, password=form.password.data))
        if status is None:
            flash("Your password has been changed. Sign in with the new one.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), status
