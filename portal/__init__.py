"""Casebridge: a customer feedback and escalation portal. `create_app` wires the pieces together."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, load_config
from portal import cli, errors, web
from portal.extensions import cache, csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | str | None = None) -> Flask:
    """Build the app. `config` is a Config object, an environment name, or None for CASEBRIDGE_ENV."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    if config is None or isinstance(config, str):
        config = load_config(config)
    app.config.from_object(config)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = str(Path(app.instance_path) / "uploads")
    if not app.config["CACHE_DIR"]:
        app.config["CACHE_DIR"] = str(Path(app.instance_path) / "cache")

    register_extensions(app)
    web.register_web_helpers(app)  # before blueprints: routes use its URL converter
    register_blueprints(app)
    register_cli(app)
    errors.register_error_handlers(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)

    from portal.auth.services import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def register_blueprints(app: Flask) -> None:
    from portal.auth import bp as auth_bp
    from portal.cases import bp as cases_bp
    from portal.escalations import bp as escalations_bp
    from portal.main import bp as main_bp
    from portal.notifications import bp as notifications_bp
    from portal.replies import bp as replies_bp
    from portal.reports import bp as reports_bp
    from portal.satisfaction import bp as satisfaction_bp
    from portal.sla import bp as sla_bp
    from portal.triage import bp as triage_bp
    from portal.users import bp as users_bp

    for blueprint in (
        main_bp,
        auth_bp,
        cases_bp,
        triage_bp,
        replies_bp,
        users_bp,
        sla_bp,
        notifications_bp,
        escalations_bp,
        satisfaction_bp,
        reports_bp,
    ):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    app.cli.add_command(cli.seed_demo)
    app.cli.add_command(cli.create_user)
    app.cli.add_command(cli.accounts)
