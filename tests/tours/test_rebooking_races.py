"""Rebooking races on PostgreSQL (SQLite ignores row locks): visitors moving into the same nearly full time at once,
and one booking moved by a double submit. No seat is ever counted twice or lost."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from shop.order_models import FarmOrder, OrderLine
from tests.factories import NOW
from tests.helpers import race, race_pool, requires_postgres
from tours import services
from tours.models import Ticket, TourSlot
from tours.rebooking import RebookError, move_booking

pytestmark = [requires_postgres, pytest.mark.usefixtures("race_connections")]

THREADS = 16
LEFT = 5


@pytest.fixture
def app_config():
    return race_pool(THREADS)


def _booked_seats(slot_id: int) -> int:
    """The seats of the valid tickets of paid bookings on a slot."""
    return db.session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Ticket, Ticket.order_line_id == OrderLine.id)
        .join(FarmOrder, FarmOrder.id == OrderLine.farm_order_id)
        .where(OrderLine.slot_id == slot_id, Ticket.status == "valid", FarmOrder.status == "paid"))


def _mover(app, codes, to_slot_id):
    def move(i):
        ticket = services.find_ticket(codes[i])
        try:
            move_booking(ticket, db.session.get(TourSlot, to_slot_id), None, NOW)
            db.session.commit()
            return "moved"
        except RebookError as error:
            db.session.rollback()
            return error.reason
    return move


@pytest.mark.parametrize("run", range(2))
def test_visitors_moving_into_the_last_places_at_once(app, book, pay, make_slot, run):
    rng = random.Random(run)
    parties = [1] * THREADS if run == 0 else [rng.randint(1, 3) for _ in range(THREADS)]
    source = make_slot(starts_at=NOW + timedelta(days=5), capacity=50)
    target = make_slot(source.tour, starts_at=NOW + timedelta(days=9), capacity=12, seats_taken=12 - LEFT)
    codes = [services.tickets_for_order(pay(book(source, party, 0, email=f"k{i}@example.vn")))[0].code
             for i, party in enumerate(parties)]
    db.session.commit()
    source_id, target_id = source.id, target.id
    db.session.remove()

    results = race(app, THREADS, _mover(app, codes, target_id))

    db.session.expire_all()
    source, target = db.session.get(TourSlot, source_id), db.session.get(TourSlot, target_id)
    moved = [parties[i] for i, result in enumerate(results) if result == "moved"]
    print(f"\nrun {run}: {len(moved)} of {THREADS} groups moved {sum(moved)} of the last {LEFT} places; "
          f"refused: { {r: results.count(r) for r in set(results) - {'moved'}} }")
    assert set(results) <= {"moved", "full"}, results
    if run == 0:
        assert len(moved) == LEFT, "exactly as many groups of one as there were places"
    assert 0 <= target.seats_taken <= target.capacity
    assert target.seats_taken == 12 - LEFT + sum(moved) == 12 - LEFT + _booked_seats(target_id)
    assert source.seats_taken == _booked_seats(source_id) == sum(parties) - sum(moved)
    waiting = [parties[i] for i, result in enumerate(results) if result != "moved"]
    assert not waiting or target.capacity - target.seats_taken < max(waiting), "no place left unused for nothing"


def test_a_double_submit_moves_the_booking_once(app, book, pay, make_slot):
    source = make_slot(starts_at=NOW + timedelta(days=5), capacity=10)
    target = make_slot(source.tour, starts_at=NOW + timedelta(days=9), capacity=10)
    code = services.tickets_for_order(pay(book(source, 3, 1)))[0].code
    source_id, target_id = source.id, target.id
    db.session.commit()
    db.session.remove()

    submits = 8
    results = race(app, submits, _mover(app, [code] * submits, target_id))

    db.session.expire_all()
    print(f"\ndouble submit: {results}")
    assert results.count("moved") == 1 and set(results) <= {"moved", "same_slot", "changed"}, results
    assert db.session.get(TourSlot, source_id).seats_taken == 0 == _booked_seats(source_id)
    assert db.session.get(TourSlot, target_id).seats_taken == 4 == _booked_seats(target_id)
