"""Migrations are first-class: one head, a fresh upgrade equals the models, and downgrade works.

Each test migrates a database of its own: a new SQLite file, or on PostgreSQL (TEST_DATABASE_URL)
a scratch database with a unique name, created beside the test database and dropped afterwards.
"""

import logging
import os
import re
import uuid
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import ROOT, create_app
from portal.extensions import db
from portal.models.cases import include_in_autogenerate
from tests.conftest import make_test_config

MIGRATIONS = ROOT / "migrations"


def script_directory() -> ScriptDirectory:
    config = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


@pytest.fixture
def keep_logging():
    """Alembic's env.py runs logging.config.fileConfig, which disables every logger it does not
    name; put them back so later tests still see the app's log records."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    disabled = {logger: logger.disabled for logger in loggers if isinstance(logger, logging.Logger)}
    root_level, root_handlers = logging.root.level, list(logging.root.handlers)
    yield
    for logger, was_disabled in disabled.items():
        logger.disabled = was_disabled
    logging.root.setLevel(root_level)
    logging.root.handlers[:] = root_handlers


@pytest.fixture
def scratch_app(tmp_path, keep_logging):
    """An app bound to an empty database of its own."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        app = create_app(make_test_config(tmp_path))  # a new SQLite file in tmp_path
        yield app
        with app.app_context():
            db.engine.dispose()
        return

    url = sa.make_url(server_url)
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        scratch_url = url.set(database=name).render_as_string(hide_password=False)
        app = create_app(make_test_config(tmp_path, SQLALCHEMY_DATABASE_URI=scratch_url))
        yield app
        with app.app_context():
            db.engine.dispose()
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_there_is_exactly_one_alembic_head():
    assert len(script_directory().get_heads()) == 1


def test_revisions_form_one_line_and_files_are_named_in_order():
    revisions = list(script_directory().walk_revisions())  # head first
    assert revisions[-1].down_revision is None
    for newer, older in zip(revisions, revisions[1:], strict=False):
        assert newer.down_revision == older.revision
    for revision in revisions:
        assert Path(revision.path).name.startswith(f"{revision.revision}_")
        assert re.fullmatch(r"\d{4}", revision.revision)


def test_upgrade_to_head_gives_exactly_the_models_schema(scratch_app):
    with scratch_app.app_context():
        assert table_names() == set()
        flask_migrate.upgrade()
        assert set(db.metadata.tables) <= table_names()
        with db.engine.connect() as connection:
            options = {"compare_type": True, "include_object": include_in_autogenerate}
            context = MigrationContext.configure(connection, opts=options)
            diff = compare_metadata(context, db.metadata)
        assert diff == []


def test_downgrade_to_base_removes_everything(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade()
        flask_migrate.downgrade(revision="base")
        assert table_names() <= {"alembic_version"}
        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() is None
        # And back up again: the downgrade left nothing in the way.
        flask_migrate.upgrade()
        assert set(db.metadata.tables) <= table_names()
