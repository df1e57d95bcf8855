"""The app served for real on 127.0.0.1, for the browser journeys (no pytest fixtures in here).

``LiveApp.start(...)`` makes a fresh database (a SQLite file in a temporary folder, or when
TEST_DATABASE_URL is set a PostgreSQL database of its own, ``<name>_browser_<worker>``, made afresh),
builds the schema with the migrations, and serves ``create_app({...})`` with werkzeug's threaded
server on a free port. Settings are the real ones (CSRF on, rate limits on) except a test SECRET_KEY,
Stripe pointed at localstripe and a bank-notification secret the test signs with. Errors the app logs
are kept in ``errors`` so a journey can say that no page failed on the server.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

import config as settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE_VIEWPORT = {"width": 360, "height": 740}

SECRET_KEY = "browser-journeys-secret-key-0123456789-abcdefghij"
BANK_WEBHOOK_SECRET = "bank-notify-secret-for-the-journeys"


def chromium_missing() -> str | None:
    """Why the journeys cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)"
    return None


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


def _postgres_database(base_url: str, name: str):
    """A fresh PostgreSQL database ``name`` next to ``base_url``'s; returns (url, drop)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(settings.database_url(base_url))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False), drop


@dataclass
class LiveApp:
    app: Flask
    base_url: str
    server: BaseWSGIServer
    thread: threading.Thread
    folder: Path
    errors: _ErrorLog
    _drop_database: object = None
    _quiet: list = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path, stripe_api_base: str) -> "LiveApp":
        from flask_migrate import upgrade

        from app import create_app
        from tests.stripe_fixtures import stripe_config

        folder.mkdir(parents=True, exist_ok=True)
        drop = None
        if os.environ.get("TEST_DATABASE_URL"):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            base_name = settings.database_url(os.environ["TEST_DATABASE_URL"]).rsplit("/", 1)[1].split("?")[0]
            url, drop = _postgres_database(os.environ["TEST_DATABASE_URL"], f"{base_name}_browser_{worker}")
        else:
            url = f"sqlite:///{folder / 'journeys.sqlite3'}"
        config = {
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": "memory://",
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "BANK_WEBHOOK_SECRET": BANK_WEBHOOK_SECRET,
            "MAIL_SERVER": "",
            **stripe_config(stripe_api_base),
        }
        previous = os.environ.get("INSTANCE_PATH")
        os.environ["INSTANCE_PATH"] = str(folder / "instance")
        try:
            app = create_app(config)
        finally:
            if previous is None:
                os.environ.pop("INSTANCE_PATH", None)
            else:
                os.environ["INSTANCE_PATH"] = previous
        with app.app_context():
            upgrade()
        errors = _ErrorLog()
        app.logger.addHandler(errors)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base_url = f"http://127.0.0.1:{server.server_port}"
        app.config["PUBLIC_BASE_URL"] = base_url
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        live = cls(app=app, base_url=base_url, server=server, thread=thread, folder=folder, errors=errors,
                   _drop_database=drop)
        # One line per request from werkzeug is noise in a failure report; errors still show.
        werkzeug_log = logging.getLogger("werkzeug")
        live._quiet.append((werkzeug_log, werkzeug_log.level))
        werkzeug_log.setLevel(logging.WARNING)
        return live

    def stop(self) -> None:
        from core.extensions import db

        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        for logger, level in self._quiet:
            logger.setLevel(level)
        self.app.logger.removeHandler(self.errors)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        if self._drop_database is not None:
            self._drop_database()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args: str) -> str:
        """Run a ``flask`` command of this app (for example ``create-admin``); its output."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output
