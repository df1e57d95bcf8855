"""Placing orders: snapshots, stock held by guarded UPDATEs, totals, expiry."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.extensions import db
from shop import cart as carts
from shop import checkout
from shop.models import Product
from shop.order_models import FarmOrder, Order, OrderLine
from tests.factories import KEP_ADDRESS, NOW
from tests.helpers import count


def test_order_from_two_farms_is_split_with_price_snapshots(store, place, make_product, make_farm):
    delivering = make_farm(offers_delivery=True, delivery_fee_vnd=30000)
    pineapples = make_product(price_vnd=25000, stock=100, min_order_qty=2)
    jam = make_product(farm=delivering, price_vnd=55000, stock=10, unit="jar")
    carts.add_product(store, pineapples.id, "10")
    carts.add_product(store, jam.id, "2")
    # (A delivery now needs an address: Kép, where the farm delivers itself.)
    order = place(store, fulfilments={pineapples.farm_id: "farm_pickup", delivering.id: "delivery"},
                  destination=KEP_ADDRESS)
    db.session.commit()
    assert order.total_vnd == 10 * 25000 + 2 * 55000 + 30000
    by_farm = {fo.farm_id: fo for fo in order.farm_orders}
    assert by_farm[pineapples.farm_id].total_vnd == 250000
    assert (by_farm[delivering.id].total_vnd, by_farm[delivering.id].delivery_fee_vnd) == (140000, 30000)
    assert {fo.status for fo in order.farm_orders} == {"pending_payment"}
    assert (pineapples.stock, jam.stock) == (90, 8)
    # The line keeps the price it was sold at.
    pineapples.price_vnd = 99000
    db.session.commit()
    line = db.session.scalar(select(OrderLine).where(OrderLine.product_id == pineapples.id))
    assert (line.unit_price_vnd, line.line_total_vnd, line.name) == (25000, 250000, pineapples.name)
    assert order.expires_at == NOW + timedelta(minutes=30)
    assert store.items() == {}, "the cart is emptied"


def test_changed_total_sends_the_buyer_back_and_changes_nothing(store, place, make_product):
    product = make_product(price_vnd=25000, stock=5)
    carts.add_product(store, product.id, "2")
    with pytest.raises(checkout.CheckoutError) as error:
        place(store, shown_total=40000)
    db.session.rollback()
    assert error.value.reason == "total_changed"
    assert product.stock == 5 and count(Order) == 0


def test_price_change_after_adding_is_flagged(store, place, make_product):
    product = make_product(price_vnd=25000, stock=5)
    carts.add_product(store, product.id, "2")
    product.price_vnd = 27000
    db.session.commit()
    cart = carts.load(store, NOW)
    assert cart.has_problems and "Giá đã thay đổi" in str(cart.lines[0].problems[0])
    with pytest.raises(checkout.CheckoutError) as error:
        place(store)
    assert error.value.reason == "stale"
    db.session.rollback()
    carts.set_product_quantity(store, product.id, "2")  # confirming the line accepts the new price
    assert not carts.load(store, NOW).has_problems


def test_sold_out_at_checkout_rolls_everything_back(store, place, make_product, monkeypatch):
    first = make_product(stock=10)
    second = make_product(stock=3)
    carts.add_product(store, first.id, "4")
    carts.add_product(store, second.id, "3")
    checked = carts.load(store, NOW)  # the cart as checked, just before another buyer's sale commits
    shown = checkout.totals(checked, {f.id: "farm_pickup" for f, _ in checked.by_farm()})[1]
    db.session.execute(update(Product).where(Product.id == second.id).values(stock=2))
    db.session.commit()
    monkeypatch.setattr(carts, "load", lambda s, now: checked)
    with pytest.raises(checkout.CheckoutError) as error:
        place(store, shown_total=shown)
    db.session.rollback()
    assert error.value.reason == "sold_out"
    assert (first.stock, second.stock) == (10, 2), "the first product's reservation was rolled back"
    assert count(Order) == 0 and count(FarmOrder) == 0


def test_double_submit_places_one_order(store, place, make_product):
    product = make_product(stock=10)
    carts.add_product(store, product.id, "2")
    first = place(store, token="same-token")
    db.session.commit()
    carts.add_product(store, product.id, "2")
    second = place(store, token="same-token")
    assert first.id == second.id and count(Order) == 1 and product.stock == 8


def test_empty_cart(store, place):
    with pytest.raises(checkout.CheckoutError) as error:
        place(store, shown_total=0)
    assert error.value.reason == "empty"


def test_delivery_only_where_the_farm_offers_it(store, place, make_product):
    product = make_product()
    carts.add_product(store, product.id, "1")
    with pytest.raises(checkout.CheckoutError):
        place(store, fulfilments={product.farm_id: "delivery"})


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "abc", "", "1000001", " 2e3"])
def test_bad_quantities_are_refused(store, make_product, raw):
    product = make_product(stock=10)
    with pytest.raises(carts.CartError):
        carts.add_product(store, product.id, raw)
    assert store.items() == {}


def test_quantity_rules(store, make_product):
    product = make_product(stock=5, min_order_qty=2)
    with pytest.raises(carts.CartError, match="Đặt ít nhất 2"):
        carts.add_product(store, product.id, "1")
    with pytest.raises(carts.CartError, match="Chỉ còn 5"):
        carts.add_product(store, product.id, "6")
    paused = make_product(status="paused")
    with pytest.raises(carts.CartError):
        carts.add_product(store, paused.id, "1")
    with pytest.raises(carts.CartError):
        carts.add_product(store, "999999", "1")


def test_unpaid_order_expires_once_and_releases_stock(store, place, make_product):
    product = make_product(stock=10)
    carts.add_product(store, product.id, "4")
    order = place(store)
    db.session.commit()
    assert checkout.expire_orders(NOW + timedelta(minutes=29)) == 0
    assert order.display_status(NOW + timedelta(minutes=31)) == "expired", "pages treat overdue as expired"
    assert checkout.expire_orders(NOW + timedelta(minutes=31)) == 1
    assert checkout.expire_orders(NOW + timedelta(minutes=31)) == 0, "a second run is a no-op"
    db.session.commit()
    assert product.stock == 10
    assert order.status == "expired" and {fo.status for fo in order.farm_orders} == {"expired"}


def test_cancel_unpaid_order_releases_stock(store, place, make_product, make_user):
    product = make_product(stock=10)
    carts.add_product(store, product.id, "4")
    order = place(store)
    checkout.cancel_unpaid(order, None, NOW)
    db.session.commit()
    assert product.stock == 10 and order.status == "cancelled"
    with pytest.raises(checkout.CheckoutError):
        checkout.cancel_unpaid(order, None, NOW)
