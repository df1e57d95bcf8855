"""The buyer's orders: who may see them, the secret link, cancelling, the receipt, expiry, query counts."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core.extensions import db
from core.time import utcnow
from shop import cart as carts
from shop.order_models import Order
from tests.helpers import login_as
from tests.shop.test_cart_views import count_queries, english, page


@pytest.fixture
def order_for(store, place, make_product):
    """An order placed now (so it is payable), for ``user`` or a guest."""
    def make(user=None, products=1, quantity="2", stock=10, **place_args):
        items = [make_product(stock=stock) for _ in range(products)]
        cart_store = carts.DbStore(user.id) if user is not None else store
        for product in items:
            carts.add_product(cart_store, product.id, quantity)
        order = place(cart_store, user=user, now=place_args.pop("now", utcnow()),
                      token=f"token-{items[0].id}", **place_args)
        db.session.commit()
        return order
    return make


def mark_paid(order: Order) -> None:
    order.status, order.paid_at = "paid", utcnow()
    for farm_order in order.farm_orders:
        farm_order.status = "paid"
    db.session.commit()


# --- my orders ----------------------------------------------------------------------------------

def test_my_orders_needs_login(client):
    response = client.get("/orders")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_my_orders_lists_only_mine_newest_first(client, make_user, order_for):
    buyer, other = make_user(), make_user()
    older = order_for(buyer, now=utcnow() - timedelta(hours=2))
    newer = order_for(buyer)
    theirs = order_for(other)
    guest = order_for()
    login_as(client, buyer)
    text = page(client.get("/orders?lang=en"))
    assert text.index(newer.reference) < text.index(older.reference)
    assert theirs.reference not in text and guest.reference not in text
    assert "Expired" in text, "the older order is past its hold and shows as expired"
    assert "Waiting for payment" in text


def test_my_orders_empty(client, make_user):
    login_as(client, make_user())
    assert "You have no orders yet." in page(client.get("/orders?lang=en"))


@pytest.mark.parametrize("bad_page", ["0", "-1", "abc", "999999999999"])
def test_my_orders_bad_page_numbers_show_the_first_page(client, make_user, bad_page):
    login_as(client, make_user())
    assert client.get(f"/orders?page={bad_page}").status_code == 200


def test_my_orders_queries_do_not_grow_with_orders(app, make_user, order_for):
    counts = []
    for orders in (2, 20):
        buyer = make_user()
        for n in range(orders):
            order_for(buyer, products=2 if n % 2 else 1)
        client = app.test_client()
        login_as(client, buyer)
        with count_queries() as statements:
            response = client.get("/orders")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 5, counts


# --- one order: who may see it -------------------------------------------------------------------

def test_owner_sees_the_order_with_lines_and_totals(client, make_user, order_for):
    buyer = make_user()
    order = order_for(buyer)
    login_as(client, buyer)
    text = page(client.get(f"/orders/{order.public_id}?lang=en"))
    assert order.reference in text and order.farm_orders[0].farm.name in text
    assert order.farm_orders[0].lines[0].name in text
    assert "Waiting for payment" in text and "Bank transfer (VietQR)" in text
    assert "Cancel this order" in text
    assert "Keep this link" not in text, "an account holder does not need the secret link"


def test_another_buyers_order_is_not_found(client, make_user, order_for):
    order = order_for(make_user())
    login_as(client, make_user())
    assert client.get(f"/orders/{order.public_id}").status_code == 404
    assert client.get(f"/orders/{order.public_id}/receipt").status_code == 404
    assert client.get(f"/orders/{order.public_id}/pay/cancel").status_code == 404
    assert client.post(f"/orders/{order.public_id}/pay/cancel", data={"then": "cancel"}).status_code == 404
    assert order.status == "pending_payment"


def test_staff_may_open_any_order(client, make_user, order_for):
    order = order_for()
    login_as(client, make_user(role="admin"))
    assert client.get(f"/orders/{order.public_id}").status_code == 200


@pytest.mark.parametrize("key", [None, "", "wrong", "x" * 500])
def test_guest_link_with_a_wrong_key_is_not_found(client, order_for, key):
    order = order_for()
    query = {} if key is None else {"key": key}
    assert client.get(f"/orders/{order.public_id}", query_string=query).status_code == 404


def test_unknown_order_is_not_found(client):
    assert client.get("/orders/NOPE").status_code == 404
    assert client.get("/orders/" + "A" * 300).status_code == 404


def test_guest_link_keeps_the_key_in_its_links(client, order_for):
    order = order_for()
    text = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    assert "Keep this link" in text
    assert f"/orders/{order.public_id}/pay/cancel?key={order.secret}" in text
    mark_paid(order)
    text = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    assert f"/orders/{order.public_id}/receipt?key={order.secret}" in text


def test_overdue_unpaid_order_shows_as_expired_with_no_pay_or_cancel(client, order_for):
    order = order_for(now=utcnow() - timedelta(hours=1))
    text = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    assert "Expired" in text and "not paid in time" in text
    assert "Cancel this order" not in text and "Pay now" not in text


def test_pay_now_link_while_payable(app, client, order_for):
    order = order_for()
    text = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    if "payments.pay" in app.view_functions:
        assert f"/orders/{order.public_id}/pay?key={order.secret}" in text and "Pay now" in text
    assert "Please pay" in text


# --- cancelling -----------------------------------------------------------------------------------

def test_guest_cancels_an_unpaid_order_and_the_stock_comes_back(client, order_for):
    english(client)
    order = order_for(quantity="3")
    product = order.farm_orders[0].lines[0].product
    assert product.stock == 7
    # The order page's button opens a confirmation page; one tap cancels nothing.
    detail = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    confirm_url = f"/orders/{order.public_id}/pay/cancel?key={order.secret}"
    assert f'href="{confirm_url}"' in detail and f'action="/orders/{order.public_id}/cancel' not in detail
    assert "Cancel order" in page(client.get(confirm_url + "&lang=en"))
    assert order.status == "pending_payment" and product.stock == 7
    response = client.post(confirm_url, data={"then": "cancel"})
    assert response.status_code == 302 and f"key={order.secret}" in response.headers["Location"]
    assert order.status == "cancelled" and product.stock == 10
    assert {fo.status for fo in order.farm_orders} == {"cancelled"}
    assert "is cancelled. Nothing will be charged." in page(client.get(response.headers["Location"] + "&lang=en"))
    # Cancelling twice changes nothing more.
    client.post(confirm_url, data={"then": "cancel"})
    assert product.stock == 10


def test_a_paid_order_cannot_be_cancelled_here(client, make_user, order_for):
    english(client)
    buyer = make_user()
    order = order_for(buyer)
    mark_paid(order)
    login_as(client, buyer)
    client.post(f"/orders/{order.public_id}/pay/cancel", data={"then": "cancel"})
    assert order.status == "paid"
    assert "Cancel this order" not in page(client.get(f"/orders/{order.public_id}?lang=en"))


def test_cancel_with_a_wrong_key_is_not_found(client, order_for):
    order = order_for()
    assert client.post(f"/orders/{order.public_id}/pay/cancel?key=wrong", data={"then": "cancel"}).status_code == 404
    assert order.status == "pending_payment"


# --- the receipt ----------------------------------------------------------------------------------

def test_receipt_only_for_paid_orders(client, order_for):
    order = order_for()
    assert client.get(f"/orders/{order.public_id}/receipt?key={order.secret}").status_code == 404
    mark_paid(order)
    response = client.get(f"/orders/{order.public_id}/receipt?key={order.secret}&lang=en")
    assert response.status_code == 200
    text = page(response)
    assert order.reference in text and "Total paid" in text and order.buyer_name in text
    assert "<script" not in text.split("</header>", 1)[1], "the receipt needs nothing external"
    assert client.get(f"/orders/{order.public_id}/receipt?key=wrong").status_code == 404


# --- flask expire-orders ---------------------------------------------------------------------------

def test_expire_orders_command(app, order_for):
    overdue = order_for(now=utcnow() - timedelta(hours=1), quantity="4")
    fresh = order_for()
    product = overdue.farm_orders[0].lines[0].product
    assert product.stock == 6
    runner = app.test_cli_runner()
    result = runner.invoke(args=["expire-orders"])
    assert result.exit_code == 0, result.output
    assert "Expired 1 unpaid order(s)." in result.output
    db.session.expire_all()
    assert (overdue.status, fresh.status) == ("expired", "pending_payment")
    assert product.stock == 10
    again = runner.invoke(args=["expire-orders"])
    assert "Expired 0 unpaid order(s)." in again.output
    db.session.expire_all()
    assert product.stock == 10
