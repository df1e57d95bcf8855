"""Booking a visit: the cart line, bad input, seats held at checkout and released, tickets on payment."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from shop import cart as carts
from shop import checkout
from shop.ledger import LedgerEntry
from tests.factories import NOW, MemoryStore
from tests.helpers import count
from tours import services, tickets, visit_lines
from tours.models import Ticket


def test_a_visit_goes_in_the_cart_with_its_party(store, make_slot):
    slot = make_slot()
    visit_lines.add_visit(store, slot.id, "2", "1", now=NOW)
    assert store.items() == {f"s:{slot.id}": {"a": 2, "c": 1, "price": 150000}}
    line = carts.load(store, NOW).lines[0]
    assert (line.slot.id, line.seats, line.total_vnd, line.problems) == (slot.id, 3, 350000, [])
    visit_lines.add_visit(store, slot.id, "4", "", now=NOW)
    assert store.items()[f"s:{slot.id}"]["a"] == 4, "the party is replaced, not added to"
    assert slot.seats_taken == 0, "seats are taken only when the order is placed"


@pytest.mark.parametrize("adults, children, message", [
    ("0", "0", "at least one adult"),
    ("0", "3", "at least one adult"),
    ("100", "0", "more than 20 people"),
    ("40", "11", "more than 20 people"),
    ("-1", "0", "number of adults"),
    ("2.5", "0", "number of adults"),
    ("hai", "0", "number of adults"),
    ("2", "x", "number of children"),
    ("9", "2", "Only 10 places left"),
])
def test_bad_parties_are_refused_and_nothing_is_added(store, make_slot, adults, children, message):
    slot = make_slot(capacity=10)
    with pytest.raises(carts.CartError) as error:
        visit_lines.add_visit(store, slot.id, adults, children, now=NOW)
    assert message in str(error.value.message)
    assert store.items() == {}


@pytest.mark.parametrize("slot_id", ["", "abc", "999999", "1 OR 1=1", None])
def test_a_tampered_slot_id_is_refused(store, make_slot, slot_id):
    make_slot()
    with pytest.raises(carts.CartError):
        visit_lines.add_visit(store, slot_id, "2", "0", now=NOW)
    assert store.items() == {}


def test_a_slot_of_another_tour_is_refused(store, make_slot, make_tour):
    slot = make_slot()
    other_tour = make_tour()
    with pytest.raises(carts.CartError, match="does not exist"):
        visit_lines.add_visit(store, slot.id, "2", "0", now=NOW, tour_id=other_tour.id)


@pytest.mark.parametrize("starts_in, status, message", [
    (timedelta(hours=-1), "open", "already passed"),
    (timedelta(hours=1, minutes=59), "open", "too late to book"),
    (timedelta(days=3), "closed", "closed for booking"),
    (timedelta(days=3), "cancelled", "cancelled by the farm"),
])
def test_past_late_closed_and_cancelled_times_cannot_be_booked(store, make_slot, starts_in, status, message):
    slot = make_slot(starts_at=NOW + starts_in, status=status)
    with pytest.raises(carts.CartError, match=message):
        visit_lines.add_visit(store, slot.id, "2", "0", now=NOW)


def test_the_cutoff_is_configurable(app, store, make_slot):
    slot = make_slot(starts_at=NOW + timedelta(hours=3))
    visit_lines.add_visit(store, slot.id, "1", "0", now=NOW)  # default: 2 hours
    app.config["BOOKING_CUTOFF_HOURS"] = 4
    with pytest.raises(carts.CartError, match="too late"):
        visit_lines.add_visit(store, slot.id, "1", "0", now=NOW)


def test_a_paused_tour_cannot_be_booked(store, make_slot, make_tour):
    slot = make_slot(make_tour(status="paused"))
    with pytest.raises(carts.CartError, match="no longer offered"):
        visit_lines.add_visit(store, slot.id, "1", "0", now=NOW)


def test_one_order_holds_pineapples_and_a_visit(book, make_slot, make_product):
    slot = make_slot(capacity=10)
    pineapples = make_product(farm=slot.tour.farm, price_vnd=25000, stock=100)
    order = book(slot, 2, 1, product=pineapples, qty="10")
    assert order.total_vnd == 10 * 25000 + 2 * 150000 + 50000
    assert slot.seats_taken == 3 and pineapples.stock == 90
    visit = next(line for fo in order.farm_orders for line in fo.lines if line.slot_id)
    assert (visit.adults, visit.children, visit.quantity, visit.unit_price_vnd, visit.child_price_vnd) == \
        (2, 1, 3, 150000, 50000)


def test_seats_come_back_when_the_order_expires_or_is_cancelled(book, make_slot):
    slot = make_slot(capacity=10)
    first = book(slot, 3, 1)
    second = book(slot, 2, 0)
    assert slot.seats_taken == 6
    checkout.expire_orders(NOW + timedelta(minutes=31))
    db.session.commit()
    assert slot.seats_taken == 0 and first.status == "expired" and second.status == "expired"
    third = book(slot, 2, 0, now=NOW + timedelta(hours=1))
    checkout.cancel_unpaid(third, None, NOW + timedelta(hours=1))
    db.session.commit()
    assert slot.seats_taken == 0


def test_a_full_slot_refuses_the_next_order(book, make_slot):
    slot = make_slot(capacity=4)
    store = MemoryStore()
    visit_lines.add_visit(store, slot.id, "2", "0", now=NOW)
    book(slot, 3, 0)
    cart = carts.load(store, NOW)
    assert "Only 1 place left" in str(cart.lines[0].problems[0])
    book(slot, 1, 0)
    assert str(carts.load(store, NOW).lines[0].problems[0]) == "This time is full. Please choose another time."


def test_the_sold_out_message_gives_the_visit_time_in_vietnam(app, make_slot):
    from datetime import datetime

    from flask_babel import force_locale

    slot = make_slot(starts_at=datetime(2026, 12, 5, 1, 0))  # 08:00 in Vietnam
    store = MemoryStore()
    visit_lines.add_visit(store, slot.id, "2", "0", now=NOW)
    line = carts.load(store, NOW).lines[0]
    with app.test_request_context(), force_locale("en"):
        text = str(visit_lines.VisitLines().sold_out(line))
    assert "08:00" in text and "5 Dec 2026" in text and "01:00" not in text


def test_payment_issues_one_ticket_per_visit_and_mails_it(book, pay, make_slot):
    slot = make_slot()
    order = pay(book(slot, 2, 1))
    ticket = db.session.scalar(select(Ticket))
    assert order.status == "paid" and ticket.status == "valid" and len(ticket.code) == 8
    assert services.tickets_for_order(order) == [ticket]
    assert tickets.booking_state(ticket) == "valid"
    services.issue_tickets(order, NOW)  # a second call issues nothing more
    assert count(Ticket) == 1
    mail = db.session.scalar(select(Notification).where(Notification.kind == "order_paid"))
    assert ticket.display_code in mail.body and f"/tickets/{ticket.code}?key={order.secret}" in mail.body
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "sale"))
    assert (entry.source, entry.tour_id, entry.quantity) == ("tour", slot.tour_id, 3)


def test_an_unpaid_order_has_no_ticket(book, make_slot):
    order = book(make_slot())
    assert services.tickets_for_order(order) == [] and count(Ticket) == 0


def test_late_payment_of_an_expired_booking_takes_the_seats_again_and_issues_the_ticket(book, pay, make_slot):
    slot = make_slot(capacity=5)
    order = book(slot, 2, 0)
    checkout.expire_orders(NOW + timedelta(minutes=31))
    db.session.commit()
    pay(order, now=NOW + timedelta(minutes=40))
    assert order.status == "paid" and slot.seats_taken == 2 and count(Ticket) == 1


def test_ticket_codes_read_well_and_signatures_hold(app, book, pay, make_slot):
    order = pay(book(make_slot()))
    ticket = services.tickets_for_order(order)[0]
    assert tickets.normalize_code(ticket.display_code.lower()) == ticket.code
    assert tickets.normalize_code(" " + ticket.code[:4] + " " + ticket.code[4:]) == ticket.code
    assert tickets.normalize_code("0OIL1234") == ""
    token = tickets.checkin_token(ticket)
    assert tickets.code_from_token(token) == ticket.code
    forged = ticket.code[:-1] + ("A" if ticket.code[-1] != "A" else "C") + token[len(ticket.code):]
    assert tickets.code_from_token(forged) is None
    assert tickets.code_from_token(ticket.code) is None
    assert tickets.code_from_token(token + "x") is None
