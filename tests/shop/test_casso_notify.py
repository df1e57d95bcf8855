"""Casso's Webhook V2, through ``POST /payments/casso/notify``, with bodies as Casso documents them. The signature
is made here from Casso's documented steps (github.com/CassoHQ/casso-webhook-v2-verify-signature), not with the
app's code, and Casso's own test vector is checked as it is published."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

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

KEY = "casso-webhook-v2-key-for-tests-0123456789abcdefghijklmnopqrstuvwx"

# Casso's published sample (python.py, php.php, golang.go, java.java, dotnet.cs of the repository above).
VECTOR_BODY = {"error": 0, "data": {
    "id": 0, "reference": "MA_GIAO_DICH_THU_NGHIEM", "description": "giao dich thu nghiem", "amount": 599000,
    "runningBalance": 25000000, "transactionDateTime": "2024-10-03 15:06:37", "accountNumber": "88888888",
    "bankName": "VPBank", "bankAbbreviation": "VPB", "virtualAccountNumber": "", "virtualAccountName": "",
    "counterAccountName": "NGUYEN VAN A", "counterAccountNumber": "8888888888", "counterAccountBankId": "970415",
    "counterAccountBankName": "VietinBank"}}
VECTOR_KEY = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"
VECTOR_SIGNATURE = ("t=1727948258788,v1=ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7dde0868fc66"
                    "7faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3")


@pytest.fixture
def app_config():
    return {"CASSO_WEBHOOK_SECRET": KEY, **ACCOUNT_CONFIG}


def _sorted(value):
    """Step 3 of Casso's steps: the keys A to Z, into nested objects."""
    return {key: _sorted(value[key]) for key in sorted(value)} if isinstance(value, dict) else value


def sign(body: dict, key: str = KEY, stamp_ms: int | None = None, ascii_only: bool = False) -> str:
    """``X-Casso-Signature`` as Casso makes it: HMAC-SHA512 of ``t + "." + JSON`` (no spaces), hex."""
    stamp_ms = int(time.time() * 1000) if stamp_ms is None else stamp_ms
    text = json.dumps(_sorted(body), separators=(",", ":"), ensure_ascii=ascii_only)
    digest = hmac.new(key.encode(), f"{stamp_ms}.{text}".encode(), hashlib.sha512).hexdigest()
    return f"t={stamp_ms},v1={digest}"


def casso_body(order, **changes) -> dict:  # noqa: F811
    data = {"id": 218897, "reference": "FT24364030863634", "description": f"{order.reference} mua dua",
            "amount": order.total_vnd, "runningBalance": 16775000, "transactionDateTime": "2026-11-22 10:02:37",
            "accountNumber": ACCOUNT, "bankName": "MBBank", "bankAbbreviation": "MBB", "virtualAccountNumber": "",
            "virtualAccountName": "", "counterAccountName": "NGUYEN VAN A", "counterAccountNumber": "8888888888",
            "counterAccountBankId": "970415", "counterAccountBankName": "VietinBank"}
    data.update(changes)
    return {"error": 0, "data": data}


def notify(client, body=None, *, raw=None, signature=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()  # as sent: not sorted
    headers = {} if signature is False else {"X-Casso-Signature": signature or sign(body)}
    return client.post("/payments/casso/notify", data=data, headers=headers, content_type="application/json")


def test_the_published_test_vector_is_accepted(client, app):
    app.config.update(CASSO_WEBHOOK_SECRET=VECTOR_KEY, CASSO_SIGNATURE_TOLERANCE_SECONDS=10**9)  # a 2024 stamp
    response = notify(client, VECTOR_BODY, signature=VECTOR_SIGNATURE)
    assert response.status_code == 200 and response.json == {"success": True}
    [row] = stored()
    assert (row.source, row.source_id, row.status) == ("casso", "0", "flagged"), "88888888 is not our account"
    assert "t=1727948258788" in row.headers


def test_what_is_signed_is_the_whole_body_not_the_data_object():
    only_data = sign(VECTOR_BODY["data"], VECTOR_KEY, 1727948258788)
    assert sign(VECTOR_BODY, VECTOR_KEY, 1727948258788) == VECTOR_SIGNATURE != only_data


def test_a_documented_notification_pays_the_order(client, order):  # noqa: F811
    body = casso_body(order)
    response = notify(client, body)
    assert response.status_code == 200 and response.json == {"success": True}
    assert order.status == "paid"
    transfer = db.session.scalar(select(BankTransfer))
    assert (transfer.transaction_id, transfer.source, transfer.status) == ("casso:218897", "casso", "matched")
    assert transfer.transferred_at.isoformat() == "2026-11-22T03:02:37", "no offset means Vietnam time"
    assert db.session.scalar(select(Payment.confirmed_by)) == "webhook:casso"
    [row] = stored()
    assert (row.source_id, row.status, row.bank_transfer_id) == ("218897", "processed", transfer.id)
    assert row.raw_body == json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("ascii_only", [False, True])
def test_vietnamese_text_is_accepted_whichever_way_the_signer_writes_it(client, order, ascii_only):  # noqa: F811
    body = casso_body(order, description=f"Nguyễn Thị Mai chuyển tiền {order.reference} / dứa",
                      counterAccountName="NGUYỄN THỊ MAI")
    assert notify(client, body, signature=sign(body, ascii_only=ascii_only)).status_code == 200
    assert order.status == "paid"


@pytest.mark.parametrize("case", ["no header", "empty", "wrong key", "tampered body", "garbage", "sha256 length",
                                  "no timestamp", "timestamp in seconds", "stale", "from the future"])
def test_a_missing_forged_or_stale_signature_is_refused_and_nothing_is_stored(client, order, case):  # noqa: F811
    body = casso_body(order)
    now_ms = int(time.time() * 1000)
    good = sign(body)
    signature, raw = {
        "no header": (False, None), "empty": ("", None), "wrong key": (sign(body, key="another-key"), None),
        "tampered body": (good, json.dumps(casso_body(order, amount=999999999)).encode()),
        "garbage": ("t=abc,v1=zz", None), "sha256 length": (good[:good.index("v1=") + 67], None),
        "no timestamp": (good[good.index("v1="):], None),
        "timestamp in seconds": (sign(body, stamp_ms=now_ms // 1000), None),
        "stale": (sign(body, stamp_ms=now_ms - 6 * 60 * 1000), None),
        "from the future": (sign(body, stamp_ms=now_ms + 6 * 60 * 1000), None)}[case]
    before = snapshot()
    response = client.post("/payments/casso/notify", data=raw or json.dumps(body).encode(),
                           headers={} if signature is False else {"X-Casso-Signature": signature},
                           content_type="application/json")
    assert response.status_code == 401 and response.json["success"] is False
    assert snapshot() == before and order.status == "pending_payment"


def test_the_timestamp_window_is_configurable(client, order, app):  # noqa: F811
    app.config["CASSO_SIGNATURE_TOLERANCE_SECONDS"] = 3600
    body = casso_body(order)
    response = notify(client, body, signature=sign(body, stamp_ms=int(time.time() * 1000) - 30 * 60 * 1000))
    assert response.status_code == 200 and order.status == "paid"


def test_a_signature_among_others_in_the_header_is_found(client, order):  # noqa: F811
    body = casso_body(order)
    stamp, v1 = sign(body).split(",")
    assert notify(client, body, signature=f" {stamp} , v0=abc, v1={'0' * 128}, {v1} ").status_code == 200
    assert order.status == "paid"


def test_without_a_secret_configured_everything_is_refused(client, order, app):  # noqa: F811
    app.config["CASSO_WEBHOOK_SECRET"] = ""
    response = notify(client, casso_body(order), signature=sign(casso_body(order), key=""))
    assert response.status_code == 503 and count(BankNotification) == 0


def test_a_withdrawal_is_kept_and_ignored(client, order):  # noqa: F811
    notify(client, casso_body(order, amount=-order.total_vnd))
    [row] = stored()
    assert row.status == "ignored" and count(BankTransfer) == 0 and order.status == "pending_payment"


def test_the_same_notification_delivered_twice_is_one_transfer(client, order):  # noqa: F811
    body = casso_body(order)
    assert notify(client, body).json == {"success": True}
    after_first = snapshot()
    assert notify(client, body).json == {"success": True}  # signed again, a later t: the same transaction
    assert snapshot() == after_first and count(BankTransfer) == 1 and count(Payment) == 1


def test_another_receiving_account_is_flagged_for_staff_and_never_applied(client, order):  # noqa: F811
    notify(client, casso_body(order, accountNumber="0071000888999"))
    [row] = stored()
    assert row.status == "flagged" and count(BankTransfer) == 0 and order.status == "pending_payment"
    assert staff_told("notification_flagged") == 1


def test_the_virtual_account_may_be_ours(client, order):  # noqa: F811
    notify(client, casso_body(order, accountNumber="0071000888999", virtualAccountNumber=ACCOUNT))
    assert stored()[0].status == "processed" and order.status == "paid"


@pytest.mark.parametrize("changes, status, transfers", [
    ({"amount": 210000.0}, "processed", 1), ({"amount": "210000"}, "processed", 1),
    ({"amount": "210.000"}, "unmatched", 0), ({"amount": 210000.5}, "unmatched", 0), ({"amount": None}, "unmatched", 0),
    ({"description": None}, "unmatched", 1), ({"transactionDateTime": "22/11/2026 10:02:37"}, "processed", 1),
    ({"transactionDateTime": None}, "processed", 1), ({"amount": 0}, "ignored", 0),
])
def test_odd_but_readable_fields_are_recorded_never_refused(client, order, changes, status, transfers):  # noqa: F811
    response = notify(client, casso_body(order, **changes))
    assert response.status_code == 200 and response.json == {"success": True}
    [row] = stored()
    assert row.status == status and count(BankTransfer) == transfers
    assert order.status == ("paid" if status == "processed" else "pending_payment")
    if status == "unmatched":
        assert staff_told("notification_unmatched") + staff_told("unmatched_transfer") == 1


@pytest.mark.parametrize("body, why", [
    ({"error": 0, "data": [{"id": 1, "tid": "FT1", "amount": 5000, "description": "x", "when": "2026-11-22"}]},
     "list"),
    ({"error": 0, "data": {"amount": 5000}}, "data.id"), ({"error": 0}, "data"),
    ({"error": 1, "data": {"id": 7, "amount": 5000, "accountNumber": ACCOUNT}}, "error"),
])
def test_a_signed_body_that_is_not_a_v2_notification_is_stored_failed(client, body, why):
    response = notify(client, body)
    assert response.status_code == 200 and response.json == {"success": True}
    [row] = stored()
    assert row.status == "failed" and why in row.error and count(BankTransfer) == 0
    assert staff_told("notification_failed") == 1


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"", b"[" * 5000 + b"]" * 5000])
def test_a_body_that_is_not_json_cannot_be_checked_and_is_refused(client, raw):
    response = notify(client, raw=raw, signature=sign({"any": "thing"}))
    assert response.status_code == 401 and count(BankNotification) == 0


def test_a_database_failure_while_processing_keeps_the_row_for_the_job(app, client, order, monkeypatch):  # noqa: F811
    calls = fail_once(monkeypatch)
    body = casso_body(order)
    assert notify(client, body).status_code == 503
    assert stored()[0].status == "received" and count(BankTransfer) == 0
    run_job(app)
    assert order.status == "paid" and stored()[0].status == "processed"
    run_job(app)
    assert notify(client, body).json == {"success": True}
    assert count(BankTransfer) == 1 and count(Payment) == 1 and calls == ["casso:218897", "casso:218897"]
