"""Fixtures for visits: tours, slots, bookings placed through the real checkout, payments."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from shop import cart as carts
from shop import checkout, payments
from tours import visit_lines
from tours.models import Tour, TourSlot

NOW = datetime(2026, 6, 1, 3, 0)  # 10:00 in Vietnam
_ids = itertools.count(1)


class MemoryStore(carts.SessionStore):
    def __init__(self):
        super().__init__({})


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def make_tour(app, make_farm):
    def make(farm=None, **fields) -> Tour:
        farm = farm or make_farm()
        n = next(_ids)
        values = dict(title=f"Tham quan đồi dứa {n}", slug=f"tham-quan-doi-dua-{n}", price_adult_vnd=150000,
                      price_child_vnd=50000, default_capacity=10, meeting_point="Cổng vườn", free_cancel_hours=48,
                      languages="vi,en", description="Hái dứa, nếm dứa.")
        values.update(fields)
        tour = Tour(farm_id=farm.id, **values)
        db.session.add(tour)
        db.session.commit()
        return tour
    return make


@pytest.fixture
def make_slot(app, make_tour):
    def make(tour=None, starts_at=None, capacity=10, seats_taken=0, status="open") -> TourSlot:
        tour = tour or make_tour()
        slot = TourSlot(tour_id=tour.id, starts_at=starts_at or NOW + timedelta(days=5), capacity=capacity,
                        seats_taken=seats_taken, status=status)
        db.session.add(slot)
        db.session.commit()
        return slot
    return make


@pytest.fixture
def book(app):
    """Put a visit (and optionally a product) in a cart and place the order through checkout."""
    def _book(slot, adults=2, children=0, *, method="vietqr", user=None, now=NOW, product=None, qty="1",
              email="mai@example.vn", locale="vi"):
        store = MemoryStore()
        visit_lines.add_visit(store, slot.id, str(adults), str(children), now=now)
        if product is not None:
            carts.add_product(store, product.id, qty)
        cart = carts.load(store, now)
        fulfilments = {farm.id: "farm_pickup" for farm, _ in cart.by_farm()}
        order = checkout.place_order(
            store, buyer=checkout.Buyer(name="Trịnh Thị Mai", phone="0987654321", email=email, locale=locale),
            fulfilments=fulfilments, payment_method=method, shown_total=checkout.totals(cart, fulfilments)[1],
            checkout_token=f"tok-{next(_ids)}", user=user, now=now, hold_minutes=30)
        db.session.commit()
        return order
    return _book


@pytest.fixture
def pay(app):
    """Pay an order by bank transfer (the bank's notification), as the webhook does."""
    def _pay(order, now=NOW):
        payments.record_bank_transfer(transaction_id=f"FT{next(_ids):010d}", amount_vnd=order.total_vnd,
                                      content=f"{order.reference} thanh toan", transferred_at=now, source="webhook",
                                      now=now)
        db.session.commit()
        db.session.refresh(order)
        return order
    return _pay


@pytest.fixture(autouse=True)
def english_messages(app):
    """Service messages in English for the assertions (pages and mails choose their own language)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield
