"""Helpers for tests (import them: ``from tests.helpers import login_as``)."""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from core.extensions import db

PASSWORD = "pineapple-123"

# What production needs besides SECRET_KEY (config.check_production and the receiving-account check).
PRODUCTION_SETTINGS = {
    "APP_ENV": "production", "PUBLIC_BASE_URL": "https://duakep.example", "STAFF_EMAIL": "canbo@duakep.example",
    "BANK_WEBHOOK_SECRET": "w" * 40, "BANK_BIN": "970405", "BANK_ACCOUNT_NUMBER": "2500205999888",
    "BANK_ACCOUNT_NAME": "HTX DICH VU NONG NGHIEP KEP",
}


def login(client, user, password: str = PASSWORD):
    """Log ``user`` in through the real login form (for tests about logging in; others use ``login_as``)."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def login_as(client, user, *, remember: bool = False) -> None:
    """Log ``user`` in on ``client`` as the login form does once the password is right, without the form
    (so without the scrypt check): the app's own ``_start_session`` runs in a request made like the
    client's next one (its cookies, User-Agent and address). The session row, the cookie, Flask-Login's
    ``_user_id`` and the browser binding are the real ones, so logout, "log out of all devices" and staff
    suspending the account end this login as they end any other; a guest cart moves into the account."""
    from flask.ctx import RequestContext
    from flask.testing import EnvironBuilder

    from accounts.views import _start_session

    app = client.application
    environ = dict(client.environ_base)
    with client.session_transaction(environ_base=environ) as session:
        builder = EnvironBuilder(app, "/login", method="POST", environ_base=environ)
        try:
            # The session the client's cookies opened (saved when the ``with`` block ends); a fresh ``g`` and
            # database session, as a real request has.
            with app.app_context(), RequestContext(app, builder.get_environ(), session=session):
                _start_session(user, remember=remember)
        finally:
            builder.close()
        assert session.get("_user_id") == user.get_id(), f"{user!r} could not log in (suspended?)"


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


requires_postgres = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
    reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")


# SQLite's driver is sent an explicit BEGIN; psycopg's is implicit. Count the queries, not the transactions.
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def count_queries():
    """The SQL statements run inside the ``with`` block (transaction control left out)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def count(model, *where) -> int:
    """How many rows of ``model`` match ``where``."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def race_pool(threads: int) -> dict:
    """app_config of a race test module: a connection for each of ``threads`` at once, and two to spare."""
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 2, "max_overflow": 0, "pool_pre_ping": True}}


def race(app, workers: int, job):
    """Run ``job(i)`` in ``workers`` threads released together, each in its own app context."""
    barrier = threading.Barrier(workers)

    def run(i):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                return job(i)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(run, range(workers)))


def wait_until(check, what: str, *, seconds: float = 30, every: float = 0.05, process=None):
    """Wait for what no event announces (a server another process starts, a lock another connection waits
    for): ``check()`` is asked every ``every`` s until it is true, and its value returned; an OSError counts as
    "not yet". Fails after ``seconds``, or at once when ``process`` (a Popen that should come up) has exited."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with code {process.returncode}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not come up within {seconds} s")
        time.sleep(every)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now (for servers a test starts)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def registration_link(to: str) -> str:
    """The path of the newest link that finishes a registration, from the message queued to ``to``."""
    from sqlalchemy import select

    from core.outbox import Notification

    body = db.session.scalar(select(Notification.body).where(Notification.kind == "register_confirm",
                                                             Notification.to_address == to.strip().lower())
                             .order_by(Notification.id.desc()))
    assert body, f"no registration link was sent to {to}"
    match = re.search(r"https?://[^/\s]+(/register/confirm/\S+)", body)
    assert match, body
    return match.group(1)


def register(client, data: dict, query: str = ""):
    """Register through the real pages: the form, the link from the e-mail, the button. Returns the last
    response (302 to where the new account goes first)."""
    response = client.post("/register" + query, data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/register/sent", response.status_code
    link = registration_link(data["email"])
    assert client.get(link).status_code == 200
    return client.post(link, data={})
