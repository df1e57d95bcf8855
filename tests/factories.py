"""Builders of the test world, shared by every test package: users, farms, products, tours and their time
slots, carts, orders placed through the real cart and checkout, and payments.

Plain functions of the current app context (the ``app`` fixture pushes one). tests/conftest.py hands the
common ones to tests as fixtures of the same names (``make_user``, ``make_farm``, ``make_product``,
``make_tour``, ``make_slot``, ``place``, ``book``, ``pay``; ``store`` is a new ``MemoryStore``); other code
imports them from here. Every builder but ``place`` commits, so what it made is visible to the requests a
test sends next.

Orders are never written row by row: ``make_order`` and ``book`` fill a cart as the cart pages do and place it
with ``shop.checkout.place_order``, so stock, seats, snapshots and the audit log are the real ones.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

from core.extensions import db
from core.text import fold, slugify
from shop import cart as carts
from shop import checkout, delivery, payments
from tests.helpers import PASSWORD

NOW = datetime(2026, 6, 1, 3, 0)  # 10:00 in Vietnam, in the pineapple season
# A delivery address in Kép commune (Bắc Ninh; core.places codes), where the farms deliver themselves.
KEP_ADDRESS = delivery.Destination("Trịnh Thị Mai", "0987654321", 24, 7399, "Số 12, thôn Kép 2")
# One in Hà Nội (Phường Hoàn Kiếm), reached only by parcel.
HANOI_ADDRESS = delivery.Destination("Lê Văn Tuấn", "0912345678", 1, 70, "Số 5 phố Hàng Bạc")
# The hash of PASSWORD, made once per run, that the real login form checks: scrypt, with a work factor 32 times
# smaller than the app's (scrypt:32768:8:1, which test_login_throttle asserts), so a login costs milliseconds.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
_ids = itertools.count(1)


class MemoryStore(carts.SessionStore):
    """A guest's cart kept in a dict, as the session cookie would keep it."""

    def __init__(self):
        super().__init__({})


# -- people, farms, products -----------------------------------------------------------------------------------

def make_user(role: str = "buyer", email: str | None = None, *, full_name: str | None = None,
              phone: str = "0912345678", password_hash: str = PASSWORD_HASH, **fields):
    """An account whose password is PASSWORD."""
    from accounts.models import User

    n = next(_ids)
    made = User(email=email or f"user{n}@example.vn", full_name=full_name or f"Người dùng {n}", phone=phone,
                role=role, password_hash=password_hash, session_token=fields.pop("session_token", f"token{n}"),
                **fields)
    db.session.add(made)
    db.session.commit()
    return made


def make_farm(owner=None, status: str = "approved", name: str | None = None, *, slug: str | None = None, **fields):
    """A farm (approved unless ``status`` says otherwise); its owner is a new farmer, or a buyer who applied."""
    from accounts.farms import Farm

    owner = owner or make_user(role="farmer" if status == "approved" else "buyer")
    name = name or f"Vườn dứa {next(_ids)}"
    values = dict(village="Kép", description="Trồng dứa Queen trên đồi.", bank_bin="970405",
                  bank_account_number="2500205110001", bank_account_name="NGUYEN VAN AN")
    values.update(fields)
    made = Farm(owner=owner, name=name, slug=slug or slugify(name), status=status, **values)
    db.session.add(made)
    db.session.commit()
    return made


def make_product(farm=None, name: str | None = None, *, slug: str | None = None, **fields):
    """A product on sale (100 kg at 25,000 ₫) of ``farm`` or of a new farm; searchable as the app makes it."""
    from shop.models import Product

    farm = farm or make_farm()
    name = name or f"Dứa Queen {next(_ids)}"
    values = dict(category="fresh", unit="kg", price_vnd=25000, stock=100, min_order_qty=1, description="Dứa ngọt.")
    values.update(fields)
    made = Product(farm=farm, name=name, slug=slug or slugify(name),
                   search_text=fold(" ".join((name, values["description"], farm.name, farm.village))), **values)
    db.session.add(made)
    db.session.commit()
    return made


# -- visits -----------------------------------------------------------------------------------------------------

def make_tour(farm=None, **fields):
    """A visit of ``farm`` (or of a new farm): 150,000 ₫ an adult, 50,000 ₫ a child, 10 people a time."""
    from tours.models import Tour

    farm = farm or make_farm()
    n = next(_ids)
    values = dict(title=f"Tham quan đồi dứa {n}", slug=f"tham-quan-doi-dua-{n}", price_adult_vnd=150000,
                  price_child_vnd=50000, default_capacity=10, meeting_point="Cổng vườn", free_cancel_hours=48,
                  languages="vi,en", description="Hái dứa, nếm dứa.")
    values.update(fields)
    made = Tour(farm_id=farm.id, **values)
    db.session.add(made)
    db.session.commit()
    return made


def make_slot(tour=None, *, starts_at: datetime | None = None, capacity: int = 10, seats_taken: int = 0,
              status: str = "open", farm=None, **tour_fields):
    """A time slot of ``tour``, five days after NOW unless ``starts_at``; without a tour, a new one of ``farm``
    (``tour_fields`` for it, e.g. ``title=``, ``max_party=``) whose usual group is ``capacity``."""
    from tours.models import TourSlot

    if tour is None:
        tour = make_tour(farm, **{"default_capacity": capacity, **tour_fields})
    elif farm is not None or tour_fields:
        raise TypeError("farm and tour fields are for a new tour, not for the one given")
    made = TourSlot(tour_id=tour.id, starts_at=starts_at or NOW + timedelta(days=5), capacity=capacity,
                    seats_taken=seats_taken, status=status)
    db.session.add(made)
    db.session.commit()
    return made


# -- carts and orders -------------------------------------------------------------------------------------------

def buyer_details(name: str = "Trịnh Thị Mai", phone: str = "0987654321", email: str = "mai@example.vn",
                  **fields) -> checkout.Buyer:
    """The contact details a buyer types at checkout (``note=``, ``locale=`` too)."""
    return checkout.Buyer(name=name, phone=phone, email=email, **fields)


def make_cart(*items, now: datetime = NOW, store=None):
    """A cart (a new guest's unless ``store``) holding ``items``, added as the cart pages add them:
    ``(product, quantity)`` or ``(slot, adults, children)``."""
    from tours import visit_lines
    from tours.models import TourSlot

    store = store if store is not None else MemoryStore()
    for item in items:
        if isinstance(item[0], TourSlot):
            slot, adults, children = item
            visit_lines.add_visit(store, slot.id, str(adults), str(children), now=now)
        else:
            carts.add_product(store, item[0].id, str(item[1]))
    return store


def place(store, *, user=None, buyer=None, fulfilments: dict | None = None, fulfilment: str = "farm_pickup",
          method: str = "vietqr", shown_total: int | None = None, token: str | None = None, now: datetime = NOW,
          hold: int = 30, **checkout_args):
    """Place the cart in ``store`` through checkout, as the buyer confirmed it: the total checkout shows
    unless ``shown_total``, each farm's ``fulfilment`` unless ``fulfilments``. Not committed (the caller
    commits, or rolls back after a CheckoutError). ``checkout_args``: ``origin=``, ``limits=``,
    ``destination=`` (a delivery needs one: ``KEP_ADDRESS``, ``HANOI_ADDRESS``)."""
    if fulfilments is None or shown_total is None:
        loaded = carts.load(store, now)
        fulfilments = fulfilments or {farm.id: fulfilment for farm, _ in loaded.by_farm()}
        shown_total = checkout.totals(loaded, fulfilments, checkout_args.get("destination"))[1] \
            if shown_total is None else shown_total
    return checkout.place_order(
        store, buyer=buyer or buyer_details(), fulfilments=fulfilments, payment_method=method,
        shown_total=shown_total, checkout_token=token or f"tok-{next(_ids)}", user=user, now=now,
        hold_minutes=hold, **checkout_args)


def make_order(*items, now: datetime = NOW, **place_args):
    """An order waiting for payment for ``items`` (as in ``make_cart``), placed at ``now`` and committed
    (its 30-minute hold runs from then)."""
    placed = place(make_cart(*items, now=now), now=now, **place_args)
    db.session.commit()
    return placed


def book(slot, adults: int = 2, children: int = 0, *, product=None, qty: int | str = 1, email: str = "mai@example.vn",
         locale: str = "vi", **place_args):
    """A booking of ``slot`` for a group (and ``qty`` of ``product`` with it), placed through checkout."""
    items = [(slot, adults, children)] + ([(product, qty)] if product is not None else [])
    return make_order(*items, buyer=buyer_details(email=email, locale=locale), **place_args)


def pay(order, *, now: datetime = NOW, content: str | None = None):
    """Pay ``order`` in full: a card order as the card provider confirms it, any other by the bank's
    notification of a transfer whose content names the order."""
    from shop.payment_models import Payment

    if order.payment_method == "card":
        payment = Payment(order_id=order.id, provider="card", amount_vnd=order.total_vnd,
                          provider_ref=f"pi_test_{next(_ids)}")
        db.session.add(payment)
        db.session.flush()
        payments.confirm_payment(payment, actor_label="test", now=now)
    else:
        payments.record_bank_transfer(transaction_id=f"FT{next(_ids):010d}", amount_vnd=order.total_vnd,
                                      content=content or f"{order.reference} thanh toan", transferred_at=now,
                                      source="webhook", now=now)
    db.session.commit()
    db.session.refresh(order)
    return order
