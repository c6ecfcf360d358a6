"""Report filters (GET): the period and the scope. Their shape only; `periods.parse_period` and
`scope.resolve_scope` decide what they mean and whether the user may see it."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.cases.forms import choices


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


COMPANY_SCOPES = [
    ("company", "Whole company"),
    ("team", "Whole support team"),
    ("manager", "An account manager's accounts"),
    ("account", "One account"),
]
OWN_SCOPES = [("manager", "All my accounts"), ("account", "One of my accounts")]


class ReportForm(FlaskForm):
    class Meta:
        csrf = False

    period = StringField(
        "Period",
        validators=[Optional(), Length(max=20)],
        description="A quarter such as 2026-Q3, a year such as 2026, or “custom”.",
    )
    start = DateField("From (custom period)", validators=[Optional()])
    end = DateField("To, inclusive (custom period)", validators=[Optional()])
    scope = SelectField("Scope", validators=[Optional()], validate_choice=False)
    manager = SelectField("Account manager", coerce=_int_or_none, validators=[Optional()], validate_choice=False)
    # Typed, with suggestions, rather than chosen from a list of every account (thousands of them).
    account_name = StringField(
        "Account", validators=[Optional(), Length(max=200)], description="For one account: type its name."
    )
    # An account id, as links (and the downloads) carry it; the name box shows that account.
    account = IntegerField(validators=[Optional()])

    def set_choices(self, *, company: bool, managers) -> None:
        self.scope.choices = choices(COMPANY_SCOPES if company else OWN_SCOPES)
        self.manager.choices = choices([("", "Choose…"), *((m.id, m.name) for m in managers)])


class DashboardForm(FlaskForm):
    class Meta:
        csrf = False

    scope = SelectField("Scope", validators=[Optional()], validate_choice=False)
    manager = SelectField("Account manager", coerce=_int_or_none, validators=[Optional()], validate_choice=False)
    account = SelectField("Account", coerce=_int_or_none, validators=[Optional()], validate_choice=False)
