"""Cancelling or changing an unpaid order from its pay page: a confirmation page first, then the stock and seats
go back at once; "change" puts the lines back in the cart; a paid order cannot be cancelled there."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from core.time import utcnow
from shop import cart as carts
from shop import payments
from shop.models import Product
from shop.order_models import Order
from tests.helpers import csrf_token_from, login_as
from tests.shop.test_cart_views import add, page, session_cart
from tests.shop.test_checkout_views import open_checkout, submit
from tours.models import TourSlot


@pytest.fixture
def placed(client, make_product, make_slot):
    """A guest's unpaid order, placed through the checkout page: 3 kg of pineapples and a visit for 2 + 1."""
    product = make_product(price_vnd=25000, stock=40)
    slot = make_slot(capacity=10, starts_at=utcnow() + timedelta(days=5), farm=product.farm)
    add(client, product, "3")
    client.post(f"/tours/{slot.tour.slug}/book", data={"slot": slot.id, "adults": "2", "children": "1"})
    response = submit(client, open_checkout(client, lang="en"))
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert db.session.get(Product, product.id).stock == 37 and db.session.get(TourSlot, slot.id).seats_taken == 3
    return order, product, slot


def cancel_url(order, key=True) -> str:
    return f"/orders/{order.public_id}/pay/cancel" + (f"?key={order.secret}" if key else "")


def test_the_pay_page_offers_cancel_or_change_behind_a_confirmation(client, placed):
    order, product, slot = placed
    pay_page = page(client.get(f"/orders/{order.public_id}/pay?key={order.secret}&lang=en"))
    assert "Changed your mind?" in pay_page
    assert f'href="{cancel_url(order)}"' in pay_page.replace("&amp;", "&")
    confirm = client.get(cancel_url(order))
    text = page(confirm)
    assert confirm.status_code == 200 and confirm.headers["Cache-Control"] == "no-store"
    assert f"Cancel order {order.reference}?" in text and "do not cancel" in text
    assert re.search(r'<form method="post" action="[^"]*/pay/cancel\?key=', text)
    assert 'name="then" value="change"' in text and 'name="then" value="cancel"' in text
    db.session.refresh(order)
    assert order.status == "pending_payment", "opening the confirmation page changes nothing"
    assert db.session.get(Product, product.id).stock == 37


def test_cancel_releases_stock_and_seats_at_once(client, placed):
    order, product, slot = placed
    response = client.post(cancel_url(order), data={"then": "cancel"})
    assert response.status_code == 302 and f"/orders/{order.public_id}/pay" in response.headers["Location"]
    db.session.refresh(order)
    assert order.status == "cancelled" and all(fo.status == "cancelled" for fo in order.farm_orders)
    assert db.session.get(Product, product.id).stock == 40
    assert db.session.get(TourSlot, slot.id).seats_taken == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "order.cancelled"))
    assert (entry.entity_id, entry.from_state, entry.to_state) == (order.id, "pending_payment", "cancelled")
    text = page(client.get(response.headers["Location"] + "&lang=en"))
    assert f"Order {order.reference} is cancelled. Nothing will be charged." in text
    assert "This order was cancelled." in text
    assert session_cart(client) == {}


def test_change_cancels_and_puts_the_lines_back_in_the_cart(client, placed):
    order, product, slot = placed
    response = client.post(cancel_url(order), data={"then": "change"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    db.session.refresh(order)
    assert order.status == "cancelled"
    assert db.session.get(Product, product.id).stock == 40 and db.session.get(TourSlot, slot.id).seats_taken == 0
    assert session_cart(client) == {f"p:{product.id}": {"q": 3, "price": 25000},
                                    f"s:{slot.id}": {"a": 2, "c": 1, "price": 150000}}
    cart_page = page(client.get("/cart?lang=en"))
    assert f"Order {order.reference} is cancelled and its goods are back in your cart" in cart_page
    again = submit(client, open_checkout(client))
    assert again.status_code == 302, "the session limit no longer counts the cancelled order"


def test_change_for_a_logged_in_buyer_fills_their_account_cart(client, make_user, make_product):
    buyer = make_user()
    login_as(client, buyer)
    product = make_product(stock=40)
    add(client, product, "4")
    assert submit(client, open_checkout(client)).status_code == 302
    order = db.session.scalar(select(Order))
    assert client.post(cancel_url(order, key=False), data={"then": "change"}).status_code == 302
    assert carts.DbStore(buyer.id).items()[f"p:{product.id}"]["q"] == 4
    assert db.session.get(Product, product.id).stock == 40


def test_a_paid_order_cannot_be_cancelled_from_the_pay_page(client, placed):
    order, product, slot = placed
    payments.record_bank_transfer(transaction_id="FT1", amount_vnd=order.total_vnd, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    assert client.get(cancel_url(order)).status_code == 302
    response = client.post(cancel_url(order), data={"then": "cancel"})
    assert response.status_code == 302 and "/pay/cancel" not in response.headers["Location"]
    db.session.refresh(order)
    assert order.status == "paid"
    assert db.session.get(Product, product.id).stock == 37 and db.session.get(TourSlot, slot.id).seats_taken == 3


def test_without_the_key_the_order_cannot_be_cancelled(app, placed):
    order, product, _slot = placed
    stranger = app.test_client()
    assert stranger.get(cancel_url(order, key=False)).status_code == 404
    assert stranger.post(cancel_url(order, key=False), data={"then": "cancel"}).status_code == 404
    assert stranger.post(f"/orders/{order.public_id}/pay/cancel?key=wrong").status_code == 404
    db.session.refresh(order)
    assert order.status == "pending_payment" and db.session.get(Product, product.id).stock == 37


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_cancel_button_needs_the_csrf_token(self, client, make_product):
        product = make_product(stock=40)
        html = client.get(f"/products/{product.slug}").get_data(as_text=True)
        client.post("/cart/add", data={"product_id": product.id, "quantity": "2",
                                       "csrf_token": csrf_token_from(html)})
        checkout_page = client.get("/checkout").get_data(as_text=True)
        from tests.shop.test_checkout_views import form_values

        response = submit(client, form_values(checkout_page))
        assert response.status_code == 302
        order = db.session.scalar(select(Order))
        assert client.post(cancel_url(order), data={"then": "cancel"}).status_code == 400
        db.session.refresh(order)
        assert order.status == "pending_payment"
        token = csrf_token_from(client.get(cancel_url(order)).get_data(as_text=True))
        assert client.post(cancel_url(order), data={"then": "cancel", "csrf_token": token}).status_code == 302
        db.session.refresh(order)
        assert order.status == "cancelled" and db.session.get(Product, product.id).stock == 40
