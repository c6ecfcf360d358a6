"""Error pages (HTML) and error bodies (JSON, for /api/), with a rollback before any 500 is rendered."""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db

TITLES = {
    400: "That request could not be understood",
    403: "You do not have access to this",
    404: "Page not found",
    405: "That action is not allowed here",
    409: "This changed while you were working on it",
    413: "That upload is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(code: int, message: str, headers: list[tuple[str, str]] | tuple = ()):
    if _wants_json():
        return jsonify(error={"code": code, "message": message, "fields": {}}), code, headers
    title = TITLES.get(code, "Error")
    return render_template("errors/error.html", code=code, title=title, message=message), code, headers


def handle_http_error(error: HTTPException):
    messages = {
        403: "Your role does not allow this action. If you think it should, ask your administrator.",
        404: "We could not find that page or case. It may have been moved, or you may not have access to it.",
        405: "This address does not accept that kind of request.",
        413: "Attachments can be at most 10 MB each, and at most 5 per message. Please try smaller files.",
        429: "You have made too many attempts in a short time. Please wait a minute and try again.",
    }
    code = error.code or 500
    # Keep what the error says besides its body: `Allow` on a 405, `Retry-After` on a 429.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return _render(code, messages.get(code, error.description or TITLES.get(code, "")), headers)


def handle_csrf_error(error: CSRFError):
    return _render(
        400,
        "This form had expired or was sent from another page. Nothing was saved. "
        "Please go back, reload the page and try again.",
    )


def handle_server_error(error: InternalServerError):
    # Flask has already logged the exception. The unit of work failed: make sure nothing
    # half-written survives on this session.
    db.session.rollback()
    return _render(500, "The error has been logged. Please try again in a moment.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_server_error)
    app.register_error_handler(HTTPException, handle_http_error)
