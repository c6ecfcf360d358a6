"""Web plumbing shared by every page: security headers, the case-reference URL converter,
template filters for times in the viewer's zone, and the policy predicates for templates."""

from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BaseConverter, ValidationError

from portal.auth import policy
from portal.extensions import db
from portal.pagination import MAX_ID
from portal.services import STALE_MESSAGE, ConflictError, ServiceError

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class CaseRefConverter(BaseConverter):
    """`CB-123` in a URL <-> the case id 123."""

    regex = r"CB-[0-9]{1,12}"

    def to_python(self, value: str) -> int:
        case_id = int(value[3:])
        # No case can have a bigger id, and PostgreSQL refuses to compare an INTEGER column with
        # one (a 500): such a reference simply matches no page, which is a 404 like any unknown case.
        if case_id > MAX_ID:
            raise ValidationError()
        return case_id

    def to_url(self, value) -> str:
        case_id = value if isinstance(value, int) else value.id
        return f"CB-{case_id}"


def is_safe_next(target: str | None) -> bool:
    r"""Only local paths may be used as a post-sign-in destination (no open redirects).

    Browsers read a backslash as a slash and drop tabs and newlines from a URL, so `/\evil.example`
    or a tab between two slashes would leave the site just as `//evil.example` does: all are refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def viewer_zone() -> ZoneInfo:
    name = None
    if current_user and current_user.is_authenticated:
        name = current_user.timezone
    try:
        return ZoneInfo(name or current_app.config["PORTAL_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An aware datetime shown in the viewer's time zone."""
    if value is None:
        return ""
    return value.astimezone(viewer_zone()).strftime(fmt)


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """A short hint such as "3 h ago", "in 2 days" or "just now"."""
    if value is None:
        return ""
    now = now or datetime.now(UTC)
    seconds = (value - now).total_seconds()
    future = seconds > 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now" if not future else "in under a minute"
    for limit, size, unit in ((3600, 60, "min"), (86400, 3600, "h"), (86400 * 60, 86400, "days")):
        if seconds < limit:
            amount = int(seconds // size)
            if unit == "days" and amount == 1:
                unit = "day"
            break
    else:
        amount, unit = int(seconds // (86400 * 30)), "months"
    text = f"{amount} {unit}"
    return f"in {text}" if future else f"{text} ago"


def isoformat(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def template_globals():
    return {"portal_name": current_app.config["PORTAL_NAME"], **policy.TEMPLATE_PREDICATES}


def register_web_helpers(app: Flask) -> None:
    app.url_map.converters["caseref"] = CaseRefConverter
    app.jinja_env.add_extension("jinja2.ext.do")
    app.after_request(set_security_headers)
    app.context_processor(template_globals)
    app.add_template_filter(localtime)
    app.add_template_filter(relative)
    app.add_template_filter(isoformat)


def current_actor():
    """The signed-in User model itself (not Flask-Login's proxy), to hand to services."""
    return current_user._get_current_object()


def perform(form, work):
    """Run one unit of work for a submitted form and commit it: returns `(result, error_status)`.

    On success `error_status` is None. On a ServiceError (or a lost optimistic-locking race) it
    rolls back, puts the message on the form field it names (or on the form as a whole), and
    returns the status to re-render the form with: 400 for refused input, 409 for a conflict.
    """
    try:
        result = work()
        db.session.commit()
        return result, None
    except StaleDataError:
        db.session.rollback()
        error = ConflictError(STALE_MESSAGE)
    except ServiceError as exc:
        db.session.rollback()
        error = exc
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
    return None, error.status_code
