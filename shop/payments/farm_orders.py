"""A paid farm order's life: the farmer's steps (ready, completed), and cancelling it or one of its lines,
which books the refund, reverses the ledger entries and gives the stock or seats back."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update

from core import audit
from core.extensions import db
from core.formatting import vnd
from shop import checkout, ledger, notices
from shop.ledger import LedgerEntry
from shop.order_models import FARM_ORDER_MOVES, FARMER_STEPS, FarmOrder, OrderLine
from shop.payment_models import Payment, Refund
from shop.payments.outcome import PaymentError
from shop.payments.refunds import create_refund


def move_farm_order(farm_order: FarmOrder, to_state: str, actor, now: datetime, *, on_behalf_of=None) -> None:
    """Advance a paid farm order (ready, completed) with a conditional UPDATE from its state.

    ``on_behalf_of``: the farm's owner when commune staff act for the farm (written to the audit log)."""
    from_state = farm_order.status
    if (from_state, to_state) not in FARMER_STEPS:
        raise PaymentError(_l("This order cannot be moved to that step."))
    if not FARM_ORDER_MOVES.move(farm_order.id, from_state, to_state, updated_at=now):
        raise PaymentError(_l("This order was changed meanwhile. Please reload the page."))
    db.session.refresh(farm_order)
    audit.record(f"farm_order.{to_state}", "farm_order", farm_order.id, actor=actor, on_behalf_of=on_behalf_of,
                 from_state=from_state, to_state=to_state)
    if to_state == "ready":
        notices.farm_order_ready(farm_order)


def cancel_paid_farm_order(farm_order: FarmOrder, actor, now: datetime, reason: str = "cancelled", *,
                           on_behalf_of=None) -> Refund:
    """Cancel a paid farm order: refund its share, reverse its ledger entries, give its stock back."""
    checkout.lock_order(farm_order.order_id)
    db.session.refresh(farm_order, ["refunded_vnd"])
    already = farm_order.refunded_vnd  # a visit line may have been refunded on its own (refund_line)
    if not FARM_ORDER_MOVES.move(and_(FarmOrder.id == farm_order.id, FarmOrder.refunded_vnd == already), "paid",
                                 "cancelled", refunded_vnd=FarmOrder.total_vnd, updated_at=now):
        raise PaymentError(_l("Only a paid order that is not ready yet can be cancelled."))
    db.session.refresh(farm_order)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == farm_order.order_id,
                                                      Payment.status == "succeeded").order_by(Payment.id))
    refund = create_refund(payment, farm_order.total_vnd - already, reason=reason, farm_order=farm_order)
    refunded_lines = ledger.reverse_sales(now, LedgerEntry.farm_order_id == farm_order.id)
    checkout.release_lines([line for line in farm_order.lines if line.id not in refunded_lines])
    audit.record("farm_order.cancelled", "farm_order", farm_order.id, actor=actor, on_behalf_of=on_behalf_of,
                 from_state="paid", to_state="cancelled", details={"refund_id": refund.id, "reason": reason})
    notices.farm_order_cancelled(farm_order, refund)
    return refund


def refund_line(line: OrderLine, actor, now: datetime, reason: str, *, book_refund: bool = True) -> Refund | None:
    """Refund one line of a paid farm order (a cancelled visit): its amount goes back through the payment it
    came with, only its own ledger entries are reversed, its seats (or stock) are given back, and the farm
    order is cancelled once all of it has been refunded. None when the line cost nothing.

    ``book_refund=False``: everything but the refund on the payment (the buyer keeps the amount as a visit
    credit instead: shop/credits.py); the money stays with the market."""
    farm_order = line.farm_order
    checkout.lock_order(farm_order.order_id)
    amount = line.line_total_vnd
    if db.session.scalar(select(LedgerEntry.id).where(  # its reversal (a part given back earlier has quantity 0)
            LedgerEntry.order_line_id == line.id, LedgerEntry.kind == "refund", LedgerEntry.quantity < 0).limit(1)):
        raise PaymentError(_l("This line was already refunded."))
    booked = db.session.execute(
        update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status.in_(("paid", "ready", "completed")),
                                FarmOrder.refunded_vnd + amount <= FarmOrder.total_vnd)
        .values(refunded_vnd=FarmOrder.refunded_vnd + amount, updated_at=now)
        .execution_options(synchronize_session=False))
    if booked.rowcount != 1:
        raise PaymentError(_l("This line can no longer be refunded."))
    refund = None
    if amount > 0 and book_refund:
        payment = db.session.scalar(select(Payment).where(Payment.order_id == farm_order.order_id,
                                                          Payment.status == "succeeded").order_by(Payment.id))
        refund = create_refund(payment, amount, reason=reason, farm_order=farm_order)
    ledger.reverse_sales(now, LedgerEntry.order_line_id == line.id)
    checkout.release_lines([line])
    db.session.refresh(farm_order)
    from_state = farm_order.status
    if farm_order.refunded_vnd >= farm_order.total_vnd and from_state in ("paid", "ready"):
        FARM_ORDER_MOVES.move(farm_order.id, from_state, "cancelled", updated_at=now)
        db.session.refresh(farm_order)
        audit.record("farm_order.cancelled", "farm_order", farm_order.id, actor=actor, from_state=from_state,
                     to_state="cancelled", details={"reason": reason})
    audit.record("order_line.refunded", "order_line", line.id, actor=actor, actor_label=None if actor else "system",
                 details={"amount_vnd": amount, "reason": reason, "refund_id": refund.id if refund else None})
    return refund


def refund_line_part(line: OrderLine, amount_vnd: int, actor, now: datetime, *, reason: str) -> Refund:
    """Give back part of one line of a paid farm order that stays booked (a visit moved to a date that costs
    less): the amount goes back through the payment it came with, the line's total drops by it (a later
    cancellation refunds only what is left) and the ledger takes that part and its fee back. The caller holds
    the order's lock (step 1 of shop.checkout's lock order) or it is taken here."""
    farm_order = line.farm_order
    checkout.lock_order(farm_order.order_id)
    if amount_vnd <= 0 or amount_vnd > line.line_total_vnd:
        raise PaymentError(_l("This line can no longer be refunded."))
    booked = db.session.execute(
        update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status.in_(("paid", "ready", "completed")),
                                FarmOrder.refunded_vnd + amount_vnd <= FarmOrder.total_vnd)
        .values(refunded_vnd=FarmOrder.refunded_vnd + amount_vnd, updated_at=now)
        .execution_options(synchronize_session=False))
    if booked.rowcount != 1:
        raise PaymentError(_l("This line can no longer be refunded."))
    payment = db.session.scalar(select(Payment).where(Payment.order_id == farm_order.order_id,
                                                      Payment.status == "succeeded").order_by(Payment.id))
    refund = create_refund(payment, amount_vnd, reason=reason, farm_order=farm_order)
    ledger.reverse_line_part(line, amount_vnd, now)  # reads the line's total before it drops
    line.line_total_vnd -= amount_vnd
    db.session.flush()
    db.session.refresh(farm_order)
    audit.record("order_line.part_refunded", "order_line", line.id, actor=actor,
                 actor_label=None if actor else "system",
                 details={"amount_vnd": amount_vnd, "reason": reason, "refund_id": refund.id})
    return refund


def refund_farm_order(farm_order: FarmOrder, amount_vnd: int, staff, now: datetime, *, note: str) -> Refund:
    """Commune staff give back all or part of a paid farm order in any state after payment (damaged fruit, a
    missed visit), with the reason: the refund goes through the payment the money came with, the ledger takes
    the refund and its share of the fee back, and the farm order keeps its state (what was delivered was)."""
    checkout.lock_order(farm_order.order_id)
    booked = db.session.execute(
        update(FarmOrder).where(FarmOrder.id == farm_order.id, FarmOrder.status.in_(("paid", "ready", "completed")),
                                FarmOrder.refunded_vnd + amount_vnd <= FarmOrder.total_vnd)
        .values(refunded_vnd=FarmOrder.refunded_vnd + amount_vnd, updated_at=now)
        .execution_options(synchronize_session=False))
    if amount_vnd <= 0 or booked.rowcount != 1:
        raise PaymentError(_l("At most %(amount)s of this farm order can still be refunded.",
                              amount=vnd(max(0, farm_order.total_vnd - farm_order.refunded_vnd))), field="amount_vnd")
    payment = db.session.scalar(select(Payment).where(Payment.order_id == farm_order.order_id,
                                                      Payment.status == "succeeded").order_by(Payment.id))
    refund = create_refund(payment, amount_vnd, reason="after_delivery", farm_order=farm_order)
    refund.note = note.strip()
    ledger.reverse_part(farm_order, amount_vnd, now)
    db.session.refresh(farm_order)
    audit.record("farm_order.refunded", "farm_order", farm_order.id, actor=staff,
                 details={"amount_vnd": amount_vnd, "refund_id": refund.id, "note": refund.note})
    notices.refund_after_delivery(farm_order, refund)
    return refund
