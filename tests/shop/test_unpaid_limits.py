"""Limits on orders waiting for payment: per browser session, per buyer phone and per client address; orders
paid, cancelled or past their hold do not count; through the checkout page with the client's address."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core.extensions import db
from core.time import utcnow
from shop import checkout, payments
from shop.models import Product
from shop.order_models import Order
from tests.factories import NOW, buyer_details, make_order
from tests.shop.test_cart_views import add, page
from tests.shop.test_checkout_views import open_checkout, submit

LIMITS = checkout.UnpaidLimits(per_address=3, per_phone=2, per_session=1)


@pytest.fixture(autouse=True)
def english_messages(app):
    with force_locale("en"):
        yield


@pytest.fixture
def pineapples(make_product):
    return make_product(price_vnd=10000, stock=500)


def order(product, *, phone="0987654321", address="203.0.113.7", session="s-1", now=NOW, limits=LIMITS,
          user=None):
    """2 units of ``product``, ordered from this address, phone and browser session, counted with ``limits``."""
    return make_order((product, 2), buyer=buyer_details("Khách", phone, "k@example.vn"), user=user, now=now,
                      origin=checkout.Origin(address=address, session=session), limits=limits)


def refused(product, **kwargs) -> checkout.CheckoutError:
    with pytest.raises(checkout.CheckoutError) as error:
        order(product, **kwargs)
    db.session.rollback()
    assert error.value.reason == "unpaid_limit"
    return error.value


def open_orders() -> int:
    return db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "pending_payment"))


def test_one_open_order_per_session_and_the_refusal_links_to_it(pineapples):
    first = order(pineapples)
    error = refused(pineapples, phone="0912000111", address="198.51.100.1")
    assert "You already have an order waiting for payment" in str(error.message)
    assert error.open_order.id == first.id, "the buyer's own order, to pay or cancel"
    assert db.session.get(Product, pineapples.id).stock == 498, "the refused order held nothing"
    assert open_orders() == 1


def test_two_open_orders_per_phone_and_no_link_to_someone_elses(pineapples):
    order(pineapples, session="a", address="198.51.100.1")
    order(pineapples, phone="+84 987 654 321", session="b", address="198.51.100.2")  # the same number, written otherwise
    error = refused(pineapples, phone="0987.654.321", session="c", address="198.51.100.3")
    assert "This phone number already has orders waiting for payment" in str(error.message)
    assert error.open_order is None, "whoever types a phone number must not get that buyer's order links"
    order(pineapples, phone="0912000111", session="c", address="198.51.100.3")


def test_three_open_orders_per_address(pineapples):
    for n in range(3):
        order(pineapples, phone=f"09120001{n:02d}", session=f"s{n}")
    error = refused(pineapples, phone="0912000199", session="s9")
    assert "from this network" in str(error.message) and error.open_order is None
    order(pineapples, phone="0912000199", session="s9", address="198.51.100.9")


def test_paid_cancelled_and_overdue_orders_do_not_count(pineapples):
    paid = order(pineapples)
    payments.record_bank_transfer(transaction_id="FT1", amount_vnd=paid.total_vnd, content=paid.reference,
                                  transferred_at=None, source="webhook", now=NOW)
    db.session.commit()
    cancelled = order(pineapples)
    checkout.cancel_unpaid(cancelled, None, NOW)
    db.session.commit()
    order(pineapples, now=NOW - timedelta(minutes=31))  # its hold is over, even before the expiry job runs
    order(pineapples)
    assert open_orders() == 2, "one overdue, one open: only the open one counted"


def test_a_logged_in_buyer_is_linked_to_their_own_order_from_another_session(pineapples, make_user):
    buyer = make_user()
    order(pineapples, user=buyer, session="phone")
    second = order(pineapples, user=buyer, session="laptop")
    error = refused(pineapples, user=buyer, session="tablet")  # the phone limit (2) refuses it
    assert "This phone number" in str(error.message)
    assert error.open_order.id == second.id, "their newest open order, found through their account"


def test_zero_turns_a_limit_off_and_no_limits_are_counted_without_them(pineapples):
    off = checkout.UnpaidLimits(per_address=0, per_phone=0, per_session=0)
    for _ in range(4):
        order(pineapples, limits=off)
    order(pineapples, limits=None)
    assert open_orders() == 5


def test_only_keyed_hashes_of_the_address_and_session_are_stored(pineapples, app):
    placed = order(pineapples, address="203.0.113.7", session="s-1")
    assert placed.placed_from == checkout.origin_hash("address", "203.0.113.7")
    assert len(placed.placed_from) == 32 and "203.0.113.7" not in placed.placed_from
    assert placed.placed_session != checkout.origin_hash("address", "s-1"), "kinds do not collide"
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-9876543210"
    assert checkout.origin_hash("address", "203.0.113.7") != placed.placed_from, "keyed by SECRET_KEY"


# --- through the checkout page, with the client's address --------------------------------------------------

def _checkout(client, product, **contact):
    add(client, product, "2")
    return submit(client, open_checkout(client, lang="en"), **contact)


def test_the_checkout_page_refuses_a_second_open_order_and_links_to_the_first(client, pineapples):
    first = _checkout(client, pineapples)
    assert first.status_code == 302
    placed = db.session.scalar(select(Order))
    assert placed.placed_from == checkout.origin_hash("address", "127.0.0.1")
    second = _checkout(client, pineapples, phone="0912000111")
    text = page(second)
    assert second.status_code == 409
    assert "You already have an order waiting for payment" in text
    assert f'<a href="/orders/{placed.public_id}/pay?key={placed.secret}">Open order {placed.reference}</a>' in text
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.get(Product, pineapples.id).stock == 498


def test_the_address_limit_counts_the_client_address(app, pineapples):
    app.config["UNPAID_ORDERS_PER_ADDRESS"] = 2

    def browser(address):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    for n in range(2):
        assert _checkout(browser("203.0.113.7"), pineapples, phone=f"09120001{n:02d}").status_code == 302
    third = _checkout(browser("203.0.113.7"), pineapples, phone="0912000199")
    assert third.status_code == 409 and "from this network" in page(third)
    assert "Open order" not in page(third), "another browser's orders are not linked"
    assert _checkout(browser("198.51.100.20"), pineapples, phone="0912000199").status_code == 302


def test_after_paying_the_buyer_can_order_again(client, pineapples):
    assert _checkout(client, pineapples).status_code == 302
    placed = db.session.scalar(select(Order))
    payments.record_bank_transfer(transaction_id="FT9", amount_vnd=placed.total_vnd, content=placed.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    again = _checkout(client, pineapples)
    assert again.status_code == 302 and re.search(r"/orders/\w+/pay", again.headers["Location"])
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2
