"""Sign-in, invitation and password forms: their shape only. The rules live in services.py."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.auth.services import MIN_PASSWORD_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def _email_field(label: str = "E-mail address") -> EmailField:
    # Stripped before validation: phone keyboards and pasting often add a space, and a valid
    # address must not be refused as "invalid" for it.
    return EmailField(
        label,
        filters=[_strip],
        validators=[
            DataRequired("Enter an e-mail address."),
            Email("Enter an e-mail address like name@example.com."),
            Length(max=254),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField("E-mail address", filters=[_strip], validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


def _int_or_none(value):
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


class InviteForm(FlaskForm):
    account = SelectField("Account", coerce=_int_or_none, validators=[DataRequired("Choose an account.")])
    email = _email_field("Their e-mail address")
    name = StringField("Their name", filters=[_strip], validators=[DataRequired("Enter their name."), Length(max=120)])


class _NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."),
        ],
    )
    confirm = PasswordField(
        "Type it again", validators=[DataRequired("Type the password again."), EqualTo("password", "The two differ.")]
    )


class AcceptInvitationForm(_NewPasswordForm):
    name = StringField("Your name", filters=[_strip], validators=[DataRequired("Enter your name."), Length(max=120)])


class ResetRequestForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(_NewPasswordForm):
    pass
