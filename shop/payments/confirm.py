"""One idempotent confirmation for every way money arrives (a bank notification, staff, the Stripe webhook or
return page): the payment succeeds once, its order becomes paid once, and ``shop.events.order_paid`` tells
the ledger, the visit tickets and the product popularity; the messages go last.

Locks follow the app's one lock order (shop.checkout's docstring): the order's row first
(``checkout.lock_order``), then its farm orders, payments and refunds, then products and slots in id order."""
from __future__ import annotations

from datetime import datetime

from core import audit
from core.extensions import db
from shop import checkout, events, notices
from shop.order_models import FARM_ORDER_MOVES, ORDER_MOVES, FarmOrder, Order
from shop.payment_models import PAYMENT_MOVES, Payment
from shop.payments.outcome import Outcome
from shop.payments.refunds import create_refund


def confirm_payment(payment: Payment, *, actor_label: str, now: datetime, actor=None,
                    market_delay: bool = False) -> Outcome:
    """Mark ``payment`` succeeded and its order paid. Safe to call any number of times.

    ``market_delay``: the buyer paid inside the hold and only the news came late (the bank's own time says so);
    if the goods are gone, the buyer is told it was the market's delay."""
    checkout.lock_order(payment.order_id)
    if not PAYMENT_MOVES.move(payment.id, ("pending", "failed"), "succeeded", confirmed_at=now,
                              confirmed_by=actor_label):
        return Outcome.ALREADY
    db.session.refresh(payment)
    order = payment.order
    paid = ORDER_MOVES.move(order.id, "pending_payment", "paid", paid_at=now)
    db.session.refresh(order)
    if paid:
        _mark_paid(order, payment, now, actor, actor_label, from_state="pending_payment")
        return Outcome.PAID
    if order.status in ("expired", "cancelled"):
        previous = order.status
        if checkout.rereserve_lines(checkout.all_lines(order)):
            ORDER_MOVES.move(order.id, previous, "paid", paid_at=now)
            FARM_ORDER_MOVES.move(FarmOrder.order_id == order.id, previous, "pending_payment")
            db.session.refresh(order)
            _mark_paid(order, payment, now, actor, actor_label, from_state=previous)
            return Outcome.LATE_PAID
        create_refund(payment, payment.amount_vnd, reason="late_payment")
        audit.record("payment.late_refunded", "order", order.id, actor=actor, actor_label=actor_label,
                     details={"payment_id": payment.id, "amount_vnd": payment.amount_vnd})
        notices.late_payment_refunded(order, payment, market_delay=market_delay)
        return Outcome.LATE_REFUNDED
    # Already paid by another payment: give this one back.
    create_refund(payment, payment.amount_vnd, reason="duplicate_payment")
    audit.record("payment.duplicate_refunded", "order", order.id, actor=actor, actor_label=actor_label,
                 details={"payment_id": payment.id})
    notices.staff_alert(order, "duplicate_payment")
    return Outcome.DUPLICATE_REFUNDED


def _mark_paid(order: Order, payment: Payment, now: datetime, actor, actor_label: str, from_state: str) -> None:
    FARM_ORDER_MOVES.move(FarmOrder.order_id == order.id, "pending_payment", "paid")
    for farm_order in order.farm_orders:
        db.session.refresh(farm_order)  # the receivers read their new status
    events.order_paid.send(order, payment=payment, now=now, actor=actor, actor_label=actor_label,
                           from_state=from_state)
    audit.record("order.paid", "order", order.id, actor=actor, actor_label=actor_label, from_state=from_state,
                 to_state="paid", details={"payment_id": payment.id, "method": payment.provider,
                                           "amount_vnd": payment.amount_vnd})
    # Last, after every receiver: the buyer's message lists the tickets that the visits' receiver has just
    # issued (blinker does not order its receivers, so this is not one of them).
    notices.order_paid(order)
