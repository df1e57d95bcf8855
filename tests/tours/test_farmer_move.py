"""The farmer moving one booking to another time (the visitor phoned): at the price paid, the ticket kept, the
seats moved, the visitor told; only the farm's own paid bookings, and only to the same tour's times."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.helpers import login_as
from tours import services, tickets
from tours.models import TourSlot


def _day(days: int, hour: int = 1):
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def visit(make_farm, make_tour, make_slot, book, pay):
    farm, other = make_farm(name="Vườn dứa An"), make_farm(name="Vườn dứa Bình")
    tour = make_tour(farm, title="Hái dứa trên đồi", price_adult_vnd=100000, price_child_vnd=0)
    first, later = make_slot(tour, starts_at=_day(5), capacity=10), make_slot(tour, starts_at=_day(7), capacity=3)
    elsewhere = make_slot(make_tour(other, slug="tour-b"), starts_at=_day(7))
    now = utcnow()
    ticket = services.tickets_for_order(pay(book(first, 2, 0, now=now), now=now))[0]
    return {"farm": farm, "other": other, "first": first, "later": later, "elsewhere": elsewhere, "ticket": ticket,
            "tour": tour}


def test_the_farmer_moves_a_booking_at_the_price_paid_and_the_visitor_is_told(client, visit):
    visit["tour"].price_adult_vnd = 150000  # dearer now: the farm keeps the price the group paid
    db.session.commit()
    login_as(client, visit["farm"].owner)
    ticket = visit["ticket"]
    manifest = client.get(f"/farmer/slots/{visit['first'].id}/manifest?lang=en").get_data(as_text=True)
    assert f"/farmer/tickets/{ticket.code}/move" in manifest
    page = client.get(f"/farmer/tickets/{ticket.code}/move?lang=en").get_data(as_text=True)
    assert f'value="{visit["later"].id}"' in page and f'value="{visit["elsewhere"].id}"' not in page
    response = client.post(f"/farmer/tickets/{ticket.code}/move?lang=en", data={"slot": str(visit["later"].id)})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/farmer/slots/{visit['later'].id}/manifest")
    db.session.expire_all()
    assert ticket.line.slot_id == visit["later"].id and ticket.line.line_total_vnd == 200000
    assert tickets.booking_state(ticket) == "valid"
    assert [db.session.get(TourSlot, s.id).seats_taken for s in (visit["first"], visit["later"])] == [0, 2]
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert "visit_rebooked" in kinds


def test_another_farms_booking_is_not_found_and_another_tours_time_is_refused(client, visit):
    ticket = visit["ticket"]
    login_as(client, visit["other"].owner)
    assert client.get(f"/farmer/tickets/{ticket.code}/move").status_code == 404
    assert client.post(f"/farmer/tickets/{ticket.code}/move",
                       data={"slot": str(visit["elsewhere"].id)}).status_code == 404
    login_as(client, visit["farm"].owner)
    for slot in (str(visit["elsewhere"].id), "2147483648", "x", ""):
        response = client.post(f"/farmer/tickets/{ticket.code}/move?lang=en", data={"slot": slot})
        assert response.status_code == 400, slot
        assert "Choose the new date and time from the list." in response.get_data(as_text=True)
    db.session.expire_all()
    assert ticket.line.slot_id == visit["first"].id


def test_a_checked_in_group_or_a_full_time_cannot_be_moved(client, visit, book, pay):
    ticket = visit["ticket"]
    login_as(client, visit["farm"].owner)
    now = utcnow()
    pay(book(visit["later"], 2, 0, now=now), now=now)  # 1 place left there, the group is 2
    response = client.post(f"/farmer/tickets/{ticket.code}/move?lang=en", data={"slot": str(visit["later"].id)})
    assert response.status_code == 409 and "just filled up" in response.get_data(as_text=True)
    tickets.check_in(visit["farm"].owner, visit["farm"], ticket, now)
    db.session.commit()
    page = client.get(f"/farmer/tickets/{ticket.code}/move?lang=en").get_data(as_text=True)
    assert "Only a paid booking not yet checked in can be moved." in page and 'name="slot"' not in page
    db.session.expire_all()
    assert ticket.line.slot_id == visit["first"].id
