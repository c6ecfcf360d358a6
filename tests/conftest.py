"""Test fixtures: one app per run, a rolled-back transaction per test, and a signed-in client per role.

Set TEST_DATABASE_URL (postgresql+psycopg://...) to run the whole suite on PostgreSQL; without it
the suite uses a SQLite file in a temporary folder. Each test runs inside an outer transaction
that is rolled back at the end; the code under test commits to a SAVEPOINT
(`join_transaction_mode="create_savepoint"`), so routes behave exactly as in production.
"""

import os
from types import SimpleNamespace

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestingConfig
from portal import create_app
from portal.extensions import db
from portal.models import Role, Tier
from tests import factories


class PortalClient(FlaskClient):
    """A test client whose requests see the test's data as committed, and nothing else of the test.

    The test's own setup is committed (to the per-test SAVEPOINT) before each request, so a route
    that rolls back its failed unit of work cannot take the setup with it, just as in production.
    Tests keep one app context open, which Flask reuses for each request; Flask-Login caches the
    user on `g` there, so it is cleared, or a second client would act as the first one's user.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def make_test_config(tmp_path, **overrides) -> TestingConfig:
    config = TestingConfig()
    if not os.environ.get("TEST_DATABASE_URL"):
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'test.db'}"
    config.UPLOAD_FOLDER = str(tmp_path / "uploads")
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(make_test_config(tmp_path_factory.mktemp("portal")))
    app.test_client_class = PortalClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def db_session(app):
    """An app context and a session joined to an outer transaction that is rolled back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def client_as(app, db_session):
    """`client_as(user)`: a test client already signed in as `user` (the real form is tested in test_auth)."""

    def _client(user):
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
        return client

    return _client


@pytest.fixture
def world(db_session):
    """Two accounts with their managers and customers, plus one person in each other staff role.

    Account A (premium) is managed by `manager_a` and has customers `alice` and `anna`;
    account B (standard) is managed by `manager_b` and has customer `bob`.
    """
    manager_a = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Maria Manager")
    manager_b = factories.make_user(role=Role.ACCOUNT_MANAGER, name="Milo Manager")
    account_a = factories.make_account(name="Acme Ltd", tier=Tier.PREMIUM, manager=manager_a)
    account_b = factories.make_account(name="Bravo plc", tier=Tier.STANDARD, manager=manager_b)
    return SimpleNamespace(
        account_a=account_a,
        account_b=account_b,
        manager_a=manager_a,
        manager_b=manager_b,
        alice=factories.make_user(role=Role.CUSTOMER, account=account_a, name="Alice Customer"),
        anna=factories.make_user(role=Role.CUSTOMER, account=account_a, name="Anna Customer"),
        bob=factories.make_user(role=Role.CUSTOMER, account=account_b, name="Bob Customer"),
        lead=factories.make_user(role=Role.TEAM_LEAD, name="Tess Lead"),
        executive=factories.make_user(role=Role.EXECUTIVE, name="Ezra Executive"),
        admin=factories.make_user(role=Role.ADMIN, name="Ada Admin"),
    )
