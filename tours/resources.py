"""Capacity by shared resource: a farm's guides and vehicles, the tours that use them, and the seats a slot can
still sell once they are counted.

A tour uses zero or more of its farm's resources. Two slots use a resource at the same time when their
[starts_at, starts_at + duration) overlap (a visit ending at 10:00 and one starting at 10:00 do not). The seats a
slot can sell are the least of its own seats left and, for each resource its tour uses, the resource's visitors
(seats, or guides × visitors per guide) less the seats taken on every overlapping slot (its own included, a
cancelled one not) of the tours using it.

Under concurrency: every step that adds seats to a slot whose tour uses resources holds the resources' rows
(``lock_for_slots``: SELECT ... FOR UPDATE in id order) while it counts and takes them, so two bookings sharing a
vehicle are counted one after the other (tours.services.reserve_seats; shop/checkout.py's docstring has the lock
order: resources come after products, before slots). Giving seats back needs no resource lock.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select

from core.extensions import db
from tours.manage import TourError, check, record
from tours.models import Tour, TourSlot
from tours.resource_models import MAX_COUNT, MAX_PER_GUIDE, RESOURCE_KINDS, FarmResource, TourResource

MAX_NAME = 80
MAX_PER_FARM = 30
# The longest visit (tours.manage: 24 hours): a slot starting earlier than this cannot overlap.
LONGEST_VISIT = timedelta(hours=24)


def overlaps(a_start: datetime, a_minutes: int, b_start: datetime, b_minutes: int) -> bool:
    """[a_start, a_start + a_minutes) and [b_start, b_start + b_minutes) share a moment (back to back: no)."""
    return a_start < b_start + timedelta(minutes=b_minutes) and b_start < a_start + timedelta(minutes=a_minutes)


def uses_resources(tour_id_column):
    """SQL: the tour of ``tour_id_column`` uses at least one resource."""
    return exists().where(TourResource.tour_id == tour_id_column)


# -- what a slot can still sell --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sharing:
    """Another slot using the same resource at an overlapping time."""
    title: str
    starts_at: datetime
    seats_taken: int


@dataclass
class Limit:
    """What a slot can sell: ``seats_left`` (never below 0); ``resource``: the resource that limits it below its
    own seats left (None: its own capacity limits it), ``shared_with``: the other slots using that resource then,
    ``resource_left``: what the resource still has for it."""
    seats_left: int
    resource: FarmResource | None = None
    resource_left: int = 0
    shared_with: list[Sharing] = field(default_factory=list)


def _own(slot: TourSlot) -> int:
    return max(slot.capacity - slot.seats_taken, 0)


def limits(slots: Iterable[TourSlot]) -> dict[int, Limit]:
    """The Limit of every slot given (their tours loaded or in the session), in at most 2 queries whatever their
    number: 1 when none of their tours uses a resource."""
    slots = [slot for slot in slots if slot.id is not None]
    if not slots:
        return {}
    tour_ids = {slot.tour_id for slot in slots}
    used = db.session.execute(select(TourResource.tour_id, FarmResource)
                              .join(FarmResource, FarmResource.id == TourResource.resource_id)
                              .where(TourResource.tour_id.in_(tour_ids))
                              .order_by(FarmResource.id)).all()
    if not used:
        return {slot.id: Limit(_own(slot)) for slot in slots}
    by_tour: dict[int, list[FarmResource]] = defaultdict(list)
    for tour_id, resource in used:
        by_tour[tour_id].append(resource)
    wanted = [slot for slot in slots if by_tour.get(slot.tour_id)]
    usage = _usage({resource.id for _tour_id, resource in used}, min(s.starts_at for s in wanted) - LONGEST_VISIT,
                   max(s.starts_at for s in wanted) + LONGEST_VISIT)
    return {slot.id: _limit_of(slot, by_tour.get(slot.tour_id, []), usage)
            for slot in slots}


@dataclass(frozen=True)
class _Use:
    slot_id: int
    starts_at: datetime
    minutes: int
    seats_taken: int
    title: str


def _usage(resource_ids: set[int], start: datetime, end: datetime) -> dict[int, list[_Use]]:
    """Per resource, the slots (not cancelled) of the tours using it that start in [start, end) (1 query; read
    fresh from the database, not from the session)."""
    rows = db.session.execute(
        select(TourResource.resource_id, TourSlot.id, TourSlot.starts_at, Tour.duration_minutes, TourSlot.seats_taken,
               Tour.title)
        .join(Tour, Tour.id == TourResource.tour_id).join(TourSlot, TourSlot.tour_id == Tour.id)
        .where(TourResource.resource_id.in_(resource_ids), TourSlot.status != "cancelled",
               TourSlot.starts_at >= start, TourSlot.starts_at < end)
        .order_by(TourSlot.starts_at, TourSlot.id)).all()
    usage: dict[int, list[_Use]] = defaultdict(list)
    for resource_id, *use in rows:
        usage[resource_id].append(_Use(*use))
    return usage


def _limit_of(slot: TourSlot, resources: list[FarmResource], usage: dict[int, list[_Use]]) -> Limit:
    limit = Limit(_own(slot))
    if slot.status == "cancelled" or not resources:
        return limit
    minutes = slot.tour.duration_minutes
    for resource in resources:
        overlapping = [use for use in usage.get(resource.id, [])
                       if use.slot_id != slot.id and overlaps(slot.starts_at, minutes, use.starts_at, use.minutes)]
        left = resource.visitors - slot.seats_taken - sum(use.seats_taken for use in overlapping)
        if left < limit.seats_left:
            limit = Limit(max(left, 0), resource, max(left, 0),
                          [Sharing(use.title, use.starts_at, use.seats_taken) for use in overlapping
                           if use.seats_taken > 0])
    return limit


def sellable(slot: TourSlot) -> int:
    """The seats this slot can still sell (1 or 2 queries, none after ``remember``)."""
    return limit_of(slot).seats_left


def limit_of(slot: TourSlot) -> Limit:
    kept = slot.__dict__.get("_resource_limit")
    if kept is not None and kept[0] == (slot.capacity, slot.seats_taken, slot.status):
        return kept[1]
    return limits([slot]).get(slot.id) or Limit(_own(slot))


def remember(slots: Iterable[TourSlot]) -> None:
    """Work out the Limit of many slots at once (2 queries) and keep it on each for ``limit_of``, as long as
    the slot's own capacity, seats and status stay as they were (a page listing several slots: the cart)."""
    slots = list(slots)
    found = limits(slots)
    for slot in slots:
        if slot.id in found:
            slot.__dict__["_resource_limit"] = ((slot.capacity, slot.seats_taken, slot.status), found[slot.id])


# -- locking, and the check before seats are taken ---------------------------------------------------------------

def lock_for_slots(slot_ids: Iterable[int]) -> list[FarmResource]:
    """The lock-order step for shared resources: hold the rows of every resource the tours of these slots use,
    in id order, until the transaction ends (a no-op for rows this transaction already holds). Call it before
    the first slot a transaction locks or changes when it takes seats on several slots (checkout does, through
    the visit line kind) or locks a slot before taking seats on it (the waiting list does)."""
    slot_ids = sorted(set(slot_ids))
    if not slot_ids:
        return []
    needed = (select(TourResource.resource_id).join(TourSlot, TourSlot.tour_id == TourResource.tour_id)
              .where(TourSlot.id.in_(slot_ids)))
    return list(db.session.scalars(select(FarmResource).where(FarmResource.id.in_(needed))
                                   .order_by(FarmResource.id).with_for_update()
                                   .execution_options(populate_existing=True)))


def room_for(slot_id: int, seats: int) -> bool:
    """With the slot's resources locked (taken here), whether every resource its tour uses has ``seats`` more at
    the slot's time; False when the tour uses none (the slot's own guarded UPDATE has decided then)."""
    locked = lock_for_slots([slot_id])
    if not locked:
        return False
    row = db.session.execute(select(TourSlot.starts_at, Tour.duration_minutes, TourSlot.status)
                             .join(Tour, Tour.id == TourSlot.tour_id).where(TourSlot.id == slot_id)).first()
    if row is None or row.status != "open":
        return False
    usage = _usage({r.id for r in locked}, row.starts_at - LONGEST_VISIT, row.starts_at + LONGEST_VISIT)
    for resource in locked:
        booked = sum(use.seats_taken for use in usage.get(resource.id, [])
                     if overlaps(row.starts_at, row.duration_minutes, use.starts_at, use.minutes))
        if booked + seats > resource.visitors:
            return False
    return True


# -- the farmer's resources --------------------------------------------------------------------------------------

def farm_resources(farm) -> list[FarmResource]:
    return list(db.session.scalars(select(FarmResource).where(FarmResource.farm_id == farm.id)
                                   .order_by(FarmResource.kind, FarmResource.name, FarmResource.id)))


def resource_of(farm, resource_id: int) -> FarmResource | None:
    return db.session.scalar(select(FarmResource).where(FarmResource.id == resource_id,
                                                        FarmResource.farm_id == farm.id))


def tours_using(farm) -> dict[int, list[Tour]]:
    """For each of the farm's resources, the tours using it (1 query)."""
    found: dict[int, list[Tour]] = defaultdict(list)
    for resource_id, tour in db.session.execute(
            select(TourResource.resource_id, Tour).join(Tour, Tour.id == TourResource.tour_id)
            .where(Tour.farm_id == farm.id).order_by(Tour.title, Tour.id)):
        found[resource_id].append(tour)
    return found


def resource_ids_of(tour: Tour) -> set[int]:
    return set(db.session.scalars(select(TourResource.resource_id).where(TourResource.tour_id == tour.id)))


def _checked(name: str, kind: str, count, per_guide) -> tuple[str, str, int, int | None]:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise TourError(_l("Enter a name (at most %(max)d characters).", max=MAX_NAME), "name")
    if kind not in RESOURCE_KINDS:
        raise TourError(_l("Choose guides or a vehicle."), "kind")
    if type(count) is not int or not 1 <= count <= MAX_COUNT:
        message = _l("Enter how many guides (1 to %(max)d).", max=MAX_COUNT) if kind == "guide" else \
            _l("Enter how many visitors it seats (1 to %(max)d).", max=MAX_COUNT)
        raise TourError(message, "count")
    if kind == "vehicle":
        return name, kind, count, None
    if type(per_guide) is not int or not 1 <= per_guide <= MAX_PER_GUIDE:
        raise TourError(_l("Enter how many visitors one guide leads (1 to %(max)d).", max=MAX_PER_GUIDE),
                        "visitors_per_guide")
    return name, kind, count, per_guide


def add_resource(actor, farm, *, name: str, kind: str, count, visitors_per_guide=None) -> FarmResource:
    check(actor, farm)
    name, kind, count, per_guide = _checked(name, kind, count, visitors_per_guide)
    if db.session.scalar(select(db.func.count(FarmResource.id)).where(FarmResource.farm_id == farm.id)) \
            >= MAX_PER_FARM:
        raise TourError(_l("A farm can have at most %(max)d guides and vehicles.", max=MAX_PER_FARM))
    resource = FarmResource(farm_id=farm.id, name=name, kind=kind, count=count, visitors_per_guide=per_guide)
    db.session.add(resource)
    db.session.flush()
    record("resource.created", "farm_resource", resource.id, actor, farm,
           details={"name": name, "kind": kind, "count": count, "visitors_per_guide": per_guide})
    return resource


def update_resource(actor, farm, resource: FarmResource, *, name: str, kind: str, count,
                    visitors_per_guide=None) -> bool:
    """Change a resource; False when nothing changed. Fewer seats or guides than are booked at some time is
    allowed (the groups already booked still come); those times then sell nothing more."""
    check(actor, farm)
    if resource.farm_id != farm.id:
        raise TourError(_l("You cannot change this visit."))
    name, kind, count, per_guide = _checked(name, kind, count, visitors_per_guide)
    before = {"name": resource.name, "kind": resource.kind, "count": resource.count,
              "visitors_per_guide": resource.visitors_per_guide}
    after = {"name": name, "kind": kind, "count": count, "visitors_per_guide": per_guide}
    if before == after:
        return False
    lock_resource(resource.id)
    resource.name, resource.kind, resource.count, resource.visitors_per_guide = name, kind, count, per_guide
    db.session.flush()
    record("resource.changed", "farm_resource", resource.id, actor, farm, details={"from": before, "to": after})
    return True


def lock_resource(resource_id: int) -> None:
    db.session.execute(select(FarmResource.id).where(FarmResource.id == resource_id).with_for_update())


def remove_resource(actor, farm, resource: FarmResource) -> None:
    """The resource and its ticks on tours go; their slots are then limited by their own places only."""
    check(actor, farm)
    if resource.farm_id != farm.id:
        raise TourError(_l("You cannot change this visit."))
    lock_resource(resource.id)
    db.session.execute(delete(TourResource).where(TourResource.resource_id == resource.id))
    record("resource.removed", "farm_resource", resource.id, actor, farm,
           details={"name": resource.name, "kind": resource.kind, "count": resource.count})
    db.session.delete(resource)
    db.session.flush()


def set_tour_resources(actor, farm, tour: Tour, resource_ids: Iterable[int]) -> bool:
    """The resources this tour uses, from the farm's own; False when nothing changed."""
    check(actor, farm, tour)
    wanted = set(resource_ids)
    own = {r.id for r in farm_resources(farm)}
    if not wanted <= own:
        raise TourError(_l("Choose among your own guides and vehicles."), "resources")
    have = resource_ids_of(tour)
    if wanted == have:
        return False
    for resource_id in sorted(wanted | have):  # the lock order: resources in id order
        lock_resource(resource_id)
    db.session.execute(delete(TourResource).where(TourResource.tour_id == tour.id,
                                                  TourResource.resource_id.in_(have - wanted)))
    db.session.add_all([TourResource(tour_id=tour.id, resource_id=rid) for rid in sorted(wanted - have)])
    db.session.flush()
    record("tour.resources_changed", "tour", tour.id, actor, farm,
           details={"from": sorted(have), "to": sorted(wanted)})
    return True
