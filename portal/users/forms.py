"""Profile form."""

from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length


@cache
def timezone_choices() -> list[SelectChoice]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [SelectChoice("UTC", "UTC")] + [SelectChoice(z, z.replace("_", " ")) for z in zones]


class ProfileForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(1, 120)])
    timezone = SelectField("Time zone", choices=timezone_choices, validators=[DataRequired()])
