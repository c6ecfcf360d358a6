"""Case forms: their shape only. The rules live in services.py."""

import re

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import HiddenInput

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
    # Sent by the staff panel (optimistic locking); the customer's form leaves it out.
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1)])


class CaseFilterForm(FlaskForm):
    """The list filters, read from the query string (GET, so no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=STATUS_FILTERS, validators=[Optional()])
    kind = SelectField("Kind", choices=KIND_FILTERS, validators=[Optional()])
    cursor = HiddenField()


# --- staff actions on a case ----------------------------------------------------------------------


def record_id(value) -> int | None:
    """A record id from a form or query string: the number, or None for empty or malformed input
    (which the service then reports as "no such person" or the form as "choose one")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


REFERENCE = re.compile(r"^\s*(?:CB-?)?\s*([0-9]{1,12})\s*$", re.IGNORECASE)


def case_id_from_reference(text: str | None) -> int | None:
    """`CB-12`, `cb-12` or `12` -> 12; anything else -> None."""
    match = REFERENCE.match(text or "")
    return int(match.group(1)) if match else None


class CaseActionForm(FlaskForm):
    """A staff action posted from the case page, carrying the case version that page showed.

    The template renders `version` from the case as it is now (see `cases/_staff_actions.html`), so
    a page re-shown after an error always offers the current state to act on.
    """

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.version.errors:
            # A hidden field's error would be invisible: say it on the form instead.
            self.form_errors.append("This form did not say which version of the case it was for. Reload the page.")
        return valid


class AssignForm(CaseActionForm):
    # Choices are set by the view; any id is accepted here and the service says who may take cases.
    assignee = SelectField(
        "Assign to", coerce=record_id, validate_choice=False, validators=[InputRequired("Choose a person.")]
    )


class DetailsForm(CaseActionForm):
    # Values outside the sets reach the service, which refuses them with its own message.
    severity = SelectField("Severity", choices=SEVERITY_CHOICES, validate_choice=False)
    kind = SelectField("Kind", choices=KIND_CHOICES, validate_choice=False)
    category = SelectField("Category", choices=choices(CATEGORIES.items()), validate_choice=False)
    reason = TextAreaField("Reason for the change (staff only)", validators=[Optional(), Length(max=2000)])


class WaitingForm(CaseActionForm):
    message = TextAreaField(
        "Question for the customer (optional, sent as a public reply)",
        validators=[Optional(), Length(max=MAX_TEXT, message=f"Use at most {MAX_TEXT:,} characters.")],
    )


class ResolveForm(CaseActionForm):
    summary = TextAreaField(
        "Resolution summary (the customer sees it)",
        validators=[
            DataRequired("Write a resolution summary. The customer sees it on the timeline."),
            Length(max=MAX_TEXT, message=f"Use at most {MAX_TEXT:,} characters."),
        ],
    )


class CloseForm(CaseActionForm):
    """Only the version (and the CSRF token)."""


class MergeForm(CaseActionForm):
    target = StringField(
        "Merge into case",
        validators=[
            DataRequired("Enter the reference of the case to merge into, like CB-12."),
            Regexp(REFERENCE, message="Enter a case reference like CB-12."),
        ],
    )


class SavedReplyPickForm(FlaskForm):
    """Choose a saved reply to insert into the reply box: a GET to the case page, so no CSRF."""

    class Meta:
        csrf = False

    saved_reply = SelectField("Saved reply", coerce=record_id, validate_choice=False, validators=[Optional()])
