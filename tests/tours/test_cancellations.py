"""Cancelling visits: a buyer before or after the deadline, and the farm cancelling a time (the cascade)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.outbox import Notification
from shop import payments
from shop.ledger import LedgerEntry
from shop.payment_models import Refund
from tests.factories import NOW
from tests.helpers import count
from tours import cancellations, services, tickets
from tours.manage import TourError


def _ticket(order):
    return services.tickets_for_order(order)[0]


def _net(farm_id) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
                             .where(LedgerEntry.farm_id == farm_id))


def test_cancelling_before_the_deadline_refunds_the_whole_line(book, pay, make_slot, make_product):
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=10)
    jam = make_product(farm=slot.tour.farm, price_vnd=55000, stock=10)
    order = pay(book(slot, 2, 1, product=jam, qty="2"))
    ticket = _ticket(order)
    farm_order = order.farm_orders[0]
    refund = cancellations.cancel_booking(ticket, None, NOW + timedelta(days=2))
    db.session.commit()
    assert (refund.amount_vnd, refund.provider, refund.reason, refund.status) == (350000, "vietqr",
                                                                                 "visit_cancelled", "pending")
    assert ticket.status == "cancelled" and tickets.booking_state(ticket) == "cancelled"
    assert slot.seats_taken == 0, "the places are free again"
    assert jam.stock == 8, "the rest of the order is untouched"
    assert farm_order.status == "paid" and farm_order.refunded_vnd == 350000
    assert _net(slot.tour.farm_id) == 2 * 55000, "only the visit's ledger entries are reversed"
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert {"visit_cancelled", "farm_visit_cancelled"} <= kinds
    with pytest.raises(cancellations.BookingError, match="already cancelled"):
        cancellations.cancel_booking(ticket, None, NOW + timedelta(days=2))
    # The farmer cancelling the rest later refunds only what is left.
    payments.cancel_paid_farm_order(farm_order, None, NOW + timedelta(days=2))
    db.session.commit()
    assert sorted(db.session.scalars(select(Refund.amount_vnd))) == [110000, 350000]
    assert _net(slot.tour.farm_id) == 0 and slot.seats_taken == 0 and jam.stock == 10


def test_a_visit_alone_cancelled_cancels_its_farm_order(book, pay, make_slot):
    slot = make_slot(starts_at=NOW + timedelta(days=5))
    order = pay(book(slot, 1, 0))
    cancellations.cancel_booking(_ticket(order), None, NOW)
    db.session.commit()
    assert order.farm_orders[0].status == "cancelled" and order.farm_orders[0].refunded_vnd == 150000


def test_after_the_deadline_the_cancellation_is_refused_with_the_policy(book, pay, make_slot):
    slot = make_slot(starts_at=NOW + timedelta(days=5))
    order = pay(book(slot, 2, 0))
    ticket = _ticket(order)
    late = slot.starts_at - timedelta(hours=47)
    with pytest.raises(cancellations.BookingError) as error:
        cancellations.cancel_booking(ticket, None, late)
    db.session.rollback()
    assert "48 hours before the visit" in str(error.value.message)
    assert "0912345678" in str(error.value.message), "the farm's phone"
    assert ticket.status == "valid" and slot.seats_taken == 2 and count(Refund) == 0
    assert tickets.can_cancel(ticket, slot.starts_at - timedelta(hours=49))
    assert not tickets.can_cancel(ticket, late)


def test_a_checked_in_group_cannot_cancel(book, pay, make_slot):
    slot = make_slot(starts_at=NOW + timedelta(days=5))
    order = pay(book(slot))
    ticket = _ticket(order)
    farm = slot.tour.farm
    tickets.check_in(farm.owner, farm, ticket, NOW)
    with pytest.raises(cancellations.BookingError, match="checked in"):
        cancellations.cancel_booking(ticket, None, NOW)


@pytest.fixture
def cascade(book, pay, make_slot, make_user):
    """A time with two paid groups (one in English), one unpaid order, and another time with room."""
    slot = make_slot(starts_at=NOW + timedelta(days=3), capacity=12)
    later = make_slot(slot.tour, starts_at=NOW + timedelta(days=10), capacity=12)
    make_slot(slot.tour, starts_at=NOW + timedelta(days=11), capacity=12, seats_taken=11)  # too full to suggest
    paid_vi = pay(book(slot, 2, 1, email="a@example.vn"))
    paid_en = pay(book(slot, 3, 0, email="tom@example.com", locale="en"))
    unpaid = book(slot, 1, 0, email="c@example.vn")
    assert slot.seats_taken == 7
    return slot, later, paid_vi, paid_en, unpaid


def test_cancelling_a_time_refunds_every_booking_and_tells_every_buyer(cascade):
    slot, later, paid_vi, paid_en, unpaid = cascade
    farm = slot.tour.farm
    result = cancellations.cancel_slot(farm.owner, farm, slot, "weather", "Mưa lớn, đường trơn.", NOW)
    db.session.commit()
    assert (result.paid_bookings, result.unpaid_orders) == (2, 1)
    assert slot.status == "cancelled" and slot.seats_taken == 0 and slot.cancel_reason == "weather"
    refunds = db.session.scalars(select(Refund).order_by(Refund.amount_vnd)).all()
    assert [(r.amount_vnd, r.provider, r.status, r.reason) for r in refunds] == [
        (350000, "vietqr", "pending", "slot_cancelled"), (450000, "vietqr", "pending", "slot_cancelled")]
    assert unpaid.status == "cancelled"
    assert {tickets.booking_state(t) for o in (paid_vi, paid_en) for t in services.tickets_for_order(o)} == \
        {"cancelled"}
    assert _net(farm.id) == 0
    mails = {n.to_address: n for n in db.session.scalars(select(Notification)
                                                          .where(Notification.kind == "visit_slot_cancelled"))}
    assert set(mails) == {"a@example.vn", "tom@example.com", "c@example.vn"}
    assert "hoàn lại" in mails["a@example.vn"].body and "Mưa lớn" in mails["a@example.vn"].body
    assert "will be refunded" in mails["tom@example.com"].body and "Bad weather" in mails["tom@example.com"].body
    assert "you pay nothing" not in mails["tom@example.com"].body
    # Only the time with room for the group is suggested.
    assert "11 June 2026, 10:00 (12 places left)" in mails["tom@example.com"].body
    assert "12 June" not in mails["tom@example.com"].body, "1 place left is too few for a group of 3"
    assert "12 tháng 6 2026, 10:00 (Còn 1 chỗ)" in mails["c@example.vn"].body, "a party of 1 fits"
    assert f"/tours/{slot.tour.slug}" in mails["tom@example.com"].body


def test_cancelling_twice_refunds_once(cascade):
    slot = cascade[0]
    farm = slot.tour.farm
    cancellations.cancel_slot(farm.owner, farm, slot, "harvest", "", NOW)
    db.session.commit()
    with pytest.raises(TourError, match="already cancelled"):
        cancellations.cancel_slot(farm.owner, farm, slot, "harvest", "", NOW)
    db.session.rollback()
    assert count(Refund) == 2


def test_a_payment_arriving_after_the_cancellation_is_refunded(cascade, pay):
    slot, later, paid_vi, paid_en, unpaid = cascade
    farm = slot.tour.farm
    cancellations.cancel_slot(farm.owner, farm, slot, "weather", "", NOW)
    db.session.commit()
    pay(unpaid, now=NOW + timedelta(minutes=10))
    assert unpaid.status == "cancelled" and slot.seats_taken == 0
    late = db.session.scalar(select(Refund).where(Refund.reason == "late_payment"))
    assert late.amount_vnd == unpaid.total_vnd


@pytest.mark.parametrize("reason, note, starts_in, message", [
    ("storm", "", timedelta(days=3), "Choose why"),
    ("other", "x" * 301, timedelta(days=3), "too long"),
    ("weather", "", timedelta(minutes=-5), "already started"),
])
def test_bad_cancellations_change_nothing(make_slot, reason, note, starts_in, message):
    slot = make_slot(starts_at=NOW + starts_in)
    farm = slot.tour.farm
    with pytest.raises(TourError, match=message):
        cancellations.cancel_slot(farm.owner, farm, slot, reason, note, NOW)
    db.session.rollback()
    assert slot.status == "open"


def test_another_farmer_cannot_cancel(make_slot, make_farm):
    slot = make_slot()
    other = make_farm()
    with pytest.raises(TourError):
        cancellations.cancel_slot(other.owner, other, slot, "weather", "", NOW)
    db.session.rollback()
    assert slot.status == "open"
