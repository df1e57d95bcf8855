"""Tour rules the rest of the market builds on: seats, what can be booked, the public
calendar, and the tickets of paid bookings.

Seats are taken with one guarded UPDATE (``seats_taken + n <= capacity``), backed by
the CHECK constraint on tour_slots, after counting the guides and vehicles the slot
shares with other tours at the same time (tours/resources.py); checkout calls ``reserve_seats`` and
``release_seats``, payments call ``issue_tickets``. Every reading function runs a
fixed number of queries, whatever the number of tours and slots.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as ngettext  # named so that ``pybabel extract`` finds the plural
from sqlalchemy import func, select, update
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from accounts.farms import Farm
from core.extensions import db
from core.time import local_to_utc, to_local
from shop.order_models import FarmOrder, OrderLine
from tours import resources
from tours.models import Ticket, Tour, TourSlot

CALENDAR_DAYS = 60
# Ticket codes: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, so a code read aloud or typed from paper comes out right.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8


# -- seats -----------------------------------------------------------------------------------------

def reserve_seats(slot_id: int, seats: int) -> bool:
    """Take ``seats`` on an open slot; False when they are not there.

    A slot whose tour uses no shared resource: one guarded UPDATE, as always. Otherwise the resources' rows are
    locked (in id order: tours.resources.lock_for_slots), the seats taken on every overlapping slot sharing them
    are counted, and only then the same guarded UPDATE runs, all in the caller's transaction."""
    guarded = (TourSlot.id == slot_id, TourSlot.status == "open", TourSlot.seats_taken + seats <= TourSlot.capacity)
    result = db.session.execute(
        update(TourSlot).where(*guarded, ~resources.uses_resources(TourSlot.tour_id))
        .values(seats_taken=TourSlot.seats_taken + seats)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        return True
    if not resources.room_for(slot_id, seats):  # no resource (the slot is full or closed), or one is full
        return False
    result = db.session.execute(
        update(TourSlot).where(*guarded).values(seats_taken=TourSlot.seats_taken + seats)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_seats(slot_id: int, seats: int) -> None:
    db.session.execute(
        update(TourSlot).where(TourSlot.id == slot_id, TourSlot.seats_taken >= seats)
        .values(seats_taken=TourSlot.seats_taken - seats).execution_options(synchronize_session=False))


def booking_cutoff(now: datetime) -> datetime:
    """Slots starting before this moment can no longer be booked (BOOKING_CUTOFF_HOURS, default 2)."""
    return now + timedelta(hours=current_app.config["BOOKING_CUTOFF_HOURS"])


def booking_problems(slot: TourSlot, adults: int, children: int, now: datetime, held: int = 0) -> list:
    """What stops this party from booking this slot now (empty when it can); ``held``: seats already held for
    this party (a waiting-list offer), counted in seats_taken."""
    tour = slot.tour
    if tour.status != "active" or tour.farm.status != "approved":
        return [_l("This visit is no longer offered. Please remove it.")]
    if slot.status == "cancelled":
        return [_l("This visit was cancelled by the farm. Please choose another time.")]
    if slot.status != "open":
        return [_l("This time is closed for booking. Please choose another time.")]
    if slot.starts_at <= now:
        return [_l("This time has already passed. Please choose a later one.")]
    if slot.starts_at <= booking_cutoff(now):
        return [_l("It is too late to book this time. Please choose a later one.")]
    seats = adults + children
    if adults < 1:
        return [_l("A visit needs at least one adult.")]
    if seats > tour.party_limit:  # the farm's largest group per booking, so one booking cannot hold every seat
        return [_l("Groups of more than %(max)d people: please contact the farm.", max=tour.party_limit)]
    left = max(resources.sellable(slot) + held, 0)  # its own seats, and those of the guides and vehicles it shares
    if left == 0:
        return [_l("This time is full. Please choose another time.")]
    if seats > left:
        return [ngettext("Only %(num)d place left at this time.", "Only %(num)d places left at this time.", left)]
    return []


def slot_state(slot: TourSlot, now: datetime, cutoff: datetime | None = None, left: int | None = None) -> str:
    """open (bookable), full, closed, too_late (inside the cut-off), past or cancelled; ``left``: the seats it
    can sell (tours.resources; by default its own seats left)."""
    cutoff = cutoff or booking_cutoff(now)
    if slot.status == "cancelled":
        return "cancelled"
    if slot.starts_at <= now:
        return "past"
    if slot.status == "closed":
        return "closed"
    if slot.starts_at <= cutoff:
        return "too_late"
    if (slot.seats_left if left is None else left) <= 0:
        return "full"
    return "open"


def _bookable(now: datetime):
    """SQL conditions of a slot a tourist can book now."""
    return (TourSlot.status == "open", TourSlot.starts_at > booking_cutoff(now),
            TourSlot.seats_taken < TourSlot.capacity)


# -- the public side ---------------------------------------------------------------------------------

@dataclass
class TourCard:
    """A tour in a list, with its next bookable time (None when it has none)."""
    tour: Tour
    next_start: datetime | None

    @property
    def title(self):
        return self.tour.shown_title

    @property
    def slug(self) -> str:
        return self.tour.slug

    @property
    def price_adult_vnd(self) -> int:
        return self.tour.price_adult_vnd

    @property
    def price_child_vnd(self) -> int:
        return self.tour.price_child_vnd

    @property
    def farm(self) -> Farm:
        return self.tour.farm

    @property
    def photo(self):
        return self.tour.photos[0] if self.tour.photos else None


def _public_tours_query():
    return (select(Tour).join(Tour.farm).where(Tour.status == "active", Farm.status == "approved")
            .options(contains_eager(Tour.farm), selectinload(Tour.photos)))


def public_tours(now: datetime) -> list[TourCard]:
    """Every tour on offer, with its next time that can be sold (3 queries; 3 more when a tour shares guides or
    vehicles)."""
    rows = db.session.execute(_public_tours_query().add_columns(resources.uses_resources(Tour.id))
                              .order_by(Tour.title, Tour.id)).unique().all()
    tours = [tour for tour, _shares in rows]
    next_starts = dict(db.session.execute(
        select(TourSlot.tour_id, func.min(TourSlot.starts_at)).where(*_bookable(now))
        .where(TourSlot.tour_id.in_([t.id for t in tours])).group_by(TourSlot.tour_id)).all()) if tours else {}
    next_starts.update(_first_sellable({tour.id for tour, shares in rows if shares and tour.id in next_starts}, now))
    return [TourCard(tour, next_starts.get(tour.id)) for tour in tours]


def upcoming_tours(now: datetime, limit: int = 4) -> list[TourCard]:
    """The tours with the soonest times that can be sold, for the home page (2 queries; 3 more when one of them
    shares guides or vehicles)."""
    soonest = (select(TourSlot.tour_id, func.min(TourSlot.starts_at).label("next_start")).where(*_bookable(now))
               .group_by(TourSlot.tour_id).subquery())
    rows = db.session.execute(
        _public_tours_query().add_columns(soonest.c.next_start, resources.uses_resources(Tour.id))
        .join(soonest, soonest.c.tour_id == Tour.id)
        .order_by(soonest.c.next_start, Tour.id).limit(limit)).unique().all()
    corrected = _first_sellable({tour.id for tour, _start, shares in rows if shares}, now)
    cards = [TourCard(tour, corrected.get(tour.id, start)) for tour, start, _shares in rows]
    return sorted((card for card in cards if card.next_start is not None), key=lambda card: card.next_start)


MAX_SHARED_LOOKAHEAD = 400


def _first_sellable(tour_ids: set[int], now: datetime) -> dict[int, datetime | None]:
    """For tours sharing guides or vehicles, the first bookable time those still leave a place on (None: none
    of their next times does), as the tour page counts it (3 queries; none without such tours)."""
    if not tour_ids:
        return {}
    candidates = list(db.session.scalars(
        select(TourSlot).where(TourSlot.tour_id.in_(tour_ids), *_bookable(now)).options(joinedload(TourSlot.tour))
        .order_by(TourSlot.starts_at, TourSlot.id).limit(MAX_SHARED_LOOKAHEAD)))
    found = resources.limits(candidates)
    first: dict[int, datetime | None] = dict.fromkeys(tour_ids)
    for slot in candidates:
        if first[slot.tour_id] is None and found[slot.id].seats_left > 0:
            first[slot.tour_id] = slot.starts_at
    return first


def public_tour(slug: str) -> Tour | None:
    return db.session.scalar(_public_tours_query().where(Tour.slug == slug))


@dataclass
class SlotView:
    slot: TourSlot
    state: str
    limit: resources.Limit | None = None  # what it can sell, shared guides and vehicles counted

    @property
    def seats_left(self) -> int:
        return self.limit.seats_left if self.limit is not None else self.slot.seats_left

    @property
    def bookable(self) -> bool:
        return self.state == "open"

    @property
    def starts_local(self) -> datetime:
        return to_local(self.slot.starts_at)


@dataclass
class CalendarDay:
    day: date
    slots: list[SlotView]

    @property
    def anchor(self) -> str:
        return f"d{self.day:%Y%m%d}"

    @property
    def state(self) -> str:
        """none (no visit that day), available (at least one time can be booked) or full."""
        if not self.slots:
            return "none"
        return "available" if any(view.bookable for view in self.slots) else "full"


@dataclass
class Calendar:
    days: list[CalendarDay]
    weeks: list[list[CalendarDay | None]]

    @property
    def days_with_slots(self) -> list[CalendarDay]:
        return [day for day in self.days if day.slots]

    @property
    def has_bookable(self) -> bool:
        return any(day.state == "available" for day in self.days)


def calendar(tour: Tour, now: datetime, days: int = CALENDAR_DAYS) -> Calendar:
    """The next ``days`` days in Vietnam, with every slot, what it can sell and whether it can be booked (2
    queries; 3 when the tour uses shared guides or vehicles)."""
    first = to_local(now).date()
    start_utc = local_to_utc(datetime.combine(first, time()))
    end_utc = local_to_utc(datetime.combine(first + timedelta(days=days), time()))
    slots = db.session.scalars(select(TourSlot).where(TourSlot.tour_id == tour.id, TourSlot.starts_at >= start_utc,
                                                      TourSlot.starts_at < end_utc)
                               .order_by(TourSlot.starts_at, TourSlot.id)).all()
    cutoff = booking_cutoff(now)
    found = resources.limits(slots)
    by_day: dict[date, list[SlotView]] = {}
    for slot in slots:
        limit = found[slot.id]
        by_day.setdefault(to_local(slot.starts_at).date(), []).append(
            SlotView(slot, slot_state(slot, now, cutoff, limit.seats_left), limit))
    all_days = [CalendarDay(first + timedelta(days=n), by_day.get(first + timedelta(days=n), []))
                for n in range(days)]
    cells: list[CalendarDay | None] = [None] * first.weekday() + list(all_days)
    cells += [None] * (-len(cells) % 7)
    weeks = [cells[i:i + 7] for i in range(0, len(cells), 7)]
    return Calendar(all_days, weeks)


def suggest_slots(slot: TourSlot, seats: int, now: datetime, limit: int = 3) -> list[TourSlot]:
    """Other times of the same tour that can take this party now (for a cancelled visit's buyers), shared guides
    and vehicles counted (3 queries)."""
    candidates = list(db.session.scalars(
        select(TourSlot).where(TourSlot.tour_id == slot.tour_id, TourSlot.id != slot.id, *_bookable(now),
                               TourSlot.capacity - TourSlot.seats_taken >= seats)
        .order_by(TourSlot.starts_at).limit(limit * 4)))
    found = resources.limits(candidates)
    return [other for other in candidates if found[other.id].seats_left >= seats][:limit]


# -- tickets ---------------------------------------------------------------------------------------------

def new_ticket_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(select(Ticket.id).where(Ticket.code == code)) is None:
            return code


def issue_tickets(order, now: datetime) -> list[Ticket]:
    """A ticket for every visit line of the order's paid farm orders that has none yet (safe to call twice)."""
    lines = [line for farm_order in order.farm_orders if farm_order.status == "paid"
             for line in farm_order.lines if line.slot_id]
    if not lines:
        return []
    have = set(db.session.scalars(select(Ticket.order_line_id)
                                  .where(Ticket.order_line_id.in_([line.id for line in lines]))))
    tickets = [Ticket(order_line_id=line.id, code=new_ticket_code(), status="valid", issued_at=now)
               for line in lines if line.id not in have]
    db.session.add_all(tickets)
    db.session.flush()
    return tickets


def _ticket_query():
    return select(Ticket).options(
        joinedload(Ticket.line).joinedload(OrderLine.slot).joinedload(TourSlot.tour).joinedload(Tour.farm),
        joinedload(Ticket.line).joinedload(OrderLine.farm_order).joinedload(FarmOrder.order))


def tickets_for_order(order) -> list[Ticket]:
    """The order's tickets with their slot, tour, farm and farm order (1 query), soonest visit first."""
    if order is None or order.id is None:
        return []
    tickets = db.session.scalars(
        _ticket_query().join(OrderLine, Ticket.order_line_id == OrderLine.id)
        .join(FarmOrder, OrderLine.farm_order_id == FarmOrder.id).where(FarmOrder.order_id == order.id)).unique().all()
    return sorted(tickets, key=lambda t: (t.line.slot.starts_at, t.id))


def find_ticket(code: str) -> Ticket | None:
    return db.session.scalar(_ticket_query().where(Ticket.code == code)) if code else None


def active_tours(farm) -> list[Tour]:
    """The visits a farm offers now, for its page."""
    return list(db.session.scalars(
        select(Tour).where(Tour.farm_id == farm.id, Tour.status == "active").order_by(Tour.title, Tour.id)))
