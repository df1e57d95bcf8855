"""What the official stripe library (16.x) can do against localstripe, in VND.

Each test pins down one behaviour the payment module can rely on (or a
localstripe gap it must work around); see tests/stripe_emulator.py.
"""

import json
import time

import pytest
import stripe

from tests.stripe_emulator import (
    TEST_API_KEY,
    WebhookRecorder,
    authenticate_3ds,
    configure_webhook,
    flush_data,
    sign_webhook,
    start_localstripe,
    stripe_client,
)

AMOUNT = 150000  # VND is zero-decimal: 150 000 ₫, not 1 500 ₫
WEBHOOK_SECRET = "whsec_kep_test"


@pytest.fixture(scope="module")
def emulator():
    base_url, stop = start_localstripe()
    try:
        yield base_url
    finally:
        stop()


@pytest.fixture(scope="module")
def client(emulator):
    return stripe_client(emulator)


@pytest.fixture(scope="module")
def webhooks(emulator):
    recorder = WebhookRecorder()
    configure_webhook(emulator, "kep", recorder.url, WEBHOOK_SECRET)
    try:
        yield recorder
    finally:
        recorder.close()


def card(client, number):
    return client.v1.payment_methods.create(params={
        "type": "card",
        "card": {"number": number, "exp_month": 12, "exp_year": 2030,
                 "cvc": "123"}})


def intent(client, payment_method, **params):
    return client.v1.payment_intents.create(params={
        "amount": AMOUNT, "currency": "vnd",
        "payment_method": payment_method, **params})


def paid_intent(client):
    return intent(client, "pm_card_visa", confirm=True)


# --- harness -----------------------------------------------------------------

def test_sign_webhook_is_accepted_by_construct_event():
    payload = json.dumps({"id": "evt_1", "object": "event",
                          "type": "payment_intent.succeeded",
                          "data": {"object": {"id": "pi_1"}}}).encode()
    header = sign_webhook(payload, WEBHOOK_SECRET)

    event = stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)

    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == "pi_1"
    bad = [(payload, sign_webhook(payload, "whsec_other")),
           (payload + b" ", header),
           (payload, sign_webhook(payload, WEBHOOK_SECRET,
                                  int(time.time()) - 301))]
    for body, signature in bad:
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)


def test_stop_shuts_the_emulator_down():
    base_url, stop = start_localstripe()
    stripe_client(base_url).v1.customers.create()

    stop()
    stop()  # idempotent

    with pytest.raises(stripe.APIConnectionError):
        stripe_client(base_url).v1.customers.create()


def test_module_level_api_with_api_base(emulator, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", TEST_API_KEY)
    monkeypatch.setattr(stripe, "api_base", emulator)

    pi = stripe.PaymentIntent.create(amount=AMOUNT, currency="vnd",
                                     payment_method="pm_card_visa",
                                     confirm=True)

    assert pi.status == "succeeded"


# --- successful payment ------------------------------------------------------

@pytest.mark.parametrize("payment_method",
                         ["pm_card_visa", "4242424242424242"])
def test_payment_intent_succeeds_in_vnd(client, payment_method):
    if payment_method.isdigit():
        payment_method = card(client, payment_method).id
    pi = client.v1.payment_intents.create(
        params={"amount": AMOUNT, "currency": "vnd",
                "metadata": {"order": "KEP00000001"},
                "payment_method": payment_method},
        options={"idempotency_key": f"order-KEP00000001-{payment_method}"})
    assert pi.status == "requires_confirmation"

    confirmed = client.v1.payment_intents.confirm(pi.id)
    assert confirmed.status == "succeeded"

    pi = client.v1.payment_intents.retrieve(
        pi.id, params={"expand": ["latest_charge"]})
    charge = pi.latest_charge
    assert (pi.amount, pi.currency, pi.status) == (AMOUNT, "vnd", "succeeded")
    assert pi.metadata.order == "KEP00000001"
    assert isinstance(charge, stripe.Charge)
    assert (charge.amount, charge.currency, charge.status) == (
        AMOUNT, "vnd", "succeeded")
    assert charge.paid and charge.captured and not charge.refunded
    assert charge.payment_intent == pi.id
    assert charge.amount_refunded == 0


def test_confirm_on_create(client):
    assert paid_intent(client).status == "succeeded"


def test_idempotency_key_is_ignored(client):
    options = {"idempotency_key": "order-KEP00000002"}
    params = {"amount": AMOUNT, "currency": "vnd"}

    first = client.v1.payment_intents.create(params=params, options=options)
    again = client.v1.payment_intents.create(params=params, options=options)

    assert first.id != again.id  # real Stripe would return the same intent


def test_latest_charge_is_always_embedded(client):
    pi = client.v1.payment_intents.retrieve(paid_intent(client).id)

    assert isinstance(pi.latest_charge, stripe.Charge)  # real Stripe: an id


def test_stripe_objects_are_not_dicts(client):
    pi = intent(client, "pm_card_visa", metadata={"order": "KEP00000003"})

    assert pi.status == pi["status"] == "requires_confirmation"
    assert "metadata" in pi and pi.metadata["order"] == "KEP00000003"
    with pytest.raises(AttributeError, match="not a dict"):
        pi.get("status")
    with pytest.raises(TypeError):
        dict(pi)
    as_dict = pi.to_dict()
    assert type(as_dict) is dict and as_dict.get("amount") == AMOUNT
    assert type(as_dict["metadata"]) is dict


# --- declines ----------------------------------------------------------------

@pytest.mark.parametrize("payment_method",
                         ["pm_card_chargeCustomerFail", "4000000000000341"])
def test_declined_card(client, payment_method):
    if payment_method.isdigit():
        payment_method = card(client, payment_method).id
    pi = intent(client, payment_method)

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(pi.id)

    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.user_message == "Your card was declined."
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "card_declined"
    assert pi.latest_charge.status == "failed"
    assert pi.latest_charge.failure_code == "card_declined"


def test_declined_intent_cannot_be_retried(client):
    pi = intent(client, "pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(pi.id)

    client.v1.payment_intents.update(
        pi.id, params={"payment_method": "pm_card_visa"})

    assert client.v1.payment_intents.retrieve(pi.id).status == \
        "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError, match="Bad request"):
        client.v1.payment_intents.confirm(pi.id)


@pytest.mark.parametrize("number", ["4000000000000002", "4000000000009995"])
def test_attach_time_decline_cards_are_charged_fine(client, number):
    # Stripe's generic-decline / insufficient-funds cards only fail when
    # attached to a customer in localstripe, not when charged.
    pm = card(client, number)
    customer = client.v1.customers.create(params={"email": "mua@example.vn"})

    assert intent(client, pm.id, confirm=True).status == "succeeded"
    with pytest.raises(stripe.CardError, match="declined"):
        client.v1.payment_methods.attach(pm.id,
                                         params={"customer": customer.id})


# --- 3-D Secure --------------------------------------------------------------

@pytest.mark.parametrize("number", ["4000002500003155", "4000002760003184"])
def test_3ds_authentication_succeeds(client, number):
    pi = intent(client, card(client, number).id, confirm=True)
    assert pi.status == "requires_action"
    assert pi.next_action.type == "use_stripe_sdk"

    pi = authenticate_3ds(client, pi.id, pi.client_secret, success=True)

    assert pi.status == "succeeded"
    assert pi.latest_charge.status == "succeeded"
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_3ds_authentication_fails(client):
    pi = intent(client, card(client, "4000002500003155").id, confirm=True)

    pi = authenticate_3ds(client, pi.id, pi.client_secret, success=False)

    assert pi.status == "requires_payment_method"
    assert pi.payment_method is None
    assert pi.latest_charge is None
    assert pi.last_payment_error.code == \
        "payment_intent_authentication_failure"


def test_3ds_then_declined(client):
    pi = intent(client, card(client, "4000008260003178").id, confirm=True)
    assert pi.status == "requires_action"

    with pytest.raises(stripe.CardError):
        authenticate_3ds(client, pi.id, pi.client_secret, success=True)

    assert client.v1.payment_intents.retrieve(pi.id).status == \
        "requires_payment_method"


def test_3ds_needs_the_client_secret(client):
    pi = intent(client, card(client, "4000002500003155").id, confirm=True)

    with pytest.raises(stripe.AuthenticationError):
        authenticate_3ds(client, pi.id, pi.id + "_secret_wrong")


# --- refunds -----------------------------------------------------------------

def test_full_refund(client):
    pi = paid_intent(client)

    refund = client.v1.refunds.create(params={"payment_intent": pi.id})

    assert (refund.amount, refund.currency, refund.status) == (
        AMOUNT, "vnd", "succeeded")
    assert refund.payment_intent == pi.id
    pi = client.v1.payment_intents.retrieve(pi.id)
    charge = client.v1.charges.retrieve(pi.latest_charge.id)
    assert refund.charge == charge.id
    assert charge.refunded and charge.amount_refunded == AMOUNT
    assert [r.id for r in charge.refunds.data] == [refund.id]
    assert pi.status == "succeeded"  # Stripe keeps it too


def test_partial_refunds(client):
    pi = paid_intent(client)

    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 50000,
                "metadata": {"order": "KEP00000004"}})
    charge = client.v1.payment_intents.retrieve(pi.id).latest_charge
    assert first.amount == 50000 and first.metadata.order == "KEP00000004"
    assert charge.amount_refunded == 50000 and not charge.refunded

    client.v1.refunds.create(params={"payment_intent": pi.id,
                                     "amount": 100000})
    charge = client.v1.charges.retrieve(charge.id)
    assert charge.amount_refunded == AMOUNT and charge.refunded
    listed = client.v1.refunds.list(params={"payment_intent": pi.id})
    assert sorted(r.amount for r in listed.data) == [50000, 100000]


def test_refund_gaps(client):
    pi = paid_intent(client)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 50000})

    # No amount = the whole charge again, and nothing stops over-refunding.
    rest = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert rest.amount == AMOUNT
    charge = client.v1.payment_intents.retrieve(pi.id).latest_charge
    assert charge.amount_refunded == AMOUNT + 50000

    with pytest.raises(stripe.InvalidRequestError, match="Unexpected reason"):
        client.v1.refunds.create(params={"payment_intent": pi.id,
                                         "reason": "requested_by_customer"})
    unpaid = intent(client, "pm_card_visa")
    with pytest.raises(stripe.APIError):  # HTTP 500, not a clean 400
        client.v1.refunds.create(params={"payment_intent": unpaid.id})


# --- other intent calls ------------------------------------------------------

def test_cancel_and_manual_capture(client):
    pi = intent(client, "pm_card_visa")
    assert client.v1.payment_intents.cancel(pi.id).status == "canceled"

    pi = intent(client, "pm_card_visa", capture_method="manual", confirm=True)
    assert pi.status == "requires_capture"
    pi = client.v1.payment_intents.capture(
        pi.id, params={"amount_to_capture": 100000})
    assert pi.status == "succeeded"
    assert pi.latest_charge.amount_refunded == 50000  # uncaptured rest


@pytest.mark.parametrize("extra", [
    {"description": "Đơn KEP00000005"},
    {"automatic_payment_methods": {"enabled": True}},
    {"receipt_email": "mua@example.vn"},
    {"return_url": "http://127.0.0.1/return"},
    {"statement_descriptor": "CHO DUA KEP"},
])
def test_unsupported_create_params_are_rejected(client, extra):
    with pytest.raises(stripe.InvalidRequestError, match="Unexpected"):
        client.v1.payment_intents.create(
            params={"amount": AMOUNT, "currency": "vnd", **extra})


def test_payment_method_must_be_set_before_confirm(client):
    pi = client.v1.payment_intents.create(
        params={"amount": AMOUNT, "currency": "vnd",
                "payment_method_types": ["card"]})
    assert pi.status == "requires_payment_method"

    with pytest.raises(stripe.APIError, match="Not implemented"):
        client.v1.payment_intents.confirm(
            pi.id, params={"payment_method": "pm_card_visa"})

    client.v1.payment_intents.update(
        pi.id, params={"payment_method": "pm_card_visa"})
    assert client.v1.payment_intents.confirm(pi.id).status == "succeeded"


# --- webhooks and events -----------------------------------------------------

def test_webhook_payment_intent_succeeded(client, webhooks):
    pi = intent(client, "pm_card_visa", metadata={"order": "KEP00000006"})
    client.v1.payment_intents.confirm(pi.id)

    payload, signature = webhooks.wait_for("payment_intent.succeeded", pi.id)

    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.type == "payment_intent.succeeded"
    assert event.api_version == "2017-08-15"
    assert isinstance(event.data.object, stripe.PaymentIntent)
    assert event.data.object.status == "succeeded"
    assert event.data.object.metadata.order == "KEP00000006"
    assert (event.data.object.amount, event.data.object.currency) == (
        AMOUNT, "vnd")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_other")


def test_webhook_payment_failed(client, webhooks):
    pi = intent(client, "pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(pi.id)

    payload, signature = webhooks.wait_for("payment_intent.payment_failed",
                                           pi.id)

    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.data.object.last_payment_error.code == "card_declined"


def test_events_can_be_listed(client):
    pi = paid_intent(client)

    events = client.v1.events.list(
        params={"type": "payment_intent.succeeded", "limit": 100})

    assert pi.id in [e.data.object.id for e in events.data]


def test_webhook_event_filter(emulator, client, webhooks):
    failures = WebhookRecorder()
    try:
        configure_webhook(emulator, "failures", failures.url, WEBHOOK_SECRET,
                          events=["payment_intent.payment_failed"])
        paid = paid_intent(client)
        webhooks.wait_for("payment_intent.succeeded", paid.id)
        declined = intent(client, "pm_card_chargeCustomerFail")
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(declined.id)

        failures.wait_for("payment_intent.payment_failed", declined.id)

        assert set(failures.event_types) == {"payment_intent.payment_failed"}
    finally:
        failures.close()


def test_webhook_config_needs_http_url_and_secret(emulator):
    for url, secret in [("ftp://127.0.0.1/hook", "s"),
                        ("http://127.0.0.1/hook", "")]:
        with pytest.raises(RuntimeError, match="HTTP 400"):
            configure_webhook(emulator, "bad", url, secret)


def test_flush_data_forgets_objects_but_keeps_webhooks(emulator, client,
                                                       webhooks):
    old = paid_intent(client)

    flush_data(emulator)

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve(old.id)
    assert missing.value.http_status == 404
    new = paid_intent(client)
    webhooks.wait_for("payment_intent.succeeded", new.id)
