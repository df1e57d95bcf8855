"""Payment intents: paying in VND, declined cards, 3-D Secure, cancel and capture, refused parameters."""

import pytest
import stripe

from tests.localstripe.helpers import AMOUNT, card, intent, paid_intent
from tests.stripe_emulator import authenticate_3ds

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
