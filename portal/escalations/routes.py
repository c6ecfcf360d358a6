"""Escalation pages: the customer's Escalate button, staff raising and handling escalations from
the case page, and the executive board. Thin views: parse, call one service, commit, respond."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from portal.auth import policy
from portal.auth.guards import roles_required
from portal.escalations import forms, services
from portal.extensions import limiter
from portal.models import DecisionOutcome, EscalationReason, Role
from portal.models.base import utcnow
from portal.pagination import MAX_ID
from portal.web import current_actor, perform

bp = Blueprint("escalations", __name__)

HANDLERS = (Role.TEAM_LEAD, Role.EXECUTIVE)


@bp.app_context_processor
def escalation_predicates():
    return policy.ESCALATION_PREDICATES


@bp.app_template_global()
def escalation_flagged(escalation) -> bool:
    window = current_app.config["ESCALATION_ACK_MINUTES"]
    return services.is_flagged(escalation, now=utcnow(), window=timedelta(minutes=window))


@bp.app_template_global()
def escalation_reason_label(value: str) -> str:
    try:
        return EscalationReason(value).label
    except ValueError:
        return value


@bp.app_template_global()
def escalation_outcome_label(value: str) -> str:
    try:
        return DecisionOutcome(value).label
    except ValueError:
        return value


def _request_rate_limit() -> str:
    return current_app.config["ESCALATION_REQUEST_RATE_LIMIT"]


def _act(case, form, form_name: str, success: str, work):
    """Run one action posted from the case page: done → flash and back to the case; refused → the
    case page again (400 with the message on the form, 409 said at the top of the page)."""
    from portal.cases.routes import render_case_page  # the case page renders this package's panel

    status = 400
    if form.validate_on_submit():
        _, status = perform(form, work)
        if status is None:
            flash(success, "success")
            return redirect(url_for("cases.detail", case_id=case.id, _anchor="escalation"))
        if status == 409:
            for message in form.form_errors:
                flash(message, "error")
            form.form_errors.clear()
    return render_case_page(case, status=status, **{form_name: form})


@bp.route("/cases/<caseref:case_id>/escalate", methods=["POST"])
@limiter.limit(_request_rate_limit, methods=["POST"])
@roles_required(Role.CUSTOMER)
def request_escalation(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    form = forms.EscalateRequestForm(prefix="escalate")
    return _act(
        case,
        form,
        "escalate_form",
        "Your case has been escalated. More senior people are now looking at it.",
        lambda: services.request_escalation(case, customer=user, reason=form.reason.data),
    )


@bp.route("/cases/<caseref:case_id>/escalations", methods=["POST"])
@roles_required(Role.ACCOUNT_MANAGER, Role.TEAM_LEAD)
def raise_escalation(case_id):
    user = current_actor()
    case = policy.fetch_visible_case(user, case_id)
    policy.require(policy.can_raise_escalation(user, case))
    form = forms.RaiseForm(prefix="raise")
    return _act(
        case,
        form,
        "raise_form",
        "The case has been escalated.",
        lambda: services.raise_escalation(
            case, actor=user, level=form.level.data, reason=form.reason.data, expected_version=form.version.data
        ),
    )


def _escalation_action(escalation_id, form_cls, prefix, success, work):
    user = current_actor()
    escalation = services.fetch_visible_escalation(user, escalation_id)
    form = form_cls(prefix=prefix)
    return _act(escalation.case, form, f"{prefix}_form", success, lambda: work(escalation, user, form))


ESCALATION_ID = f"<int(max={MAX_ID}):escalation_id>"


@bp.route(f"/escalations/{ESCALATION_ID}/acknowledge", methods=["POST"])
@roles_required(*HANDLERS)
def acknowledge(escalation_id):
    return _escalation_action(
        escalation_id,
        forms.EscalationActionForm,
        "ack",
        "Escalation acknowledged. The customer can see that it is being looked at.",
        lambda e, user, form: services.acknowledge_escalation(e, actor=user, expected_version=form.version.data),
    )


@bp.route(f"/escalations/{ESCALATION_ID}/own", methods=["POST"])
@roles_required(*HANDLERS)
def own(escalation_id):
    return _escalation_action(
        escalation_id,
        forms.EscalationActionForm,
        "own",
        "You own this escalation now.",
        lambda e, user, form: services.take_ownership(e, actor=user, expected_version=form.version.data),
    )


@bp.route(f"/escalations/{ESCALATION_ID}/raise", methods=["POST"])
@roles_required(Role.TEAM_LEAD)
def raise_to_level_2(escalation_id):
    return _escalation_action(
        escalation_id,
        forms.RaiseToLevel2Form,
        "raise2",
        "Raised to level 2: the executives have been told.",
        lambda e, user, form: services.raise_to_level_2(
            e, actor=user, reason=form.reason.data, expected_version=form.version.data
        ),
    )


@bp.route(f"/escalations/{ESCALATION_ID}/decide", methods=["POST"])
@roles_required(Role.EXECUTIVE)
def decide(escalation_id):
    return _escalation_action(
        escalation_id,
        forms.DecideForm,
        "decide",
        "Decision recorded. Only staff can see it.",
        lambda e, user, form: services.decide_escalation(
            e, actor=user, outcome=form.outcome.data, decision=form.decision.data, expected_version=form.version.data
        ),
    )


@bp.route(f"/escalations/{ESCALATION_ID}/close", methods=["POST"])
@roles_required(*HANDLERS)
def close(escalation_id):
    return _escalation_action(
        escalation_id,
        forms.EscalationActionForm,
        "close_escalation",
        "Escalation closed.",
        lambda e, user, form: services.close_escalation(e, actor=user, expected_version=form.version.data),
    )


@bp.route(f"/escalations/{ESCALATION_ID}/de-escalate", methods=["POST"])
@roles_required(Role.EXECUTIVE)
def de_escalate(escalation_id):
    return _escalation_action(
        escalation_id,
        forms.DeEscalateForm,
        "deescalate",
        "Sent back to the team leads (level 1).",
        lambda e, user, form: services.de_escalate(
            e, actor=user, reason=form.reason.data, expected_version=form.version.data
        ),
    )


@bp.route("/escalations")
@roles_required(*HANDLERS)
def board():
    form = forms.BoardFilterForm(request.args)
    valid = form.validate()
    filters = services.BoardFilters(
        level=int(form.level.data) if valid and form.level.data else None,
        state=form.state.data if valid and form.state.data else "open",
        reason=form.reason.data if valid and form.reason.data else "",
    )
    page = services.fetch_board_page(
        current_actor(), filters, cursor=form.cursor.data, per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template("escalations/board.html", form=form, page=page), 200 if valid else 400
