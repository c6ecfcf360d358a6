"""The rating form: its shape only. The rules live in services.py."""

from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.cases.forms import choices
from portal.satisfaction.services import MAX_COMMENT

SCORE_CHOICES = choices(
    [
        (5, "5 — Very satisfied"),
        (4, "4 — Satisfied"),
        (3, "3 — Neither satisfied nor dissatisfied"),
        (2, "2 — Dissatisfied"),
        (1, "1 — Very dissatisfied"),
    ]
)


class RatingForm(FlaskForm):
    score = RadioField(
        "How satisfied are you with the help on this case?",
        choices=SCORE_CHOICES,
        coerce=int,
        validators=[InputRequired("Choose a score from 1 to 5.")],
    )
    comment = TextAreaField(
        "Anything you would like to tell us? (optional)", validators=[Optional(), Length(max=MAX_COMMENT)]
    )


def preselected_score(value: str | None) -> int | None:
    """The `?score=N` of the resolution mail's one-click link, if it is a valid score."""
    if value and value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    return None
