"""Visit credit spent at checkout (the "credit" payment method) when it covers the whole order, and given back as
credit when such an order is refunded; the books agree to the đồng throughout."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.time import utcnow
from shop import checkout, credits, payments
from shop.credit_models import CreditEntry
from shop.payment_models import Refund
from tests.factories import NOW
from tests.helpers import login_as
from tests.tours.test_rain import LATER, _choice_of, books_balance, rained  # noqa: F401  (the fixture)
from tours import cancellations, rain, services


@pytest.fixture
def credited(rained):  # noqa: F811
    rain.choose(_choice_of(rained["member"]), "credit", None, LATER)
    db.session.commit()
    return rained


def test_credit_pays_a_later_booking_and_a_refund_gives_it_back(credited, book):
    buyer, later = credited["buyer"], credited["later"]
    order = book(later, 1, 0, email="lan@example.vn", user=buyer, method="credit", now=LATER)
    credits.pay_order(order, buyer.id, LATER)
    db.session.commit()
    assert order.status == "paid" and order.payment_method == "credit"
    assert credits.balance(buyer.id, LATER).amount_vnd == 300000 - order.total_vnd
    ticket = services.tickets_for_order(order)[0]
    assert ticket.status == "valid"
    books_balance()

    too_big = book(later, 3, 0, email="lan@example.vn", user=buyer, method="credit", now=LATER)
    with pytest.raises(checkout.CheckoutError, match="does not cover"):
        credits.pay_order(too_big, buyer.id, LATER)
    db.session.rollback()
    assert credits.balance(buyer.id, LATER).amount_vnd == 300000 - order.total_vnd, "nothing spent"

    refund = cancellations.cancel_booking(ticket, buyer, LATER)
    db.session.commit()
    assert refund.provider == "credit" and refund.amount_vnd == order.total_vnd
    assert payments.send_pending_refunds(LATER) == 1
    assert payments.send_pending_refunds(LATER) == 0
    assert db.session.scalar(select(func.count(CreditEntry.id)).where(CreditEntry.refund_id == refund.id)) == 1
    assert db.session.get(Refund, refund.id).status == "done"
    assert credits.balance(buyer.id, LATER).amount_vnd == 300000
    books_balance()


def test_another_account_cannot_spend_the_credit(credited, book, make_user):
    other = make_user(email="khac@example.vn")
    order = book(credited["later"], 1, 0, email="khac@example.vn", user=other, method="credit", now=LATER)
    with pytest.raises(checkout.CheckoutError):
        credits.pay_order(order, other.id, LATER)
    db.session.rollback()
    assert credits.balance(credited["buyer"].id, LATER).amount_vnd == 300000


def test_checkout_offers_the_credit_only_to_a_buyer_who_has_some(credited, client, make_user, make_slot, app):
    tour = credited["later"].tour
    soon = make_slot(tour, starts_at=utcnow().replace(microsecond=0) + timedelta(days=10))
    db.session.commit()
    login_as(client, credited["buyer"])
    client.post(f"/tours/{tour.slug}/book", data={"slot": soon.id, "adults": "1", "children": "0"})
    assert 'value="credit"' in client.get("/checkout").get_data(as_text=True)
    stranger = make_user(email="la@example.vn")
    other = app.test_client()
    login_as(other, stranger)
    other.post(f"/tours/{tour.slug}/book", data={"slot": soon.id, "adults": "1", "children": "0"})
    page = other.get("/checkout").get_data(as_text=True)
    assert 'name="payment_method"' in page and 'value="credit"' not in page


def test_credit_expires_after_twelve_months(credited):
    entry = db.session.scalar(select(CreditEntry))
    assert entry.expires_at - entry.created_at == timedelta(days=365)
    assert credits.balance(credited["buyer"].id, NOW + timedelta(days=366)).amount_vnd == 0


def test_the_checkout_page_pays_with_credit_in_one_step(credited, client, make_slot):
    from shop.order_models import Order
    from tests.shop.test_checkout_views import open_checkout, submit

    tour = credited["later"].tour
    soon = make_slot(tour, starts_at=utcnow().replace(microsecond=0) + timedelta(days=10))
    db.session.commit()
    login_as(client, credited["buyer"])
    client.post(f"/tours/{tour.slug}/book", data={"slot": soon.id, "adults": "1", "children": "0"})
    answer = submit(client, open_checkout(client, lang="en"), payment_method="credit")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.payment_method == "credit"))
    assert order.status == "paid" and services.tickets_for_order(order)[0].status == "valid"
    assert credits.balance(credited["buyer"].id, utcnow()).amount_vnd == 300000 - order.total_vnd
    books_balance()
