"""Configuration: one class per environment, read from the environment when the app is built.

Nothing here reads `os.environ` at import time: each class reads it in `__init__`, so tests and
the CLI can set variables before calling `create_app()`. See docs/configuration.md for the table.
"""

import os
from datetime import timedelta

DEFAULT_SECRET_KEY = "casebridge-development-key-not-secret"  # noqa: S105 (refused in production)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


MAIL_BACKENDS = ("smtp", "console")


def _mail_backend(value: str) -> str:
    value = value.strip().lower()
    if value not in MAIL_BACKENDS:
        raise RuntimeError(f"Unknown MAIL_BACKEND {value!r}; use one of {', '.join(MAIL_BACKENDS)}.")
    return value


class Config:
    """Settings shared by every environment."""

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY", DEFAULT_SECRET_KEY)
        # Relative SQLite paths are resolved inside the instance folder by Flask-SQLAlchemy.
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL", "sqlite:///casebridge.db")
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.UPLOAD_FOLDER = env.get("UPLOAD_FOLDER", "")  # empty: <instance>/uploads
        self.MAX_ATTACHMENTS = 5
        self.MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
        # The whole request may carry five full attachments plus the form itself.
        self.MAX_CONTENT_LENGTH = self.MAX_ATTACHMENTS * self.MAX_ATTACHMENT_BYTES + 1024 * 1024
        self.MAX_FORM_MEMORY_SIZE = 1024 * 1024

        self.PORTAL_NAME = env.get("PORTAL_NAME", "Casebridge")
        self.PORTAL_TIMEZONE = env.get("PORTAL_TIMEZONE", "Europe/London")
        self.PAGE_SIZE = _env_int("PAGE_SIZE", 25)
        self.AUTO_CLOSE_DAYS = _env_int("AUTO_CLOSE_DAYS", 7)  # resolved cases close after this many quiet days
        # A critical case's level-1 escalation unacknowledged this long goes to level 2; level-2
        # escalations unacknowledged this long are flagged on the board.
        self.ESCALATION_ACK_MINUTES = _env_int("ESCALATION_ACK_MINUTES", 30)
        # Flask-Limiter on the customer's Escalate button, per client address (the 24-hour rule is per case).
        self.ESCALATION_REQUEST_RATE_LIMIT = env.get("ESCALATION_REQUEST_RATE_LIMIT", "10 per hour;30 per day")

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("REMEMBER_DAYS", 14))

        self.LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "20 per minute;200 per day")
        # How many reverse proxies (load balancer, TLS terminator) stand in front of the app. Their
        # X-Forwarded-For/-Proto headers are trusted that many hops deep, so rate limits and logs see
        # the visitor's address. Leave 0 when the app is reached directly: the headers are then ignored.
        self.TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_HEADERS_ENABLED = True

        self.WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session

        # Built reports and dashboards are cached (portal/reports/cache.py) for at most this long,
        # and dropped at once when a case, escalation, rating or account changes. The default cache
        # is files under <instance>/cache, shared by the web server and the sweep on one machine;
        # production uses Redis, shared by every server.
        self.REPORT_CACHE_SECONDS = _env_int("REPORT_CACHE_SECONDS", 300)
        self.CACHE_TYPE = env.get("CACHE_TYPE", "FileSystemCache")
        self.CACHE_DIR = env.get("CACHE_DIR", "")  # empty: <instance>/cache
        self.CACHE_DEFAULT_TIMEOUT = self.REPORT_CACHE_SECONDS
        self.CACHE_KEY_PREFIX = env.get("CACHE_KEY_PREFIX", "casebridge:")  # one per deployment sharing a Redis
        self.CACHE_REDIS_URL = env.get("CACHE_REDIS_URL", env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))

        self.MAIL_SERVER = env.get("MAIL_SERVER", "localhost")
        self.MAIL_PORT = _env_int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = env.get("MAIL_USERNAME")
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD")
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER", "Casebridge <support@casebridge.local>")
        # The outbox sender (docs/email.md): "smtp" delivers through the server above; "console" only
        # logs each mail and marks it sent (the development default when MAIL_SERVER is not set).
        self.MAIL_BACKEND = _mail_backend(env.get("MAIL_BACKEND", "smtp"))
        self.MAIL_MAX_ATTEMPTS = _env_int("MAIL_MAX_ATTEMPTS", 8)  # then the message is dead
        self.MAIL_RETRY_BASE_SECONDS = _env_int("MAIL_RETRY_BASE_SECONDS", 120)  # doubles per attempt
        self.MAIL_RETRY_MAX_SECONDS = _env_int("MAIL_RETRY_MAX_SECONDS", 4 * 3600)
        self.MAIL_CLAIM_SECONDS = _env_int("MAIL_CLAIM_SECONDS", 300)  # lease on claimed messages
        self.MAIL_BATCH_SIZE = _env_int("MAIL_BATCH_SIZE", 50)
        self.MAIL_POLL_SECONDS = _env_int("MAIL_POLL_SECONDS", 5)  # `--loop` sleeps this long when idle
        self.MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 30)  # seconds, per SMTP socket operation
        # Links in e-mail are built from this, never from the request's Host header.
        self.PORTAL_URL = env.get("PORTAL_URL", "http://127.0.0.1:5000").rstrip("/")
        if not self.PORTAL_URL.startswith(("http://", "https://")):
            raise RuntimeError(f"PORTAL_URL must start with http:// or https://, not {self.PORTAL_URL!r}.")
        self.INVITATION_DAYS = 7
        self.PASSWORD_RESET_MINUTES = 60
        self.RESET_RATE_LIMIT = env.get("RESET_RATE_LIMIT", "10 per minute;100 per day")  # per client address
        self.RESET_EMAIL_RATE_LIMIT = env.get("RESET_EMAIL_RATE_LIMIT", "3 per hour;10 per day")  # per e-mail


class DevelopmentConfig(Config):
    DEBUG = True

    def __init__(self) -> None:
        super().__init__()
        # `make run` needs no mail server: without one, mail is written to the log.
        if "MAIL_BACKEND" not in os.environ and "MAIL_SERVER" not in os.environ:
            self.MAIL_BACKEND = "console"


class TestingConfig(Config):
    """Used by the test suite: a throwaway database, no CSRF or rate limits unless a test turns them on."""

    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
        self.WTF_CSRF_ENABLED = False
        self.RATELIMIT_ENABLED = False
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.SERVER_NAME = None
        self.MAIL_BACKEND = "smtp"
        self.MAIL_SUPPRESS_SEND = True  # Flask-Mail records instead of sending; SMTP tests turn it off
        self.CACHE_TYPE = "NullCache"  # tests of the cache itself switch a real one on
        self.CACHE_NO_NULL_WARNING = True
        self.PORTAL_URL = "http://portal.test"


class ProductionConfig(Config):
    """Refuses to start without a real secret key and a real database."""

    def __init__(self) -> None:
        super().__init__()
        if self.SECRET_KEY == DEFAULT_SECRET_KEY or len(self.SECRET_KEY) < 32:
            raise RuntimeError("Set SECRET_KEY to a random value of at least 32 characters in production.")
        if "DATABASE_URL" not in os.environ:
            raise RuntimeError("Set DATABASE_URL in production (postgresql+psycopg://user:pass@host/db).")
        self.SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PREFERRED_URL_SCHEME = "https"
        self.RATELIMIT_STORAGE_URI = os.environ.get(
            "RATELIMIT_STORAGE_URI", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        )
        self.CACHE_TYPE = os.environ.get("CACHE_TYPE", "RedisCache")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the settings for `name`, or for CASEBRIDGE_ENV (default: development)."""
    name = name or os.environ.get("CASEBRIDGE_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown CASEBRIDGE_ENV {name!r}; use one of {', '.join(CONFIGS)}.") from None
