"""Moving a booking to another time of the same tour: seats, the ticket, the price difference, the waiting list
and every refusal (the pages are in test_rebook_views.py, the races in test_rebooking_races.py)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import settings_store
from core.audit import AuditEntry
from core.extensions import db
from core.outbox import Notification
from shop.ledger import LedgerEntry
from shop.payment_models import Refund
from tests.factories import NOW
from tests.helpers import count
from tours import cancellations, rebooking, services, tickets, waitlist
from tours.models import WaitlistEntry
from tours.rebooking import RebookError, move_booking


def _net(farm_id) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
                             .where(LedgerEntry.farm_id == farm_id))


@pytest.fixture
def booked(book, pay, make_slot):
    """A paid group of 2 adults and 1 child (350,000 ₫) five days ahead, and a later time of the same tour."""
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=10)
    later = make_slot(slot.tour, starts_at=NOW + timedelta(days=8), capacity=10, seats_taken=4)
    order = pay(book(slot, 2, 1))
    ticket = services.tickets_for_order(order)[0]
    return ticket, slot, later, order


def test_a_move_at_the_same_price_keeps_the_ticket_and_moves_the_seats(booked):
    ticket, slot, later, order = booked
    code = ticket.code
    ticket.reminded_at = NOW
    db.session.commit()
    moved = move_booking(ticket, later, None, NOW)
    db.session.commit()
    db.session.expire_all()
    assert (moved.from_slot.id, moved.to_slot.id, moved.refund, moved.difference_vnd) == (slot.id, later.id, None, 0)
    assert ticket.code == code and ticket.status == "valid" and ticket.line.slot_id == later.id
    assert ticket.reminded_at is None, "the reminder is sent again for the new date"
    assert (slot.seats_taken, later.seats_taken) == (0, 7)
    assert services.tickets_for_order(order)[0].line.slot.id == later.id
    assert count(Refund) == 0 and _net(slot.tour.farm_id) == 350000
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.moved"))
    assert entry.entity_id == ticket.id and entry.actor_label == "buyer-link"
    details = json.loads(entry.details)
    assert (details["from_slot_id"], details["to_slot_id"]) == (slot.id, later.id)
    notes = {n.kind: n for n in db.session.scalars(select(Notification))}
    assert "visit_rebooked" in notes and "farm_visit_rebooked" in notes
    assert ticket.display_code in notes["visit_rebooked"].body
    assert "9 tháng 6 2026" in notes["visit_rebooked"].body, "the new date, in the buyer's language"


def test_a_lower_price_is_refunded_in_part_and_a_later_cancellation_refunds_the_rest(booked):
    ticket, slot, later, order = booked
    settings_store.put("platform_fee_bp", "500")  # rate kept on the sale entries; those of the booking are 0 %
    slot.tour.price_adult_vnd, slot.tour.price_child_vnd = 120000, 40000
    db.session.commit()
    assert rebooking.difference(ticket) == -70000
    moved = move_booking(ticket, later, None, NOW, expect_difference_vnd=-70000)
    db.session.commit()
    refund = moved.refund
    assert (refund.amount_vnd, refund.reason, refund.provider, refund.status) == (70000, "visit_rebooked",
                                                                                  "vietqr", "pending")
    line = ticket.line
    assert (line.line_total_vnd, line.unit_price_vnd, line.child_price_vnd) == (280000, 120000, 40000)
    farm_order = order.farm_orders[0]
    assert farm_order.status == "paid" and farm_order.refunded_vnd == 70000
    assert _net(slot.tour.farm_id) == 280000
    assert "70.000" in db.session.scalar(select(Notification.body).where(Notification.kind == "visit_rebooked"))
    # Cancelling later gives back what is left, and the farm's ledger nets to nothing.
    cancellations.cancel_booking(ticket, None, NOW)
    db.session.commit()
    assert sorted(db.session.scalars(select(Refund.amount_vnd))) == [70000, 280000]
    assert farm_order.status == "cancelled" and farm_order.refunded_vnd == 350000
    assert _net(slot.tour.farm_id) == 0 and later.seats_taken == 4 and slot.seats_taken == 0


def test_the_fee_of_a_part_refunded_goes_back_with_it(book, pay, make_slot):
    settings_store.put("platform_fee_bp", "1000")  # 10 %
    slot = make_slot(starts_at=NOW + timedelta(days=5))
    later = make_slot(slot.tour, starts_at=NOW + timedelta(days=6))
    ticket = services.tickets_for_order(pay(book(slot, 2, 0)))[0]
    farm_id = slot.tour.farm_id
    assert _net(farm_id) == 300000 - 30000
    slot.tour.price_adult_vnd = 100000
    db.session.commit()
    move_booking(ticket, later, None, NOW)
    db.session.commit()
    assert _net(farm_id) == 200000 - 20000, "the farm keeps the new price less its fee"
    cancellations.cancel_booking(ticket, None, NOW)
    db.session.commit()
    assert _net(farm_id) == 0


def test_a_higher_price_is_refused_to_the_visitor_and_kept_by_the_farm(booked):
    ticket, slot, later, order = booked
    slot.tour.price_adult_vnd = 200000
    db.session.commit()
    with pytest.raises(RebookError) as error:
        move_booking(ticket, later, None, NOW)
    db.session.rollback()
    assert error.value.reason == "price_up" and "0912345678" in str(error.value.message)
    assert ticket.line.slot_id == slot.id and (slot.seats_taken, later.seats_taken) == (3, 4)
    farm = slot.tour.farm
    moved = move_booking(ticket, later, farm.owner, NOW, by_farm=True)
    db.session.commit()
    assert moved.difference_vnd == 0 and moved.refund is None
    assert (ticket.line.line_total_vnd, ticket.line.unit_price_vnd) == (350000, 150000), "the visitor pays no more"
    assert ticket.line.slot_id == later.id


def test_the_farm_moves_after_the_deadline_and_from_a_closed_time(booked):
    ticket, slot, later, order = booked
    slot.status = "closed"
    db.session.commit()
    late = slot.starts_at - timedelta(hours=3)
    assert not rebooking.can_rebook(ticket, late)
    with pytest.raises(RebookError) as error:
        move_booking(ticket, later, None, late)
    db.session.rollback()
    assert error.value.reason == "deadline"
    move_booking(ticket, later, None, late, by_farm=True)
    db.session.commit()
    assert ticket.line.slot_id == later.id and slot.seats_taken == 0
    assert db.session.scalar(select(AuditEntry.actor_label).where(AuditEntry.action == "ticket.moved")) == "farm"


def test_seats_freed_go_to_the_waiting_list_of_the_old_time(book, pay, make_slot):
    slot = make_slot(starts_at=NOW + timedelta(days=5), capacity=4)
    later = make_slot(slot.tour, starts_at=NOW + timedelta(days=6))
    ticket = services.tickets_for_order(pay(book(slot, 2, 0)))[0]
    slot.seats_taken = 4
    db.session.commit()
    entry = waitlist.join(slot, name="Khách chờ", phone="0987600001", email="cho@example.vn", adults=2, children=0,
                          user=None, locale="vi", now=NOW)
    db.session.commit()
    move_booking(ticket, later, None, NOW)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == "offered"
    assert slot.seats_taken == 4, "the freed places are held for the offer, never counted twice"
    assert later.seats_taken == 2


def _refused(ticket, to_slot, now, reason, match=None):
    with pytest.raises(RebookError, match=match) as error:
        move_booking(ticket, to_slot, None, now)
    db.session.rollback()
    assert error.value.reason == reason


def test_refusals_change_nothing(booked, make_slot, book, pay):
    ticket, slot, later, order = booked
    before = (ticket.line.slot_id, slot.seats_taken, later.seats_taken, count(Refund), count(Notification))
    _refused(ticket, slot, NOW, "same_slot", "already at this time")
    _refused(ticket, make_slot(starts_at=NOW + timedelta(days=6)), NOW, "other_tour", "another visit")
    soon = make_slot(slot.tour, starts_at=NOW + timedelta(hours=1))
    _refused(ticket, soon, NOW, "not_bookable")
    full = make_slot(slot.tour, starts_at=NOW + timedelta(days=9), capacity=4, seats_taken=2)
    _refused(ticket, full, NOW, "full", "just filled up")
    closed = make_slot(slot.tour, starts_at=NOW + timedelta(days=10), status="closed")
    _refused(ticket, closed, NOW, "not_bookable")
    _refused(ticket, later, slot.starts_at - timedelta(hours=47), "deadline", "too late")
    with pytest.raises(RebookError) as error:
        move_booking(ticket, later, None, NOW, expect_difference_vnd=-10000)
    db.session.rollback()
    assert error.value.reason == "changed"
    db.session.expire_all()
    assert (ticket.line.slot_id, slot.seats_taken, later.seats_taken, count(Refund), count(Notification)) == before
    assert full.seats_taken == 2


def test_a_checked_in_or_cancelled_booking_does_not_move(booked, book, pay, make_slot):
    ticket, slot, later, order = booked
    farm = slot.tour.farm
    tickets.check_in(farm.owner, farm, ticket, NOW)
    db.session.commit()
    _refused(ticket, later, NOW, "checked_in", "checked in")
    other = services.tickets_for_order(pay(book(slot, 1, 0, email="b@example.vn")))[0]
    cancellations.cancel_booking(other, None, NOW)
    db.session.commit()
    _refused(other, later, NOW, "cancelled", "cancelled")
    assert later.seats_taken == 4


def test_moving_twice_to_the_same_time_moves_once(booked):
    ticket, slot, later, order = booked
    move_booking(ticket, later, None, NOW)
    db.session.commit()
    _refused(ticket, later, NOW, "same_slot")
    assert (slot.seats_taken, later.seats_taken) == (0, 7)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "ticket.moved")) == 1


def test_choices_are_the_other_times_with_room_for_the_party(booked, make_slot):
    ticket, slot, later, order = booked
    make_slot(slot.tour, starts_at=NOW + timedelta(days=9), capacity=4, seats_taken=2)  # 2 left: too few for 3
    make_slot(slot.tour, starts_at=NOW + timedelta(hours=1))  # inside the booking cut-off
    fits = make_slot(slot.tour, starts_at=NOW + timedelta(days=7), capacity=3)
    assert [s.id for s in rebooking.choices(ticket, NOW)] == [fits.id, later.id]


def test_the_manifest_the_calendar_feed_and_the_reminder_follow_the_move(booked, app):
    from tours import calendar_feed, reminders, slots

    ticket, slot, later, order = booked
    move_booking(ticket, later, None, NOW)
    db.session.commit()
    assert [row.line.id for row in slots.manifest(later).active] == [ticket.line.id]
    assert slots.manifest(slot).rows == [], "the old time's list no longer has the group"
    with app.test_request_context():
        feed = calendar_feed.render(slot.tour.farm, NOW).decode()
    assert "7 of 10 places booked" in feed and "0 of 10 places booked" in feed
    day_before = later.starts_at - timedelta(hours=24)
    assert reminders.due(day_before) == [ticket.id], "reminded for the new date"
    assert reminders.due(slot.starts_at - timedelta(hours=24)) == []


def test_a_move_into_a_time_whose_shared_vehicle_is_full_is_refused(booked, make_tour, make_slot):
    """The later time has room of its own, but the farm's 8-seat cart is shared with another visit at the same
    hour that already carries 6: the group of three does not fit, and nothing moves."""
    from tours import resources
    ticket, slot, later, order = booked
    farm = slot.tour.farm
    other = make_slot(make_tour(farm, title="Làng Kép"), starts_at=later.starts_at, capacity=10, seats_taken=6)
    cart = resources.add_resource(farm.owner, farm, name="Xe điện", kind="vehicle", count=8)
    resources.set_tour_resources(farm.owner, farm, slot.tour, [cart.id])
    resources.set_tour_resources(farm.owner, farm, other.tour, [cart.id])
    later.seats_taken = 0
    db.session.commit()
    _refused(ticket, later, NOW, "full", "just filled up")
    db.session.expire_all()
    assert (ticket.line.slot_id, slot.seats_taken, later.seats_taken, other.seats_taken) == (slot.id, 3, 0, 6)
    other.seats_taken = 5
    db.session.commit()
    move_booking(ticket, later, None, NOW)
    db.session.commit()
    db.session.expire_all()
    assert (ticket.line.slot_id, slot.seats_taken, later.seats_taken) == (later.id, 0, 3)
