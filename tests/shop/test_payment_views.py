"""The pay page (VietQR), who may open it, the card page without Stripe, and sending after a commit."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import settings_store
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import cart as carts
from shop import payments
from shop.payment_models import Payment
from shop.vietqr import parse_payload
from tests.helpers import login_as
from tests.stripe_fixtures import dead_url, stripe_config


@pytest.fixture
def order_for(store, place, make_product):
    """Place an order now (the pay page works on the real clock)."""
    def _order(user=None, method="vietqr", now=None, price=25000, qty="4"):
        carts.add_product(store, make_product(price_vnd=price, stock=50).id, qty)
        order = place(store, user=user, method=method, now=now or utcnow())
        db.session.commit()
        return order
    return _order


def pay_url(order, key=True, **args):
    query = {"key": order.secret} if key else {}
    query.update(args)
    return f"/orders/{order.public_id}/pay" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def qr_payload(page: str) -> dict:
    match = re.search(r'<figure class="qr" data-payload="([^"]+)">\s*<svg', page)
    assert match, "no QR code in the page"
    return parse_payload(html.unescape(match.group(1)))


def test_pay_page_shows_the_qr_code_and_what_to_type(client, order_for, app):
    order = order_for()
    response = client.get(pay_url(order, lang="en"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    fields = qr_payload(page)
    assert fields["54"] == str(order.total_vnd) == "100000"
    assert fields["62"]["08"] == order.reference
    assert fields["38"]["01"] == {"00": app.config["BANK_BIN"], "01": app.config["BANK_ACCOUNT_NUMBER"]}
    assert 'role="img"' in page
    assert f'<span class="reference">{order.reference}</span>' in page
    assert app.config["BANK_ACCOUNT_NAME"] in page and app.config["BANK_NAME"] in page
    assert "100,000" in page  # the amount, in English formatting
    assert "Open your bank&#39;s app" in page or "Open your bank's app" in page
    assert "data-countdown" in page
    assert "about 29 minutes left" in page or "about 30 minutes left" in page
    assert "I have paid — check again" in page
    assert "Bank transfer (VietQR)" in page  # the method chosen at checkout


def test_pay_page_is_in_vietnamese_by_default(client, order_for):
    page = client.get(pay_url(order_for())).get_data(as_text=True)
    assert "Mở ứng dụng ngân hàng" in page
    assert "100.000" in page


def test_staff_set_receiving_account_is_used(client, order_for):
    settings_store.put("bank_bin", "970436")
    settings_store.put("bank_account_number", "0011001234567")
    settings_store.put("bank_account_name", "HTX NONG NGHIEP KEP")
    order = order_for()
    page = client.get(pay_url(order)).get_data(as_text=True)
    assert qr_payload(page)["38"]["01"] == {"00": "970436", "01": "0011001234567"}
    assert "Vietcombank" in page and "HTX NONG NGHIEP KEP" in page


def test_a_broken_receiving_account_shows_the_details_without_a_qr(client, order_for, app):
    app.config["BANK_ACCOUNT_NUMBER"] = "not a number!"
    page = client.get(pay_url(order_for(), lang="en")).get_data(as_text=True)
    assert "<svg" not in page and "QR code cannot be shown" in page


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_the_buyer_and_staff_need_no_key(client, order_for, make_user, who):
    buyer = make_user()
    order = order_for(user=buyer)
    login_as(client, buyer if who == "owner" else make_user(role="admin"))
    assert client.get(pay_url(order, key=False)).status_code == 200


@pytest.mark.parametrize("key", [None, "", "wrong", "x" * 200])
def test_without_the_right_key_the_order_does_not_exist(client, order_for, key):
    order = order_for()
    url = f"/orders/{order.public_id}/pay" + (f"?key={key}" if key is not None else "")
    assert client.get(url).status_code == 404
    assert client.get(f"/orders/{order.public_id}/pay/card").status_code == 404


def test_another_buyer_gets_404(client, order_for, make_user):
    order = order_for(user=make_user())
    login_as(client, make_user())
    assert client.get(pay_url(order, key=False)).status_code == 404
    assert client.get("/orders/doesnotexist/pay").status_code == 404


def test_an_expired_order_says_so_and_offers_the_cart(client, order_for):
    order = order_for(now=utcnow() - timedelta(hours=2))
    assert order.status == "pending_payment", "not yet touched by the expiry job"
    page = client.get(pay_url(order, lang="en")).get_data(as_text=True)
    assert "The time to pay this order is over" in page
    assert "<svg" not in page and 'href="/cart"' in page


def test_a_paid_order_says_paid_and_links_to_the_order(client, order_for):
    order = order_for()
    payments.record_bank_transfer(transaction_id="FT1", amount_vnd=order.total_vnd, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    page = client.get(pay_url(order, lang="en")).get_data(as_text=True)
    assert "This order is paid" in page and "<svg" not in page
    assert f'href="/orders/{order.public_id}?key={order.secret}"' in page


def test_after_a_first_part_the_page_shows_it_and_a_code_for_the_rest_only(client, order_for):
    order = order_for()
    payments.record_bank_transfer(transaction_id="FT2", amount_vnd=60000, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()
    page = client.get(pay_url(order, lang="en")).get_data(as_text=True)
    assert "We have received ₫60,000 of ₫100,000" in page and "the remaining ₫40,000" in page
    assert qr_payload(page)["54"] == "40000", "the QR code asks for the rest only"


def test_without_stripe_keys_card_payment_is_hidden_with_a_reason(client, order_for):
    order = order_for()
    page = client.get(pay_url(order, lang="en")).get_data(as_text=True)
    assert "Card payment is not available on this market yet." in page
    assert "/pay/card" not in page
    response = client.get(f"/orders/{order.public_id}/pay/card?key={order.secret}&lang=en")
    assert response.status_code == 200 and "not available on this market yet" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


class TestWithStripeKeys:
    @pytest.fixture
    def app_config(self):
        return stripe_config(dead_url())

    def test_a_card_order_offers_the_card_first(self, client, order_for):
        order = order_for(method="card")
        page = client.get(pay_url(order, lang="en")).get_data(as_text=True)
        assert page.index(f"/orders/{order.public_id}/pay/card?key={order.secret}") < page.index("<svg")
        assert "Or pay by bank transfer (VietQR)" in page

    def test_a_vietqr_order_offers_the_card_as_the_other_way(self, client, order_for):
        order = order_for()
        page = client.get(pay_url(order, lang="en")).get_data(as_text=True)
        assert page.index("<svg") < page.index("Pay by card instead") < page.index("/pay/card")

    def test_stripe_unreachable_offers_vietqr_and_marks_nothing(self, client, order_for):
        order = order_for(method="card")
        response = client.get(f"/orders/{order.public_id}/pay/card?key={order.secret}&lang=en")
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        assert "Card payment is not available right now. Nothing was charged." in page
        assert f"/orders/{order.public_id}/pay?key={order.secret}" in page
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 0
        assert order.status == "pending_payment"

    def test_an_expired_order_is_not_sent_to_stripe(self, client, order_for):
        order = order_for(method="card", now=utcnow() - timedelta(hours=1))
        response = client.get(f"/orders/{order.public_id}/pay/card?key={order.secret}")
        assert response.status_code == 302 and response.location.endswith(f"/pay?key={order.secret}")


# -- sending after the commit, and the CLI -------------------------------------------------------

def _bank_paid(order):
    payments.record_bank_transfer(transaction_id="FT9", amount_vnd=order.total_vnd, content=order.reference,
                                  transferred_at=None, source="webhook", now=utcnow())
    db.session.commit()


def test_send_notifications_without_mail_server_sends_nothing(app, order_for):
    _bank_paid(order_for())
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0 and "MAIL_SERVER is not set" in result.output
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.status != "pending")) == 0


def test_send_notifications_sends_and_keeps_failures_for_later(app, order_for, monkeypatch):
    _bank_paid(order_for())
    app.config["MAIL_SERVER"] = "smtp.example.vn"
    sent = []

    def flaky(config, note):
        if note.kind == "order_paid":
            raise OSError("connection refused")
        sent.append(note.to_address)
    monkeypatch.setattr("core.channels.email._smtp_send", flaky)
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "failed 1" in result.output and "still waiting 1" in result.output
    failed = db.session.scalar(select(Notification).where(Notification.kind == "order_paid"))
    assert failed.status == "pending" and failed.attempts == 1 and "connection refused" in failed.last_error
    monkeypatch.setattr("core.channels.email._smtp_send", lambda config, note: sent.append(note.to_address))
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert "sent 1" in result.output and "still waiting 0" in result.output
