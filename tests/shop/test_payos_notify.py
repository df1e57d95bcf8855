"""payOS's webhook, ``POST /payments/payos/notify``, with bodies as payOS documents them (payos.vn/docs: "Webhook
thông tin thanh toán", "Kiểm tra dữ liệu với signature"; tests/fixtures/payos/): the signature over ``data`` checked,
stored raw first, applied once through the bank-transfer add-up path, the cooperative's account only."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.extensions import db
from shop import checkout
from shop.payment_models import BankNotification, BankTransfer, Payment, PayosLink, Refund
from shop.payments import payos_api
from tests.helpers import count
from tests.shop.bank_notices import ACCOUNT, ACCOUNT_CONFIG, order, snapshot, staff_told, stored  # noqa: F401
from tests.shop.payos_fake import CHECKSUM_KEY, _payos_http, payos_config, payos_server, sign  # noqa: F401

SAMPLE = json.loads((Path(__file__).parent.parent / "fixtures" / "payos" / "webhook_sample.json").read_text())


@pytest.fixture
def app_config(_payos_http):  # noqa: F811
    return {**payos_config(_payos_http[1]), **ACCOUNT_CONFIG}


@pytest.fixture
def link(client, order, payos_server):  # noqa: F811
    """The payOS link the pay page made for the order."""
    client.get(f"/orders/{order.public_id}/pay", query_string={"key": order.secret})
    return db.session.scalar(select(PayosLink))


def webhook_data(link, **changes) -> dict:
    """A payment into ``link``, as payOS's webhook documents its data."""
    data = {"orderCode": link.order_code, "amount": link.amount_vnd, "description": link.description,
            "accountNumber": ACCOUNT, "reference": "FT26336123456", "transactionDateTime": "2026-12-02 10:02:37",
            "currency": "VND", "paymentLinkId": link.payment_link_id, "code": "00", "desc": "Thành công",
            "counterAccountBankId": "970415", "counterAccountBankName": "VietinBank",
            "counterAccountName": "NGUYEN VAN A", "counterAccountNumber": "9876543210", "virtualAccountName": "",
            "virtualAccountNumber": ""}
    data.update(changes)
    return data


def envelope(data: dict, signature: str | None = None) -> dict:
    return {"code": "00", "desc": "success", "success": True, "data": data,
            "signature": sign(data) if signature is None else signature}


def notify(client, body=None, *, raw=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    return client.post("/payments/payos/notify", data=data, content_type="application/json")


def test_payos_documented_signature_checks_with_its_documented_key():
    assert payos_api.check_webhook(SAMPLE["body"], SAMPLE["checksum_key"]) is None
    assert payos_api.check_webhook(SAMPLE["body"], CHECKSUM_KEY) == "invalid signature"


def test_a_documented_payment_pays_the_order_and_is_kept_raw(client, order, link):  # noqa: F811
    body = envelope(webhook_data(link))
    response = notify(client, body)
    assert response.status_code == 200 and response.json == {"success": True}
    assert order.status == "paid" and {fo.status for fo in order.farm_orders} == {"paid"}
    transfer = db.session.scalar(select(BankTransfer))
    assert (transfer.transaction_id, transfer.source, transfer.status, transfer.order_id) == (
        "payos:FT26336123456", "payos", "matched", order.id)
    assert transfer.transferred_at.isoformat() == "2026-12-02T03:02:37", "no offset means Vietnam time"
    payment = db.session.scalar(select(Payment))
    assert (payment.provider, payment.provider_ref, payment.confirmed_by) == ("vietqr", "payos:FT26336123456",
                                                                             "webhook:payos")
    [row] = stored()
    assert (row.source, row.source_id, row.status, row.bank_transfer_id) == ("payos", "FT26336123456", "processed",
                                                                             transfer.id)
    assert json.loads(row.raw_body) == body


@pytest.mark.parametrize("signature", ["", "0" * 64, sign({"amount": 1}), "not hex"])
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(client, order, link,  # noqa: F811
                                                                        signature):
    before = snapshot()
    response = notify(client, envelope(webhook_data(link), signature=signature))
    assert response.status_code == 401 and response.json["success"] is False
    assert snapshot() == before and order.status == "pending_payment"


def test_a_changed_amount_breaks_the_signature(client, order, link):  # noqa: F811
    body = envelope(webhook_data(link))
    body["data"]["amount"] = 1
    assert notify(client, body).status_code == 401 and count(BankNotification) == 0


def test_a_body_that_is_not_json_is_refused(client, link):
    assert notify(client, raw=b"{not json").status_code == 400 and count(BankNotification) == 0


def test_without_payos_configured_it_answers_503(client, link, app):
    app.config["PAYOS_CHECKSUM_KEY"] = ""
    assert notify(client, envelope(webhook_data(link))).status_code == 503


def test_the_same_payment_delivered_twice_counts_once(client, order, link):  # noqa: F811
    body = envelope(webhook_data(link))
    assert notify(client, body).json == {"success": True}
    assert notify(client, body).json == {"success": True}
    assert count(BankNotification) == 1 and count(BankTransfer) == 1 and count(Payment) == 1
    assert count(Refund) == 0 and order.status == "paid"


def test_parts_add_up_and_the_second_link_completes_the_order(client, order, link):  # noqa: F811
    assert notify(client, envelope(webhook_data(link, amount=200000, reference="FT1"))).json == {"success": True}
    assert db.session.scalar(select(BankTransfer.status)) == "underpaid" and order.status == "pending_payment"
    client.get(f"/orders/{order.public_id}/pay", query_string={"key": order.secret})
    second = db.session.scalar(select(PayosLink).where(PayosLink.attempt == 2))
    assert second.amount_vnd == 10000
    assert notify(client, envelope(webhook_data(second, reference="FT2"))).json == {"success": True}
    assert order.status == "paid"
    assert db.session.scalar(select(Payment.amount_vnd)) == 210000
    assert {t.status for t in db.session.scalars(select(BankTransfer))} == {"matched"}


def test_a_payment_after_the_order_expired_takes_the_goods_again(client, order, link):  # noqa: F811
    checkout.expire_orders(order.expires_at + timedelta(minutes=5))
    db.session.expire_all()
    assert order.status == "expired"
    response = notify(client, envelope(webhook_data(link, transactionDateTime="2026-12-02 10:02:37")))
    assert response.status_code == 200
    db.session.expire_all()
    assert order.status == "paid" and db.session.scalar(select(BankTransfer.status)) == "matched"


def test_an_order_code_that_is_none_of_ours_is_kept_for_staff(client, order, link):  # noqa: F811
    data = webhook_data(link, orderCode=987654321, description="chuyen tien")
    assert notify(client, envelope(data)).json == {"success": True}
    [row] = stored()
    assert row.status == "unmatched" and "none of the market's payOS links" in row.error
    assert db.session.scalar(select(BankTransfer.status)) == "unmatched" and order.status == "pending_payment"
    assert staff_told("unmatched_transfer") == 1


def test_another_link_id_for_the_order_code_is_not_applied_to_that_order(client, order, link):  # noqa: F811
    data = webhook_data(link, paymentLinkId="f" * 32, description="chuyen tien")
    notify(client, envelope(data))
    assert order.status == "pending_payment" and "paymentLinkId" in stored()[0].error


def test_money_into_another_account_is_flagged_never_applied(client, order, link):  # noqa: F811
    notify(client, envelope(webhook_data(link, accountNumber="88888888")))
    [row] = stored()
    assert row.status == "flagged" and order.status == "pending_payment" and count(BankTransfer) == 0
    assert staff_told("notification_flagged") == 1


def test_payos_webhook_url_check_is_answered_and_kept_as_a_test(client, order, app):  # noqa: F811
    app.config["PAYOS_CHECKSUM_KEY"] = SAMPLE["checksum_key"]
    response = notify(client, SAMPLE["body"])
    assert response.status_code == 200 and response.json == {"success": True}
    [row] = stored()
    assert row.status == "ignored" and "webhook test" in row.error and count(BankTransfer) == 0


def test_the_url_check_unsigned_with_our_key_is_answered_but_not_stored(client, link):
    response = notify(client, SAMPLE["body"])
    assert response.status_code == 200 and response.json == {"success": True}
    assert count(BankNotification) == 0


def test_a_field_payos_adds_later_is_signed_and_taken(client, order, link):  # noqa: F811
    data = webhook_data(link, payerNote=None, channel="napas247")
    assert notify(client, envelope(data)).json == {"success": True} and order.status == "paid"


def test_the_python_sdk_form_of_the_signature_is_taken_too(client, order, link):  # noqa: F811
    data = webhook_data(link)
    for name in ("counterAccountBankName", "virtualAccountName", "virtualAccountNumber"):
        del data[name]  # not sent: the Python SDK signs them as empty
    python_form = sign({name: data.get(name) for name in payos_api.WEBHOOK_FIELDS})
    assert notify(client, envelope(data, signature=python_form)).json == {"success": True}
    assert order.status == "paid"


@pytest.mark.parametrize("changes, note", [
    ({"currency": "USD"}, "not VND"), ({"amount": 2100.5}, "not a whole number"), ({"amount": -210000}, "negative"),
    ({"amount": "210.000"}, "separators"),
])
def test_odd_amounts_are_kept_for_staff_never_applied(client, order, link, changes, note):  # noqa: F811
    assert notify(client, envelope(webhook_data(link, **changes))).json == {"success": True}
    [row] = stored()
    assert row.status == "unmatched" and note in row.error and order.status == "pending_payment"


def test_a_failure_code_in_the_data_is_stored_failed_for_staff(client, order, link):  # noqa: F811
    assert notify(client, envelope(webhook_data(link, code="01", desc="Thất bại"))).json == {"success": True}
    [row] = stored()
    assert row.status == "failed" and "code '01'" in row.error and order.status == "pending_payment"
    assert staff_told("notification_failed") == 1


def test_no_reference_is_stored_failed_under_a_digest(client, order, link):  # noqa: F811
    notify(client, envelope(webhook_data(link, reference="")))
    [row] = stored()
    assert row.status == "failed" and row.source_id.startswith("sha256:")


def test_the_webhook_and_the_status_lookup_of_one_payment_count_once(client, order, link, payos_server):  # noqa: F811
    payos_server.pay(link.order_code, 210000, "FT26336123456")
    notify(client, envelope(webhook_data(link)))
    client.get(f"/orders/{order.public_id}/pay", query_string={"key": order.secret, "checked": "1"})
    assert count(BankNotification) == 1 and count(BankTransfer) == 1 and count(Refund) == 0
