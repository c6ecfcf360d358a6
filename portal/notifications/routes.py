"""The admin's outbox page, and `flask outbox send`, the command that delivers the outbox."""

import logging
import signal
import socket

import click
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from portal.auth.guards import roles_required
from portal.models import Role
from portal.models.base import utcnow
from portal.notifications import outbox, sender
from portal.notifications.forms import OutboxFilterForm, RetryForm
from portal.pagination import MAX_ID
from portal.web import current_actor, perform

bp = Blueprint("notifications", __name__, cli_group="outbox")


def _render_outbox(form: OutboxFilterForm, *, status: int = 200, retry_form: RetryForm | None = None):
    valid = form.validate()
    page = outbox.fetch_outbox_page(
        status=form.status.data if valid else "", cursor=form.cursor.data, per_page=current_app.config["PAGE_SIZE"]
    )
    retry_form = retry_form or RetryForm(formdata=None, status=form.status.data if valid else "")
    return render_template(
        "notifications/outbox.html", form=form, page=page, counts=outbox.count_by_status(), retry_form=retry_form
    ), (status if valid else 400)


@bp.route("/admin/outbox")
@roles_required(Role.ADMIN)
def outbox_list():
    return _render_outbox(OutboxFilterForm(request.args))


@bp.route(f"/admin/outbox/<int(max={MAX_ID}):message_id>/retry", methods=["POST"])
@roles_required(Role.ADMIN)
def retry(message_id):
    form = RetryForm()
    status = 400
    if form.validate_on_submit():
        _, status = perform(form, lambda: outbox.retry_message(message_id, actor=current_actor()))
        if status is None:
            flash(f"Message {message_id} will be sent again shortly.", "success")
            return redirect(url_for("notifications.outbox_list", status=form.status.data or None))
    return _render_outbox(OutboxFilterForm(formdata=None), status=status, retry_form=form)


@bp.cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (SIGTERM or Ctrl-C), for deployment.")
@click.option("--batch", type=click.IntRange(1, 1000), default=None, help="Messages per claim (MAIL_BATCH_SIZE).")
def send_command(loop, batch):
    """Deliver the due messages of the outbox (one batch, or for ever with --loop)."""
    config = current_app.config
    if not logging.root.handlers:  # a process of its own: say what it does (and, with "console", the mail)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Flask-Mail opens SMTP connections without a timeout; a server that stops answering must not
    # hang the sender past its claim's lease.
    socket.setdefaulttimeout(config["MAIL_TIMEOUT"])
    if not loop:
        delivered = sender.send_batch(batch, now=utcnow())
        click.echo(f"Delivered {delivered} message(s).")
        return

    stopping = []

    def stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Sending the outbox ({config['MAIL_BACKEND']}); stop with Ctrl-C or SIGTERM.")
    total = sender.run_loop(batch, should_stop=lambda: bool(stopping), poll_seconds=config["MAIL_POLL_SECONDS"])
    click.echo(f"Stopped after delivering {total} message(s).")
