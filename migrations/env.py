"""Alembic environment: runs migrations against the app's database, in batch mode on SQLite."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import portal.models  # noqa: F401  (every model must be imported for autogenerate)
from portal.models.base import UTCDateTime
from portal.models.cases import include_in_autogenerate

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def render_item(type_, obj, autogen_context):
    """Write the app's UTCDateTime as a plain timestamptz, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    url = migrate_ext.db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, **migrate_ext.configure_args)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_autogenerate(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    configure_args = {
        "process_revision_directives": skip_empty_autogenerate,
        "render_item": render_item,
        "include_object": include_in_autogenerate,
        **migrate_ext.configure_args,
    }
    with migrate_ext.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **configure_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
