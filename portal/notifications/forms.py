"""Outbox page forms: the status filter (GET) and the retry button (POST, CSRF)."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import AnyOf, Optional

from portal.models import MessageStatus

STATUS_FILTERS = [SelectChoice("", "Any status"), *(SelectChoice(s.value, s.label) for s in MessageStatus)]
STATUS_VALUES = ["", *(s.value for s in MessageStatus)]


class OutboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField("Status", choices=STATUS_FILTERS, validators=[Optional()])
    cursor = HiddenField()


class RetryForm(FlaskForm):
    # The filter to go back to afterwards.
    status = HiddenField(validators=[Optional(), AnyOf(STATUS_VALUES, message="Unknown status filter.")])
