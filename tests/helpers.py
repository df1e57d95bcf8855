"""Helpers for tests (import them: ``from tests.helpers import login``)."""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from core.extensions import db

PASSWORD = "pineapple-123"

# What production needs besides SECRET_KEY (config.check_production and the receiving-account check).
PRODUCTION_SETTINGS = {
    "APP_ENV": "production", "PUBLIC_BASE_URL": "https://duakep.example", "STAFF_EMAIL": "canbo@duakep.example",
    "BANK_WEBHOOK_SECRET": "w" * 40, "BANK_BIN": "970405", "BANK_ACCOUNT_NUMBER": "2500205999888",
    "BANK_ACCOUNT_NAME": "HTX DICH VU NONG NGHIEP KEP",
}


def login(client, user, password: str = PASSWORD):
    """Log ``user`` in through the real login form."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


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


def place_unpaid_order(product, quantity: int | None = None, *, lines=None, now=None):
    """An order (not paid) for ``product`` through the real checkout services; ``lines`` gives several
    (product, quantity) pairs instead, ``now`` when it was placed (its 30-minute hold runs from then)."""
    import secrets

    from core.time import utcnow
    from shop import cart as carts
    from shop import checkout

    lines = lines or [(product, quantity or product.min_order_qty)]
    store = carts.SessionStore({})
    for item, count in lines:
        carts.add_product(store, item.id, str(count))
    fulfilments = {item.farm_id: "farm_pickup" for item, _ in lines}
    now = now or utcnow()
    order = checkout.place_order(
        store, buyer=checkout.Buyer("Khách", "0987654321", "khach@example.vn"), fulfilments=fulfilments,
        payment_method="vietqr", shown_total=checkout.totals(carts.load(store, now), fulfilments)[1],
        checkout_token=secrets.token_hex(8), user=None, now=now, hold_minutes=30)
    db.session.commit()
    return order


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
