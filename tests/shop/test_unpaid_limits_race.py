"""Races on PostgreSQL: checkouts at once from one address cannot all pass the count of open unpaid orders."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from shop import checkout
from shop.models import Product
from shop.order_models import Order
from tests.factories import buyer_details, make_cart, place
from tests.helpers import race, requires_postgres

pytestmark = requires_postgres

THREADS = 20
LIMITS = checkout.UnpaidLimits(per_address=3, per_phone=0, per_session=0)


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 0, "pool_pre_ping": True}}


@pytest.fixture(autouse=True)
def close_connections(app):
    yield
    db.session.remove()
    db.engine.dispose()


@pytest.mark.parametrize("run", range(2))
def test_20_checkouts_at_once_from_one_address_place_3_orders(app, make_product, run):
    product = make_product(stock=500, price_vnd=10000)
    stores = [make_cart((product, 1)) for _ in range(THREADS)]

    def place_one(i):
        try:
            place(stores[i], buyer=buyer_details("Khách", f"09120{i:05d}", "k@example.vn"),
                  fulfilments={product.farm_id: "farm_pickup"}, shown_total=10000, token=f"addr-{run}-{i}",
                  origin=checkout.Origin(address="203.0.113.7", session=f"s{i}"), limits=LIMITS)
            db.session.commit()
            return "placed"
        except checkout.CheckoutError as error:
            db.session.rollback()
            return error.reason

    results = race(app, THREADS, place_one)
    db.session.expire_all()
    assert results.count("placed") == 3, results
    assert set(results) - {"placed"} == {"unpaid_limit"}
    assert db.session.scalar(select(func.count()).select_from(Order)) == 3
    assert db.session.get(Product, product.id).stock == 497
