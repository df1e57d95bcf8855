"""payOS payment links on the bank-transfer pay page, against a local stand-in for payOS's API (payos_fake.py):
payOS's own QR code and checkout link where payOS is configured, the plain VietQR when it is not or when payOS
fails; one orderCode per attempt; "check again" and ``flask check-payos-links`` asking payOS for payments a webhook
did not bring; links cancelled at payOS when their order expires or is cancelled."""
from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.time import utcnow
from shop import checkout
from shop.payment_models import BankNotification, BankTransfer, PayosLink
from tests.helpers import count
from tests.shop.bank_notices import ACCOUNT, ACCOUNT_CONFIG, order  # noqa: F401
from tests.shop.payos_fake import _payos_http, payos_config, payos_server  # noqa: F401


@pytest.fixture
def app_config(_payos_http):  # noqa: F811
    return {**payos_config(_payos_http[1]), **ACCOUNT_CONFIG}


def pay_page(client, order, **args):  # noqa: F811
    return client.get(f"/orders/{order.public_id}/pay", query_string={"key": order.secret, **args})


def creates(fake) -> list[dict]:
    return [body for method, path, body in fake.requests if (method, path) == ("POST", "/v2/payment-requests")]


def cancels(fake) -> list[str]:
    return [path for method, path, _ in fake.requests if method == "POST" and path.endswith("/cancel")]


def test_the_pay_page_shows_payos_own_qr_code_and_checkout_link(client, order, payos_server):  # noqa: F811
    page = pay_page(client, order)
    assert page.status_code == 200
    [body] = creates(payos_server)
    code = order.id * 1000 + 1
    back = f"http://localhost/orders/{order.public_id}/pay?checked=1&key={order.secret}"
    assert body["orderCode"] == code and body["amount"] == order.total_vnd == 210000
    assert body["description"] == order.reference and len(body["description"]) <= 25
    assert body["returnUrl"] == body["cancelUrl"] == back
    assert body["expiredAt"] == int(order.expires_at.replace(tzinfo=UTC).timestamp())
    link = db.session.scalar(select(PayosLink))
    assert (link.order_id, link.order_code, link.attempt, link.amount_vnd, link.status) == (
        order.id, code, 1, 210000, "PENDING")
    html = page.get_data(as_text=True)
    assert f'data-payos="{code}"' in html and f'data-payload="{link.qr_code}"' in html
    assert f'href="https://pay.payos.vn/web/{link.payment_link_id}"' in html
    assert "<svg" in html and order.reference in html


def test_the_link_is_reused_while_the_amount_due_is_the_same(client, order, payos_server):  # noqa: F811
    pay_page(client, order)
    pay_page(client, order)
    assert len(creates(payos_server)) == 1 and count(PayosLink) == 1


def test_without_payos_configured_the_plain_vietqr_stays(client, order, payos_server, app):  # noqa: F811
    app.config["PAYOS_API_KEY"] = ""
    page = pay_page(client, order)
    assert page.status_code == 200 and payos_server.requests == []
    html = page.get_data(as_text=True)
    assert "data-payos" not in html and "payOS" not in html and ACCOUNT in html
    assert count(PayosLink) == 0


@pytest.mark.parametrize("failure", [("20", "Mô tả tối đa 25 kí tự", 200), ("429", "Too many requests", 429),
                                     ("500", "Internal error", 500)])
def test_when_payos_refuses_the_plain_vietqr_stays(client, order, payos_server, failure):  # noqa: F811
    payos_server.fail_next(*failure)
    page = pay_page(client, order)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "data-payos" not in html and 'class="qr" data-payload="000201' in html and count(PayosLink) == 0


def test_when_payos_cannot_be_reached_the_plain_vietqr_stays(client, order, app):  # noqa: F811
    app.config["PAYOS_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    page = pay_page(client, order)
    assert page.status_code == 200 and "data-payos" not in page.get_data(as_text=True)


def test_an_answer_not_signed_with_the_checksum_key_is_not_shown(client, order, payos_server):  # noqa: F811
    payos_server.bad_signature = True
    page = pay_page(client, order)
    assert page.status_code == 200 and "data-payos" not in page.get_data(as_text=True) and count(PayosLink) == 0


def test_a_link_to_another_account_than_the_cooperatives_is_not_shown_and_is_cancelled(
        client, order, payos_server):  # noqa: F811
    payos_server.answer_account = "999999999"
    page = pay_page(client, order)
    assert "data-payos" not in page.get_data(as_text=True) and count(PayosLink) == 0
    assert cancels(payos_server) == [f"/v2/payment-requests/{payos_server.links[order.id * 1000 + 1]['id']}/cancel"]


def test_an_order_code_payos_already_has_moves_to_the_next_attempt(client, order, payos_server):  # noqa: F811
    payos_server.links[order.id * 1000 + 1] = {"id": "x" * 32, "status": "PAID"}  # used before (a lost row)
    pay_page(client, order)
    assert [body["orderCode"] for body in creates(payos_server)] == [order.id * 1000 + 1, order.id * 1000 + 2]
    assert db.session.scalar(select(PayosLink.attempt)) == 2


def test_after_a_part_the_new_link_asks_for_the_rest_and_the_old_one_is_cancelled(
        client, order, payos_server):  # noqa: F811
    pay_page(client, order)
    first = order.id * 1000 + 1
    payos_server.pay(first, 200000, "FT26336000001")
    page = pay_page(client, order, checked=1)  # "check again": payOS lists the part
    assert db.session.scalar(select(BankTransfer.status)) == "underpaid"
    second = creates(payos_server)[-1]
    assert (second["orderCode"], second["amount"]) == (order.id * 1000 + 2, 10000)
    assert f'data-payos="{order.id * 1000 + 2}"' in page.get_data(as_text=True)
    assert order.status == "pending_payment"


def test_check_again_takes_in_a_payment_whose_webhook_was_missed_once(client, order, payos_server):  # noqa: F811
    pay_page(client, order)
    payos_server.pay(order.id * 1000 + 1, 210000, "FT26336000002")
    page = pay_page(client, order, checked=1)
    assert page.status_code == 200 and order.status == "paid"
    [row] = db.session.scalars(select(BankNotification)).all()
    assert (row.source, row.source_id, row.status) == ("payos", "FT26336000002", "processed")
    assert json.loads(row.raw_body)["data"]["orderCode"] == order.id * 1000 + 1
    transfer = db.session.scalar(select(BankTransfer))
    assert (transfer.transaction_id, transfer.source, transfer.status) == ("payos:FT26336000002", "payos", "matched")
    assert db.session.scalar(select(PayosLink.status)) == "PAID"
    pay_page(client, order, checked=1)
    assert count(BankNotification) == 1 and count(BankTransfer) == 1


def test_cancelling_the_order_cancels_its_link_at_payos_after_the_commit(client, order, payos_server):  # noqa: F811
    pay_page(client, order)
    response = client.post(f"/orders/{order.public_id}/pay/cancel", query_string={"key": order.secret})
    assert response.status_code == 302 and order.status == "cancelled"
    link = db.session.scalar(select(PayosLink))
    assert cancels(payos_server) == [f"/v2/payment-requests/{link.order_code}/cancel"]
    assert link.status == "CANCELLED" and link.cancel_sent_at is not None
    assert payos_server.requests[-1][2]["cancellationReason"] == "order cancelled"


def test_an_expired_order_has_its_link_cancelled(client, order, payos_server, app):  # noqa: F811
    pay_page(client, order)
    later = order.expires_at + timedelta(minutes=1)
    assert checkout.expire_orders(later) == 1
    assert cancels(payos_server) == [f"/v2/payment-requests/{order.id * 1000 + 1}/cancel"]
    assert db.session.scalar(select(PayosLink.status)) == "CANCELLED"


def test_a_failed_cancel_changes_nothing_on_our_side(client, order, payos_server):  # noqa: F811
    pay_page(client, order)
    payos_server.fail_next("101", "Không tìm thấy", 200)
    client.post(f"/orders/{order.public_id}/pay/cancel", query_string={"key": order.secret})
    assert order.status == "cancelled" and db.session.scalar(select(PayosLink.status)) == "PENDING"


def test_the_job_takes_in_what_a_missed_webhook_did_not_bring(client, order, payos_server, app):  # noqa: F811
    pay_page(client, order)
    payos_server.pay(order.id * 1000 + 1, 210000, "FT26336000003")
    result = app.test_cli_runner().invoke(args=["check-payos-links"])
    assert result.exit_code == 0 and "1 orders checked, 1 payments taken in" in result.output
    db.session.expire_all()
    assert order.status == "paid"
    again = app.test_cli_runner().invoke(args=["check-payos-links"])
    assert "0 payments taken in" in again.output and count(BankTransfer) == 1
    assert db.session.scalar(select(PayosLink.checked_at)) is not None


def test_the_job_says_so_when_payos_is_not_configured(app):
    app.config["PAYOS_CHECKSUM_KEY"] = ""
    result = app.test_cli_runner().invoke(args=["check-payos-links"])
    assert result.exit_code == 0 and "not configured" in result.output


def test_no_link_is_made_for_an_order_past_its_hold(client, order, payos_server):  # noqa: F811
    from shop.payments.providers import payos

    assert payos.link_for(order, order.total_vnd, utcnow() + timedelta(hours=1)) is None
    assert payos_server.requests == []
