"""The two webhooks: bank notifications (our HMAC) and Stripe events (signed the Stripe way)."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import cart as carts
from shop import payments
from shop.ledger import LedgerEntry
from shop.payment_models import BankTransfer, Payment, Refund, StripeEvent
from tests.helpers import count
from tests.stripe_emulator import sign_webhook
from tests.stripe_fixtures import WEBHOOK_SECRET, confirm_card, dead_url, localstripe_url, stripe_client, stripe_config  # noqa: F401

BANK_SECRET = "bank-secret-for-tests"


@pytest.fixture
def app_config(localstripe_url):  # noqa: F811
    return {"BANK_WEBHOOK_SECRET": BANK_SECRET, **stripe_config(localstripe_url)}


@pytest.fixture
def order(store, place, make_product, make_farm):
    """A two-farm order, placed now: 4 × 25,000 + 2 × 55,000 = 210,000 ₫."""
    carts.add_product(store, make_product(farm=make_farm(), price_vnd=25000, stock=50).id, "4")
    carts.add_product(store, make_product(farm=make_farm(), price_vnd=55000, stock=10).id, "2")
    placed = place(store, now=utcnow())
    db.session.commit()
    return placed



def snapshot() -> tuple[int, ...]:
    return tuple(count(model) for model in (BankTransfer, Payment, LedgerEntry, Refund, Notification, AuditEntry))


# -- bank ------------------------------------------------------------------------------------

def notify(client, body, secret=BANK_SECRET, signature=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {}
    if signature is None:
        signature = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    if signature is not False:
        headers["X-Signature"] = signature
    return client.post("/payments/bank/notify", data=data, headers=headers, content_type="application/json")


def transfer(order, txn="FT26001", amount=None, content=None, **extra):
    return {"transaction_id": txn, "amount": order.total_vnd if amount is None else amount,
            "content": content if content is not None else f"MBVCB.889.{order.reference}.mua dua", **extra}


def test_a_signed_notification_pays_the_order(client, order):
    response = notify(client, transfer(order, time="2026-11-22T10:02:37+07:00"))
    assert response.status_code == 200 and response.is_json
    assert response.json == {"status": "matched", "order": order.reference}
    assert order.status == "paid" and {fo.status for fo in order.farm_orders} == {"paid"}
    payment = db.session.scalar(select(Payment))
    assert (payment.provider, payment.amount_vnd, payment.confirmed_by) == ("vietqr", 210000, "webhook:bank")
    recorded = db.session.scalar(select(BankTransfer))
    assert recorded.source == "webhook" and recorded.transferred_at.isoformat() == "2026-11-22T03:02:37"


def test_amount_as_a_digit_string_and_time_without_offset(client, order):
    response = notify(client, transfer(order, amount=str(order.total_vnd), time="2026-11-22T10:02:37"))
    assert response.json["status"] == "matched"
    assert db.session.scalar(select(BankTransfer.transferred_at)).hour == 3, "no offset means Vietnam time"


def test_the_same_notification_five_times_pays_once(client, order):
    body = transfer(order)
    statuses = [notify(client, body).json["status"] for _ in range(5)]
    assert statuses == ["matched"] + ["duplicate"] * 4
    assert count(Payment) == 1 and count(BankTransfer) == 1
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2


def test_a_used_transaction_id_changes_nothing(client, order):
    notify(client, transfer(order))
    before = snapshot()
    other = transfer(order, amount=999000, content="KEP99999999 something else")  # same transaction id
    response = notify(client, other)
    assert response.status_code == 200 and response.json == {"status": "duplicate"}
    assert snapshot() == before


def test_unknown_reference_is_kept_unmatched(client, order):
    response = notify(client, transfer(order, content="chuyen tien mua dua cho chi Mai"))
    assert response.json == {"status": "unmatched", "order": None}
    kept = db.session.scalar(select(BankTransfer))
    assert kept.status == "unmatched" and kept.order_id is None and kept.amount_vnd == order.total_vnd
    assert order.status == "pending_payment" and count(Payment) == 0
    assert count(Notification, Notification.kind == "staff_unmatched_transfer") == 1


def test_underpaid_stays_pending(client, order):
    response = notify(client, transfer(order, amount=order.total_vnd - 10000))
    assert response.json["status"] == "underpaid"
    assert order.status == "pending_payment" and count(Payment) == 0 and count(LedgerEntry) == 0


def test_overpaid_is_confirmed_and_the_difference_booked_for_refund(client, order):
    response = notify(client, transfer(order, amount=order.total_vnd + 15000))
    assert response.json["status"] == "overpaid" and order.status == "paid"
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.provider, refund.status) == (15000, "vietqr", "pending")


@pytest.mark.parametrize("signature", [False, "", "00" * 32, "not-hex"])
def test_missing_or_forged_signature_is_refused(client, order, signature):
    before = snapshot()
    response = notify(client, transfer(order), signature=signature)
    assert response.status_code == 401 and response.is_json and "error" in response.json
    assert snapshot() == before and order.status == "pending_payment"


def test_wrong_secret_and_tampered_body_are_refused(client, order):
    assert notify(client, transfer(order), secret="another-secret").status_code == 401
    body = json.dumps(transfer(order)).encode()
    signature = hmac.new(BANK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    tampered = body.replace(str(order.total_vnd).encode(), b"999999999")
    assert notify(client, None, raw=tampered, signature=signature).status_code == 401
    assert count(BankTransfer) == 0


def test_no_secret_configured_refuses_everything(client, order, app):
    app.config["BANK_WEBHOOK_SECRET"] = ""
    response = notify(client, transfer(order), secret="")
    assert response.status_code == 503 and response.is_json
    assert count(BankTransfer) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b"null", b""])
def test_malformed_json_is_refused(client, raw):
    response = notify(client, None, raw=raw)
    assert response.status_code == 400 and response.is_json and response.json["error"]
    assert count(BankTransfer) == 0


@pytest.mark.parametrize("change", [
    {"amount": "12a000"}, {"amount": "-5000"}, {"amount": 0}, {"amount": -1}, {"amount": 1500.5},
    {"amount": True}, {"amount": None}, {"amount": "1" * 20}, {"transaction_id": ""}, {"transaction_id": None},
    {"transaction_id": "x" * 101}, {"content": None}, {"content": 5}, {"time": "yesterday"}, {"time": 1700000000},
])
def test_bad_fields_are_refused(client, order, change):
    response = notify(client, {**transfer(order), **change})
    assert response.status_code == 400 and response.json["error"]
    assert count(BankTransfer) == 0 and order.status == "pending_payment"


def test_a_paid_order_tries_sending_mail_after_the_commit(client, order, app, monkeypatch):
    app.config["MAIL_SERVER"] = "smtp.example.vn"
    sent = []

    def sender(config, note):
        if note.kind == "farm_new_order":
            raise OSError("mail server down")
        sent.append(note.kind)
    monkeypatch.setattr("core.channels.email._smtp_send", sender)
    response = notify(client, transfer(order))
    assert response.status_code == 200 and order.status == "paid"
    assert "order_paid" in sent
    assert count(Notification, Notification.status == "pending", Notification.kind == "farm_new_order") == 2


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"BANK_WEBHOOK_SECRET": BANK_SECRET, "RATELIMIT_ENABLED": True, "WEBHOOK_LIMIT_PER_IP": "3 per minute"}

    def test_webhooks_are_rate_limited_per_ip(self, client, order):
        codes = [notify(client, transfer(order, txn=f"FT{n}", content="no ref")).status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]
        assert notify(client, transfer(order, txn="FT9")).is_json


# -- Stripe ------------------------------------------------------------------------------------------

def event_body(intent_id="pi_unknown", event_type="payment_intent.succeeded", event_id=None, **object_fields):
    return json.dumps({"id": event_id or f"evt_{time.time_ns()}", "object": "event", "type": event_type,
                       "api_version": "2017-08-15", "created": int(time.time()),
                       "data": {"object": {"id": intent_id, "object": "payment_intent", **object_fields}}}).encode()


def post_event(client, body, signature=None):
    headers = {} if signature is False else {"Stripe-Signature": signature or sign_webhook(body, WEBHOOK_SECRET)}
    return client.post("/payments/stripe/webhook", data=body, headers=headers, content_type="application/json")


@pytest.fixture
def paid_intent(app, localstripe_url, order):  # noqa: F811
    """A card payment of ``order`` that went through at Stripe, not yet known to the app."""
    payment = payments.start_card_payment(order, utcnow())
    db.session.commit()
    assert confirm_card(stripe_client(localstripe_url), payment.provider_ref).status == "succeeded"
    return payment


def test_a_valid_event_confirms_after_rereading_the_intent(client, order, paid_intent):
    # The payload says nothing trustworthy; the app asks Stripe.
    response = post_event(client, event_body(paid_intent.provider_ref, status="requires_payment_method"))
    assert response.status_code == 200 and response.json == {"status": "paid"}
    assert order.status == "paid" and paid_intent.status == "succeeded"
    assert paid_intent.confirmed_by == "webhook:stripe"


def test_the_same_event_five_times_is_one_payment_and_one_set_of_ledger_entries(client, order, paid_intent):
    body = event_body(paid_intent.provider_ref, event_id="evt_same_5")
    statuses = [post_event(client, body).json["status"] for _ in range(5)]
    assert statuses == ["paid"] + ["duplicate"] * 4
    assert count(StripeEvent) == 1 and count(Payment, Payment.status == "succeeded") == 1
    assert count(LedgerEntry, LedgerEntry.kind == "sale") == 2
    assert count(Notification, Notification.kind == "order_paid") == 1


def test_different_events_for_one_intent_confirm_once(client, order, paid_intent):
    statuses = [post_event(client, event_body(paid_intent.provider_ref)).json["status"]
                for _ in range(3)]
    assert statuses == ["paid", "already", "already"]
    assert count(StripeEvent) == 3 and count(LedgerEntry, LedgerEntry.kind == "sale") == 2


def test_an_amount_mismatch_is_not_confirmed(client, order, localstripe_url):  # noqa: F811
    stripe = stripe_client(localstripe_url)
    intent = stripe.v1.payment_intents.create(params={"amount": 1000, "currency": "vnd",
                                                      "payment_method": "pm_card_visa", "confirm": True})
    assert intent.status == "succeeded"
    payment = Payment(order_id=order.id, provider="card", amount_vnd=order.total_vnd,
                      provider_ref=intent.id)
    db.session.add(payment)
    db.session.commit()
    response = post_event(client, event_body(intent.id, amount=order.total_vnd))
    assert response.json == {"status": "mismatch"}
    assert order.status == "pending_payment" and payment.status == "pending" and count(LedgerEntry) == 0
    assert count(Notification, Notification.kind == "staff_amount_mismatch") == 1


@pytest.mark.parametrize("case", ["wrong secret", "stale timestamp", "tampered body", "no signature", "garbage"])
def test_bad_signatures_are_refused(client, order, paid_intent, case):
    body = event_body(paid_intent.provider_ref)
    signature = {"wrong secret": sign_webhook(body, "whsec_someone_else"),
                 "stale timestamp": sign_webhook(body, WEBHOOK_SECRET, int(time.time()) - 600),
                 "tampered body": sign_webhook(body.replace(b"succeeded", b"succeedeD"), WEBHOOK_SECRET),
                 "no signature": False, "garbage": "t=abc,v1=zz"}[case]
    response = post_event(client, body, signature)
    assert response.status_code == 400 and response.is_json
    assert count(StripeEvent) == 0 and order.status == "pending_payment"


def test_no_webhook_secret_configured(client, app):
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    response = post_event(client, event_body())
    assert response.status_code == 503 and count(StripeEvent) == 0


def test_other_events_are_stored_and_ignored(client):
    body = event_body("cus_1", event_type="customer.created", event_id="evt_customer")
    assert post_event(client, body).json == {"status": "ignored"}
    assert post_event(client, body).json == {"status": "duplicate"}
    assert count(StripeEvent) == 1


def test_an_event_for_someone_elses_intent_changes_nothing(client):
    assert post_event(client, event_body("pi_not_ours")).json == {"status": "unknown"}


def test_stripe_unreachable_during_the_reread_asks_stripe_to_retry(client, app, order, paid_intent):
    body = event_body(paid_intent.provider_ref, event_id="evt_retry_me")
    working = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = dead_url()
    response = post_event(client, body)
    assert response.status_code == 503 and response.is_json
    assert count(StripeEvent) == 0 and order.status == "pending_payment"
    app.config["STRIPE_API_BASE"] = working
    assert post_event(client, body).json == {"status": "paid"}


def test_a_failed_payment_event_marks_the_attempt_failed(client, order, localstripe_url):  # noqa: F811
    import stripe as stripe_lib

    payment = payments.start_card_payment(order, utcnow())
    db.session.commit()
    with pytest.raises(stripe_lib.CardError):
        confirm_card(stripe_client(localstripe_url), payment.provider_ref, "4000000000000341")
    body = event_body(payment.provider_ref, event_type="payment_intent.payment_failed")
    assert post_event(client, body).json == {"status": "failed"}
    assert payment.status == "failed" and payment.failure_message == "Your card was declined."
    assert order.status == "pending_payment"


# -- bad input in signed bodies ------------------------------------------------------------------------------

def test_a_notification_with_nul_bytes_is_recorded_without_them(client, order):
    body = transfer(order, txn="FT26\x00NUL", content=f"MBVCB.889.\x00{order.reference}\x00.mua\x07 dua")
    response = notify(client, body)
    assert response.status_code == 200 and response.json["status"] == "matched"
    recorded = db.session.scalar(select(BankTransfer))
    assert (recorded.transaction_id, recorded.content) == ("FT26NUL", f"MBVCB.889.{order.reference}.mua dua")
    assert notify(client, body).json == {"status": "duplicate"}  # the bank's retry is taken as a duplicate


@pytest.mark.parametrize("amount", ["1" * 5000, "²", "١٢٣", " 1e9"])
def test_an_amount_that_is_not_plain_digits_is_refused(client, order, amount):
    response = notify(client, transfer(order, amount=amount))
    assert response.status_code == 400 and response.is_json and "amount" in response.json["error"]
    assert count(BankTransfer) == 0


@pytest.mark.parametrize("raw", [b'{"a":' * 100000 + b"1" + b"}" * 100000, b"[" * 200000 + b"]" * 200000,
                                 b'{"transaction_id": "FT1", "content": "x", "amount": 1, "extra": ' + b"[" * 20
                                 + b"]" * 20 + b"}"], ids=["deep object", "deep array", "nested field"])
def test_deeply_nested_json_in_a_signed_notification_is_a_400(client, raw):
    response = notify(client, None, raw=raw)
    assert response.status_code == 400 and response.is_json and response.json["error"]
    assert count(BankTransfer) == 0


def test_deeply_nested_json_in_a_signed_stripe_event_is_a_400(client):
    raw = b'{"id": "evt_deep", "type": "payment_intent.succeeded", "data": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    response = post_event(client, raw)
    assert response.status_code == 400 and response.is_json and response.json["error"]
    assert count(StripeEvent) == 0
    # The signature is still checked first: unsigned, the same body is refused as unsigned.
    assert post_event(client, raw, signature="t=1,v1=00").json == {"error": "invalid signature"}


@pytest.mark.parametrize("raw", [b"[1]", b'{"id": "evt_x", "type": "x", "data": []}', b'{"id": 5, "type": "x"}',
                                 b'{"id": "evt_x", "type": "x", "data": {"object": "pi"}}'])
def test_a_signed_stripe_body_that_is_not_an_event_is_a_400(client, raw):
    response = post_event(client, raw)
    assert response.status_code == 400 and response.is_json
    assert count(StripeEvent) == 0
