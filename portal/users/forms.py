"""Profile and notification-preference forms."""

from functools import cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length


@cache
def timezone_choices() -> list[SelectChoice]:
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [SelectChoice("UTC", "UTC")] + [SelectChoice(z, z.replace("_", " ")) for z in zones]


class ProfileForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(1, 120)])
    timezone = SelectField("Time zone", choices=timezone_choices, validators=[DataRequired()])


class PreferencesForm(FlaskForm):
    """One checkbox per notification kind; the fields are added per person by `preferences_form`."""

    def enabled_kinds(self, kinds) -> list:
        return [kind for kind in kinds if self[kind.value].data]


def preferences_form(kinds, opt_outs, labels) -> PreferencesForm:
    """The form for someone who can receive `kinds`, ticked except for their `opt_outs`."""

    class _Form(PreferencesForm):
        pass

    for kind in kinds:
        setattr(_Form, kind.value, BooleanField(labels[kind], default=kind not in opt_outs))
    return _Form()
