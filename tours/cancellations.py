"""Cancelling visits: one booking by its buyer (before the tour's deadline), or a whole
time by the farm (weather, harvest) with every booking on it cancelled and refunded.

Money goes back through the payment it came with (shop.payments.refund_line): card
refunds are booked here and sent to Stripe after the commit (payments.send_pending_refunds),
bank-transfer refunds wait as tasks for commune staff.

Locks follow the app's one lock order (shop.checkout's docstring): orders first (in id order),
then their tickets, farm orders and payments, then products, then the slot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select, update

from core import audit
from core.domain import DomainError
from core.extensions import db
from shop import checkout, payments
from shop.order_models import FarmOrder, Order, OrderLine
from shop.payment_models import Refund
from tours import notices, resources, waitlist
from tours.labels import CANCEL_REASONS, visit_when
from tours.manage import TourError, check, record
from tours.models import TICKET_MOVES, Ticket, TourSlot
from tours.services import suggest_slots
from tours.tickets import booking_state, cancel_deadline


class BookingError(DomainError):
    """A booking that the visitor can no longer cancel."""


def policy_text(ticket: Ticket):
    tour = ticket.line.slot.tour
    return _l("Free cancellation until %(deadline)s (%(hours)d hours before the visit).",
              deadline=visit_when(cancel_deadline(ticket)), hours=tour.free_cancel_hours)


def cancel_booking(ticket: Ticket, actor, now: datetime) -> Refund | None:
    """The buyer cancels a paid visit before the deadline: the full price of the line is refunded."""
    state = booking_state(ticket)
    if state == "cancelled":
        raise BookingError(_l("This booking is already cancelled."))
    if state == "checked_in":
        raise BookingError(_l("This group has already been checked in; the booking can no longer be cancelled."))
    if state != "valid":
        raise BookingError(_l("This booking is not paid, so there is nothing to cancel here."))
    if now >= cancel_deadline(ticket):
        farm = ticket.line.slot.tour.farm
        raise BookingError(_l("Sorry, it is too late to cancel online. %(policy)s Please call the farm: %(phone)s.",
                              policy=policy_text(ticket), phone=farm.owner.phone))
    checkout.lock_order(ticket.line.farm_order.order_id)
    if not TICKET_MOVES.move(and_(Ticket.id == ticket.id, Ticket.checked_in_at.is_(None)), "valid", "cancelled",
                             cancelled_at=now, cancelled_by="buyer"):
        raise BookingError(_l("This booking was changed meanwhile. Please reload the page."))
    db.session.refresh(ticket)
    try:
        refund = payments.refund_line(ticket.line, actor, now, reason="visit_cancelled")
    except payments.PaymentError as error:
        raise BookingError(error.message) from error
    audit.record("ticket.cancelled", "ticket", ticket.id, actor=actor, actor_label=None if actor else "buyer-link",
                 from_state="valid", to_state="cancelled",
                 details={"refund_id": refund.id if refund else None, "slot_id": ticket.line.slot_id})
    notices.booking_cancelled(ticket, refund)
    return refund


@dataclass
class SlotCancelled:
    refunds: list[Refund] = field(default_factory=list)
    paid_bookings: int = 0
    unpaid_orders: int = 0
    waiting_told: int = 0


def cancel_slot(actor, farm, slot: TourSlot, reason: str, note: str, now: datetime) -> SlotCancelled:
    """The farm cancels a time: no more bookings, every paid booking refunded, every unpaid order holding
    seats on it cancelled, and each buyer told with other times suggested."""
    check(actor, farm, slot.tour)
    if reason not in CANCEL_REASONS:
        raise TourError(_l("Choose why the visit is cancelled."), "reason")
    note = " ".join((note or "").split())
    if len(note) > 300:
        raise TourError(_l("The text is too long (at most %(max)d characters).", max=300), "note")
    if slot.starts_at <= now:
        raise TourError(_l("This visit has already started, so it can no longer be cancelled."))
    from_state = slot.status
    orders = lock_and_cancel(slot, reason, note, now)
    record("slot.cancelled", "slot", slot.id, actor, farm, from_state=from_state, to_state="cancelled",
           details={"reason": reason, "note": note})
    result = SlotCancelled()
    for order in orders:
        lines = lines_on(order, slot)
        if cancel_unpaid_on(order, lines, slot, actor, now):
            result.unpaid_orders += 1
            continue
        for line in lines:
            refund = _cancel_paid_line(line, actor, now)
            if refund is False:
                continue
            result.paid_bookings += 1
            if refund is not None:
                result.refunds.append(refund)
            notices.slot_cancelled(order, line, slot, refund, suggest_slots(slot, line.quantity, now), paid=True)
    result.waiting_told = waitlist.close_for_cancelled(slot, now)
    return result


def lock_and_cancel(slot: TourSlot, reason: str, note: str, now: datetime) -> list[Order]:
    """Cancel the slot in the lock order and hand back the orders holding it, locked: those orders first, in id
    order (a payment confirmed meanwhile waits for this change), then the shared resources of every slot they
    hold, then the slot. An order placed between the two is locked after the slot (its checkout has committed, so
    only its buyer cancelling it at this very moment could collide, and that deadlock is retried)."""
    orders = _lock_orders_on(slot, set())
    resources.lock_for_slots({line.slot_id for order in orders for farm_order in order.farm_orders
                              for line in farm_order.lines if line.slot_id} | {slot.id})  # before any slot
    changed = db.session.execute(
        update(TourSlot).where(TourSlot.id == slot.id, TourSlot.status.in_(("open", "closed")))
        .values(status="cancelled", cancel_reason=reason, cancel_note=note or None, cancelled_at=now)
        .execution_options(synchronize_session=False))
    db.session.refresh(slot)
    if changed.rowcount != 1:
        raise TourError(_l("This visit is already cancelled."))
    return orders + _lock_orders_on(slot, {order.id for order in orders})


def lines_on(order: Order, slot: TourSlot) -> list[OrderLine]:
    return [line for farm_order in order.farm_orders for line in farm_order.lines if line.slot_id == slot.id]


def cancel_unpaid_on(order: Order, lines: list[OrderLine], slot: TourSlot, actor, now: datetime) -> bool:
    """An unpaid order holding the cancelled slot is cancelled whole, and told; False for a paid one."""
    if order.status != "pending_payment":
        return False
    checkout.cancel_unpaid(order, actor, now)
    for line in lines:
        notices.slot_cancelled(order, line, slot, None, suggest_slots(slot, line.quantity, now), paid=False)
    return True


def _lock_orders_on(slot: TourSlot, already: set[int]) -> list[Order]:
    """Lock (in id order) the unpaid or paid orders with a line on this slot, except ``already``."""
    order_ids = set(db.session.scalars(select(FarmOrder.order_id)
                                       .join(OrderLine, OrderLine.farm_order_id == FarmOrder.id)
                                       .where(OrderLine.slot_id == slot.id))) - already
    if not order_ids:
        return []
    return list(db.session.scalars(select(Order).where(Order.id.in_(order_ids),
                                                       Order.status.in_(("pending_payment", "paid")))
                                   .order_by(Order.id).with_for_update()
                                   .execution_options(populate_existing=True)))


def _cancel_paid_line(line: OrderLine, actor, now: datetime):
    """Cancel the ticket and refund the line; False when it was already cancelled or refunded."""
    if line.farm_order.status in ("cancelled", "expired"):
        return False
    ticket = db.session.scalar(select(Ticket).where(Ticket.order_line_id == line.id))
    if ticket is not None:
        if not TICKET_MOVES.move(ticket.id, "valid", "cancelled", cancelled_at=now, cancelled_by="slot"):
            return False
    try:
        return payments.refund_line(line, actor, now, reason="slot_cancelled")
    except payments.PaymentError:
        return False
