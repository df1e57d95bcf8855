"""Races on PostgreSQL (SQLite ignores row locks): never more seats than the capacity."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from core.extensions import db
from shop import checkout
from shop.order_models import Order, OrderLine
from tests.factories import make_cart, place
from tests.helpers import race, requires_postgres
from tours.models import TourSlot

pytestmark = requires_postgres

THREADS = 40
CAPACITY = 20
LEFT = 6


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 0, "pool_pre_ping": True}}


@pytest.fixture(autouse=True)
def close_connections(app):
    """Give the 40 connections back to the server after each run (it allows 100 for everyone)."""
    yield
    db.session.remove()
    db.engine.dispose()


@pytest.mark.parametrize("run", range(3))
def test_40_groups_for_the_last_6_seats(app, make_slot, run):
    slot = make_slot(capacity=CAPACITY, seats_taken=CAPACITY - LEFT)
    rng = random.Random(run)
    parties = [rng.randint(1, 3) for _ in range(THREADS)]
    stores = [make_cart((slot, party, 0)) for party in parties]

    def book(i):
        try:
            place(stores[i], fulfilments={slot.tour.farm_id: "farm_pickup"}, shown_total=parties[i] * 150000,
                  token=f"race-{run}-{i}")
            db.session.commit()
            return "booked"
        except checkout.CheckoutError as error:
            db.session.rollback()
            return error.reason

    results = race(app, THREADS, book)
    db.session.expire_all()
    taken = db.session.get(TourSlot, slot.id).seats_taken
    booked_seats = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))
                                     .where(OrderLine.slot_id == slot.id))
    booked = results.count("booked")
    print(f"\nrun {run}: {booked} of {THREADS} groups booked {booked_seats} of the last {LEFT} seats; "
          f"seats_taken {taken} / capacity {CAPACITY}; refused: "
          f"{ {r: results.count(r) for r in set(results) - {'booked'}} }")
    assert taken <= CAPACITY
    assert taken == CAPACITY - LEFT + booked_seats, "seats taken match the orders placed"
    assert db.session.scalar(select(func.count()).select_from(Order)) == booked
    assert set(results) - {"booked"} <= {"sold_out", "stale"}, results
    assert booked >= 2, "the last seats did go to someone"
    # Whatever is left is less than the smallest party still waiting.
    waiting = [parties[i] for i, r in enumerate(results) if r != "booked"]
    assert not waiting or CAPACITY - taken < max(waiting)
