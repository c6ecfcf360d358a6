"""SLA admin forms: their shape only. Ranges and the calendar's rules live in services.py."""

from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, SelectMultipleField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@cache
def timezone_choices() -> list[SelectChoice]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [SelectChoice("UTC", "UTC")] + [SelectChoice(z, z.replace("_", " ")) for z in zones]


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PolicyForm(FlaskForm):
    """One row of the targets grid. Each row's form has its own prefix (see `policy_prefix`)."""

    first_response_minutes = IntegerField(
        "First response (business minutes)", validators=[InputRequired("Enter a whole number of minutes.")]
    )
    resolution_minutes = IntegerField(
        "Resolution (business minutes)", validators=[InputRequired("Enter a whole number of minutes.")]
    )


def policy_prefix(tier, severity) -> str:
    return f"{tier}-{severity}"


class CalendarForm(FlaskForm):
    # validate_choice=False: the service checks the zone, so its message is the one shown.
    timezone = SelectField("Time zone", choices=timezone_choices, validate_choice=False)
    workdays = MultiCheckboxField(
        "Working days", choices=[SelectChoice(i, day) for i, day in enumerate(WEEKDAYS)], coerce=int
    )
    start_time = TimeField("Working day starts", validators=[InputRequired("Enter a time such as 09:00.")])
    end_time = TimeField("Working day ends", validators=[InputRequired("Enter a time such as 17:00.")])


class HolidayForm(FlaskForm):
    date = DateField("Date", validators=[InputRequired("Enter a date.")])
    name = StringField("Name", validators=[DataRequired("Give the holiday a name."), Length(1, 100)])


class RemoveHolidayForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""
