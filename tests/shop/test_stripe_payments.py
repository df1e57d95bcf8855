"""Card payments through the pages, the official stripe library and localstripe: success, decline,
3-D Secure, refunds (whole and partial), a late payment, and a webhook localstripe itself delivers."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import select
from werkzeug.serving import make_server

from core.extensions import db
from core.time import utcnow
from shop import cart as carts
from shop import checkout, payments
from shop.ledger import LedgerEntry
from shop.order_models import Order
from shop.payment_models import Payment, Refund
from tests.helpers import count, login_as
from tests.stripe_emulator import authenticate_3ds, configure_webhook
from tests.stripe_fixtures import (  # noqa: F401
    WEBHOOK_SECRET,
    card_page_data,
    confirm_card,
    dead_url,
    localstripe_url,
    stripe_client,
    stripe_config,
)


@pytest.fixture
def app_config(localstripe_url):  # noqa: F811
    return stripe_config(localstripe_url)


@pytest.fixture
def emulator(localstripe_url):  # noqa: F811
    return stripe_client(localstripe_url)


@pytest.fixture
def card_order(store, place, make_product, make_farm):
    """A card order from two farms, placed now: 3 × 40,000 + 1 × 90,000 = 210,000 ₫."""
    carts.add_product(store, make_product(farm=make_farm(), price_vnd=40000, stock=20).id, "3")
    carts.add_product(store, make_product(farm=make_farm(), price_vnd=90000, stock=5).id, "1")
    order = place(store, method="card", now=utcnow())
    db.session.commit()
    return order


def open_card_page(client, order) -> dict[str, str]:
    response = client.get(f"/orders/{order.public_id}/pay/card?key={order.secret}&lang=en")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return card_page_data(response.get_data(as_text=True))


def result_of(client, url) -> str:
    response = client.get(url + "&lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page.split('data-result="', 1)[1].split('"', 1)[0]



def test_card_page_hands_stripe_js_what_it_needs(client, card_order, localstripe_url, emulator):  # noqa: F811
    response = client.get(f"/orders/{card_order.public_id}/pay/card?key={card_order.secret}")
    page = response.get_data(as_text=True)
    data = card_page_data(page)
    assert data["stripe-key"] == "pk_test_12345"
    assert f'<script src="{localstripe_url}/js.stripe.com/v3/"></script>' in page
    assert "/static/js/card." in page and response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert f"script-src 'self' {localstripe_url}" in csp and f"connect-src 'self' {localstripe_url}" in csp
    payment = db.session.scalar(select(Payment))
    assert payment.provider_ref == data["intent"] and payment.status == "pending"
    assert data["return-url"] == (f"/orders/{card_order.public_id}/pay/card/return"
                                  f"?payment_intent={data['intent']}&key={card_order.secret}")
    intent = emulator.v1.payment_intents.retrieve(data["intent"])
    assert (intent.amount, intent.currency, intent.metadata["order"]) == (210000, "vnd", card_order.reference)
    assert intent.client_secret == data["client-secret"]


def test_a_successful_card_payment(client, card_order, emulator):
    data = open_card_page(client, card_order)
    assert confirm_card(emulator, data["intent"]).status == "succeeded"
    assert result_of(client, data["return-url"]) == "paid"
    payment = db.session.scalar(select(Payment))
    assert card_order.status == "paid" and payment.status == "succeeded"
    assert payment.confirmed_by == "return:stripe"
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2
    assert result_of(client, data["return-url"]) == "paid", "reloading the return page is harmless"
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2


def test_a_declined_card_can_be_tried_again_with_a_new_intent(client, card_order, emulator):
    data = open_card_page(client, card_order)
    with pytest.raises(stripe.CardError):
        confirm_card(emulator, data["intent"], "4000000000000341")
    response = client.get(data["return-url"] + "&lang=en")
    page = response.get_data(as_text=True)
    assert 'data-result="failed"' in page and "Your card was declined." in page
    assert f'href="/orders/{card_order.public_id}/pay/card?key={card_order.secret}"' in page  # try again
    assert card_order.status == "pending_payment"
    assert db.session.scalar(select(Payment.status)) == "failed"

    again = open_card_page(client, card_order)
    assert again["intent"] != data["intent"] and count(Payment) == 2
    confirm_card(emulator, again["intent"])
    assert result_of(client, again["return-url"]) == "paid" and card_order.status == "paid"


def test_3d_secure_then_the_return_page_confirms(client, card_order, emulator):
    data = open_card_page(client, card_order)
    assert confirm_card(emulator, data["intent"], "4000002500003155").status == "requires_action"
    assert result_of(client, data["return-url"]) == "processing"
    assert card_order.status == "pending_payment"

    assert authenticate_3ds(emulator, data["intent"], data["client-secret"]).status == "succeeded"
    assert result_of(client, data["return-url"]) == "paid"
    assert card_order.status == "paid"


def test_failed_3d_secure_is_a_failed_payment(client, card_order, emulator):
    data = open_card_page(client, card_order)
    confirm_card(emulator, data["intent"], "4000002500003155")
    authenticate_3ds(emulator, data["intent"], data["client-secret"], success=False)
    assert result_of(client, data["return-url"]) == "failed" and card_order.status == "pending_payment"


def test_the_return_page_only_knows_this_orders_intents(client, card_order, store, place, make_product):
    data = open_card_page(client, card_order)
    carts.add_product(store, make_product().id, "1")
    other = place(store, now=utcnow())
    db.session.commit()
    url = f"/orders/{other.public_id}/pay/card/return?payment_intent={data['intent']}&key={other.secret}"
    assert client.get(url).status_code == 404
    assert client.get(f"/orders/{card_order.public_id}/pay/card/return?key={card_order.secret}").status_code == 404


def _pay(client, order, emulator) -> Payment:
    data = open_card_page(client, order)
    confirm_card(emulator, data["intent"])
    assert result_of(client, data["return-url"]) == "paid"
    return db.session.scalar(select(Payment).where(Payment.provider_ref == data["intent"]))


def _refunded_at_stripe(emulator, intent_id) -> list[int]:
    return sorted(r.amount for r in emulator.v1.refunds.list(params={"payment_intent": intent_id}).data)


def test_cancelling_the_whole_order_refunds_it_at_stripe(client, card_order, emulator):
    payment = _pay(client, card_order, emulator)
    for farm_order in card_order.farm_orders:
        payments.cancel_paid_farm_order(farm_order, None, utcnow())
    db.session.commit()
    assert payments.send_pending_refunds(utcnow()) == 2
    assert _refunded_at_stripe(emulator, payment.provider_ref) == [90000, 120000]
    assert {(r.status, bool(r.provider_ref)) for r in db.session.scalars(select(Refund))} == {("done", True)}
    charge = emulator.v1.payment_intents.retrieve(payment.provider_ref).latest_charge
    assert charge.amount_refunded == card_order.total_vnd and charge.refunded


def test_cancelling_one_farm_refunds_only_its_share(client, card_order, emulator):
    payment = _pay(client, card_order, emulator)
    farm_order = card_order.farm_orders[1]
    payments.cancel_paid_farm_order(farm_order, None, utcnow())
    db.session.commit()
    payments.send_pending_refunds(utcnow())
    assert _refunded_at_stripe(emulator, payment.provider_ref) == [farm_order.total_vnd] == [90000]
    charge = emulator.v1.payment_intents.retrieve(payment.provider_ref).latest_charge
    assert charge.amount_refunded == 90000 and not charge.refunded
    assert payment.refunded_vnd == 90000 and card_order.farm_orders[0].status == "paid"


def test_refunds_wait_while_stripe_is_down_and_staff_retry(client, app, card_order, emulator, make_user):
    payment = _pay(client, card_order, emulator)
    payments.cancel_paid_farm_order(card_order.farm_orders[0], None, utcnow())
    db.session.commit()
    working = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = dead_url()
    assert payments.send_pending_refunds(utcnow()) == 0
    refund = db.session.scalar(select(Refund))
    assert refund.status == "pending"

    app.config["STRIPE_API_BASE"] = working
    login_as(client, make_user(role="admin"))
    page = client.get("/admin/refunds?lang=en").get_data(as_text=True)
    assert "Send card refunds now" in page and card_order.reference in page
    response = client.post("/admin/refunds/send-card?lang=en", follow_redirects=True)
    assert "1 card refund sent." in response.get_data(as_text=True)
    assert refund.status == "done"
    assert _refunded_at_stripe(emulator, payment.provider_ref) == [120000]


def test_send_refunds_command(app, client, card_order, emulator):
    _pay(client, card_order, emulator)
    payments.cancel_paid_farm_order(card_order.farm_orders[0], None, utcnow())
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-refunds"])
    assert result.exit_code == 0 and "card refunds sent 1, still waiting 0" in result.output


def test_a_card_payment_after_expiry_with_the_goods_gone_is_refunded_at_once(app, client, card_order, emulator):
    data = open_card_page(client, card_order)
    card_order.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert checkout.expire_orders(utcnow()) == 1
    card_order.farm_orders[0].lines[0].product.stock = 0  # sold to someone else meanwhile
    db.session.commit()
    confirm_card(emulator, data["intent"])
    assert result_of(client, data["return-url"]) == "refunded"
    assert card_order.status == "expired"
    refund = db.session.scalar(select(Refund))
    assert (refund.reason, refund.status, refund.amount_vnd) == ("late_payment", "pending", 210000)
    assert app.test_cli_runner().invoke(args=["send-refunds"]).exit_code == 0  # the job sends it, not the page
    db.session.refresh(refund)
    assert (refund.reason, refund.status, refund.amount_vnd) == ("late_payment", "done", 210000)
    assert _refunded_at_stripe(emulator, data["intent"]) == [210000]


def test_a_card_payment_after_expiry_is_kept_when_the_goods_are_still_there(client, card_order, emulator):
    data = open_card_page(client, card_order)
    card_order.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    checkout.expire_orders(utcnow())
    db.session.commit()
    confirm_card(emulator, data["intent"])
    assert result_of(client, data["return-url"]) == "paid"
    assert card_order.status == "paid" and count(Refund) == 0


def test_the_return_page_when_stripe_is_down(client, app, card_order, emulator):
    data = open_card_page(client, card_order)
    confirm_card(emulator, data["intent"])
    app.config["STRIPE_API_BASE"] = dead_url()
    response = client.get(data["return-url"] + "&lang=en")
    assert response.status_code == 503 and 'data-result="unavailable"' in response.get_data(as_text=True)
    assert card_order.status == "pending_payment"


def test_localstripe_delivers_a_signed_webhook_to_the_running_app(app, client, card_order, emulator,
                                                                  localstripe_url):  # noqa: F811
    answered = threading.Semaphore(0)  # released once per webhook the app has answered

    def app_then_tell(environ, start_response):
        """The app, and a word once it has answered a webhook (its transaction is over by then)."""
        try:
            return app(environ, start_response)
        finally:
            if environ["PATH_INFO"] == "/payments/stripe/webhook":
                answered.release()

    def order_status():
        db.session.rollback()  # a fresh snapshot of what the server thread committed
        return db.session.scalar(select(Order.status).where(Order.id == card_order.id))

    server = make_server("127.0.0.1", 0, app_then_tell, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        configure_webhook(localstripe_url, "kep-app", f"http://127.0.0.1:{server.server_port}/payments/stripe/webhook",
                          WEBHOOK_SECRET, events=["payment_intent.succeeded"])
        data = open_card_page(client, card_order)
        confirm_card(emulator, data["intent"])  # the buyer never comes back to the return page

        # localstripe sends each event once, about 1 s later (an earlier test's event may come first).
        deadline = time.monotonic() + 15
        while order_status() != "paid":
            assert answered.acquire(timeout=max(0.0, deadline - time.monotonic())), \
                "the webhook did not pay the order in time"
        payment = db.session.scalar(select(Payment).where(Payment.provider_ref == data["intent"]))
        assert payment.confirmed_by == "webhook:stripe"
        assert result_of(client, data["return-url"]) == "paid", "the return page finds it paid already"
        assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2
    finally:
        # Registrations cannot be removed; point this one at an event that never happens here.
        configure_webhook(localstripe_url, "kep-app", "http://127.0.0.1:9/unused", WEBHOOK_SECRET,
                          events=["plan.created"])
        server.shutdown()
        thread.join(timeout=5)
