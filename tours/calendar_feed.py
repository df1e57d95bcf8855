"""The farm's private calendar feed (RFC 5545), for the farmer's phone calendar.

The address /calendar/<token>.ics is the only key: the token is 32 random bytes, kept on the farm's
CalendarFeed row; a new token replaces it, so the old address answers 404 at once. The feed lists the farm's
coming times (open, closed and cancelled, from one day back), one VEVENT each, written by the ``icalendar``
library (it folds lines at 75 octets, ends them with CRLF and escapes TEXT values as RFC 5545 §3.1 and §3.3.11
say). Times are UTC (``...Z``), so no VTIMEZONE is needed. The UID is the slot's id and the site's host, so
a phone updates the same event when it changes; STATUS:CANCELLED tells it the visit is off.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import icalendar
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from accounts.farms import Farm
from core.extensions import db
from tours.models import CalendarFeed, Tour, TourSlot

DAYS_BACK = 1
DAYS_AHEAD = 365


def feed_of(farm) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.farm_id == farm.id))


def new_token(farm, now: datetime) -> CalendarFeed:
    """Give the farm a new feed address; the old one (if any) stops working."""
    feed = feed_of(farm)
    if feed is None:
        feed = CalendarFeed(farm_id=farm.id)
        db.session.add(feed)
    feed.token, feed.created_at = secrets.token_urlsafe(32), now
    db.session.flush()
    return feed


def feed_by_token(token: str) -> CalendarFeed | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))


def farm_of(feed: CalendarFeed) -> Farm:
    return db.session.get(Farm, feed.farm_id)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc)


def _host() -> str:
    return urlsplit(current_app.config.get("PUBLIC_BASE_URL") or "").hostname or "cho-dua-kep"


def feed_slots(farm_id: int, now: datetime) -> list[TourSlot]:
    """The farm's times from a day ago to a year ahead, with their tour (1 query)."""
    return list(db.session.scalars(
        select(TourSlot).join(TourSlot.tour).options(contains_eager(TourSlot.tour))
        .where(Tour.farm_id == farm_id, TourSlot.starts_at >= now - timedelta(days=DAYS_BACK),
               TourSlot.starts_at < now + timedelta(days=DAYS_AHEAD))
        .order_by(TourSlot.starts_at, TourSlot.id)))


def render(farm, now: datetime) -> bytes:
    """The feed's bytes (text/calendar; charset=utf-8)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Cho Dua Kep//Farm visits//VI")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Visits of %(farm)s", farm=farm.name))
    host = _host()
    for slot in feed_slots(farm.id, now):
        tour = slot.tour
        event = icalendar.Event()
        event.add("uid", f"slot-{slot.id}@{host}")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(slot.starts_at))
        event.add("dtend", _utc(slot.starts_at + timedelta(minutes=tour.duration_minutes)))
        event.add("summary", tour.title)
        lines = [_("%(taken)d of %(capacity)d places booked", taken=slot.seats_taken, capacity=slot.capacity)]
        if tour.meeting_point:
            lines.append(_("Meeting point: %(place)s", place=tour.meeting_point))
            event.add("location", tour.meeting_point)
        if slot.status == "cancelled" and slot.cancel_note:
            lines.append(slot.cancel_note)
        event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if slot.status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
