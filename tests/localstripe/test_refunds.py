"""Refunds: whole, partial, and what localstripe does not check."""

import pytest
import stripe

from tests.localstripe.helpers import AMOUNT, intent, paid_intent

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
