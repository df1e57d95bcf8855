"""Moving a paid booking to another time of the same tour, in one transaction: by the visitor until the free
cancellation deadline, or by the farm (``by_farm``: another date offered after rain).

What moves: the order line's ``slot_id``. The ticket keeps its code and its QR, so the farmer's manifest, the
calendar feed, the check-in, the reminders and the ledger (entries by line and tour) all follow the line; the
reminder of the day before is sent again for the new date.

No seat is counted twice or lost during the move:

- locks follow shop.checkout's lock order: the order first (``checkout.lock_order``: a second submit of the same
  move waits here, then finds the line moved and changes nothing), then what belongs to it (the line, the ticket,
  a refund), then both slots in id order (SELECT ... FOR UPDATE), then the old slot's waiting list;
- the new slot's seats are taken with the guarded UPDATE (``services.reserve_seats``, backed by the CHECK on
  seats_taken) *before* the old slot's are given back; if they are not there, the caller rolls back and the
  booking stays where it was;
- the line moves with a conditional UPDATE from its old slot, and the ticket only while valid and not checked in;
- the seats freed on the old slot are offered to its waiting list while its row is locked (``waitlist``).

Price: the party is priced at the tour's prices now. A lower total: the difference goes back through the payment
it came with (``payments.refund_line_part``: a partial refund; the line's total drops, so a later cancellation
refunds only what is left). A higher total: the visitor cannot move online (the rule of this market: the price of
a visit may only go down in a move made online; they are asked to call the farm), and the farm (``by_farm``)
moves it at the price paid, the difference being the farm's. The same total: the booking moves at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core import audit
from core.domain import DomainError
from core.extensions import db
from shop import checkout, payments
from shop.order_models import OrderLine
from shop.payment_models import Refund
from tours import notices, resources, services, waitlist
from tours.models import Ticket, TourSlot
from tours.tickets import booking_state, cancel_deadline

MAX_CHOICES = 60


class RebookError(DomainError):
    """A move that cannot be made; ``reason``: deadline, cancelled, checked_in, unpaid, same_slot, other_tour,
    not_bookable, full, price_up, changed."""

    def __init__(self, message, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Moved:
    """A booking moved: from and to which slot, the refund of a lower price (None when there is none), and the
    difference of the line's total (new less old: negative when refunded, 0 when the farm kept the price)."""
    ticket: Ticket
    from_slot: TourSlot
    to_slot: TourSlot
    refund: Refund | None
    difference_vnd: int


def new_total(line: OrderLine, tour) -> int:
    """What the line's party costs at the tour's prices now."""
    return tour.price_adult_vnd * line.adults + tour.price_child_vnd * line.children


def difference(ticket: Ticket) -> int:
    """How much more (positive) or less (negative) the party costs now than was paid for the line."""
    return new_total(ticket.line, ticket.line.slot.tour) - ticket.line.line_total_vnd


def can_rebook(ticket: Ticket, now: datetime) -> bool:
    """The visitor may move the booking online: valid, and before the free-cancellation deadline (same rule)."""
    return booking_state(ticket) == "valid" and now < cancel_deadline(ticket)


def choices(ticket: Ticket, now: datetime) -> list[TourSlot]:
    """The tour's other times that can be booked now and have room for the whole party (1 query)."""
    return services.suggest_slots(ticket.line.slot, ticket.line.quantity, now, limit=MAX_CHOICES)


def _farm_phone(ticket: Ticket) -> str:
    return ticket.line.slot.tour.farm.owner.phone


def _check_ticket(ticket: Ticket, now: datetime, by_farm: bool) -> None:
    """The booking itself may move (read again under the order's lock by the caller)."""
    line = ticket.line
    farm_order = line.farm_order
    if ticket.status != "valid" or farm_order.status in ("cancelled", "expired") or (
            not by_farm and booking_state(ticket) == "cancelled"):
        raise RebookError(_l("This booking is cancelled, so its date can no longer be changed."), "cancelled")
    if ticket.checked_in_at is not None:
        raise RebookError(_l("This group has already been checked in; the date can no longer be changed."),
                          "checked_in")
    if farm_order.order.status != "paid":
        raise RebookError(_l("This booking is not paid, so its date cannot be changed here."), "unpaid")
    if not by_farm and now >= cancel_deadline(ticket):
        raise RebookError(_l("Sorry, it is too late to change the date online. Please call the farm: %(phone)s.",
                             phone=_farm_phone(ticket)), "deadline")


def _check_target(ticket: Ticket, from_slot_id: int, to_slot: TourSlot, now: datetime, by_farm: bool) -> None:
    if to_slot.id == from_slot_id:
        raise RebookError(_l("Your booking is already at this time. Please choose another one."), "same_slot")
    if to_slot.tour_id != ticket.line.slot.tour_id:
        raise RebookError(_l("This time is for another visit. Please choose one from the list."), "other_tour")
    tour = to_slot.tour
    starts_too_soon = to_slot.starts_at <= (now if by_farm else services.booking_cutoff(now))
    if (tour.status != "active" or tour.farm.status != "approved" or to_slot.status != "open"
            or starts_too_soon):
        raise RebookError(_l("This time can no longer be booked. Please choose another one."), "not_bookable")


def _lock_slots(*slot_ids: int) -> dict[int, TourSlot]:
    """The shared guides and vehicles both slots' tours use, then the slots' rows in id order, read fresh (the
    resources before the slots, as in the lock order)."""
    resources.lock_for_slots(slot_ids)
    return {slot.id: slot for slot in db.session.scalars(
        select(TourSlot).where(TourSlot.id.in_(slot_ids)).order_by(TourSlot.id).with_for_update()
        .execution_options(populate_existing=True))}


def move_booking(ticket: Ticket, to_slot: TourSlot, actor, now: datetime, *, by_farm: bool = False,
                 expect_difference_vnd: int | None = None) -> Moved:
    """Move a paid booking (its order line, keeping the ticket) to ``to_slot`` of the same tour, in the caller's
    transaction (it flushes; the caller commits, and rolls back on RebookError: then nothing has changed).

    The visitor (``actor``: the buyer's account, or None for the holder of the ticket's link) may move until the
    free-cancellation deadline, to a bookable time (after the booking cut-off) with room for the whole party, at
    the same or a lower price (a lower one is refunded at once, partially, through the original payment); a
    higher price is refused (reason "price_up": the visitor calls the farm).
    ``by_farm=True`` (the farm offering another date, e.g. after rain; ``actor`` the farmer or None for a job):
    no deadline, the old slot may be closed or cancelled, the new one need only start later than ``now``, and
    the visitor never pays more (a higher price is the farm's; a lower one is refunded).
    ``expect_difference_vnd``: the price difference the visitor was shown; refused (reason "changed") when the
    tour's price changed meanwhile.

    Raises RebookError (with ``reason``) and changes nothing when the move cannot be made: a cancelled, unpaid or
    checked-in booking, the deadline passed, the same slot, another tour's slot, a time no longer bookable, not
    enough seats (reason "full"), or the booking changed meanwhile (a double submit: it moves once). Seats:
    reserved on the new slot before they are released on the old one, and offered there to the waiting list.
    The visitor gets ``visit_rebooked`` and the farmer ``farm_visit_rebooked`` (both queued in this transaction).
    """
    line = ticket.line
    from_slot_id = line.slot_id
    _check_ticket(ticket, now, by_farm)
    _check_target(ticket, from_slot_id, to_slot, now, by_farm)

    checkout.lock_order(line.farm_order.order_id)  # step 1; a second submit of this move waits here
    db.session.refresh(line)
    db.session.refresh(ticket)
    db.session.refresh(line.farm_order)
    if line.slot_id != from_slot_id:
        raise RebookError(_l("This booking was changed meanwhile. Please look at its date again."), "changed")
    _check_ticket(ticket, now, by_farm)

    tour = to_slot.tour
    old_total = line.line_total_vnd
    change = new_total(line, tour) - old_total
    if change > 0 and not by_farm:
        raise RebookError(_l("The price of this visit has gone up since you booked, so the date cannot be changed "
                             "online. Please call the farm: %(phone)s.", phone=_farm_phone(ticket)), "price_up")
    if expect_difference_vnd is not None and change != expect_difference_vnd:
        raise RebookError(_l("The price of this visit changed meanwhile. Please look at it again."), "changed")

    refund = None
    if change < 0:  # step 2: the refund belongs to the order, whose lock is held
        try:
            refund = payments.refund_line_part(line, -change, actor, now, reason="visit_rebooked")
        except payments.PaymentError as error:
            raise RebookError(error.message, "changed") from error
    if change <= 0:  # the line now carries today's prices; a higher price kept by the farm leaves them as paid
        line.unit_price_vnd, line.child_price_vnd = tour.price_adult_vnd, tour.price_child_vnd

    seats = line.quantity
    locked = _lock_slots(from_slot_id, to_slot.id)  # resources, then slots in id order
    from_slot, to_slot = locked[from_slot_id], locked[to_slot.id]
    _check_target(ticket, from_slot_id, to_slot, now, by_farm)  # read fresh under its lock
    if not services.reserve_seats(to_slot.id, seats):
        raise RebookError(_l("Sorry, this time has just filled up. Please choose another one."), "full")
    moved = db.session.execute(
        update(OrderLine).where(OrderLine.id == line.id, OrderLine.slot_id == from_slot_id)
        .values(slot_id=to_slot.id).execution_options(synchronize_session=False))
    kept = db.session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.status == "valid", Ticket.checked_in_at.is_(None))
        .values(reminded_at=None).execution_options(synchronize_session=False))
    if moved.rowcount != 1 or kept.rowcount != 1:
        raise RebookError(_l("This booking was changed meanwhile. Please look at its date again."), "changed")
    services.release_seats(from_slot_id, seats)
    db.session.flush()
    db.session.refresh(line)
    db.session.refresh(ticket)
    for slot in (from_slot, to_slot):
        db.session.refresh(slot)
    waitlist.offer_free_seats(from_slot_id, now)  # the old slot's row is locked: its list is offered what freed

    audit.record("ticket.moved", "ticket", ticket.id, actor=actor,
                 actor_label=None if actor else ("farm" if by_farm else "buyer-link"),
                 details={"from_slot_id": from_slot_id, "to_slot_id": to_slot.id, "seats": seats,
                          "by_farm": by_farm, "old_total_vnd": old_total, "new_total_vnd": line.line_total_vnd,
                          "refund_id": refund.id if refund else None})
    notices.booking_moved(ticket, from_slot, refund, by_farm=by_farm)
    return Moved(ticket, from_slot, to_slot, refund, line.line_total_vnd - old_total)
