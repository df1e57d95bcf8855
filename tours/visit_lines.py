"""The visit kind of line (shop/lines.py): a tour slot and a party (adults, children), holding seats."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from core import inputs
from core.extensions import db
from core.formatting import datetime_local
from shop import lines
from shop.cart import CartError
from shop.order_models import OrderLine
from tours import resources, services, waitlist
from tours.models import Ticket, Tour, TourSlot


def _with_tour():
    return select(TourSlot).options(joinedload(TourSlot.tour).joinedload(Tour.farm))


class VisitLines:
    code = "s"
    rank = 2
    column = "slot_id"

    def load(self, ids):
        found = {slot.id: slot for slot in db.session.scalars(_with_tour().where(TourSlot.id.in_(ids)))}
        resources.remember(found.values())  # what each can sell, shared guides and vehicles counted, at once
        return found

    def lock_ahead(self, slot_ids):
        """Before the first slot: the shared guides and vehicles of all of them, in id order (the lock order)."""
        resources.lock_for_slots(slot_ids)

    def cart_line(self, key, slot, values, now):
        tour = slot.tour
        adults, children = int(values.get("a", 0)), int(values.get("c", 0))
        line = lines.CartLine(key=key, kind=self, ident=slot.id, farm=tour.farm, slot=slot,
                              unit_price_vnd=tour.price_adult_vnd,
                              total_vnd=tour.price_adult_vnd * adults + tour.price_child_vnd * children,
                              amount=adults + children, adults=adults, children=children,
                              seen_price_vnd=int(values.get("price", 0)))
        # A waiting-list offer's seats are held for this line (already in seats_taken) while it is live.
        held = waitlist.held_for(str(values.get("w") or ""), slot.id, now) if values.get("w") else 0
        line.hold = str(values["w"]) if held else ""
        if held and held != adults + children:
            line.problems = [_l("The places held for you are for %(num)d people. Please book them as offered.",
                                num=held)]
            return line
        # The booking rules (cut-off, capacity) live in the tours service.
        line.problems = services.booking_problems(slot, adults, children, now, held=held)
        return line

    def reserve(self, slot_id, seats):
        return services.reserve_seats(slot_id, seats)

    def reserve_held(self, line, now):
        """The seats an offer holds become the order's; a gone offer falls back on seats still free."""
        return waitlist.take_held(line.hold, line.ident, line.amount, now) or \
            services.reserve_seats(line.ident, line.amount)

    def release(self, slot_id, seats):
        services.release_seats(slot_id, seats)
        waitlist.offer_free_seats(slot_id)  # the first in line that fits is offered them

    def sold_out(self, line):
        return _l("Sorry, the visit on %(when)s has just filled up. Please choose another time.",
                  when=datetime_local(line.slot.starts_at))  # stored UTC, shown in Vietnam time

    def snapshot(self, farm_order, line):
        tour = line.slot.tour
        return OrderLine(farm_order=farm_order, slot_id=line.slot.id, name=tour.title, unit="seat",
                         unit_price_vnd=tour.price_adult_vnd, child_price_vnd=tour.price_child_vnd,
                         quantity=line.seats, adults=line.adults, children=line.children,
                         line_total_vnd=line.total_vnd)

    def cart_values(self, order_line):
        return {"a": order_line.adults, "c": order_line.children, "price": order_line.unit_price_vnd}

    def delivered(self, line, now: datetime):
        """The visit has taken place: its ticket is checked in, or its slot (not cancelled) has started. The
        farm's money for it is then available to pay out (shop/balances.py)."""
        checked_in = select(Ticket.id).where(Ticket.order_line_id == line.id, Ticket.checked_in_at.is_not(None))
        started = select(TourSlot.id).where(TourSlot.id == line.slot_id, TourSlot.starts_at <= now,
                                            TourSlot.status != "cancelled")
        return and_(line.slot_id.is_not(None), or_(checked_in.exists(), started.exists()))

    def merge(self, slot, values, existing):
        """The account's party for this slot stays when it has one; else the guest's joins."""
        return values if existing is None else None


VISITS = VisitLines()


def register() -> None:
    lines.register(VISITS)


def _parse_people(raw, message) -> int:
    text = str(raw if raw is not None else "").strip()
    if text == "":
        return 0
    value = inputs.parse_int(text, max_digits=6)
    if value is None:
        raise CartError(message)
    return value


def add_visit(store, slot_id, adults_raw, children_raw, *, now: datetime, tour_id: int | None = None) -> TourSlot:
    """Put a visit in the cart: a slot and a party (adults, children), replacing the party already in the cart
    for that slot. ``tour_id`` refuses a slot of another tour (a changed form). The seats are taken only when
    the order is placed."""
    adults = _parse_people(adults_raw, _l("Enter the number of adults as a whole number, for example 2."))
    children = _parse_people(children_raw, _l("Enter the number of children as a whole number, for example 0."))
    ident = inputs.parse_id(slot_id)
    if ident is None:
        raise CartError(_l("Choose a date and time for the visit."))
    slot = db.session.scalar(_with_tour().where(TourSlot.id == ident))
    if slot is None or (tour_id is not None and slot.tour_id != tour_id):
        raise CartError(_l("This visit time does not exist. Please choose one from the list."))
    problems = services.booking_problems(slot, adults, children, now)
    if problems:
        raise CartError(problems[0])
    store.put(lines.key(VISITS, slot.id), {"a": adults, "c": children, "price": slot.tour.price_adult_vnd})
    return slot


def add_offer(store, entry, token: str, now: datetime) -> TourSlot:
    """Put a waiting-list offer in the cart: its slot with exactly the party and the seats held for it."""
    slot = db.session.scalar(_with_tour().where(TourSlot.id == entry.slot_id))
    if not waitlist.held_for(token, slot.id, now):
        raise CartError(_l("This offer has ended. The places went to the next person waiting."))
    store.put(lines.key(VISITS, slot.id), {"a": entry.adults, "c": entry.children,
                                           "price": slot.tour.price_adult_vnd, "w": token})
    return slot
