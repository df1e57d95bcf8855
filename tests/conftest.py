"""Test set-up: the app from ``create_app``, a migrated database, the factories as fixtures.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The
schema is built once per run by the migrations, and every test starts from
empty tables.
"""
from __future__ import annotations

import copy
import os
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

os.environ["KEP_SETTINGS_FILE"] = ""  # tests read no settings file (/etc/kep/kep.env, .env)

import config as settings  # noqa: E402
from app import create_app  # noqa: E402
from core.extensions import db, limiter  # noqa: E402
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
def _apps():
    """The apps of this run, one per configuration (see ``app``); their connections are closed at the end."""
    kept = _Apps()
    yield kept
    kept.close()


@pytest.fixture(scope="session")
def _schema(database_url, instance_path, _apps):
    """Build the schema once, from the migrations (never from ``create_all``)."""
    from flask_migrate import downgrade, upgrade

    app = _apps.get(database_url, instance_path, {}).app
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
    return database_url


def _test_config(database_url: str, instance_path: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # E-mail only unless a test turns on the phone channel (development has it on by default).
        "MESSAGE_CHANNELS": ["email"],
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
def race_connections(app):
    """Give a race test's connections back to the server after it (PostgreSQL allows 100 for everyone)."""
    yield
    db.session.remove()
    db.engine.dispose()


@pytest.fixture
def app(_schema, instance_path, app_config, monkeypatch, _apps):
    """The app for this test's ``app_config``, with empty tables and the settings ``create_app`` gave it.

    Building an app (and compiling its templates again) is the dearest part of a short test, so one app per
    configuration is kept for the run and put back before each test as a new one would be (``_Kept.reset``).
    A test that changes the app itself (adds a route or a hook, swaps an extension, listens on its engine)
    gets it this once: the app is dropped afterwards."""
    monkeypatch.setenv("INSTANCE_PATH", instance_path)
    kept = _apps.get(_schema, instance_path, app_config)
    application = kept.app
    with application.app_context():
        kept.reset()
        yield application
        db.session.remove()
        _empty_tables()
        db.engine.dispose()  # no connection outlives the test (PostgreSQL counts them; a fault may have broken one)
        changed = kept.shape() != kept.built_shape
    if changed or kept.key is None:
        _apps.drop(kept)


def _frozen(value):
    """``value`` (a setting) as a key, or TypeError for what is not plain data (its app is not kept)."""
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return type(value).__name__, value  # 1, 1.0 and True are equal, but not the same setting
    if isinstance(value, (list, tuple)):
        return type(value).__name__, tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return "dict", tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    raise TypeError(f"not plain data: {value!r}")


class _Kept:
    """One app kept for the run, with what ``create_app`` left in it, to put back before each test."""

    def __init__(self, key, app):
        self.key = key
        self.app = app
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = dict(app.extensions)
        with app.app_context():
            self.built_shape = self.shape()

    def reset(self) -> None:
        """As new (in its app context): the settings and extensions ``create_app`` gave it, an empty page cache,
        the shared rate limiter bound to it with a new store (another app, or a test's own ``create_app``,
        may have bound it since), and setup methods allowed until the first request, as on a new app."""
        app = self.app
        app.config.clear()
        app.config.update(copy.deepcopy(self.config))
        app.extensions.clear()
        app.extensions.update(self.extensions)
        app.extensions["page_cache"].clear()
        limiter.init_app(app)
        app._got_first_request = False

    def shape(self) -> tuple:
        """What a test could change in the app besides settings and rows (in its app context)."""
        app, env, engine = self.app, self.app.jinja_env, db.engine
        listeners = tuple((name, len(getattr(dispatch, name))) for dispatch in (
            engine.dispatch, engine.pool.dispatch, engine.dialect.dispatch) for name in dispatch._event_names)
        return (
            app.wsgi_app, app.session_interface, app.test_client_class, app.json,
            _ids(app.view_functions), tuple(str(rule) + rule.endpoint for rule in app.url_map.iter_rules()),
            _ids(app.url_map.converters), _ids(app.blueprints), _ids(app.extensions),
            _hooks(app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs,
                   app.teardown_appcontext_funcs, app.url_value_preprocessors, app.url_default_functions,
                   app.template_context_processors),
            _handlers(app.error_handler_spec),
            _ids(env.globals), _ids(env.filters), _ids(env.tests), env.loader,
            listeners, tuple(sorted(name for name in vars(engine.dialect) if name.startswith("do_"))),
        )


def _ids(mapping) -> tuple:
    return tuple(sorted((str(k), id(v)) for k, v in mapping.items()))


def _hooks(*registries) -> tuple:
    """Flask's hook lists by scope (lists left empty by a look-up do not count)."""
    return tuple(tuple(map(id, registry)) if isinstance(registry, list) else
                 tuple(sorted((str(scope), tuple(map(id, funcs))) for scope, funcs in registry.items() if funcs))
                 for registry in registries)


def _handlers(spec) -> tuple:
    """The error handlers by scope, code and class (Flask's look-ups leave empty entries behind)."""
    return tuple(sorted((str(scope), str(code), cls.__qualname__, id(handler)) for scope, codes in spec.items()
                        for code, handlers in codes.items() for cls, handler in handlers.items()))


class _Apps:
    """The kept apps, the most recently used last; a few at most (each holds its compiled templates)."""

    KEEP = 6

    def __init__(self):
        self._kept: dict = {}

    def get(self, database_url: str, instance_path: str, overrides: dict) -> _Kept:
        try:
            key = (database_url, instance_path, _frozen(overrides))
        except TypeError:
            key = None
        kept = self._kept.pop(key, None) if key is not None else None
        if kept is None:
            kept = _Kept(key, self._build(database_url, instance_path, overrides))
        if key is not None:
            self._kept[key] = kept
            while len(self._kept) > self.KEEP:
                self.drop(next(iter(self._kept.values())))
        return kept

    @staticmethod
    def _build(database_url: str, instance_path: str, overrides: dict):
        previous = os.environ.get("INSTANCE_PATH")
        os.environ["INSTANCE_PATH"] = instance_path
        try:
            application = create_app(_test_config(database_url, instance_path, **overrides))
        finally:
            if previous is None:
                del os.environ["INSTANCE_PATH"]
            else:
                os.environ["INSTANCE_PATH"] = previous
        application.test_client_class = _Client
        return application

    def drop(self, kept: _Kept) -> None:
        if self._kept.get(kept.key) is kept:
            del self._kept[kept.key]
        with kept.app.app_context():
            db.engine.dispose()

    def close(self) -> None:
        for kept in list(self._kept.values()):
            self.drop(kept)


def _empty_tables() -> None:
    """Every row deleted, children first, and on PostgreSQL the tables' id sequences started again (as
    ``TRUNCATE ... RESTART IDENTITY`` would, at a tenth of its cost on tables this small); SQLite gives ids
    from 1 again by itself."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    deletes = [f'DELETE FROM "{table}"' for table in tables]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("; ".join(deletes))  # one round trip
            conn.execute(_RESTART_SEQUENCES, {"tables": tables})
        else:
            for delete in deletes:
                conn.exec_driver_sql(delete)


# The sequences owned by the columns of these tables (serial or identity), those used since they last started.
_RESTART_SEQUENCES = text(
    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
    " JOIN pg_depend d ON d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass"
    " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(:tables)"
    " AND pg_sequence_last_value(s.seqrelid) IS NOT NULL")


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
