"""Stripe unreachable or slow: the buyer is told card payment is unavailable and offered VietQR, nothing is
marked paid, and the webhook that comes later (Stripe retries it) still confirms the payment, once.

Unreachable = a closed port of 127.0.0.1; slow = an address that accepts the connection and never answers
within STRIPE_TIMEOUT_SECONDS (1 s here); working = localstripe.
"""
from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from shop.ledger import LedgerEntry
from shop.order_models import Order
from shop.payment_models import Payment, Refund, StripeEvent
from tests.faults.conftest import silent_server
from tests.faults.test_database import fill_cart
from tests.helpers import count
from tests.shop.test_cart_views import page
from tests.shop.test_checkout_views import open_checkout, placed_order, submit
from tests.shop.test_webhooks import event_body, post_event
from tests.stripe_fixtures import card_page_data, confirm_card, dead_url, localstripe_url, stripe_client, stripe_config  # noqa: F401

UNAVAILABLE_EN = "Card payment is not available right now. Nothing was charged."
UNAVAILABLE_VI = "Lúc này chưa thanh toán bằng thẻ được. Bạn chưa bị trừ tiền."


@pytest.fixture
def app_config(localstripe_url):  # noqa: F811
    return {**stripe_config(localstripe_url), "STRIPE_TIMEOUT_SECONDS": 1}


@pytest.fixture
def card_order(client, market) -> Order:
    """A card order placed through the checkout page, as a guest."""
    fill_cart(client, market)
    response = submit(client, open_checkout(client), payment_method="card")
    assert response.status_code == 302
    order = placed_order()
    assert order.payment_method == "card"
    return order


def card_url(order: Order, **query) -> str:
    extra = "".join(f"&{key}={value}" for key, value in query.items())
    return f"/orders/{order.public_id}/pay/card?key={order.secret}{extra}"


def assert_offered_vietqr(client, order: Order, response, english: bool = True) -> None:
    assert response.status_code == 503
    text = page(response)
    assert (UNAVAILABLE_EN if english else UNAVAILABLE_VI) in text
    vietqr = f"/orders/{order.public_id}/pay?key={order.secret}"
    assert f'href="{vietqr}"' in response.get_data(as_text=True)
    qr_page = client.get(vietqr)
    assert qr_page.status_code == 200
    assert "<svg" in qr_page.get_data(as_text=True) and order.reference in qr_page.get_data(as_text=True)


def assert_not_paid(order: Order) -> None:
    db.session.commit()
    assert order.status == "pending_payment"
    assert {fo.status for fo in order.farm_orders} == {"pending_payment"}
    assert count(Payment, Payment.status == "succeeded") == 0 and count(LedgerEntry) == 0


def test_stripe_unreachable_the_buyer_is_offered_vietqr(app, client, card_order):
    app.config["STRIPE_API_BASE"] = dead_url()
    assert_offered_vietqr(client, card_order, client.get(card_url(card_order)), english=False)
    assert_offered_vietqr(client, card_order, client.get(card_url(card_order, lang="en")))
    assert count(Payment) == 0
    assert_not_paid(card_order)


def test_stripe_slow_the_buyer_waits_seconds_not_minutes_and_is_offered_vietqr(app, client, card_order):
    with silent_server(delay=10) as (server, url):
        app.config["STRIPE_API_BASE"] = url
        started = time.monotonic()
        response = client.get(card_url(card_order, lang="en"))
        elapsed = time.monotonic() - started
        assert server.requests >= 1
    assert elapsed < 6, f"the buyer waited {elapsed:.1f} s"  # two tries of 1 s and the client's back-off
    assert_offered_vietqr(client, card_order, response)
    assert count(Payment) == 0
    assert_not_paid(card_order)


def test_a_payment_made_before_stripe_went_away_is_confirmed_by_the_late_webhook(
        app, client, card_order, localstripe_url):  # noqa: F811
    working = app.config["STRIPE_API_BASE"]
    response = client.get(card_url(card_order, lang="en"))
    assert response.status_code == 200
    data = card_page_data(response.get_data(as_text=True))
    assert confirm_card(stripe_client(localstripe_url), data["intent"]).status == "succeeded"  # the buyer paid
    event = event_body(data["intent"], event_id="evt_late_confirmation")

    # Stripe goes away: the return page cannot tell yet, and the webhook is refused so that Stripe retries it.
    app.config["STRIPE_API_BASE"] = dead_url()
    back = client.get(data["return-url"] + "&lang=en")
    assert back.status_code == 503 and 'data-result="unavailable"' in back.get_data(as_text=True)
    refused = post_event(client, event)
    assert refused.status_code == 503 and refused.is_json
    with silent_server(delay=10) as (_server, url):
        app.config["STRIPE_API_BASE"] = url
        assert post_event(client, event).status_code == 503
    assert count(StripeEvent) == 0
    assert_not_paid(card_order)

    # Stripe is back; its retry of the same event confirms the payment, once.
    app.config["STRIPE_API_BASE"] = working
    assert post_event(client, event).json == {"status": "paid"}
    assert post_event(client, event).json == {"status": "duplicate"}
    assert post_event(client, event_body(data["intent"], event_id="evt_another_copy")).json == {"status": "already"}
    db.session.commit()
    assert card_order.status == "paid" and {fo.status for fo in card_order.farm_orders} == {"paid"}
    assert count(Payment, Payment.status == "succeeded") == 1
    assert count(Notification, Notification.kind == "order_paid") == 1
    sales = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "sale")).all()
    lines = [line for fo in card_order.farm_orders for line in fo.lines]
    assert len(sales) == len(lines) and sum(e.amount_vnd for e in sales) == sum(l.line_total_vnd for l in lines)
    # The buyer's return page now says paid.
    back = client.get(data["return-url"] + "&lang=en")
    assert back.status_code == 200 and 'data-result="paid"' in back.get_data(as_text=True)


def test_the_database_dropping_while_a_webhook_confirms_leaves_nothing_and_the_retry_pays_once(
        client, card_order, faults, localstripe_url):  # noqa: F811
    """Every statement of the Stripe webhook in turn: the connection dies; Stripe's retry is answered."""
    response = client.get(card_url(card_order))
    data = card_page_data(response.get_data(as_text=True))
    confirm_card(stripe_client(localstripe_url), data["intent"])
    event = event_body(data["intent"], event_id="evt_db_drops")
    failures = 0
    for n in itertools.count(1):
        assert n < 200
        with faults.fail_statement(n) as fired:
            response = post_event(client, event)
        if not fired:
            break
        assert response.status_code == 503 and response.is_json, (n, fired[0][:200])
        assert count(StripeEvent) == 0 and count(Notification, Notification.kind == "order_paid") == 0
        assert_not_paid(card_order)
        failures += 1
    assert response.json == {"status": "paid"} and failures >= 5
    assert post_event(client, event).json == {"status": "duplicate"}
    db.session.commit()
    assert card_order.status == "paid" and count(Payment, Payment.status == "succeeded") == 1


def test_a_farmers_cancellation_is_saved_and_shown_saved_while_stripe_is_slow(app, client, make_farm, make_user,
                                                                               make_product):
    """Stripe is not called while the farmer waits: the refund is booked with the cancellation and sent by
    ``flask send-refunds``, which keeps it pending while Stripe is slow (sending it later is
    tests/shop/test_stripe_payments.py::test_refunds_wait_while_stripe_is_down_and_staff_retry)."""
    from tests.factories import make_order, pay
    from tests.helpers import login_as

    farm = make_farm(owner=make_user(role="farmer"))
    product = make_product(farm=farm, price_vnd=25000, stock=10)
    farm_order = pay(make_order((product, 2), method="card")).farm_orders[0]
    login_as(client, farm.owner)
    with silent_server(delay=10) as (server, url):
        app.config["STRIPE_API_BASE"] = url
        started = time.monotonic()
        response = client.post(f"/farmer/orders/{farm_order.id}/cancel?lang=en", data={"reason": "cannot_prepare"})
        elapsed = time.monotonic() - started
        assert server.requests == 0, "Stripe was called during the farmer's request"
        assert response.status_code == 302
        assert "The order is cancelled." in page(client.get(response.headers["Location"]))
        result = app.test_cli_runner().invoke(args=["send-refunds"])
        assert "card refunds sent 0, still waiting 1" in result.output and server.requests >= 1
    assert elapsed < 2, f"the farmer waited {elapsed:.1f} s"
    db.session.commit()
    assert farm_order.status == "cancelled"
    refund = db.session.scalar(select(Refund))
    assert (refund.provider, refund.status, refund.amount_vnd) == ("card", "pending", 50000)
