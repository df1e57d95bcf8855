"""The append-only ledger every income figure comes from.

Entries are written when money moves and never updated or deleted. Signs:
sale +, fee -, refund -, fee_refund +, payout -. A farm's net income is the sum
of its sale, fee, refund and fee_refund entries; its balance owed adds payouts. What of it is pending (its
farm order not delivered yet) and what is available to pay out is read from these entries by shop/balances.py.

A sale and its fee carry ``fee_bp``, the platform fee rate (basis points, 100 = 1 %) that applied to the sale, so
the farmer sees the rule each sale was charged by (there is one rule: the rate staff set, applied to products
and visits, never to delivery fees). Entries written before the rate was kept have none.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from core import settings_store
from core.extensions import BigIntPK, db
from core.time import utcnow

KINDS = ("sale", "fee", "refund", "fee_refund", "payout")
SOURCES = ("produce", "tour", "delivery", "payout")


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('sale', 'fee', 'refund', 'fee_refund', 'payout')", name="kind"),
        CheckConstraint("source IN ('produce', 'tour', 'delivery', 'payout')", name="source"),
        CheckConstraint("(kind IN ('sale', 'fee_refund') AND amount_vnd >= 0) OR "
                        "(kind IN ('fee', 'refund', 'payout') AND amount_vnd <= 0)", name="sign"),
        # For the income dashboard (farmers/dashboard.py): a farm's entries of a period, and balances summed
        # from the index alone.
        Index("ix_ledger_entries_farm_occurred", "farm_id", "occurred_at"),
        Index("ix_ledger_entries_farm_kind_amount", "farm_id", "kind", "amount_vnd"),
        # For the pending sums (shop/balances.py): the entries of the farm's open farm orders, from the index.
        Index("ix_ledger_entries_farm_order", "farm_order_id", "order_line_id", "amount_vnd"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(10))
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    # Units sold (or seats), positive on sale, negative on refund; 0 otherwise.
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    farm_order_id: Mapped[int | None] = mapped_column(ForeignKey("farm_orders.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    tour_id: Mapped[int | None] = mapped_column(ForeignKey("tours.id"))
    payout_id: Mapped[int | None] = mapped_column(Integer)
    # The platform fee rate of the sale (on its sale, fee and fee_refund entries), in basis points.
    fee_bp: Mapped[int | None] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(String(200), default="")


@event.listens_for(LedgerEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("ledger entries are append-only")


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("ledger entries are append-only")


def fee_for(amount_vnd: int, fee_basis_points: int) -> int:
    """The platform fee on an amount, in whole dong, rounded half up."""
    return (amount_vnd * fee_basis_points + 5000) // 10000


def record_sale(farm_order, occurred_at: datetime, fee_basis_points: int) -> list[LedgerEntry]:
    """Sale and fee entries for every line of a farm order that was just paid (and its delivery fee)."""
    entries = []
    for line in farm_order.lines:
        source = "tour" if line.slot_id else "produce"
        tour_id = line.slot.tour_id if line.slot_id else None
        common = dict(farm_id=farm_order.farm_id, occurred_at=occurred_at, source=source,
                      order_id=farm_order.order_id, farm_order_id=farm_order.id, order_line_id=line.id,
                      product_id=line.product_id, tour_id=tour_id, fee_bp=fee_basis_points)
        entries.append(LedgerEntry(kind="sale", amount_vnd=line.line_total_vnd, quantity=line.quantity, **common))
        fee = fee_for(line.line_total_vnd, fee_basis_points)
        if fee:
            entries.append(LedgerEntry(kind="fee", amount_vnd=-fee, **common))
    if farm_order.delivery_fee_vnd:
        entries.append(LedgerEntry(farm_id=farm_order.farm_id, occurred_at=occurred_at, source="delivery",
                                   kind="sale", amount_vnd=farm_order.delivery_fee_vnd,
                                   order_id=farm_order.order_id, farm_order_id=farm_order.id))
    db.session.add_all(entries)
    return entries


def reverse_sales(occurred_at: datetime, *where) -> set[int]:
    """Reverse the sale and fee entries matching ``where`` whose line was not reversed yet (append-only: new
    refund and fee_refund entries). Returns the ids of the lines that had been reversed before.

    A line is reversed once: its reversal is the refund entry with a negative quantity (the seats or units
    given back). A part of a line given back earlier (``reverse_line_part``: a visit moved to a date that costs
    less) has quantity 0 and is taken off the line's reversal, so that the line nets to 0."""
    entries = db.session.scalars(db.select(LedgerEntry).where(
        *where, LedgerEntry.kind.in_(("sale", "fee", "refund", "fee_refund")))).all()
    done = {e.order_line_id for e in entries
            if e.kind == "refund" and e.order_line_id is not None and e.quantity < 0}
    given_back: dict[tuple[int, str], int] = {}  # (line, "sale" or "fee") -> what its parts gave back already
    for e in entries:
        if e.kind in ("refund", "fee_refund") and e.order_line_id is not None and e.order_line_id not in done:
            side = "sale" if e.kind == "refund" else "fee"
            given_back[(e.order_line_id, side)] = given_back.get((e.order_line_id, side), 0) + e.amount_vnd
    reversals = []
    for e in entries:
        if e.kind not in ("sale", "fee") or (e.order_line_id is not None and e.order_line_id in done):
            continue
        amount = -e.amount_vnd - given_back.pop((e.order_line_id, e.kind), 0)
        reversals.append(LedgerEntry(
            farm_id=e.farm_id, occurred_at=occurred_at, source=e.source,
            kind="refund" if e.kind == "sale" else "fee_refund", amount_vnd=amount, quantity=-e.quantity,
            order_id=e.order_id, farm_order_id=e.farm_order_id, order_line_id=e.order_line_id,
            product_id=e.product_id, tour_id=e.tour_id, fee_bp=e.fee_bp))
    db.session.add_all(reversals)
    return done


def reverse_line_part(line, amount_vnd: int, occurred_at: datetime) -> list[LedgerEntry]:
    """Part of one line given back while the line stands (a visit moved to a date that costs less): a refund
    entry of the amount and a fee_refund of the fee it no longer carries (the line's fee on its old total less
    the fee on its new one, at the rate of its sale), both on the line with quantity 0 (no seat given back)."""
    sale = db.session.scalar(db.select(LedgerEntry).where(LedgerEntry.order_line_id == line.id,
                                                          LedgerEntry.kind == "sale").order_by(LedgerEntry.id))
    if sale is None:
        return []
    common = dict(farm_id=sale.farm_id, occurred_at=occurred_at, source=sale.source, order_id=sale.order_id,
                  farm_order_id=sale.farm_order_id, order_line_id=line.id, product_id=sale.product_id,
                  tour_id=sale.tour_id, fee_bp=sale.fee_bp, quantity=0)
    entries = [LedgerEntry(kind="refund", amount_vnd=-amount_vnd, **common)]
    before = line.line_total_vnd
    fee_back = fee_for(before, sale.fee_bp or 0) - fee_for(before - amount_vnd, sale.fee_bp or 0)
    if fee_back > 0 and db.session.scalar(db.select(LedgerEntry.id).where(
            LedgerEntry.order_line_id == line.id, LedgerEntry.kind == "fee").limit(1)):
        entries.append(LedgerEntry(kind="fee_refund", amount_vnd=fee_back, **common))
    db.session.add_all(entries)
    return entries


def reverse_part(farm_order, amount_vnd: int, occurred_at: datetime) -> list[LedgerEntry]:
    """A refund of part of a farm order, not tied to its lines (damaged fruit, a missed visit): a refund entry of
    the amount and the share of the platform fee it carried (the farm order's fees in the same proportion,
    rounded half up), so that sales − fees − refunds stays the farm's net."""
    sales = db.session.scalar(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount_vnd), 0)).where(
        LedgerEntry.farm_order_id == farm_order.id, LedgerEntry.kind == "sale"))
    fees = -db.session.scalar(db.select(db.func.coalesce(db.func.sum(LedgerEntry.amount_vnd), 0)).where(
        LedgerEntry.farm_order_id == farm_order.id, LedgerEntry.kind == "fee"))
    common = dict(farm_id=farm_order.farm_id, occurred_at=occurred_at, order_id=farm_order.order_id,
                  farm_order_id=farm_order.id, source="produce")
    entries = [LedgerEntry(kind="refund", amount_vnd=-amount_vnd, **common)]
    fee_back = (fees * amount_vnd * 2 + sales) // (2 * sales) if sales else 0
    if fee_back:
        entries.append(LedgerEntry(kind="fee_refund", amount_vnd=fee_back, **common))
    db.session.add_all(entries)
    return entries


def platform_fee_bp() -> int:
    """The platform fee in basis points (100 = 1 %), set by staff; default 0."""
    return int(settings_store.get("platform_fee_bp", "0") or 0)


def share_fee_bp(normal_bp: int) -> int | None:
    """The platform fee for a sale that came from the farm's own shared link (``FarmOrder.from_share``,
    shop/referrals.py), set by staff as ``share_fee_bp``; empty: off (None). Never more than the normal rate: the
    setting exists so that sharing pays."""
    raw = (settings_store.get("share_fee_bp", "") or "").strip()
    if not raw:
        return None
    return min(int(raw), normal_bp)


def on_order_paid(order, *, now: datetime, **_) -> None:
    """``shop.events.order_paid`` receiver: the sale and fee entries of each of the order's farm orders. A farm
    order that came from the farm's own share is charged the lower rate staff may set for those (off by default;
    shop/referrals.py)."""
    fee = platform_fee_bp()
    shared_fee = share_fee_bp(fee)
    for farm_order in order.farm_orders:
        record_sale(farm_order, now, shared_fee if farm_order.from_share and shared_fee is not None else fee)


def record_payout(payout, occurred_at: datetime) -> LedgerEntry:
    """The ledger side of a payout to a farm (shop/payouts.py holds the rules): a negative payout entry."""
    entry = LedgerEntry(farm_id=payout.farm_id, occurred_at=occurred_at, kind="payout", source="payout",
                        amount_vnd=-payout.amount_vnd, payout_id=payout.id,
                        memo=f"payout {payout.bank_reference}"[:200])
    db.session.add(entry)
    return entry
