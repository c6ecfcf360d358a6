"""Saved-reply forms: their shape only. The placeholder rules live in services.py."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.cases.forms import MAX_TEXT


class SavedReplyForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the saved reply a title."),
            Length(max=120, message="Use at most 120 characters."),
        ],
    )
    body = TextAreaField(
        "Text",
        validators=[
            DataRequired("Write the text of the saved reply."),
            Length(max=MAX_TEXT, message=f"Use at most {MAX_TEXT:,} characters."),
        ],
    )


class DeleteSavedReplyForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""
