"""Waiting lists of full visit times.

A visitor joins the list of a full slot with a party (adults, children). When seats free up (a booking
cancelled, an unpaid order expired or cancelled: every release goes through ``VisitLines.release``; a capacity
raised or a time reopened: tours/slots.py), ``offer_free_seats`` offers them, first come first served, to each
party in line that fits what is free, skipping a party too large for now (it keeps its place). An offer *holds*
its seats: they are added to the slot's ``seats_taken`` at once, so nobody else can book them, until the offer
is used (checkout takes the held seats over: ``take_held``) or expires (``expire_offers``, a job: the seats go
back and the next in line is offered them).

Never more offers than free seats: offers are made only while holding the slot's row lock (SELECT ... FOR
UPDATE), and the seats counted free are the capacity less ``seats_taken``, which includes every held offer, in
the same transaction, and no more than the guides and vehicles the slot shares have left (their rows locked
first: tours/resources.py). The lock order is shop/checkout.py's: orders, products, shared resources, then slots in id order; a slot's
waiting-list rows are locked only after that slot (step 4 and a half), and by nothing that then locks another
order or product.

The link in the offer carries a random secret; only its SHA-256 is stored. An entry made by a logged-in account
can be used only by that account; a guest's, by whoever has the link (it went to the guest's own phone or
e-mail).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core import transactions
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify
from core.time import utcnow
from core.urls import public_url
from core.validators import normalize_any_mobile
from tours import resources, services
from tours.models import Tour, TourSlot, WaitlistEntry

ACTIVE = ("waiting", "offered")


class WaitlistError(DomainError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def offer_minutes() -> int:
    return int(current_app.config.get("WAITLIST_OFFER_MINUTES", 120))


# -- joining ---------------------------------------------------------------------------------------------

def can_join(slot: TourSlot, now: datetime) -> bool:
    """A full slot that could still be booked if seats freed up."""
    return services.slot_state(slot, now, left=resources.sellable(slot)) == "full" and slot.tour.status == "active"


def join(slot: TourSlot, *, name: str, phone: str, email: str, adults: int, children: int, user,
         locale: str | None, now: datetime) -> WaitlistEntry:
    """Put a party on the slot's waiting list (the caller commits)."""
    if not can_join(slot, now):
        if services.slot_state(slot, now, left=resources.sellable(slot)) == "open":
            raise WaitlistError(_l("This time has free places: you can book it now."))
        raise WaitlistError(_l("This time can no longer be booked, so it has no waiting list."))
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise WaitlistError(_l("Enter your name (at most 120 characters)."))
    number = normalize_any_mobile(phone or "")
    if number is None:
        raise WaitlistError(_l("Enter a mobile number, for example 0987 654 321."))
    email = (email or "").strip()
    if len(email) > 254 or (email and ("@" not in email or " " in email)):
        raise WaitlistError(_l("Enter a valid e-mail address, or leave it empty."))
    if adults < 1 or children < 0:
        raise WaitlistError(_l("A visit needs at least one adult."))
    if adults + children > slot.tour.party_limit:
        raise WaitlistError(_l("Groups of more than %(max)d people: please contact the farm.",
                               max=slot.tour.party_limit))
    twice = select(WaitlistEntry.id).where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.status.in_(ACTIVE),
                                           (WaitlistEntry.phone == number) | (
                                               (WaitlistEntry.user_id == user.id) if user is not None else False))
    if db.session.scalar(twice) is not None:
        raise WaitlistError(_l("You are already on the waiting list for this time."))
    entry = WaitlistEntry(slot_id=slot.id, user_id=user.id if user is not None else None, name=name, phone=number,
                          email=email, locale=locale, adults=adults, children=children, status="waiting",
                          created_at=now)
    db.session.add(entry)
    db.session.flush()
    return entry


def place_in_line(entry: WaitlistEntry) -> int:
    """1 for the first party waiting."""
    return 1 + (db.session.scalar(
        select(db.func.count(WaitlistEntry.id)).where(
            WaitlistEntry.slot_id == entry.slot_id, WaitlistEntry.status == "waiting",
            (WaitlistEntry.created_at < entry.created_at)
            | ((WaitlistEntry.created_at == entry.created_at) & (WaitlistEntry.id < entry.id)))) or 0)


def line_of(slot: TourSlot) -> tuple[int, int, int]:
    """For the farmer: parties waiting, people waiting, and places held by offers now (1 query)."""
    rows = db.session.execute(
        select(WaitlistEntry.status, db.func.count(WaitlistEntry.id),
               db.func.coalesce(db.func.sum(WaitlistEntry.adults + WaitlistEntry.children), 0))
        .where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.status.in_(ACTIVE))
        .group_by(WaitlistEntry.status)).all()
    found = {status: (parties, people) for status, parties, people in rows}
    parties, people = found.get("waiting", (0, 0))
    return parties, people, found.get("offered", (0, 0))[1]


# -- offers ----------------------------------------------------------------------------------------------

def _lock_slot(slot_id: int) -> TourSlot | None:
    """Steps 4 and 5 of the lock order: the guides and vehicles the slot shares, then the slot's row, read
    fresh."""
    resources.lock_for_slots([slot_id])
    return db.session.scalar(select(TourSlot).where(TourSlot.id == slot_id).with_for_update()
                             .execution_options(populate_existing=True))


def offer_free_seats(slot_id: int, now: datetime | None = None) -> list[WaitlistEntry]:
    """Offer the slot's free seats to the parties in line that fit, in their order (the caller commits)."""
    now = now or utcnow()
    if db.session.scalar(select(WaitlistEntry.id).where(WaitlistEntry.slot_id == slot_id,
                                                        WaitlistEntry.status == "waiting").limit(1)) is None:
        return []
    slot = _lock_slot(slot_id)
    if slot is None or slot.status != "open" or slot.starts_at <= services.booking_cutoff(now):
        return []
    free = resources.limits([slot])[slot.id].seats_left  # own seats, and what its guides and vehicles have left
    offered = []
    waiting = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id).with_for_update()).all()
    for entry in waiting:
        if free <= 0:
            break
        if entry.seats > free or not services.reserve_seats(slot_id, entry.seats):
            continue
        free -= entry.seats
        token = secrets.token_urlsafe(24)
        entry.status, entry.offered_at = "offered", now
        entry.offer_expires_at = now + timedelta(minutes=offer_minutes())
        entry.offer_token_hash = _hash(token)
        offered.append(entry)
        _tell(entry, slot, token)
    db.session.flush()
    return offered


def _recipient(entry: WaitlistEntry) -> Recipient:
    if entry.user is not None:
        account = Recipient.of_user(entry.user, entry.locale)
        return Recipient(**{**account.__dict__, "email": entry.email or account.email, "phone": entry.phone})
    return Recipient(email=entry.email, phone=entry.phone, locale=entry.locale, guest=True)


def offer_url(token: str) -> str:
    return public_url("tours.waitlist_offer", token=token)


def _tell(entry: WaitlistEntry, slot: TourSlot, token: str) -> None:
    notify("waitlist_offer", _recipient(entry), entry=entry, slot=slot, tour=slot.tour, link=offer_url(token),
           until=entry.offer_expires_at)


def expire_offers(now: datetime) -> int:
    """A job (it commits, one slot per transaction): offers past their time lose their held seats, which are
    offered to the next in line. Safe to run twice at once: an offer moves from offered to expired once."""
    slot_ids = db.session.scalars(select(WaitlistEntry.slot_id).where(
        WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at <= now).distinct()
        .order_by(WaitlistEntry.slot_id)).all()
    db.session.commit()
    return sum(transactions.run(lambda: _expire_on(slot_id, now), what=f"expiring waiting-list offers of slot "
                                f"{slot_id}") for slot_id in slot_ids)


def _expire_on(slot_id: int, now: datetime) -> int:
    """One slot's offers past their time, in one transaction (committed here): slot lock, then its entries."""
    _lock_slot(slot_id)
    due = db.session.scalars(select(WaitlistEntry.id).where(
        WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == "offered",
        WaitlistEntry.offer_expires_at <= now).order_by(WaitlistEntry.id).with_for_update()).all()
    expired = 0
    for entry_id in due:
        entry = db.session.get(WaitlistEntry, entry_id)
        moved = db.session.execute(
            update(WaitlistEntry).where(WaitlistEntry.id == entry_id, WaitlistEntry.status == "offered")
            .values(status="expired", closed_at=now).execution_options(synchronize_session=False))
        if moved.rowcount == 1:
            services.release_seats(slot_id, entry.seats)
            expired += 1
    offer_free_seats(slot_id, now)
    db.session.commit()
    return expired


def offer_shared_seats(now: datetime) -> int:
    """A job (it commits, one slot per transaction): seats a shared guide or vehicle got back on *another* time
    (a booking cancelled at 08:00 frees the minibus for 09:00 too) are offered to the waiting lists of the times
    using it. Safe to run twice at once: each slot's offers are made under its resources' and its own locks."""
    slot_ids = db.session.scalars(
        select(WaitlistEntry.slot_id).join(TourSlot, TourSlot.id == WaitlistEntry.slot_id)
        .where(WaitlistEntry.status == "waiting", TourSlot.status == "open",
               TourSlot.starts_at > services.booking_cutoff(now), resources.uses_resources(TourSlot.tour_id))
        .distinct().order_by(WaitlistEntry.slot_id)).all()
    db.session.commit()
    return sum(transactions.run(lambda: _offer_and_commit(slot_id, now), what=f"offering shared seats of slot "
                                f"{slot_id}") for slot_id in slot_ids)


def _offer_and_commit(slot_id: int, now: datetime) -> int:
    offered = len(offer_free_seats(slot_id, now))
    db.session.commit()
    return offered


@click.command("expire-waitlist-offers")
@with_appcontext
def expire_waitlist_offers() -> None:
    """Give the places of waiting-list offers past their time to the next in line, and the seats shared guides
    and vehicles got back to the waiting lists of the times using them."""
    now = utcnow()
    click.echo(f"Expired {expire_offers(now)} waiting-list offer(s); {offer_shared_seats(now)} new offer(s) of "
               "shared seats.")


# -- using an offer --------------------------------------------------------------------------------------

def find_offer(token: str) -> WaitlistEntry | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.offer_token_hash == _hash(token))
                             .options(joinedload(WaitlistEntry.slot).joinedload(TourSlot.tour)
                                      .joinedload(Tour.farm)))


def may_use(entry: WaitlistEntry, user) -> bool:
    """An account's entry is that account's alone; a guest's goes with its link."""
    if entry.user_id is None:
        return True
    return user is not None and getattr(user, "is_authenticated", False) and user.id == entry.user_id


def live(entry: WaitlistEntry, now: datetime) -> bool:
    return entry.status == "offered" and entry.offer_expires_at is not None and entry.offer_expires_at > now


def held_for(token: str | None, slot_id: int, now: datetime) -> int:
    """The seats a live offer holds on this slot for the holder of ``token`` (0: none)."""
    entry = find_offer(token) if token else None
    if entry is None or entry.slot_id != slot_id or not live(entry, now):
        return 0
    return entry.seats


def take_held(token: str, slot_id: int, seats: int, now: datetime) -> bool:
    """Checkout takes over the seats the offer holds (already in seats_taken): True once, for exactly those
    seats, while the offer is live. Called with the slot's lock taken in the lock order."""
    _lock_slot(slot_id)
    moved = db.session.execute(
        update(WaitlistEntry).where(WaitlistEntry.offer_token_hash == _hash(token), WaitlistEntry.slot_id == slot_id,
                                    WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at > now,
                                    WaitlistEntry.adults + WaitlistEntry.children == seats)
        .values(status="booked", closed_at=now).execution_options(synchronize_session=False))
    return moved.rowcount == 1


def close_for_cancelled(slot: TourSlot, now: datetime) -> int:
    """The farm cancelled this time: every party still waiting (or holding an offer) is told, with other times
    of the visit to book, and its entry is closed (an offer's held seats go back). Called with the slot's row
    locked (step 4 of the lock order); how many were told."""
    entries = db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.slot_id == slot.id, WaitlistEntry.status.in_(ACTIVE))
        .order_by(WaitlistEntry.id).with_for_update()).all()
    told = 0
    for entry in entries:
        was = entry.status
        closed = db.session.execute(
            update(WaitlistEntry).where(WaitlistEntry.id == entry.id, WaitlistEntry.status == was)
            .values(status="expired", closed_at=now).execution_options(synchronize_session=False))
        if closed.rowcount != 1:
            continue
        if was == "offered":
            services.release_seats(slot.id, entry.seats)
        notify("waitlist_slot_cancelled", _recipient(entry), entry=entry, slot=slot, tour=slot.tour,
               suggestions=services.suggest_slots(slot, entry.seats, now),
               tour_link=public_url("tours.detail", slug=slot.tour.slug))
        told += 1
    return told
