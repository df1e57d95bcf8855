"""Webhooks and events: signed deliveries, the event list, per-endpoint filters, flushing the data."""

import pytest
import stripe

from tests.localstripe.helpers import AMOUNT, WEBHOOK_SECRET, intent, paid_intent
from tests.stripe_emulator import WebhookRecorder, configure_webhook, flush_data

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
