"""Case forms: their shape only. The rules live in services.py."""

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.models import CATEGORIES, Kind, Severity, Status


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


KIND_CHOICES = choices(
    [
        (Kind.ISSUE.value, "Issue — something is not working"),
        (Kind.QUERY.value, "Query — a question for us"),
        (Kind.FEEDBACK.value, "Feedback — an idea or a comment"),
    ]
)
SEVERITY_CHOICES = choices(
    [
        (Severity.LOW.value, "Low — no rush"),
        (Severity.MEDIUM.value, "Medium — affects some work"),
        (Severity.HIGH.value, "High — blocks important work"),
        (Severity.CRITICAL.value, "Critical — a service is down for us"),
    ]
)
CATEGORY_CHOICES = choices([("", "Choose a category"), *CATEGORIES.items()])

STATUS_FILTERS = choices([("", "Any status"), ("active", "Open (any)"), *((s.value, s.label) for s in Status)])
KIND_FILTERS = choices([("", "Any kind"), *((k.value, k.value.capitalize()) for k in Kind)])

MAX_TEXT = 20_000


class CaseForm(FlaskForm):
    kind = RadioField("What is this about?", choices=KIND_CHOICES, validators=[InputRequired("Choose a kind.")])
    category = SelectField("Category", choices=CATEGORY_CHOICES, validators=[DataRequired("Choose a category.")])
    severity = SelectField("How urgent is it?", choices=SEVERITY_CHOICES, default=Severity.MEDIUM.value)
    subject = StringField(
        "Subject",
        validators=[DataRequired("Give the case a subject."), Length(3, 200, "Use 3 to 200 characters.")],
    )
    description = TextAreaField(
        "Description",
        validators=[
            DataRequired("Describe what happened or what you need."),
            Length(1, MAX_TEXT, f"Use at most {MAX_TEXT:,} characters."),
        ],
    )
    attachments = MultipleFileField("Attachments (optional, up to 5 files of 10 MB)")


class ReplyForm(FlaskForm):
    body = TextAreaField(
        "Your reply",
        validators=[DataRequired("Write a reply first."), Length(1, MAX_TEXT, f"Use at most {MAX_TEXT:,} characters.")],
    )
    attachments = MultipleFileField("Attachments (optional)")


class NoteForm(FlaskForm):
    body = TextAreaField(
        "Internal note (staff only)",
        validators=[DataRequired("Write a note first."), Length(1, MAX_TEXT, f"Use at most {MAX_TEXT:,} characters.")],
    )
    attachments = MultipleFileField("Attachments (optional)")


class ConfirmForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Why does it need reopening?",
        validators=[DataRequired("Tell us why the case needs reopening."), Length(1, 2000)],
    )


class CaseFilterForm(FlaskForm):
    """The list filters, read from the query string (GET, so no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=STATUS_FILTERS, validators=[Optional()])
    kind = SelectField("Kind", choices=KIND_FILTERS, validators=[Optional()])
    cursor = HiddenField()
