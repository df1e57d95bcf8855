"""Lock conflicts inside a request: a deadlock is retried before anyone sees it, and a lock that stays taken
gives the "busy, try again" page, not the "we could not reach our records" one (nor its log line).

The deadlock is a real one: a second connection (the rival) holds a product and then asks for the order,
while the request holds the order and asks for the product.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sqlite3
import threading
import time

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from core import errors, transactions
from core.extensions import db
from core.time import utcnow
from shop.order_models import Order
from shop.payment_models import BankTransfer, Payment
from tests.factories import make_order
from tests.faults.conftest import snapshot
from tests.faults.test_database import fill_cart
from tests.helpers import count, requires_postgres, wait_until
from tests.shop.test_cart_views import page
from tests.shop.test_checkout_views import open_checkout, submit

SECRET = "bank-secret-for-the-lock-tests"
BUSY_VI = "Chợ đang rất đông"
UNREACHABLE_VI = "Chợ tạm thời gián đoạn"


@pytest.fixture
def app_config():
    return {"BANK_WEBHOOK_SECRET": SECRET, "DB_LOCK_TIMEOUT_SECONDS": 1}


def _conflict(orig) -> OperationalError:
    return OperationalError("UPDATE products SET stock = stock - 1 WHERE id = 1", {}, orig)


@pytest.mark.parametrize("orig, kind", [(psycopg.errors.DeadlockDetected("deadlock detected"), "deadlock"),
                                        (psycopg.errors.SerializationFailure("could not serialize"),
                                         "serialization failure"),
                                        (psycopg.errors.LockNotAvailable("lock timeout"), "lock timeout"),
                                        (sqlite3.OperationalError("database is locked"), "lock timeout")])
def test_a_lock_conflict_is_not_the_database_being_unreachable(orig, kind):
    error = _conflict(orig)
    assert transactions.conflict_kind(error) == kind
    assert not errors.is_database_unavailable(error)


@pytest.mark.parametrize("orig", [psycopg.errors.AdminShutdown("terminating connection"),
                                  psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
                                  sqlite3.OperationalError("disk I/O error")])
def test_an_outage_or_a_timeout_is_not_retried(orig):
    error = _conflict(orig)
    assert transactions.conflict_kind(error) is None
    assert errors.is_database_unavailable(error)


def _notify(client, order: Order, transaction_id: str):
    raw = json.dumps({"transaction_id": transaction_id, "amount": order.total_vnd,
                      "content": f"{order.reference} thanh toan"}).encode()
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/payments/bank/notify", data=raw,
                       headers={"X-Signature": signature, "Content-Type": "application/json"})


@requires_postgres
class TestDeadlock:
    @pytest.fixture
    def app_config(self):
        return {"BANK_WEBHOOK_SECRET": SECRET}  # the usual 5 s lock timeout: PostgreSQL finds the deadlock after 1 s

    def test_a_real_deadlock_in_a_bank_notification_is_retried_and_the_order_is_paid(
            self, app, client, make_product, rival, caplog):
        product = make_product(stock=10)
        order = make_order((product, 2), now=utcnow())
        order_id, product_id = order.id, product.id
        rival.execute("UPDATE products SET stock = stock WHERE id = :id", id=product_id)  # the rival holds the product
        rival_done = []

        def rival_wants_the_order():
            # Once the request waits for the product (it holds the order by then), the rival asks for the order.
            wait_until(lambda: rival.execute("SELECT count(*) FROM pg_stat_activity "
                                             "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))").scalar(),
                       "the request waiting for the rival's product", seconds=10)
            rival.execute("SELECT id FROM orders WHERE id = :id FOR UPDATE", id=order_id)  # the circle closes
            rival.release()
            rival_done.append(True)

        threads = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not threads and statement.lstrip().upper().startswith("UPDATE PRODUCTS"):
                threads.append(threading.Thread(target=rival_wants_the_order, daemon=True))
                threads[0].start()

        caplog.set_level(logging.WARNING)
        event.listen(db.engine, "before_cursor_execute", before)
        try:
            response = _notify(client, order, "FT-DEADLOCK-1")
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        threads[0].join(10)
        assert rival_done, "the rival never got the order: no deadlock happened"
        assert response.status_code == 200 and response.json == {"status": "matched", "order": order.reference}
        messages = [record.getMessage() for record in caplog.records]
        assert any(m.startswith("Deadlock on POST /payments/bank/notify, retried (attempt 1 of 3)") for m in messages)
        assert not any("could not be reached" in m for m in messages), messages
        db.session.commit()
        assert order.status == "paid" and count(Payment) == 1 and count(BankTransfer) == 1
        assert product.orders_count == 1 and product.stock == 8


@pytest.fixture
def product_locked(app, rival, market):
    """The first product's row (PostgreSQL) or the whole database (SQLite) is locked by another connection."""
    if rival.engine.dialect.name == "postgresql":
        rival.execute("UPDATE products SET stock = stock WHERE id = :id", id=market.products[0].id)
        yield
        rival.release()
        return
    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    yield
    other.rollback()
    other.close()


def test_a_lock_that_stays_taken_gives_the_busy_page_and_changes_nothing(client, market, caplog, request):
    fill_cart(client, market)
    values = open_checkout(client)
    before = snapshot(client)
    caplog.set_level(logging.WARNING)
    request.getfixturevalue("product_locked")
    started = time.monotonic()
    response = submit(client, values)
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    text = page(response)
    assert BUSY_VI in text and UNREACHABLE_VI not in text
    assert elapsed < 8, f"the buyer waited {elapsed:.1f} s"  # three tries of a 1 s lock timeout, and short pauses
    messages = [record.getMessage() for record in caplog.records]
    assert sum("Lock timeout on POST /checkout, retried" in m for m in messages) == 2, messages
    assert any(m.startswith("Lock timeout on POST /checkout, still there after 3 attempts") for m in messages)
    assert not any("could not be reached" in m for m in messages)
    assert snapshot(client) == before


def test_what_a_retried_view_puts_in_the_session_is_kept(app, client, make_product):
    """The run after a deadlock saves its session as any request does (the cart here; a login likewise)."""
    from flask import session

    attempts = []

    def view():
        session["cart"] = {"p:1": 2}
        attempts.append(1)
        if len(attempts) == 1:
            raise _conflict(psycopg.errors.DeadlockDetected("deadlock detected"))
        return "ok"

    app.add_url_rule("/retried-for-test", "retried_for_test", transactions._unit_of_work(view, retry=True))
    assert client.get("/retried-for-test").get_data(as_text=True) == "ok" and len(attempts) == 2
    with client.session_transaction() as saved:
        assert saved.get("cart") == {"p:1": 2}
