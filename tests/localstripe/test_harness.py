"""The harness itself: webhook signatures, stopping the emulator, the module-level stripe API."""

import json
import time

import pytest
import stripe

from tests.localstripe.helpers import AMOUNT, WEBHOOK_SECRET
from tests.stripe_emulator import TEST_API_KEY, sign_webhook, start_localstripe, stripe_client

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
