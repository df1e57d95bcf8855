"""Races on PostgreSQL (SQLite ignores row locks): two tours sharing one 12-seat minibus at overlapping times never
carry more than 12 visitors, whatever the bookings arriving at once."""
from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.time import utcnow
from shop import checkout
from shop.order_models import Order, OrderLine
from tests.factories import make_cart, place
from tests.helpers import race, race_pool, requires_postgres
from tours import resources, services, waitlist
from tours.models import TourSlot, WaitlistEntry

pytestmark = [requires_postgres, pytest.mark.usefixtures("race_connections")]

THREADS = 30
SEATS = 12


@pytest.fixture
def app_config():
    return race_pool(THREADS)


@pytest.fixture
def shared(make_farm, make_tour, make_slot):
    """Tour A at 08:00 and tour B at 09:00 (2 hours each, 20 places each on their own), one 12-seat minibus and
    two guides of 10 visitors, both used by both tours."""
    farm = make_farm()
    tour_a = make_tour(farm, duration_minutes=120, default_capacity=20)
    tour_b = make_tour(farm, duration_minutes=120, default_capacity=20)
    bus = resources.add_resource(farm.owner, farm, name="Xe buýt xã", kind="vehicle", count=SEATS)
    guides = resources.add_resource(farm.owner, farm, name="Hướng dẫn viên", kind="guide", count=2,
                                    visitors_per_guide=10)
    resources.set_tour_resources(farm.owner, farm, tour_a, [bus.id, guides.id])
    resources.set_tour_resources(farm.owner, farm, tour_b, [guides.id, bus.id])
    db.session.commit()
    start = (utcnow() + timedelta(days=5)).replace(hour=1, minute=0, second=0, microsecond=0)
    slot_a = make_slot(tour_a, starts_at=start, capacity=20)
    slot_b = make_slot(tour_b, starts_at=start + timedelta(hours=1), capacity=20)
    return farm, slot_a.id, slot_b.id


def _taken(*slot_ids) -> list[int]:
    db.session.expire_all()
    return [db.session.get(TourSlot, slot_id).seats_taken for slot_id in slot_ids]


@pytest.mark.parametrize("run", range(2))
def test_30_single_seats_at_once_across_both_tours_fill_the_minibus_exactly(app, shared, run):
    _farm, slot_a, slot_b = shared
    targets = [slot_a if i % 2 == run else slot_b for i in range(THREADS)]

    def take(i):
        try:
            taken = services.reserve_seats(targets[i], 1)
            db.session.commit()
            return taken
        except Exception:
            db.session.rollback()
            raise

    results = race(app, THREADS, take)
    taken = _taken(slot_a, slot_b)
    print(f"\nrun {run}: {results.count(True)} of {THREADS} single seats taken; seats {taken} / minibus {SEATS}")
    assert sum(taken) == SEATS, "what fits is exactly the minibus"
    assert results.count(True) == SEATS, "one success per seat taken"
    assert resources.sellable(db.session.get(TourSlot, slot_a)) == 0


@pytest.mark.parametrize("run", range(3))
def test_30_checkouts_at_once_never_put_more_than_12_in_the_minibus(app, shared, run):
    farm, slot_a, slot_b = shared
    rng = random.Random(run)
    slots = {slot_id: db.session.get(TourSlot, slot_id) for slot_id in (slot_a, slot_b)}
    # Most carts book one of the two times; some book both at once (their lines are taken in id order).
    carts = []
    for i in range(THREADS):
        if i % 5 == 4:
            carts.append([(slot_a, 1), (slot_b, 1)])
        else:
            carts.append([(rng.choice((slot_a, slot_b)), rng.randint(1, 3))])
    stores = [make_cart(*[(slots[slot_id], party, 0) for slot_id, party in cart]) for cart in carts]

    def book(i):
        try:
            place(stores[i], fulfilments={farm.id: "farm_pickup"},
                  shown_total=sum(party for _slot, party in carts[i]) * 150000, token=f"bus-{run}-{i}")
            db.session.commit()
            return "booked"
        except checkout.CheckoutError as error:
            db.session.rollback()
            return error.reason

    results = race(app, THREADS, book)
    taken = _taken(slot_a, slot_b)
    booked_seats = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))
                                     .where(OrderLine.slot_id.in_((slot_a, slot_b))))
    booked = results.count("booked")
    print(f"\nrun {run}: {booked} of {THREADS} carts booked; seats {taken} (minibus {SEATS}); refused: "
          f"{ {r: results.count(r) for r in set(results) - {'booked'}} }")
    assert sum(taken) <= SEATS, "never more visitors than minibus seats at overlapping times"
    assert sum(taken) == booked_seats, "the seats taken are exactly those of the orders placed"
    assert db.session.scalar(select(func.count()).select_from(Order)) == booked
    assert set(results) - {"booked"} <= {"sold_out", "stale"}, results
    refused = [sum(p for _s, p in carts[i]) for i, r in enumerate(results) if r != "booked"]
    assert not refused or SEATS - sum(taken) < max(refused), "what is left is too little for a refused cart"


def test_seats_given_back_offered_to_a_waiting_list_and_taken_elsewhere_at_once_never_overfill(app, shared):
    """12 unpaid orders at 08:00 fill the minibus; 12 of them are cancelled while 18 bookings at 09:00 try to take
    what the bus frees, and 08:00's waiting list is offered it too: no deadlock reaches anyone, and the bus never
    carries more than 12 (held offers included)."""
    farm, slot_a, slot_b = shared
    now = utcnow()
    orders = []
    for i in range(SEATS):
        orders.append(place(make_cart((db.session.get(TourSlot, slot_a), 1, 0)), token=f"full-{i}").id)
        db.session.commit()
    for n in range(6):
        waitlist.join(db.session.get(TourSlot, slot_a), name=f"Khách {n}", phone=f"09870{n:05d}", email="",
                      adults=1, children=0, user=None, locale="vi", now=now)
    db.session.commit()
    assert resources.sellable(db.session.get(TourSlot, slot_b)) == 0

    def act(i):
        try:
            if i < SEATS:
                checkout.cancel_unpaid(db.session.get(Order, orders[i]), None, now)
                db.session.commit()
                return "cancelled"
            for _attempt in range(300):  # until the bus has room, for up to 3 seconds
                if services.reserve_seats(slot_b, 1):
                    db.session.commit()
                    return "taken"
                db.session.rollback()
                time.sleep(0.01)
            return "full"
        except Exception:
            db.session.rollback()
            raise

    results = race(app, THREADS, act)
    taken = _taken(slot_a, slot_b)
    offered = db.session.scalar(select(func.count(WaitlistEntry.id)).where(WaitlistEntry.status == "offered"))
    print(f"\n{results.count('taken')} seats taken at 09:00, {offered} offered to 08:00's waiting list; "
          f"seats {taken} (minibus {SEATS})")
    assert results.count("cancelled") == SEATS
    assert sum(taken) <= SEATS
    assert taken[0] == offered, "08:00 now holds only the seats offered to its waiting list"
    assert taken[1] == results.count("taken")
    assert sum(taken) == SEATS, "every seat given back went to someone: an offer or a booking at 09:00"
