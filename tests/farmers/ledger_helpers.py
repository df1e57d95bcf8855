"""Ledger entries for income tests, written straight into the append-only ledger, and a query counter."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from core.extensions import db
from shop.ledger import LedgerEntry


def sale(farm, at: datetime, amount: int, *, quantity: int = 1, fee: int = 0, product=None, tour=None,
         source: str | None = None, order_id: int | None = None) -> None:
    """A sale (and its platform fee) the way shop/ledger.record_sale writes it."""
    source = source or ("tour" if tour is not None else "produce")
    common = dict(farm_id=farm.id, occurred_at=at, source=source, order_id=order_id,
                  product_id=getattr(product, "id", None), tour_id=getattr(tour, "id", None))
    db.session.add(LedgerEntry(kind="sale", amount_vnd=amount, quantity=quantity, **common))
    if fee:
        db.session.add(LedgerEntry(kind="fee", amount_vnd=-fee, quantity=0, **common))
    db.session.commit()


def refund(farm, at: datetime, amount: int, *, quantity: int = 1, fee: int = 0, product=None, tour=None) -> None:
    """A refund (and the fee given back) the way shop/ledger.reverse_sales writes it."""
    source = "tour" if tour is not None else "produce"
    common = dict(farm_id=farm.id, occurred_at=at, source=source, product_id=getattr(product, "id", None),
                  tour_id=getattr(tour, "id", None))
    db.session.add(LedgerEntry(kind="refund", amount_vnd=-amount, quantity=-quantity, **common))
    if fee:
        db.session.add(LedgerEntry(kind="fee_refund", amount_vnd=fee, quantity=0, **common))
    db.session.commit()


def bulk(farm, count: int, start: datetime, *, product=None, tour=None, spread: timedelta = timedelta(days=28),
         amount: int = 50000, fee: int = 2500) -> None:
    """``count`` entries (sales with their fees, one refund in ten) spread over ``spread`` from ``start``."""
    rows = []
    step = spread / max(count, 1)
    for i in range(count):
        at = start + step * i
        on_tour = tour is not None and i % 3 == 0
        base = dict(farm_id=farm.id, occurred_at=at, source="tour" if on_tour else "produce",
                    product_id=None if on_tour else getattr(product, "id", None),
                    tour_id=getattr(tour, "id", None) if on_tour else None, memo="", order_id=None)
        if i % 10 == 9:
            rows.append(dict(base, kind="refund", amount_vnd=-amount, quantity=-1))
        elif i % 2:
            rows.append(dict(base, kind="fee", amount_vnd=-fee, quantity=0))
        else:
            rows.append(dict(base, kind="sale", amount_vnd=amount, quantity=2))
    db.session.execute(insert(LedgerEntry), rows)
    db.session.commit()


