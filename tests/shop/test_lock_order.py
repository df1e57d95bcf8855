"""The expiry job, payment confirmations and checkouts on the same products at the same time, on PostgreSQL
(SQLite ignores row locks): no deadlock reaches anyone, every due hold is released, stock adds up.

Before one lock order was used everywhere, ``flask expire-orders`` held the products of one order while it
waited for the next order, which a bank notification held while it waited for those products: PostgreSQL
killed one side (the notification got a 503, or the cron run died). Each run below races two expiry runs,
four bank notifications (two of them for orders that are already due) and four checkouts through the real
views; a retry after a lock conflict is allowed (it is logged, and counted), an error seen by a caller is not.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.time import utcnow
from shop import checkout
from shop.models import Product
from shop.order_models import FarmOrder, Order, OrderLine
from tests.factories import make_order
from tests.helpers import race, requires_postgres
from tests.shop.test_cart_views import add
from tests.shop.test_checkout_views import open_checkout, submit

pytestmark = requires_postgres

RUNS = 30
SECRET = "bank-secret-for-the-lock-order-test"
STOCK = 1000


@pytest.fixture
def app_config():
    # Many checkouts from one address and phone on purpose: the limits on open unpaid orders are off here.
    return {"BANK_WEBHOOK_SECRET": SECRET,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 0, "pool_pre_ping": True},
            "UNPAID_ORDERS_PER_ADDRESS": 0, "UNPAID_ORDERS_PER_PHONE": 0, "UNPAID_ORDERS_PER_SESSION": 0}


def _unpaid(products, quantities, *, minutes_ago: int) -> Order:
    """An unpaid order for these products (placed ``minutes_ago``; due when that is past the 30-minute hold)."""
    return make_order(*zip(products, quantities), now=utcnow() - timedelta(minutes=minutes_ago))


def _notify(client, order: tuple[str, int], transaction_id: str):
    reference, total = order
    raw = json.dumps({"transaction_id": transaction_id, "amount": total,
                      "content": f"{reference} thanh toan"}).encode()
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/payments/bank/notify", data=raw,
                       headers={"X-Signature": signature, "Content-Type": "application/json"})


def _held(product_id: int) -> int:
    """Units of this product held by orders that still hold stock (unpaid, or paid)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(FarmOrder, FarmOrder.id == OrderLine.farm_order_id).join(Order, Order.id == FarmOrder.order_id)
        .where(OrderLine.product_id == product_id, Order.status.in_(("pending_payment", "paid"))))


def test_expiry_payments_and_checkouts_on_the_same_products_never_deadlock(app, make_farm, make_product, caplog):
    farm_a, farm_b = make_farm(), make_farm()
    products = [make_product(farm=farm_a, stock=STOCK), make_product(farm=farm_b, stock=STOCK),
                make_product(farm=farm_a, stock=STOCK)]
    ids = [product.id for product in products]
    caplog.set_level(logging.WARNING)
    seen_by_callers, retries = [], 0
    for run in range(RUNS):
        # Due orders whose products overlap, each over several products (the expiry job walks them in id order).
        due = [_unpaid(products, (1, 1, 1), minutes_ago=40), _unpaid(products[1:], (1, 1), minutes_ago=40),
               _unpaid(products[::-1], (1, 1, 1), minutes_ago=40), _unpaid(products[:2], (2, 1), minutes_ago=40)]
        fresh = [_unpaid(products, (1, 2, 1), minutes_ago=1), _unpaid(products[::2], (1, 1), minutes_ago=1)]
        # Plain values: the threads must not touch the test's session.
        to_pay = [(order.reference, order.total_vnd) for order in (due[1], due[2], fresh[0], fresh[1])]
        buyers = []
        for i in range(4):
            client = app.test_client()
            for product in (products if i % 2 else products[::-1]):
                assert add(client, product, "1").status_code == 302
            buyers.append((client, open_checkout(client)))
        payers = [app.test_client() for _ in to_pay]
        caplog.clear()

        def job(i, run=run, to_pay=to_pay, buyers=buyers, payers=payers):
            try:
                if i < 2:
                    return ("expired", checkout.expire_orders(utcnow()))
                if i < 6:
                    response = _notify(payers[i - 2], to_pay[i - 2], f"FT{run:03d}{i:02d}")
                    return ("paid", response.status_code, response.get_json())
                client, values = buyers[i - 6]
                response = submit(client, values)
                return ("placed", response.status_code, response.headers.get("Location", ""))
            except Exception as error:  # noqa: BLE001 - anything a caller would see is a failure of the test
                return ("error", i, repr(error))

        results = race(app, 10, job)
        db.session.expire_all()
        seen_by_callers += [r for r in results if r[0] == "error"
                            or (r[0] == "paid" and (r[1] != 200 or r[2]["status"] != "matched"))
                            or (r[0] == "placed" and (r[1] != 302 or "/orders/" not in r[2]))]
        retries += sum("retried" in record.getMessage() for record in caplog.records)
        assert not [record.getMessage() for record in caplog.records if "still there" in record.getMessage()]
        assert db.session.scalar(select(func.count()).select_from(Order).where(
            Order.status == "pending_payment", Order.expires_at <= utcnow())) == 0, f"run {run}: a due hold is left"
        assert 2 <= sum(r[1] for r in results if r[0] == "expired") <= 4, f"run {run}: {results}"
        for product_id in ids:
            stock = db.session.get(Product, product_id).stock
            assert stock + _held(product_id) == STOCK, f"run {run}: product {product_id} does not add up"
    assert seen_by_callers == [], seen_by_callers[:3]
    print(f"\n{RUNS} runs, {retries} lock conflicts retried")  # noqa: T201 - the number for the report
