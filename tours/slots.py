"""The farmer's visit times: add one, generate many, change capacity, close, reopen,
and the manifest of who is coming.

Times are typed in Vietnam time (Asia/Ho_Chi_Minh) and stored as naive UTC. A slot's
capacity never goes below the seats already taken: the UPDATE is guarded, and the
CHECK constraint on tour_slots backs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from core.extensions import db
from core.time import local_to_utc, to_local
from shop.order_models import FarmOrder, Order, OrderLine
from tours import resources, waitlist
from tours.manage import MAX_CAPACITY, TourError, check, record
from tours.models import Ticket, Tour, TourSlot

MAX_RANGE_DAYS = 92
MAX_GENERATED = 400
MAX_TIMES_PER_DAY = 8
FARMER_LIST_LIMIT = 400


def slot_of(farm, slot_id: int) -> TourSlot | None:
    """The slot if it belongs to one of this farm's tours (another farm's slots do not exist here)."""
    return db.session.scalar(select(TourSlot).join(TourSlot.tour).options(contains_eager(TourSlot.tour))
                             .where(TourSlot.id == slot_id, Tour.farm_id == farm.id))


def upcoming_slots(tour: Tour, now: datetime) -> list[TourSlot]:
    """The tour's times from today on (Vietnam time), soonest first (1 query, at most 400)."""
    today = local_to_utc(datetime.combine(to_local(now).date(), time()))
    return list(db.session.scalars(select(TourSlot).where(TourSlot.tour_id == tour.id, TourSlot.starts_at >= today)
                                   .order_by(TourSlot.starts_at).limit(FARMER_LIST_LIMIT)))


def recent_slots(tour: Tour, now: datetime, days: int = 14) -> list[TourSlot]:
    today = local_to_utc(datetime.combine(to_local(now).date(), time()))
    return list(db.session.scalars(select(TourSlot).where(TourSlot.tour_id == tour.id,
                                                          TourSlot.starts_at < today,
                                                          TourSlot.starts_at >= today - timedelta(days=days))
                                   .order_by(TourSlot.starts_at.desc())))


def _capacity(tour: Tour, capacity: int | None) -> int:
    capacity = tour.default_capacity if capacity is None else capacity
    if type(capacity) is not int or capacity < 1:
        raise TourError(_l("A visit takes at least 1 person."), "capacity")
    if capacity > MAX_CAPACITY:
        raise TourError(_l("A visit can take at most %(max)d people.", max=MAX_CAPACITY), "capacity")
    return capacity


def add_slot(actor, farm, tour: Tour, day: date, start: time, capacity: int | None, now: datetime) -> TourSlot:
    """One more time for the visit (Vietnam time)."""
    check(actor, farm, tour)
    capacity = _capacity(tour, capacity)
    starts_at = local_to_utc(datetime.combine(day, start.replace(second=0, microsecond=0)))
    if starts_at <= now:
        raise TourError(_l("This time has already passed. Choose a time in the future."), "day")
    if db.session.scalar(select(TourSlot.id).where(TourSlot.tour_id == tour.id, TourSlot.starts_at == starts_at)):
        raise TourError(_l("There is already a visit at this time."), "start")
    slot = TourSlot(tour_id=tour.id, starts_at=starts_at, capacity=capacity, seats_taken=0, status="open")
    try:
        with db.session.begin_nested():
            db.session.add(slot)
    except IntegrityError:
        raise TourError(_l("There is already a visit at this time."), "start") from None
    record("slot.created", "slot", slot.id, actor, farm, to_state="open",
           details={"tour_id": tour.id, "starts_at": starts_at.isoformat(), "capacity": capacity})
    return slot


@dataclass
class Generated:
    created: list[TourSlot]
    existing: int
    past: int


def generate_slots(actor, farm, tour: Tour, first: date, last: date, weekdays: set[int], starts: list[time],
                   capacity: int | None, now: datetime) -> Generated:
    """A time on each chosen weekday (0 = Monday) at each start time, from ``first`` to ``last`` (Vietnam time).

    Times that already exist and times already past are skipped, so running it twice adds nothing twice."""
    check(actor, farm, tour)
    capacity = _capacity(tour, capacity)
    if last < first:
        raise TourError(_l("The last day must be on or after the first day."), "last")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise TourError(_l("Choose at most %(days)d days at once.", days=MAX_RANGE_DAYS), "last")
    weekdays = {d for d in weekdays if d in range(7)}
    if not weekdays:
        raise TourError(_l("Choose at least one day of the week."), "weekdays")
    starts = sorted({t.replace(second=0, microsecond=0) for t in starts})
    if not starts:
        raise TourError(_l("Enter at least one start time, for example 8:00."), "times")
    if len(starts) > MAX_TIMES_PER_DAY:
        raise TourError(_l("At most %(max)d start times a day.", max=MAX_TIMES_PER_DAY), "times")
    wanted = [local_to_utc(datetime.combine(first + timedelta(days=n), start))
              for n in range((last - first).days + 1) if (first + timedelta(days=n)).weekday() in weekdays
              for start in starts]
    if len(wanted) > MAX_GENERATED:
        raise TourError(_l("That would be %(count)d visits; make at most %(max)d at once.", count=len(wanted),
                           max=MAX_GENERATED), "last")
    past = [moment for moment in wanted if moment <= now]
    existing = set(db.session.scalars(select(TourSlot.starts_at).where(
        TourSlot.tour_id == tour.id, TourSlot.starts_at.in_(wanted)))) if wanted else set()
    created = [TourSlot(tour_id=tour.id, starts_at=moment, capacity=capacity, seats_taken=0, status="open")
               for moment in wanted if moment > now and moment not in existing]
    try:
        with db.session.begin_nested():
            db.session.add_all(created)
    except IntegrityError:
        raise TourError(_l("Someone added times to this visit at the same moment. Please try again.")) from None
    if created:
        record("slot.generated", "tour", tour.id, actor, farm,
               details={"count": len(created), "first": first.isoformat(), "last": last.isoformat(),
                        "weekdays": sorted(weekdays), "times": [t.strftime("%H:%M") for t in starts],
                        "capacity": capacity})
    return Generated(created, len(existing), len(past))


def change_capacity(actor, farm, slot: TourSlot, capacity: int) -> None:
    """Set how many people this time takes; never fewer than are already booked."""
    check(actor, farm, slot.tour)
    capacity = _capacity(slot.tour, capacity)
    before = slot.capacity
    resources.lock_for_slots([slot.id])  # before the slot: more places may be offered to its waiting list
    changed = db.session.execute(
        update(TourSlot).where(TourSlot.id == slot.id, TourSlot.status != "cancelled",
                               TourSlot.seats_taken <= capacity)
        .values(capacity=capacity).execution_options(synchronize_session=False))
    db.session.refresh(slot)
    if changed.rowcount != 1:
        if slot.status == "cancelled":
            raise TourError(_l("This visit is cancelled."))
        raise TourError(_l("%(taken)d places are already booked: the capacity cannot be less than %(taken)d.",
                           taken=slot.seats_taken), "capacity")
    record("slot.capacity_changed", "slot", slot.id, actor, farm, details={"from": before, "to": capacity})
    if capacity > before:
        waitlist.offer_free_seats(slot.id)  # more places: the waiting list is offered them
        db.session.refresh(slot)


def close_slot(actor, farm, slot: TourSlot) -> bool:
    """No new bookings for this time; the groups already booked still come. False if it was closed."""
    return _move(actor, farm, slot, "open", "closed")


def reopen_slot(actor, farm, slot: TourSlot, now: datetime) -> bool:
    if slot.starts_at <= now:
        raise TourError(_l("This time has already passed."))
    resources.lock_for_slots([slot.id])  # before the slot (the lock order), for the waiting-list offers
    reopened = _move(actor, farm, slot, "closed", "open")
    if reopened:
        waitlist.offer_free_seats(slot.id, now)
    return reopened


def _move(actor, farm, slot: TourSlot, from_state: str, to_state: str) -> bool:
    check(actor, farm, slot.tour)
    changed = db.session.execute(update(TourSlot).where(TourSlot.id == slot.id, TourSlot.status == from_state)
                                 .values(status=to_state).execution_options(synchronize_session=False))
    db.session.refresh(slot)
    if changed.rowcount != 1:
        if slot.status == to_state:
            return False
        raise TourError(_l("This visit is cancelled."))
    record(f"slot.{'closed' if to_state == 'closed' else 'reopened'}", "slot", slot.id, actor, farm,
           from_state=from_state, to_state=to_state)
    return True


# -- the manifest ------------------------------------------------------------------------------------------------

@dataclass
class ManifestRow:
    line: OrderLine
    ticket: Ticket | None

    @property
    def order(self) -> Order:
        return self.line.farm_order.order

    @property
    def state(self) -> str:
        """checked_in, paid, pending (not paid yet; the seats are held) or cancelled."""
        if (self.ticket is not None and self.ticket.status == "cancelled") or \
                self.line.farm_order.status in ("cancelled", "expired"):
            return "cancelled"
        if self.order.status != "paid":
            return "pending"
        return "checked_in" if self.ticket is not None and self.ticket.checked_in_at else "paid"


@dataclass
class Manifest:
    rows: list[ManifestRow]

    def _seats(self, *states: str) -> int:
        return sum(row.line.quantity for row in self.rows if row.state in states)

    @property
    def active(self) -> list[ManifestRow]:
        return [row for row in self.rows if row.state != "cancelled"]

    @property
    def cancelled(self) -> list[ManifestRow]:
        return [row for row in self.rows if row.state == "cancelled"]

    @property
    def paid_seats(self) -> int:
        return self._seats("paid", "checked_in")

    @property
    def pending_seats(self) -> int:
        return self._seats("pending")

    @property
    def checked_in_seats(self) -> int:
        return self._seats("checked_in")


def manifest(slot: TourSlot) -> Manifest:
    """Every booking of this time with its buyer, party, payment and check-in (1 query)."""
    rows = db.session.execute(
        select(OrderLine, Ticket).join(OrderLine.farm_order).join(FarmOrder.order)
        .outerjoin(Ticket, Ticket.order_line_id == OrderLine.id)
        .options(contains_eager(OrderLine.farm_order).contains_eager(FarmOrder.order))
        .where(OrderLine.slot_id == slot.id, Order.status.in_(("pending_payment", "paid")))
        .order_by(Order.buyer_name, OrderLine.id)).all()
    return Manifest([ManifestRow(line, ticket) for line, ticket in rows])
