"""Rain: the farm calls off a visit time in one action, moving it to another time or cancelling it, and every
visitor who paid chooses what happens to their booking: another date, a visit credit, or a refund.

- ``call_off`` (the farmer): the slot is cancelled at once (nobody can book it; reason "weather", the farmer's
  note), unpaid orders holding it are cancelled as in ``cancellations.cancel_slot``, its waiting list is told
  and closed, and each paid booking gets a ``RainChoice`` with a secret link (only its SHA-256 is kept) and the
  message ``visit_rain_choice``. The tickets stay valid and the seats stay counted until each choice is applied.
- ``choose`` (the visitor, or the default): applied in the same transaction and once. Lock order as everywhere
  (shop.checkout's docstring): the booking's order first, then the choice row moves out of ``waiting`` with a
  guarded UPDATE; a second submit (a double click, two tabs, the job at the same moment) waits on the order's
  lock and then finds the choice taken: it changes nothing and reports what was applied.
  - "move": ``rebooking.move_booking(..., by_farm=True)`` (never costs the visitor more; a lower price is
    refunded in part);
  - "credit": the full line becomes credit of the buyer's account (``shop.credits``), for accounts only;
  - "refund": through the original payment (``payments.refund_line``).
- ``apply_defaults`` (``flask apply-rain-defaults``, hourly): once the original visit day has begun (Vietnam
  time), every choice still waiting is refunded, one transaction each.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

import click
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core import audit, transactions
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify
from core.time import to_local, utcnow
from core.urls import public_url
from shop import checkout, credits, payments
from tours import rebooking, waitlist
from tours.cancellations import cancel_unpaid_on, lines_on, lock_and_cancel
from tours.manage import TourError, check, record
from tours.models import TICKET_MOVES, Ticket, TourSlot
from tours.rain_models import RainChoice
from tours.tickets import ticket_url

OPTIONS = ("move", "credit", "refund")
DONE = {"move": "moved", "credit": "credited", "refund": "refunded"}


class RainError(DomainError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def choice_url(token: str) -> str:
    return public_url("tours.rain_choice", token=token)


def find(token: str) -> RainChoice | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(RainChoice).where(RainChoice.token_hash == _hash(token)))


@dataclass
class CalledOff:
    choices: list[RainChoice] = field(default_factory=list)
    unpaid_orders: int = 0
    waiting_told: int = 0


def check_target(slot: TourSlot, to_slot: TourSlot | None, now: datetime) -> None:
    if to_slot is None:
        return
    if to_slot.tour_id != slot.tour_id or to_slot.id == slot.id:
        raise TourError(_l("Choose another time of this visit."), "to_slot")
    if to_slot.status != "open" or to_slot.starts_at <= now:
        raise TourError(_l("This time can no longer be booked. Please choose another one."), "to_slot")


def call_off(actor, farm, slot: TourSlot, to_slot: TourSlot | None, note: str, now: datetime) -> CalledOff:
    """The farm moves (``to_slot``) or cancels (None) a time for bad weather, in the caller's transaction."""
    check(actor, farm, slot.tour)
    note = " ".join((note or "").split())
    if len(note) > 300:
        raise TourError(_l("The text is too long (at most %(max)d characters).", max=300), "note")
    if slot.starts_at <= now:
        raise TourError(_l("This visit has already started, so it can no longer be cancelled."))
    check_target(slot, to_slot, now)
    from_state = slot.status
    orders = lock_and_cancel(slot, "weather", note, now)
    record("slot.rain", "slot", slot.id, actor, farm, from_state=from_state, to_state="cancelled",
           details={"note": note, "to_slot_id": to_slot.id if to_slot else None})
    result = CalledOff()
    for order in orders:
        lines = lines_on(order, slot)
        if cancel_unpaid_on(order, lines, slot, actor, now):
            result.unpaid_orders += 1
            continue
        for line in lines:
            choice = _open_choice(order, line, slot, to_slot, note, now)
            if choice is not None:
                result.choices.append(choice)
    result.waiting_told = waitlist.close_for_cancelled(slot, now)
    return result


def _open_choice(order, line, slot, to_slot, note, now) -> RainChoice | None:
    if line.farm_order.status in ("cancelled", "expired"):
        return None
    ticket = db.session.scalar(select(Ticket).where(Ticket.order_line_id == line.id))
    if ticket is None or ticket.status != "valid" or ticket.checked_in_at is not None:
        return None
    token = secrets.token_urlsafe(24)
    choice = RainChoice(slot_id=slot.id, order_line_id=line.id, ticket_id=ticket.id,
                        to_slot_id=to_slot.id if to_slot else None, token_hash=_hash(token), note=note,
                        amount_vnd=line.line_total_vnd, created_at=now)
    db.session.add(choice)
    db.session.flush()
    notify("visit_rain_choice", Recipient.buyer_of(order), order=order, line=line, slot=slot, tour=slot.tour,
           to_slot=to_slot, note=note, link=choice_url(token), credit_offered=order.user_id is not None,
           months=credits.CREDIT_MONTHS)
    return choice


def waiting_for(ticket: Ticket) -> bool:
    """Whether the ticket's visitor still has a rain choice to make (the ticket page says so)."""
    return db.session.scalar(select(RainChoice.id).where(RainChoice.ticket_id == ticket.id,
                                                         RainChoice.status == "waiting").limit(1)) is not None


def can_credit(choice: RainChoice) -> bool:
    return choice.line.farm_order.order.user_id is not None


def targets(choice: RainChoice, now: datetime) -> list[TourSlot]:
    """The times a visitor may move to: the farm's new time first, then the tour's other bookable times with
    room for the whole party."""
    found = rebooking.choices(choice.ticket, now) if choice.ticket is not None else []
    default = choice.to_slot
    if default is not None and default.status == "open" and default.starts_at > now and (
            default.capacity - default.seats_taken >= choice.line.quantity):
        found = [default] + [slot for slot in found if slot.id != default.id]
    return found


def choose(choice: RainChoice, option: str, to_slot: TourSlot | None, now: datetime, *,
           decided_by: str = "visitor") -> bool:
    """Apply one choice, once (in the caller's transaction; on RainError it rolls back). True when it was applied
    now, False when it had been applied before (nothing changed)."""
    if option not in OPTIONS:
        raise RainError(_l("Please choose one of the three options."))
    if option == "move" and to_slot is None:
        raise RainError(_l("Please choose the new date."))
    if option == "credit" and not can_credit(choice):
        raise RainError(_l("A credit needs an account: please choose another date or a refund."))
    line = choice.line
    checkout.lock_order(line.farm_order.order_id)  # step 1: a second submit waits here
    claimed = db.session.execute(
        update(RainChoice).where(RainChoice.id == choice.id, RainChoice.status == "waiting")
        .values(status=DONE[option], decided_by=decided_by, decided_at=now)
        .execution_options(synchronize_session=False))
    db.session.refresh(choice)
    if claimed.rowcount != 1:
        return False
    ticket = choice.ticket
    credit = refund = None
    if option == "move":
        try:
            rebooking.move_booking(ticket, to_slot, None, now, by_farm=True)
        except rebooking.RebookError as error:
            raise RainError(error.message) from error
    else:
        if not TICKET_MOVES.move(ticket.id, "valid", "cancelled", cancelled_at=now, cancelled_by="slot"):
            raise RainError(_l("This booking was changed meanwhile. Please reload the page."))
        try:
            if option == "credit":
                credit = credits.credit_line(line, line.farm_order.order.user_id, None, now, reason="rain_credit")
            else:
                refund = payments.refund_line(line, None, now, reason="slot_cancelled")
        except payments.PaymentError as error:
            raise RainError(error.message) from error
        order = line.farm_order.order
        notify("visit_rain_applied", Recipient.buyer_of(order), order=order, line=line, slot=choice.slot,
               tour=choice.slot.tour, option=option, credit=credit, refund=refund,
               link=ticket_url(ticket, order))
    audit.record("rain_choice.applied", "rain_choice", choice.id, actor_label=decided_by, from_state="waiting",
                 to_state=choice.status, details={"to_slot_id": to_slot.id if to_slot else None,
                                                  "refund_id": refund.id if refund else None,
                                                  "credit_id": credit.id if credit else None})
    return True


def due(now: datetime) -> list[int]:
    """The choices still waiting whose visit day has begun (Vietnam time)."""
    today = to_local(now).date()
    rows = db.session.execute(select(RainChoice.id, TourSlot.starts_at).join(
        TourSlot, TourSlot.id == RainChoice.slot_id).where(RainChoice.status == "waiting")
        .order_by(RainChoice.id)).all()
    return [row.id for row in rows if to_local(row.starts_at).date() <= today]


def _apply_default(choice_id: int, now: datetime) -> bool:
    choice = db.session.get(RainChoice, choice_id)
    try:
        applied = choose(choice, "refund", None, now, decided_by="default")
    except RainError:
        db.session.rollback()
        return False
    db.session.commit()
    return applied


def apply_defaults(now: datetime) -> int:
    """A job (it commits, one choice per transaction): refund every unanswered choice whose day has begun."""
    ids = due(now)
    db.session.commit()
    return sum(transactions.run(lambda: _apply_default(choice_id, now), what=f"rain choice {choice_id}")
               for choice_id in ids)


@click.command("apply-rain-defaults")
@with_appcontext
def apply_rain_defaults() -> None:
    """Refund the visitors who did not answer a rain message before their visit day."""
    click.echo(f"Refunded {apply_defaults(utcnow())} unanswered rain choice(s).")
