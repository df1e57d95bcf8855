"""Races, on PostgreSQL (SQLite ignores row locks): no unit is sold twice, no stock released twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from shop import checkout
from shop.models import Product
from shop.order_models import Order
from tests.factories import NOW, make_cart, make_order, place
from tests.helpers import race, requires_postgres

pytestmark = requires_postgres


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 45, "max_overflow": 0, "pool_pre_ping": True}}


def test_30_buyers_for_the_last_10_units(app, make_product):
    product = make_product(stock=10, price_vnd=25000)
    stores = [make_cart((product, 1)) for _ in range(30)]

    def buy(i):
        try:
            place(stores[i], fulfilments={product.farm_id: "farm_pickup"}, shown_total=25000, token=f"race-{i}")
            db.session.commit()
            return "sold"
        except checkout.CheckoutError as error:
            db.session.rollback()
            return error.reason

    results = race(app, 30, buy)
    db.session.expire_all()
    assert results.count("sold") == 10
    assert set(results) - {"sold"} <= {"sold_out", "stale"}, results
    assert db.session.get(Product, product.id).stock == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 10


def test_two_expiry_jobs_at_once_release_stock_once(app, make_product):
    product = make_product(stock=20)
    for _ in range(5):
        make_order((product, 2))
    assert product.stock == 10

    def expire(_):
        count = checkout.expire_orders(NOW + timedelta(minutes=31))
        db.session.commit()
        return count

    results = race(app, 2, expire)
    db.session.expire_all()
    assert sum(results) == 5
    assert db.session.get(Product, product.id).stock == 20
