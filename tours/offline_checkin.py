"""Check-in without signal on the hill: the day's list for the farmer's phone, and the check-ins it queued.

While it has signal, the check-in page (/farmer/checkin/offline) downloads today's list: every ticket of the
farm's visits today, its state, and the public key that signs tickets (tours/ticket_signing.py). A service
worker keeps the page and the list. On the hill the phone checks a scanned QR by its signature and a typed
code against the list, and queues each check-in with a random event id and the phone's time. Back online it
sends the queue to /farmer/checkin/sync, and the server answers each event:

* ``ok``: checked in now, at the phone's time (clamped: never later than the server's clock, never more than
  ``MAX_AGE`` earlier, so a wrong phone clock cannot write a time that did not happen);
* ``already``: the ticket had been checked in before (at the farm online, by another phone, or by an
  earlier event): the first check-in that reached the server stands, with its time;
* ``refused``: an unknown ticket or another farm's (one answer for both, as at the check-in page), a
  cancelled or unpaid booking, or a QR whose signature is not the market's.

The same event sent again (the answer was lost) gets its first answer and changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from core.extensions import db
from core.formatting import party
from core.time import local_to_utc, to_local
from shop.order_models import FarmOrder, Order, OrderLine
from tours import ticket_signing, tickets
from tours.checkin_models import OfflineCheckin
from tours.models import Ticket, Tour, TourSlot
from tours.services import find_ticket

MAX_EVENTS = 200
MAX_AGE = timedelta(hours=24)
_EVENT_ID = re.compile(r"[A-Za-z0-9-]{8,40}")


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = local_to_utc(datetime.combine(to_local(now).date(), time()))
    return start, start + timedelta(days=1)


def _clock(value: datetime | None) -> str | None:
    return f"{to_local(value):%H:%M}" if value else None


def day_list(farm, now: datetime) -> dict:
    """Today's tickets of the farm's visits (Vietnam time), for the phone (1 query)."""
    start, end = _day_bounds(now)
    rows = db.session.scalars(
        select(Ticket).join(Ticket.line).join(OrderLine.slot).join(TourSlot.tour)
        .join(OrderLine.farm_order).join(FarmOrder.order)
        .options(contains_eager(Ticket.line).contains_eager(OrderLine.slot).contains_eager(TourSlot.tour),
                 contains_eager(Ticket.line).contains_eager(OrderLine.farm_order).contains_eager(FarmOrder.order))
        .where(Tour.farm_id == farm.id, TourSlot.starts_at >= start, TourSlot.starts_at < end)
        .order_by(TourSlot.starts_at, Order.buyer_name, Ticket.id)).all()
    slots: dict[int, dict] = {}
    entries = []
    for ticket in rows:
        line = ticket.line
        slot = line.slot
        slots.setdefault(slot.id, {"id": slot.id, "tour": slot.tour.title, "starts": _clock(slot.starts_at)})
        order = line.farm_order.order
        entries.append({"code": ticket.code, "slot": slot.id, "name": order.buyer_name,
                        "party": party(line.adults, line.children), "people": line.quantity,
                        "phone": order.buyer_phone, "state": tickets.booking_state(ticket),
                        "checked_in_at": _clock(ticket.checked_in_at)})
    return {"farm": farm.id, "day": f"{to_local(now):%Y%m%d}", "generated_at": _clock(now),
            "key": ticket_signing.public_jwk(), "slots": list(slots.values()), "tickets": entries}


@dataclass
class Event:
    """One queued check-in as the phone sent it: its id, the code, the signed QR if one was scanned, and the
    phone's time."""
    id: str
    code: str
    token: str | None
    at: datetime


def parse_events(payload) -> list[Event] | None:
    """The events of a sync request, or None when it is not one (the whole request is refused)."""
    raw = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(raw, list) or len(raw) > MAX_EVENTS:
        return None
    events = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        event_id, code, token, at = item.get("id"), item.get("code"), item.get("token"), item.get("at")
        if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id) or not isinstance(code, str) \
                or len(code) > 20 or not (token is None or (isinstance(token, str) and len(token) < 200)) \
                or isinstance(at, bool) or not isinstance(at, int) or not 0 < at < 10 ** 14:
            return None
        events.append(Event(event_id, code, token,
                            datetime.fromtimestamp(at / 1000, UTC).replace(tzinfo=None)))
    return events


@dataclass
class Answer:
    id: str
    code: str
    result: str
    reason: str | None
    at: str | None  # HH:MM of the check-in that stands (ok, already)

    def as_json(self) -> dict:
        return {"id": self.id, "code": self.code, "result": self.result, "reason": self.reason, "at": self.at}


def _answer(record: OfflineCheckin) -> Answer:
    """The answer to an event, with the time of the check-in that stands as stored now (another phone's, when
    this one came second)."""
    at = None
    if record.result != "refused" and record.ticket_id is not None:
        at = _clock(db.session.get(Ticket, record.ticket_id, populate_existing=True).checked_in_at)
    return Answer(record.event_id, record.code, record.result, record.reason, at)


def _resolve(actor, farm, event: Event, code: str, when: datetime) -> tuple[Ticket | None, str, str | None]:
    if event.token is not None:
        signed = ticket_signing.verify(event.token)
        if signed is None or signed[0] != code:
            return None, "refused", "forged"
    ticket = find_ticket(code)
    if ticket is None or ticket.line.slot.tour.farm_id != farm.id:
        return None, "refused", "unknown"
    state = tickets.booking_state(ticket)
    if state in ("cancelled", "unpaid"):
        return ticket, "refused", state
    return ticket, "ok" if tickets.check_in(actor, farm, ticket, when) else "already", None


def sync(actor, farm, events: list[Event], now: datetime) -> list[Answer]:
    """Apply the phone's queued check-ins, earliest first; one answer per event, in the order sent."""
    answers: dict[str, Answer] = {}
    for event in sorted(events, key=lambda item: item.at):
        if event.id in answers:
            continue
        answers[event.id] = _apply(actor, farm, event, now)
    return [answers[event.id] for event in events]


def _stored(farm, event_id: str) -> OfflineCheckin | None:
    return db.session.scalar(select(OfflineCheckin).where(OfflineCheckin.farm_id == farm.id,
                                                          OfflineCheckin.event_id == event_id))


def _apply(actor, farm, event: Event, now: datetime) -> Answer:
    record = _stored(farm, event.id)
    if record is not None:
        return _answer(record)
    code = tickets.normalize_code(event.code)
    when = min(max(event.at, now - MAX_AGE), now)  # the phone's clock, kept honest
    ticket, result, reason = _resolve(actor, farm, event, code, when)
    record = OfflineCheckin(farm_id=farm.id, event_id=event.id, user_id=actor.id,
                            ticket_id=ticket.id if ticket is not None else None, code=code or event.code[:12],
                            done_at=when, received_at=now, result=result, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:  # the same event, sent twice at once: the first one stored stands
        record = _stored(farm, event.id)
    return _answer(record)
