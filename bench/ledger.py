"""Two years of income for the benched farm: 50,000 ledger entries, bulk-inserted, for the dashboard pages.

Sales of the farm's products with their platform fees, paid visits, delivery fees, a refund now and then (with
the fee given back), and a payout at every month's start (with its ``payouts`` row) — the mix
shop/ledger.py writes. The farm's current month holds about 2,000 entries, its year about 25,000.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from core.time import to_local
from shop.ledger import LedgerEntry, fee_for
from shop.models import Product
from shop.payout_models import Payout
from tours.models import Tour

ENTRIES = 50_000
DAYS = 730
FEE_BP = 500  # 5 %


def seed_ledger(db, farm_id: int, staff_id: int, now: datetime, rng: random.Random,
                entries: int = ENTRIES) -> int:
    """Insert ``entries`` ledger entries for ``farm_id`` over the last two years; returns how many."""
    products = db.session.execute(select(Product.id, Product.price_vnd).where(Product.farm_id == farm_id)).all()
    tour_id = db.session.scalar(select(Tour.id).where(Tour.farm_id == farm_id).limit(1))
    start = now - timedelta(days=DAYS)
    rows: list[dict] = []
    month, owed = None, 0
    while len(rows) < entries:
        at = start + timedelta(seconds=len(rows) * DAYS * 86400 // entries)
        local_month = to_local(at).strftime("%Y-%m")
        if month is not None and local_month != month and owed > 0:   # pay the farm what it is owed
            rows.append(_payout(db, farm_id, staff_id, at, owed))
            owed = 0
        month = local_month
        base = {"farm_id": farm_id, "occurred_at": at, "order_id": None, "farm_order_id": None,
                "order_line_id": None, "payout_id": None, "memo": ""}
        roll = rng.random()
        if tour_id and roll < 0.15:
            seats = rng.randint(1, 8)
            sale = {**base, "source": "tour", "product_id": None, "tour_id": tour_id, "quantity": seats,
                    "amount_vnd": seats * 150000}
        elif roll < 0.2:
            sale = {**base, "source": "delivery", "product_id": None, "tour_id": None, "quantity": 0,
                    "amount_vnd": 30000}
        else:
            product_id, price = rng.choice(products)
            quantity = rng.randint(1, 20)
            sale = {**base, "source": "produce", "product_id": product_id, "tour_id": None, "quantity": quantity,
                    "amount_vnd": quantity * price}
        fee = fee_for(sale["amount_vnd"], FEE_BP) if sale["source"] != "delivery" else 0
        rows.append({**sale, "kind": "sale"})
        owed += sale["amount_vnd"] - fee
        if fee:
            rows.append({**sale, "kind": "fee", "amount_vnd": -fee, "quantity": 0})
        if rng.random() < 0.03:  # refunded later the same day
            later = {**sale, "occurred_at": at + timedelta(hours=2)}
            rows.append({**later, "kind": "refund", "amount_vnd": -sale["amount_vnd"],
                         "quantity": -sale["quantity"]})
            owed -= sale["amount_vnd"] - fee
            if fee:
                rows.append({**later, "kind": "fee_refund", "amount_vnd": fee, "quantity": 0})
    rows = rows[:entries]
    db.session.execute(insert(LedgerEntry.__table__), rows)
    return len(rows)


def _payout(db, farm_id: int, staff_id: int, at: datetime, amount: int) -> dict:
    payout = Payout(farm_id=farm_id, amount_vnd=amount, paid_on=to_local(at).date(),
                    bank_reference=f"FT{to_local(at):%y%m%d}{farm_id:05d}", recorded_by_id=staff_id, created_at=at,
                    form_token=f"bench-{farm_id}-{at:%Y%m%d%H%M%S}")
    db.session.add(payout)
    db.session.flush()
    return {"farm_id": farm_id, "occurred_at": at, "kind": "payout", "source": "payout", "amount_vnd": -amount,
            "quantity": 0, "order_id": None, "farm_order_id": None, "order_line_id": None, "product_id": None,
            "tour_id": None, "payout_id": payout.id, "memo": ""}
