"""Queue filters (GET) and the bulk-assign form."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SearchField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.cases.forms import KIND_FILTERS, STATUS_FILTERS, choices
from portal.models import CATEGORIES, Severity
from portal.pagination import MAX_ID

SEVERITY_FILTERS = choices([("", "Any severity"), *((s.value, s.value.capitalize()) for s in Severity)])
CATEGORY_FILTERS = choices([("", "Any category"), *CATEGORIES.items()])
DUE_FILTERS = choices([("", "Any SLA state"), ("due_soon", "Due soon"), ("breached", "Breached")])
SORT_CHOICES = choices(
    [("sla", "SLA time left"), ("age", "Oldest first"), ("newest", "Newest first"), ("updated", "Last updated")]
)


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Search", validators=[Optional(), Length(max=200)])
    status = SelectField("Status", choices=STATUS_FILTERS, validators=[Optional()])
    kind = SelectField("Kind", choices=KIND_FILTERS, validators=[Optional()])
    severity = SelectField("Severity", choices=SEVERITY_FILTERS, validators=[Optional()])
    category = SelectField("Category", choices=CATEGORY_FILTERS, validators=[Optional()])
    # Typed (with suggestions) rather than chosen from a list of every account; the service finds it.
    account_name = StringField("Account", filters=[_strip], validators=[Optional(), Length(max=200)])
    # An account id, as links may still carry it; not rendered (the name box shows that account).
    account = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    assignee = SelectField("Assignee", coerce=_int_or_none, validators=[Optional()])
    due = SelectField("SLA", choices=DUE_FILTERS, validators=[Optional()])
    sort = SelectField("Sort by", choices=SORT_CHOICES, default="sla", validators=[Optional()])
    cursor = HiddenField()

    def set_choices(self, staff) -> None:
        self.assignee.choices = choices([("", "Anyone"), *((u.id, u.name) for u in staff)])


class BulkAssignForm(FlaskForm):
    case_ids = SelectMultipleField(
        "Cases", coerce=int, validate_choice=False, validators=[DataRequired("Select at least one case.")]
    )
    assignee = SelectField(
        "Assign selected cases to", coerce=_int_or_none, validators=[DataRequired("Choose who should handle them.")]
    )
    next = HiddenField()
