"""Test set-up: the app from ``create_app``, a migrated database, factories.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The
schema is built once per run by the migrations, and every test starts from
empty tables.
"""
from __future__ import annotations

import itertools
import os
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.security import generate_password_hash

os.environ["KEP_SETTINGS_FILE"] = ""  # tests read no settings file (/etc/kep/kep.env, .env)

import config as settings  # noqa: E402
from app import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from tests.helpers import PASSWORD  # noqa: E402

_PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt")
_counter = itertools.count(1)


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


@pytest.fixture
def make_user(app):
    from accounts.models import User

    def make(role: str = "buyer", email: str | None = None, **fields) -> User:
        n = next(_counter)
        user = User(email=email or f"user{n}@example.vn", full_name=fields.pop("full_name", f"Người dùng {n}"),
                    phone=fields.pop("phone", "0912345678"), role=role, password_hash=_PASSWORD_HASH,
                    session_token=f"token{n}", **fields)
        db.session.add(user)
        db.session.commit()
        return user
    return make


@pytest.fixture
def make_farm(app, make_user):
    from accounts.farms import Farm
    from core.text import slugify

    def make(owner=None, status: str = "approved", name: str | None = None, **fields) -> Farm:
        owner = owner or make_user(role="farmer" if status == "approved" else "buyer")
        name = name or f"Vườn dứa {next(_counter)}"
        values = dict(village="Kép", description="Trồng dứa Queen trên đồi.", bank_bin="970405",
                      bank_account_number="2500205110001", bank_account_name="NGUYEN VAN AN")
        values.update(fields)
        farm = Farm(owner=owner, name=name, slug=fields.pop("slug", slugify(name)), status=status,
                    **{k: v for k, v in values.items() if k != "slug"})
        db.session.add(farm)
        db.session.commit()
        return farm
    return make


@pytest.fixture
def make_product(app, make_farm):
    from core.text import fold, slugify
    from shop.models import Product

    def make(farm=None, name: str | None = None, **fields) -> Product:
        farm = farm or make_farm()
        name = name or f"Dứa Queen {next(_counter)}"
        values = dict(category="fresh", unit="kg", price_vnd=25000, stock=100, min_order_qty=1,
                      description="Dứa ngọt.")
        values.update(fields)
        product = Product(farm=farm, name=name, slug=values.pop("slug", slugify(name)),
                          search_text=fold(f"{name} {values['description']} {farm.name}"), **values)
        db.session.add(product)
        db.session.commit()
        return product
    return make


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
