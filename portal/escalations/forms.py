"""Escalation forms: their shape only. The rules live in services.py and rules.py."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from portal.cases.forms import CaseActionForm, choices, record_id
from portal.escalations.services import STATES
from portal.models import DecisionOutcome, EscalationReason

MAX_REASON = 2000


def _reason(label: str, message: str) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[DataRequired(message), Length(max=MAX_REASON, message=f"Use at most {MAX_REASON:,} characters.")],
    )


class EscalateRequestForm(FlaskForm):
    """The customer's Escalate button."""

    reason = _reason("Why does this case need escalating?", "Tell us why this case needs escalating.")


class RaiseForm(CaseActionForm):
    """Staff raise a case by hand (carries the case's version)."""

    level = SelectField(
        "Escalate to",
        choices=choices([("1", "Level 1 — team leads"), ("2", "Level 2 — executives")]),
        coerce=record_id,
        validate_choice=False,
        validators=[InputRequired("Choose a level.")],
    )
    reason = _reason("Reason (staff only)", "Give a reason for escalating. Only staff see it.")


class EscalationActionForm(FlaskForm):
    """An action on an escalation, carrying the escalation version the page showed."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.version.errors:
            self.form_errors.append(
                "This form did not say which version of the escalation it was for. Reload the page."
            )
        return valid


class RaiseToLevel2Form(EscalationActionForm):
    reason = _reason(
        "Why should the executives take this? (staff only)", "Give a reason for raising this to the executives."
    )


class DecideForm(EscalationActionForm):
    outcome = SelectField(
        "Outcome",
        choices=choices([("", "Choose an outcome"), *((o.value, o.label) for o in DecisionOutcome)]),
        validate_choice=False,
        validators=[DataRequired("Choose the outcome of the decision.")],
    )
    decision = _reason("Decision (staff only, never shown to the customer)", "Write down the decision.")


class DeEscalateForm(EscalationActionForm):
    reason = _reason(
        "Why can the team leads handle it? (staff only)", "Give a reason for sending this back to the team leads."
    )


class BoardFilterForm(FlaskForm):
    """The board's filters, from the query string (GET, so no CSRF)."""

    class Meta:
        csrf = False

    state = SelectField(
        "State",
        choices=choices(
            [("open", "Open (any)"), *((s, s.capitalize()) for s in STATES if s not in ("open", "all")), ("all", "All")]
        ),
        default="open",
        validators=[Optional()],
    )
    level = SelectField(
        "Level", choices=choices([("", "Any level"), ("1", "Level 1"), ("2", "Level 2")]), validators=[Optional()]
    )
    reason = SelectField(
        "Reason",
        choices=choices([("", "Any reason"), *((r.value, r.label) for r in EscalationReason)]),
        validators=[Optional()],
    )
    cursor = HiddenField()
