"""Fixtures for orders and payments."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from shop import cart as carts
from shop import checkout

NOW = datetime(2026, 6, 1, 3, 0)  # 10:00 in Vietnam, in the pineapple season


class MemoryStore(carts.SessionStore):
    def __init__(self):
        super().__init__({})


@pytest.fixture
def store():
    return MemoryStore()


@pytest.fixture
def place(app):
    """Place an order from ``store`` with sensible defaults; returns the Order."""
    def _place(store, *, user=None, fulfilments=None, method="vietqr", shown_total=None, token=None,
               now=NOW, hold=30):
        now_cart = carts.load(store, now)
        fulfilments = fulfilments or {farm.id: "farm_pickup" for farm, _ in now_cart.by_farm()}
        total = checkout.totals(now_cart, fulfilments)[1] if shown_total is None else shown_total
        return checkout.place_order(
            store, buyer=checkout.Buyer(name="Trịnh Thị Mai", phone="0987654321", email="mai@example.vn"),
            fulfilments=fulfilments, payment_method=method, shown_total=total,
            checkout_token=token or f"tok-{id(store)}-{now.timestamp()}-{total}", user=user, now=now,
            hold_minutes=hold)
    return _place


@pytest.fixture
def make_slot(app, make_farm):
    from core.extensions import db
    from tours.models import Tour, TourSlot

    def make(tour=None, starts_at=None, capacity=10, seats_taken=0, **tour_fields):
        if tour is None:
            farm = tour_fields.pop("farm", None) or make_farm()
            values = dict(title="Tham quan đồi dứa", slug=f"tham-quan-{farm.id}-{len(tour_fields)}",
                          price_adult_vnd=150000, price_child_vnd=50000, default_capacity=capacity)
            values.update(tour_fields)
            tour = Tour(farm_id=farm.id, **values)
            db.session.add(tour)
            db.session.flush()
        slot = TourSlot(tour_id=tour.id, starts_at=starts_at or NOW + timedelta(days=3), capacity=capacity,
                        seats_taken=seats_taken)
        db.session.add(slot)
        db.session.commit()
        return slot
    return make
