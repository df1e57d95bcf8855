"""Visits paid by card: cancellations are refunded at Stripe (localstripe), only the visit's amount."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from shop import payments
from shop.payment_models import Refund
from tests.factories import NOW
from tests.stripe_fixtures import confirm_card, localstripe_url, stripe_client, stripe_config  # noqa: F401
from tours import cancellations, services


@pytest.fixture
def app_config(localstripe_url):  # noqa: F811
    return stripe_config(localstripe_url)


@pytest.fixture
def pay_by_card(localstripe_url):  # noqa: F811
    client = stripe_client(localstripe_url)

    def _pay(order):
        payment = payments.start_card_payment(order, NOW)
        db.session.commit()
        confirm_card(client, payment.provider_ref)
        assert payments.sync_card_payment(payment.provider_ref, actor_label="return:stripe",
                                          now=NOW) == "paid"
        db.session.commit()
        return payment
    return _pay


def _stripe_refunds(localstripe_url, intent_id) -> list[int]:  # noqa: F811
    listed = stripe_client(localstripe_url).v1.refunds.list(params={"payment_intent": intent_id})
    return sorted(refund["amount"] for refund in listed.data)


def test_a_cancelled_time_refunds_each_card_through_stripe(localstripe_url, book, pay_by_card,  # noqa: F811
                                                          make_slot, make_product):
    slot = make_slot(starts_at=NOW + timedelta(days=4), capacity=10)
    jam = make_product(farm=slot.tour.farm, price_vnd=55000, stock=5)
    first = book(slot, 2, 1, method="card", product=jam, qty="1")
    second = book(slot, 1, 0, method="card")
    first_payment, second_payment = pay_by_card(first), pay_by_card(second)
    farm = slot.tour.farm
    result = cancellations.cancel_slot(farm.owner, farm, slot, "harvest", "", NOW)
    db.session.commit()
    assert len(result.refunds) == 2 and {r.provider for r in result.refunds} == {"card"}
    assert payments.send_pending_refunds(NOW) == 2
    refunds = db.session.scalars(select(Refund).order_by(Refund.amount_vnd)).all()
    assert [(r.amount_vnd, r.status) for r in refunds] == [(150000, "done"), (350000, "done")]
    assert all(r.provider_ref for r in refunds)
    assert _stripe_refunds(localstripe_url, first_payment.provider_ref) == [350000], \
        "only the visit, not the jam"
    assert _stripe_refunds(localstripe_url, second_payment.provider_ref) == [150000]
    assert payments.send_pending_refunds(NOW) == 0, "nothing is sent twice"
    assert slot.seats_taken == 0 and jam.stock == 4


def test_a_buyer_cancelling_in_time_gets_the_card_refund(localstripe_url, book, pay_by_card, make_slot):  # noqa: F811
    slot = make_slot(starts_at=NOW + timedelta(days=4))
    order = book(slot, 2, 0, method="card")
    payment = pay_by_card(order)
    cancellations.cancel_booking(services.tickets_for_order(order)[0], None, NOW + timedelta(hours=1))
    db.session.commit()
    payments.send_pending_refunds(NOW)
    assert _stripe_refunds(localstripe_url, payment.provider_ref) == [300000]
    assert db.session.scalar(select(Refund.status)) == "done"
