"""The farm's private calendar feed: an iCal file a phone calendar subscribes to."""
from __future__ import annotations

import re
from datetime import timedelta, timezone
from urllib.parse import urlsplit

import icalendar
from sqlalchemy import select

from core.extensions import db
from core.time import utcnow
from tests.helpers import login_as
from tours.models import CalendarFeed


def _feed_url(client, farm) -> str:
    login_as(client, farm.owner)
    assert client.post("/farmer/tours/calendar").status_code == 302
    page = client.get("/farmer/tours").get_data(as_text=True)
    assert "Thêm địa chỉ riêng này vào lịch của điện thoại" in page
    token = db.session.scalar(select(CalendarFeed.token).where(CalendarFeed.farm_id == farm.id))
    assert f"/calendar/{token}.ics" in page
    client.post("/logout")
    return f"/calendar/{token}.ics"


def test_the_feed_lists_the_farms_times_and_parses(app, client, make_farm, make_tour, make_slot):
    farm, other = make_farm(), make_farm()
    title = "Hái dứa, nếm dứa; đồi Hương Sơn — một buổi sáng thật dài để thử dòng gập ở 75 octet nhé"
    tour = make_tour(farm, title=title, meeting_point="Cổng vườn, thôn Kép 3", duration_minutes=90)
    start = utcnow().replace(microsecond=0, second=0) + timedelta(days=3)
    open_slot = make_slot(tour, starts_at=start, capacity=12, seats_taken=5)
    cancelled = make_slot(tour, starts_at=start + timedelta(days=1), status="cancelled")
    theirs = make_slot(farm=other, starts_at=start)
    url = _feed_url(client, farm)

    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.data
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), "lines folded at 75 octets"
    assert b"\\;" in raw and b"\\," in raw, "TEXT escaped (RFC 5545 3.3.11)"

    cal = icalendar.Calendar.from_ical(raw)
    assert (str(cal["VERSION"]), str(cal["METHOD"])) == ("2.0", "PUBLISH") and cal["PRODID"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    host = urlsplit(app.config["PUBLIC_BASE_URL"]).hostname
    # Only this farm's times: not the other farm's one at the same hour.
    assert set(events) == {f"slot-{open_slot.id}@{host}", f"slot-{cancelled.id}@{host}"}
    assert f"slot-{theirs.id}@{host}" not in events
    event = events[f"slot-{open_slot.id}@{host}"]
    assert str(event["SUMMARY"]) == title
    assert event.decoded("DTSTART") == start.replace(tzinfo=timezone.utc)
    assert event.decoded("DTEND") == (start + timedelta(minutes=90)).replace(tzinfo=timezone.utc)
    assert re.search(rb"DTSTART:\d{8}T\d{6}Z", raw)
    description = str(event["DESCRIPTION"])
    assert "5" in description and "12" in description and "Cổng vườn, thôn Kép 3" in description
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(events[f"slot-{cancelled.id}@{host}"]["STATUS"]) == "CANCELLED"


def test_a_wrong_token_is_404(client, make_farm):
    farm = make_farm()
    _feed_url(client, farm)
    assert client.get("/calendar/not-the-token.ics").status_code == 404
    assert client.get("/calendar/" + "x" * 80 + ".ics").status_code == 404


def test_a_new_token_stops_the_old_address(client, make_farm):
    farm = make_farm()
    old = _feed_url(client, farm)
    assert client.get(old).status_code == 200
    new = _feed_url(client, farm)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_only_the_farmer_makes_a_token(client, make_farm, make_user):
    farm = make_farm()
    assert client.post("/farmer/tours/calendar").status_code in (302, 401, 403)
    login_as(client, make_user())
    assert client.post("/farmer/tours/calendar").status_code in (302, 403, 404)
    assert db.session.scalar(select(CalendarFeed).where(CalendarFeed.farm_id == farm.id)) is None
