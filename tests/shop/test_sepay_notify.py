"""SePay's webhook, through ``POST /payments/sepay/notify``, with bodies as SePay documents them
(developer.sepay.vn, sepayvn/laravel-sepay): authenticated by ``Authorization: Apikey <key>``, stored raw first,
applied once, money in to the cooperative's account only."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.extensions import db
from shop.payment_models import BankNotification, BankTransfer, Payment
from tests.helpers import count
from tests.shop.bank_notices import (  # noqa: F401
    ACCOUNT,
    ACCOUNT_CONFIG,
    fail_once,
    order,
    run_job,
    snapshot,
    staff_told,
    stored,
)

API_KEY = "sepay-api-key-for-tests-0123456789"


@pytest.fixture
def app_config():
    return {"SEPAY_API_KEY": API_KEY, **ACCOUNT_CONFIG}


def sepay_body(order, **changes) -> dict:  # noqa: F811
    """A notification as in SePay's documentation, for this order's transfer."""
    body = {"id": 92704, "gateway": "MBBank", "transactionDate": "2026-11-22 10:02:37", "accountNumber": ACCOUNT,
            "code": None, "content": f"MBVCB.3278907687.{order.reference}.mua dua", "transferType": "in",
            "transferAmount": order.total_vnd, "accumulated": 19077000, "subAccount": None,
            "referenceCode": "MBVCB.3278907687", "description": ""}
    body.update(changes)
    return body


def notify(client, body=None, *, raw=None, authorization=f"Apikey {API_KEY}"):
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.post("/payments/sepay/notify", data=data, headers=headers, content_type="application/json")


def test_a_documented_notification_pays_the_order_and_is_kept_raw(client, order):  # noqa: F811
    body = sepay_body(order)
    response = notify(client, body)
    assert response.status_code == 200 and response.json == {"success": True}
    assert order.status == "paid" and {fo.status for fo in order.farm_orders} == {"paid"}
    transfer = db.session.scalar(select(BankTransfer))
    assert (transfer.transaction_id, transfer.source, transfer.status) == ("sepay:92704", "sepay", "matched")
    assert transfer.transferred_at.isoformat() == "2026-11-22T03:02:37", "no offset means Vietnam time"
    assert db.session.scalar(select(Payment.confirmed_by)) == "webhook:sepay"
    [row] = stored()
    assert (row.source, row.source_id, row.status, row.bank_transfer_id) == ("sepay", "92704", "processed",
                                                                             transfer.id)
    assert row.raw_body == json.dumps(body) and row.processed_at is not None
    assert API_KEY not in row.headers and "Authorization" not in json.loads(row.headers)


@pytest.mark.parametrize("authorization", [None, "", "Apikey", "Apikey wrong-key", f"Bearer {API_KEY}",
                                           f"Apikey {API_KEY}x", API_KEY])
def test_a_missing_or_forged_api_key_is_refused_and_nothing_is_stored(client, order, authorization):  # noqa: F811
    before = snapshot()
    response = notify(client, sepay_body(order), authorization=authorization)
    assert response.status_code == 401 and response.json["success"] is False
    assert snapshot() == before and order.status == "pending_payment"


def test_the_scheme_is_read_whatever_its_case(client, order):  # noqa: F811
    assert notify(client, sepay_body(order), authorization=f"apikey  {API_KEY} ").json == {"success": True}
    assert order.status == "paid"


def test_without_a_key_configured_everything_is_refused(client, order, app):  # noqa: F811
    app.config["SEPAY_API_KEY"] = ""
    response = notify(client, sepay_body(order), authorization="Apikey ")
    assert response.status_code == 503 and response.json["success"] is False
    assert count(BankNotification) == 0


def test_money_out_is_kept_and_ignored(client, order):  # noqa: F811
    response = notify(client, sepay_body(order, transferType="out"))
    assert response.json == {"success": True}
    [row] = stored()
    assert row.status == "ignored" and row.bank_transfer_id is None and "money out" in row.error
    assert count(BankTransfer) == 0 and order.status == "pending_payment"


def test_the_same_notification_delivered_twice_is_one_transfer(client, order):  # noqa: F811
    body = sepay_body(order)
    assert [notify(client, body).json for _ in range(2)] == [{"success": True}] * 2
    after_first = snapshot()
    assert notify(client, body).json == {"success": True}
    assert snapshot() == after_first
    assert count(BankNotification) == 1 and count(BankTransfer) == 1 and count(Payment) == 1


def test_another_receiving_account_is_flagged_for_staff_and_never_applied(client, order):  # noqa: F811
    response = notify(client, sepay_body(order, accountNumber="0123499999"))
    assert response.json == {"success": True}
    [row] = stored()
    assert row.status == "flagged" and "0123499999" in row.error
    assert count(BankTransfer) == 0 and count(Payment) == 0 and order.status == "pending_payment"
    assert staff_told("notification_flagged") == 1


@pytest.mark.parametrize("accounts", [{"accountNumber": "1017 588 888"}, {"accountNumber": "1017-588-888"},
                                      {"accountNumber": "9704229999", "subAccount": ACCOUNT}])
def test_the_account_is_compared_by_its_digits_or_the_virtual_account(client, order, accounts):  # noqa: F811
    notify(client, sepay_body(order, **accounts))
    assert stored()[0].status == "processed" and order.status == "paid"


def test_a_notification_without_an_account_is_flagged(client, order):  # noqa: F811
    notify(client, sepay_body(order, accountNumber=None))
    assert stored()[0].status == "flagged" and count(BankTransfer) == 0


@pytest.mark.parametrize("amount", [210000.0, "210000"])
def test_an_amount_in_whole_dong_written_otherwise_is_taken(client, order, amount):  # noqa: F811
    notify(client, sepay_body(order, transferAmount=amount))
    assert stored()[0].status == "processed" and order.status == "paid"
    assert db.session.scalar(select(BankTransfer.amount_vnd)) == 210000


@pytest.mark.parametrize("amount", ["210.000", "210,000", 210000.5, None, True, -210000, "2e5", "1" * 20])
def test_an_amount_that_is_not_whole_dong_is_kept_unmatched_for_staff(client, order, amount):  # noqa: F811
    response = notify(client, sepay_body(order, transferAmount=amount))
    assert response.status_code == 200 and response.json == {"success": True}
    [row] = stored()
    assert row.status == "unmatched" and "transferAmount" in row.error and row.bank_transfer_id is None
    assert count(BankTransfer) == 0 and order.status == "pending_payment"
    assert staff_told("notification_unmatched") == 1


def test_no_content_is_recorded_as_an_unmatched_transfer(client, order):  # noqa: F811
    notify(client, sepay_body(order, content=None, description=None))
    [row] = stored()
    transfer = db.session.scalar(select(BankTransfer))
    assert row.status == "unmatched" and row.bank_transfer_id == transfer.id and "no content" in row.error
    assert (transfer.status, transfer.content, transfer.amount_vnd) == ("unmatched", "", order.total_vnd)
    assert staff_told("unmatched_transfer") == 1 and order.status == "pending_payment"


def test_no_content_falls_back_to_the_banks_message(client, order):  # noqa: F811
    notify(client, sepay_body(order, content=None, description=f"TK 1017588888 +210,000VND ND {order.reference}"))
    assert stored()[0].status == "processed" and order.status == "paid"


@pytest.mark.parametrize("when, stored_as", [("22/11/2026 10:02", "2026-11-22T03:02:00"),
                                             ("22/11/2026 10:02:37", "2026-11-22T03:02:37"),
                                             ("2026-11-22T10:02:37+07:00", "2026-11-22T03:02:37"),
                                             ("hôm qua", None), (1763780557, None)])
def test_the_time_is_read_when_it_can_be_and_never_refuses_the_transfer(client, order, when, stored_as):  # noqa: F811
    notify(client, sepay_body(order, transactionDate=when))
    transfer = db.session.scalar(select(BankTransfer))
    assert transfer.status == "matched" and order.status == "paid"
    assert (transfer.transferred_at.isoformat() if transfer.transferred_at else None) == stored_as
    assert (stored()[0].error is None) == (stored_as is not None)


def test_an_unknown_transfer_type_is_kept_unmatched(client, order):  # noqa: F811
    notify(client, sepay_body(order, transferType="IN_OUT"))
    assert stored()[0].status == "unmatched" and count(BankTransfer) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b"", b'{"id": null, "transferAmount": 5}',
                                 b'{"id": true}', b'{"a":' * 1000 + b"1" + b"}" * 1000])
def test_an_unreadable_body_is_stored_as_failed_and_answered_success(client, raw):
    response = notify(client, raw=raw)
    assert response.status_code == 200 and response.json == {"success": True}, "a retry could not help"
    [row] = stored()
    assert row.status == "failed" and row.source_id.startswith("sha256:") and row.error
    assert staff_told("notification_failed") == 1 and count(BankTransfer) == 0
    assert notify(client, raw=raw).json == {"success": True}
    assert count(BankNotification) == 1, "the same bytes again are the same notification"


def test_a_database_failure_while_processing_keeps_the_row_for_the_job(app, client, order, monkeypatch):  # noqa: F811
    calls = fail_once(monkeypatch)
    body = sepay_body(order)
    response = notify(client, body)
    assert response.status_code == 503, "SePay sends it again"
    [row] = stored()
    assert row.status == "received" and count(BankTransfer) == 0 and order.status == "pending_payment"
    assert "1 processed" in run_job(app)
    assert order.status == "paid" and stored()[0].status == "processed"
    assert "none" in run_job(app)
    assert notify(client, body).json == {"success": True}
    assert count(BankTransfer) == 1 and count(Payment) == 1 and calls == ["sepay:92704", "sepay:92704"]
