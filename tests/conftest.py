"""Test set-up: the app from ``create_app``, a migrated database, the factories as fixtures.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The
schema is built once per run by the migrations, and every test starts from
empty tables.
"""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

os.environ["KEP_SETTINGS_FILE"] = ""  # tests read no settings file (/etc/kep/kep.env, .env)

import config as settings  # noqa: E402
from app import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from tests import factories  # noqa: E402


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    url = settings.database_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return _worker_database(url, worker) if worker else url


def _worker_database(url: str, worker: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database, made afresh: ``<name>_<worker>``."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="session")
def _schema(database_url, instance_path):
    """Build the schema once, from the migrations (never from ``create_all``)."""
    from flask_migrate import downgrade, upgrade

    app = create_app(_test_config(database_url, instance_path))
    with app.app_context():
        downgrade(revision="base")
        upgrade()
    return database_url


def _test_config(database_url: str, instance_path: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": os.path.join(instance_path, "uploads"),
        "SERVER_NAME": "localhost",
        "PUBLIC_BASE_URL": "http://localhost",
    }
    config.update(overrides)
    return config


class _Client(FlaskClient):
    """Each request gets its own app context (fresh ``g`` and session), like a real server;
    afterwards the test's session is expired so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        db.session.commit()  # what the test wrote is visible to the request, and no lock is held
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    @contextmanager
    def session_transaction(self, *args, **kwargs):
        """As ``open``: the session is stored in the database too, so the test's transaction ends before it is
        read and again after it is written (a snapshot older than that write could not write on SQLite)."""
        db.session.commit()
        with super().session_transaction(*args, **kwargs) as session:
            yield session
        db.session.commit()


@pytest.fixture
def app_config():
    """Override to change settings for one test module: ``return {"WTF_CSRF_ENABLED": True}``."""
    return {}


@pytest.fixture
def app(_schema, instance_path, app_config, monkeypatch):
    monkeypatch.setenv("INSTANCE_PATH", instance_path)
    application = create_app(_test_config(_schema, instance_path, **app_config))
    application.test_client_class = _Client
    with application.app_context():
        yield application
        db.session.remove()
        _empty_tables()
        db.engine.dispose()  # each test's app has its own pool: close it, or PostgreSQL runs out of connections


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def client(app):
    return app.test_client()


# -- the builders of tests/factories.py, as fixtures (they need the app) ---------------------------------------

@pytest.fixture
def make_user(app):
    return factories.make_user


@pytest.fixture
def make_farm(app):
    return factories.make_farm


@pytest.fixture
def make_product(app):
    return factories.make_product


@pytest.fixture
def make_tour(app):
    return factories.make_tour


@pytest.fixture
def make_slot(app):
    return factories.make_slot


@pytest.fixture
def store():
    """A new guest's cart, kept in memory."""
    return factories.MemoryStore()


@pytest.fixture
def place(app):
    """Place the cart of a store through checkout (not committed): ``place(store, method="card")``."""
    return factories.place


@pytest.fixture
def book(app):
    """Book a slot (and optionally a product) through checkout: ``book(slot, 2, 1, product=jam, qty=2)``."""
    return factories.book


@pytest.fixture
def pay(app):
    """Pay an order in full: by bank transfer, or a card order by a confirmed card payment."""
    return factories.pay


@pytest.fixture
def grant_consent(app, make_user):
    """Record a farmer's consent to assisted mode, so staff may use that farm's screens."""
    from accounts import assist
    from core.time import utcnow

    def grant(farm, staff=None, days: int = 30):
        staff = staff or make_user(role="admin")
        consent = assist.record_consent(farm, staff, way="in_person", note="Nhờ cán bộ đăng bán giúp.", days=days,
                                        now=utcnow())
        db.session.commit()
        return consent
    return grant
