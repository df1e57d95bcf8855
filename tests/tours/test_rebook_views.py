"""Changing the date from the ticket page: who may, the list of times, the one confirming POST, and every refusal
shown as a message with nothing changed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop.payment_models import Refund
from tests.helpers import count, login_as
from tours import services, tickets


def soon(days: int, hour: int = 1):
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def trip(make_slot, make_user, book, pay):
    """A paid group of two (the buyer has an account) on a time five days ahead, and two other times."""
    buyer = make_user("buyer")
    slot = make_slot(starts_at=soon(5), capacity=10, title="Hái dứa trên đồi")
    later = make_slot(slot.tour, starts_at=soon(8), capacity=10, seats_taken=3)
    tight = make_slot(slot.tour, starts_at=soon(9), capacity=10, seats_taken=9)  # 1 place: too few for 2
    now = utcnow()
    order = pay(book(slot, 2, 0, user=buyer, now=now), now=now)
    ticket = services.tickets_for_order(order)[0]
    return dict(buyer=buyer, slot=slot, later=later, tight=tight, order=order, ticket=ticket)


def _url(trip, key=True):
    ticket, order = trip["ticket"], trip["order"]
    return f"/tickets/{ticket.code}/rebook" + (f"?key={order.secret}&lang=en" if key else "?lang=en")


def test_the_ticket_page_offers_the_change_and_the_page_lists_times_with_room(client, trip):
    order, ticket = trip["order"], trip["ticket"]
    page = client.get(f"/tickets/{ticket.code}?key={order.secret}&lang=en").get_data(as_text=True)
    assert "Change date" in page and f"/tickets/{ticket.code}/rebook?key={order.secret}" in page
    page = client.get(_url(trip)).get_data(as_text=True)
    assert f'value="{trip["later"].id}"' in page and "7 places left" in page
    assert f'value="{trip["tight"].id}"' not in page, "1 place is too few for the group"
    assert f'value="{trip["slot"].id}"' not in page, "not the time already booked"
    assert "nothing more to pay" in page


def test_moving_with_one_post_shows_the_new_date_and_tells_both(client, trip):
    order, ticket, slot, later = trip["order"], trip["ticket"], trip["slot"], trip["later"]
    response = client.post(_url(trip), data={"key": order.secret, "slot": later.id, "refund": "0"})
    assert response.status_code == 302 and f"/tickets/{ticket.code}" in response.headers["Location"]
    db.session.expire_all()
    assert ticket.line.slot_id == later.id and (slot.seats_taken, later.seats_taken) == (0, 5)
    page = client.get(response.headers["Location"] + "&lang=en").get_data(as_text=True)
    assert "Your ticket stays the same" in page and ticket.display_code in page
    with client.application.test_request_context():
        from flask_babel import force_locale

        from tours.labels import visit_when
        with force_locale("en"):
            assert visit_when(later.starts_at) in page
    kinds = [n.kind for n in db.session.scalars(select(Notification))]
    assert "visit_rebooked" in kinds and "farm_visit_rebooked" in kinds


def test_the_logged_in_buyer_may_move_without_the_key_and_nobody_else(client, trip, make_user):
    ticket, later = trip["ticket"], trip["later"]
    assert client.get(_url(trip, key=False)).status_code == 404, "anonymous without the key"
    assert client.post(_url(trip, key=False), data={"slot": later.id, "refund": "0",
                                                    "key": "wrong"}).status_code == 404
    login_as(client, make_user("admin"))
    assert client.get(_url(trip, key=False)).status_code == 404, "staff see tickets but do not move them"
    client.post("/logout")
    login_as(client, make_user("buyer", email="other@example.vn", phone="0987000111"))
    assert client.get(_url(trip, key=False)).status_code == 404, "another buyer"
    client.post("/logout")
    login_as(client, trip["buyer"])
    assert client.get(_url(trip, key=False)).status_code == 200
    response = client.post(_url(trip, key=False), data={"slot": later.id, "refund": "0"})
    assert response.status_code == 302
    db.session.expire_all()
    assert ticket.line.slot_id == later.id


@pytest.mark.parametrize("case, status, message", [
    ("same", 409, "already at this time"),
    ("tight", 409, "just filled up"),
    ("other_tour", 409, "another visit"),
    ("missing", 400, "Choose the new date and time"),
    ("garbage", 400, "Choose the new date and time"),
    ("price_changed", 409, "price of this visit changed"),
])
def test_refusals_show_a_message_and_change_nothing(client, trip, make_slot, case, status, message):
    order, ticket, slot = trip["order"], trip["ticket"], trip["slot"]
    target = {"same": slot.id, "tight": trip["tight"].id, "other_tour": make_slot(starts_at=soon(7)).id,
              "missing": 999999, "garbage": "x'; --", "price_changed": trip["later"].id}[case]
    refund = "5000" if case == "price_changed" else "0"
    response = client.post(_url(trip), data={"key": order.secret, "slot": target, "refund": refund})
    assert response.status_code == status and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert ticket.line.slot_id == slot.id and slot.seats_taken == 2 and trip["later"].seats_taken == 3
    assert count(Refund) == 0


def test_a_tampered_refund_field_is_refused(client, trip):
    response = client.post(_url(trip), data={"key": trip["order"].secret, "slot": trip["later"].id,
                                             "refund": "-1"})
    assert response.status_code == 400


def test_too_late_cancelled_or_checked_in_bookings_say_why(client, trip, make_slot, book, pay):
    order, ticket, slot = trip["order"], trip["ticket"], trip["slot"]
    farm = slot.tour.farm
    tickets.check_in(farm.owner, farm, ticket, utcnow())
    db.session.commit()
    page = client.get(_url(trip)).get_data(as_text=True)
    assert "already been checked in" in page and 'name="slot"' not in page
    response = client.post(_url(trip), data={"key": order.secret, "slot": trip["later"].id, "refund": "0"})
    assert response.status_code == 409 and "already been checked in" in response.get_data(as_text=True)
    late_slot = make_slot(slot.tour, starts_at=utcnow().replace(microsecond=0) + timedelta(hours=30))
    now = utcnow()
    late = pay(book(late_slot, 1, 0, email="late@example.vn", now=now), now=now)
    late_ticket = services.tickets_for_order(late)[0]
    page = client.get(f"/tickets/{late_ticket.code}?key={late.secret}&lang=en").get_data(as_text=True)
    assert "Change date" not in page
    response = client.post(f"/tickets/{late_ticket.code}/rebook?lang=en",
                           data={"key": late.secret, "slot": trip["later"].id, "refund": "0"})
    assert response.status_code == 409 and "too late to change the date online" in response.get_data(as_text=True)
    db.session.expire_all()
    assert late_ticket.line.slot_id == late_slot.id


def test_a_lower_price_is_shown_and_refunded(client, trip):
    order, ticket, slot = trip["order"], trip["ticket"], trip["slot"]
    slot.tour.price_adult_vnd = 120000
    db.session.commit()
    page = client.get(_url(trip)).get_data(as_text=True)
    assert "you get ₫60,000 back" in page and 'name="refund" type="hidden" value="60000"' in page
    response = client.post(_url(trip), data={"key": order.secret, "slot": trip["later"].id, "refund": "60000"})
    assert response.status_code == 302
    assert db.session.scalar(select(Refund.amount_vnd)) == 60000


def test_a_higher_price_sends_the_visitor_to_the_farm(client, trip):
    trip["slot"].tour.price_adult_vnd = 200000
    db.session.commit()
    page = client.get(_url(trip)).get_data(as_text=True)
    assert "price of this visit has gone up" in page and 'name="slot"' not in page
    assert trip["slot"].tour.farm.owner.phone in page


def test_the_page_runs_as_many_queries_for_many_times_as_for_one(client, trip, make_slot):
    from tests.helpers import count_queries

    client.get(_url(trip))  # warm up (the session, the translations)
    with count_queries() as few:
        assert client.get(_url(trip)).status_code == 200
    for day in range(10, 16):
        make_slot(trip["slot"].tour, starts_at=soon(day), capacity=10)
    with count_queries() as many:
        page = client.get(_url(trip)).get_data(as_text=True)
    assert page.count('name="slot"') == 7
    assert len(many) == len(few), many
