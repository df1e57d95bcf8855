"""The farmer's tours: what a visit is, its price and policy, and its photos.

Every function takes the acting user and the farm: the farm's owner (role farmer, farm
approved) or commune staff helping them (audit-logged with ``on_behalf_of`` the owner).
Functions ``flush()``; the caller commits once. Photos go through the product photo
pipeline (core.images, core.media): decoded, re-encoded as WebP, metadata stripped.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from core import audit
from core.domain import DomainError
from core.extensions import db
from core.gallery import Gallery, Upload
from core.text import slugify
from shop.models import MAX_PHOTOS
from shop.services import may_manage
from tours.models import MAX_PARTY, Tour, TourPhoto, TourSlot

MAX_TITLE = 120
MAX_TEXT = 3000
MAX_MEETING_POINT = 200
MAX_PRICE_VND = 10_000_000
MAX_CAPACITY = 500
MAX_CANCEL_HOURS = 30 * 24
TOUR_LANGUAGES = ("vi", "en", "ko", "zh", "fr")

_TRANSITIONS = {"pause": ("active", "paused"), "resume": ("paused", "active")}


class TourError(DomainError):
    """A visit rule refused the change: ``message`` for the user, ``field`` the form field it is about."""


class NotAllowed(TourError):
    def __init__(self) -> None:
        super().__init__(_l("You cannot change this visit."))


@dataclass(frozen=True)
class TourData:
    title: str
    description: str
    included: str
    duration_minutes: int
    meeting_point: str
    map_url: str
    languages: tuple[str, ...]
    price_adult_vnd: int
    price_child_vnd: int
    default_capacity: int
    free_cancel_hours: int = 48
    max_party: int | None = None  # the largest group per booking; None = DEFAULT_MAX_PARTY
    title_en: str = ""          # optional English title and description, for visitors reading English
    description_en: str = ""


def check(actor, farm, tour: Tour | None = None) -> None:
    if not may_manage(actor, farm) or (tour is not None and tour.farm_id != farm.id):
        raise NotAllowed()
    if tour is not None and tour.status == "archived":
        raise TourError(_l("This visit is archived and can no longer be changed."))


def record(action: str, entity_type: str, entity_id: int, actor, farm, **fields) -> None:
    on_behalf_of = farm.owner if actor.id != farm.owner_id else None
    audit.record(action, entity_type, entity_id, actor=actor, on_behalf_of=on_behalf_of, **fields)


# -- reading -----------------------------------------------------------------------------------------------

@dataclass
class FarmTour:
    tour: Tour
    upcoming_slots: int
    next_start: datetime | None


def farm_tours(farm, now: datetime) -> list[FarmTour]:
    """The farm's tours with how many times are coming up and the next one (3 queries)."""
    tours = db.session.scalars(select(Tour).where(Tour.farm_id == farm.id).options(selectinload(Tour.photos))
                               .order_by(Tour.status, Tour.title, Tour.id)).all()
    counts = {row[0]: row[1:] for row in db.session.execute(
        select(TourSlot.tour_id, func.count(), func.min(TourSlot.starts_at))
        .where(TourSlot.tour_id.in_([t.id for t in tours]), TourSlot.starts_at > now, TourSlot.status != "cancelled")
        .group_by(TourSlot.tour_id))} if tours else {}
    return [FarmTour(t, *counts.get(t.id, (0, None))) for t in tours]


# -- checking what was typed -----------------------------------------------------------------------------

def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _whole(value, low: int, high: int, field: str, too_low, too_high) -> None:
    if type(value) is not int:
        raise TourError(_l("Enter a whole number."), field)
    if value < low:
        raise TourError(too_low, field)
    if value > high:
        raise TourError(too_high, field)


def clean(data: TourData) -> TourData:
    title = " ".join((data.title or "").split())
    title_en = " ".join((data.title_en or "").split())
    meeting_point = " ".join((data.meeting_point or "").split())
    map_url = (data.map_url or "").strip()
    if not title:
        raise TourError(_l("Enter the name of the visit."), "title")
    if len(title) > MAX_TITLE:
        raise TourError(_l("The name is too long (at most %(max)d characters).", max=MAX_TITLE), "title")
    if len(title_en) > MAX_TITLE:
        raise TourError(_l("The name is too long (at most %(max)d characters).", max=MAX_TITLE), "title_en")
    for field in ("description", "description_en", "included"):
        if len(_text(getattr(data, field))) > MAX_TEXT:
            raise TourError(_l("The text is too long (at most %(max)d characters).", max=MAX_TEXT), field)
    _whole(data.duration_minutes, 15, 24 * 60, "duration_minutes", _l("A visit lasts at least 15 minutes."),
           _l("A visit lasts at most one day (1440 minutes)."))
    if not meeting_point:
        raise TourError(_l("Say where the visitors meet you, for example: the farm gate, Kép 3 village."),
                        "meeting_point")
    if len(meeting_point) > MAX_MEETING_POINT:
        raise TourError(_l("The text is too long (at most %(max)d characters).", max=MAX_MEETING_POINT),
                        "meeting_point")
    if map_url and (len(map_url) > 500 or not re.fullmatch(r"https?://[^\s<>\"']+", map_url)):
        raise TourError(_l("Paste a map link that starts with https://, for example from Google Maps."), "map_url")
    languages = tuple(code for code in TOUR_LANGUAGES if code in set(data.languages or ()))
    if not languages:
        raise TourError(_l("Choose at least one language you can guide the visit in."), "languages")
    _whole(data.price_adult_vnd, 1, MAX_PRICE_VND, "price_adult_vnd", _l("The price for an adult must be more than 0."),
           _l("The price can be at most 10,000,000 đồng per person. Please check the number."))
    _whole(data.price_child_vnd, 0, MAX_PRICE_VND, "price_child_vnd", _l("The price cannot be less than 0."),
           _l("The price can be at most 10,000,000 đồng per person. Please check the number."))
    _whole(data.default_capacity, 1, MAX_CAPACITY, "default_capacity", _l("A visit takes at least 1 person."),
           _l("A visit can take at most %(max)d people.", max=MAX_CAPACITY))
    _whole(data.free_cancel_hours, 0, MAX_CANCEL_HOURS, "free_cancel_hours", _l("The number cannot be less than 0."),
           _l("At most %(max)d hours (30 days).", max=MAX_CANCEL_HOURS))
    if data.max_party is not None:
        _whole(data.max_party, 1, MAX_PARTY, "max_party", _l("A visit takes at least 1 person."),
               _l("At most %(max)d people per booking; larger groups can call you.", max=MAX_PARTY))
    return dataclasses.replace(data, title=title, meeting_point=meeting_point, map_url=map_url,
                               description=_text(data.description), included=_text(data.included),
                               languages=languages, title_en=title_en, description_en=_text(data.description_en))


def data_of(tour: Tour) -> TourData:
    """What the tour holds now, in the form the rules and the edit form use."""
    values = {f.name: getattr(tour, f.name) for f in dataclasses.fields(TourData)}
    return TourData(**{**values, "languages": tuple(tour.language_codes), "map_url": tour.map_url or ""})


def _apply(tour: Tour, data: TourData) -> None:
    for field in dataclasses.fields(data):
        value = getattr(data, field.name)
        if field.name == "languages":
            value = ",".join(value)
        elif field.name == "map_url":
            value = value or None
        setattr(tour, field.name, value)


def _free_slug(base: str) -> str:
    base = base or "tham-quan"
    taken = set(db.session.scalars(select(Tour.slug).where(Tour.slug.like(f"{base}%"))))
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


# -- tours -------------------------------------------------------------------------------------------------

def create_tour(actor, farm, data: TourData, photos: Sequence[Upload] = ()) -> Tour:
    """A new visit, offered at once (it can be booked when it has times). A refused photo refuses it all."""
    check(actor, farm)
    data = clean(data)
    processed = GALLERY.process(photos, already=0)
    tour = Tour(farm_id=farm.id, slug=_free_slug(slugify(data.title)[:120]), status="active")
    _apply(tour, data)
    db.session.add(tour)
    db.session.flush()
    record("tour.created", "tour", tour.id, actor, farm, to_state="active", details={"title": tour.title})
    _photos_added(actor, farm, tour, GALLERY.store(tour, processed))
    return tour


def update_tour(actor, farm, tour: Tour, data: TourData) -> list[str]:
    """Save the edited fields (the address stays the same, so links already shared keep working)."""
    check(actor, farm, tour)
    data = clean(data)
    current = data_of(tour)
    changed = [f.name for f in dataclasses.fields(data) if getattr(current, f.name) != getattr(data, f.name)]
    if changed:
        _apply(tour, data)
        db.session.flush()
        record("tour.updated", "tour", tour.id, actor, farm, details={"changed": changed})
    return changed


def set_status(actor, farm, tour: Tour, action: str) -> bool:
    """Pause (no new bookings; booked visits still happen) or resume. False when nothing changed."""
    check(actor, farm, tour)
    from_state, to_state = _TRANSITIONS[action]
    changed = db.session.execute(update(Tour).where(Tour.id == tour.id, Tour.status == from_state)
                                 .values(status=to_state).execution_options(synchronize_session=False))
    db.session.refresh(tour)
    if changed.rowcount != 1:
        return False
    record(f"tour.{'paused' if action == 'pause' else 'resumed'}", "tour", tour.id, actor, farm,
           from_state=from_state, to_state=to_state)
    return True


# -- photos ---------------------------------------------------------------------------------------------------

GALLERY = Gallery(photo_class=TourPhoto, error=TourError, max_photos=MAX_PHOTOS,
                  too_many=lambda already: _l("A visit can have at most %(max)d photos. You can add %(left)d more.",
                                              max=MAX_PHOTOS, left=max(MAX_PHOTOS - already, 0)),
                  not_found=lambda: TourError(_l("This photo no longer exists.")))


def _photos_added(actor, farm, tour: Tour, added: list[TourPhoto]) -> list[TourPhoto]:
    for row in added:
        record("tour.photo_added", "tour", tour.id, actor, farm, details={"photo_id": row.id})
    return added


def add_photos(actor, farm, tour: Tour, uploads: Sequence[Upload]) -> list[TourPhoto]:
    check(actor, farm, tour)
    return _photos_added(actor, farm, tour, GALLERY.add(tour, uploads, lambda: db.session.execute(
        select(Tour.id).where(Tour.id == tour.id).with_for_update())))


def remove_photo(actor, farm, tour: Tour, photo_id: int) -> None:
    check(actor, farm, tour)
    GALLERY.remove(tour, photo_id)
    record("tour.photo_removed", "tour", tour.id, actor, farm, details={"photo_id": photo_id})


def photo_first(actor, farm, tour: Tour, photo_id: int) -> None:
    """Show this photo first (the one tourists see in lists)."""
    check(actor, farm, tour)
    GALLERY.move(tour, photo_id, "first")
    record("tour.photos_reordered", "tour", tour.id, actor, farm, details={"photo_id": photo_id})
