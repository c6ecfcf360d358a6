"""Home: send each person to where their work is. Health: for load balancers and monitors."""

import sqlalchemy as sa
from flask import Blueprint, redirect, url_for
from flask_login import current_user

from portal.auth.guards import public
from portal.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.is_staff:
        return redirect(url_for("triage.home"))
    return redirect(url_for("cases.index"))


@bp.route("/healthz")
@public
def health():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
