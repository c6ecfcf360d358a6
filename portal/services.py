"""Things every feature's services share: the error a service raises for input it must refuse."""


class ServiceError(Exception):
    """A rule refused the request. `field` names the form field to show it on (None: the whole form).

    Routes catch it, attach the message to the field and re-render the form with a 4xx status.
    """

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


STALE_MESSAGE = "This case changed while you were working on it. Please review it and try again."


class ConflictError(ServiceError):
    """The case changed (or moved to another status) since the user loaded it."""

    status_code = 409
