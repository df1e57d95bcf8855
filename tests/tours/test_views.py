"""The pages: who may see what (farmer A and B, buyer, staff, anonymous), booking through the
form, the ticket page, check-in, and constant queries on the public pages."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.time import utcnow
from tests.helpers import count_queries, login_as
from tours import services, ticket_signing, tickets
from tours.models import Ticket, TourSlot


def soon(days: int = 5, hour: int = 1) -> object:
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def world(make_farm, make_tour, make_slot, make_user):
    farm_a, farm_b = make_farm(name="Vườn dứa An"), make_farm(name="Vườn dứa Bình")
    tour = make_tour(farm_a, title="Hái dứa trên đồi", slug="hai-dua-tren-doi")
    slot = make_slot(tour, starts_at=soon(5), capacity=10)
    other_tour = make_tour(farm_b, slug="tour-b")
    other_slot = make_slot(other_tour, starts_at=soon(6))
    return dict(a=farm_a.owner, b=farm_b.owner, buyer=make_user("buyer"), admin=make_user("admin"), tour=tour,
                slot=slot, farm_a=farm_a, other_slot=other_slot)


def _paid_ticket(book, pay, slot, user=None, adults=2):
    now = utcnow()
    order = pay(book(slot, adults, 0, user=user, now=now), now=now)
    return order, services.tickets_for_order(order)[0]


# -- permissions ---------------------------------------------------------------------------------------

FARMER_PAGES = ["/farmer/tours/{tour}/edit", "/farmer/tours/{tour}/slots", "/farmer/slots/{slot}",
                "/farmer/slots/{slot}/manifest", "/farmer/slots/{slot}/cancel"]


def _urls(world):
    return [p.format(tour=world["tour"].id, slot=world["slot"].id) for p in FARMER_PAGES]


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    for url in ["/farmer/tours", "/farmer/checkin", *_urls(world)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_buyer_is_refused(client, world):
    login_as(client, world["buyer"])
    for url in ["/farmer/tours", "/farmer/checkin", "/farmer/tours/new", *_urls(world)]:
        assert client.get(url).status_code == 403, url


def test_the_owner_sees_every_page(client, world):
    login_as(client, world["a"])
    for url in ["/farmer/tours", "/farmer/checkin", "/farmer/tours/new", *_urls(world)]:
        assert client.get(url).status_code == 200, url
    assert "Hái dứa trên đồi" in client.get("/farmer/tours").get_data(as_text=True)


def test_another_farmer_finds_nothing_and_changes_nothing(client, world):
    login_as(client, world["b"])
    for url in _urls(world):
        assert client.get(url).status_code == 404, url
    assert "Hái dứa trên đồi" not in client.get("/farmer/tours").get_data(as_text=True)
    slot = world["slot"]
    assert client.post(f"/farmer/slots/{slot.id}/close").status_code == 404
    assert client.post(f"/farmer/slots/{slot.id}/capacity", data={"capacity": "1"}).status_code == 404
    assert client.post(f"/farmer/slots/{slot.id}/cancel", data={"reason": "weather"}).status_code == 404
    assert client.post(f"/farmer/tours/{world['tour'].id}/slots/add",
                       data={"day": "2030-01-01", "start": "08:00"}).status_code == 404
    db.session.refresh(slot)
    assert (slot.status, slot.capacity) == ("open", 10)


def test_staff_act_for_a_farm_named_in_the_address(client, world, grant_consent):
    grant_consent(world["farm_a"], world["admin"])
    login_as(client, world["admin"])
    page = client.get("/farmer/tours").get_data(as_text=True)
    assert "Vườn dứa An" in page and "Vườn dứa Bình" in page  # choose a farm
    assert client.get(f"/farmer/slots/{world['slot'].id}").status_code == 404, "no farm named"
    farm_id = world["farm_a"].id
    for url in _urls(world):
        assert client.get(f"{url}?farm={farm_id}").status_code == 200, url
    page = client.get(f"/farmer/slots/{world['slot'].id}?farm={farm_id}").get_data(as_text=True)
    assert f"farm={farm_id}" in page, "links and forms keep the farm"
    response = client.post(f"/farmer/slots/{world['slot'].id}/close?farm={farm_id}")
    assert response.status_code == 302
    from core.audit import AuditEntry
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "slot.closed"))
    assert (entry.actor_id, entry.on_behalf_of_id) == (world["admin"].id, world["a"].id)


# -- the public pages --------------------------------------------------------------------------------------

def test_tour_pages_show_the_calendar_with_places_left(client, world, make_slot):
    tour = world["tour"]
    make_slot(tour, starts_at=soon(7), capacity=4, seats_taken=4)
    make_slot(tour, starts_at=soon(8), status="closed")
    make_slot(tour, starts_at=utcnow() + timedelta(minutes=90))  # inside the 2-hour cut-off
    make_slot(tour, starts_at=soon(9), status="cancelled")
    page = client.get("/tours?lang=en").get_data(as_text=True)
    assert "Hái dứa trên đồi" in page and "/tours/hai-dua-tren-doi" in page
    page = client.get("/tours/hai-dua-tren-doi?lang=en").get_data(as_text=True)
    assert "10 places left" in page and "Full" in page and "Closed for booking" in page
    assert "Too late to book" in page and "Cancelled" in page
    assert page.count('type="radio" name="slot"') == 1, "only the open time can be chosen"
    assert client.get("/tours/no-such-tour").status_code == 404


def test_public_pages_run_the_same_queries_with_2_and_12_tours(client, make_tour, make_slot):
    def add(n):
        for _ in range(n):
            tour = make_tour()
            for day in range(1, 8):
                make_slot(tour, starts_at=soon(day))
    add(2)
    slug = db.session.scalar(select(TourSlot)).tour.slug
    with count_queries() as few_list:
        assert client.get("/tours").status_code == 200
    with count_queries() as few_detail:
        assert client.get(f"/tours/{slug}").status_code == 200
    add(10)
    tour = db.session.scalar(select(TourSlot)).tour
    for day in range(8, 50):
        make_slot(tour, starts_at=soon(day))
    with count_queries() as many_list:
        assert client.get("/tours").status_code == 200
    with count_queries() as many_detail:
        assert client.get(f"/tours/{slug}").status_code == 200
    assert len(few_list) == len(many_list) <= 5
    assert len(few_detail) == len(many_detail) <= 5


def test_booking_through_the_form(client, world):
    slot = world["slot"]
    response = client.post("/tours/hai-dua-tren-doi/book", data={"slot": slot.id, "adults": "2", "children": "1"})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["cart"] == {f"s:{slot.id}": {"a": 2, "c": 1, "price": 150000}}


@pytest.mark.parametrize("data, message", [
    ({"adults": "0", "children": "0"}, "at least one adult"),
    ({"adults": "100", "children": "0"}, "more than 20 people"),
    ({"adults": "", "children": "2"}, "at least one adult"),
    ({"adults": "hai", "children": "0"}, "number of adults"),
    ({"adults": "2", "children": "0", "slot": "999999"}, "does not exist"),
    ({"adults": "2", "children": "0", "slot": ""}, "Choose a date and time"),
])
def test_bad_bookings_are_refused_clearly(client, world, data, message):
    data = {"slot": world["slot"].id, **data}
    response = client.post("/tours/hai-dua-tren-doi/book?lang=en", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert not session.get("cart")


def test_a_slot_of_another_tour_is_refused_in_the_form(client, world):
    response = client.post("/tours/hai-dua-tren-doi/book?lang=en",
                           data={"slot": world["other_slot"].id, "adults": "2"})
    assert response.status_code == 400 and "does not exist" in response.get_data(as_text=True)


def test_a_past_slot_is_refused_in_the_form(client, world, make_slot):
    past = make_slot(world["tour"], starts_at=utcnow() - timedelta(hours=3))
    response = client.post("/tours/hai-dua-tren-doi/book?lang=en", data={"slot": past.id, "adults": "2"})
    assert response.status_code == 400 and "already passed" in response.get_data(as_text=True)


# -- the ticket page -----------------------------------------------------------------------------------------

def test_the_ticket_page_shows_to_its_buyer_only(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"], user=world["buyer"])
    url = f"/tickets/{ticket.code}"
    assert client.get(url).status_code == 404, "anonymous without the key"
    assert client.get(f"{url}?key=wrong").status_code == 404
    page = client.get(f"{url}?key={order.secret}&lang=en").get_data(as_text=True)
    assert ticket.display_code in page and "<svg" in page and "Hái dứa trên đồi" in page
    assert "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", ""), \
        "the QR is inline"
    login_as(client, world["b"])
    assert client.get(url).status_code == 404, "another farmer"
    client.post("/logout")
    login_as(client, world["buyer"])
    assert client.get(url).status_code == 200, "the owner, logged in"
    assert client.get(f"/tickets/{ticket.code[:-1]}").status_code == 404


def test_cancelling_from_the_ticket_page(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    response = client.post(f"/tickets/{ticket.code}/cancel", data={"key": order.secret})
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.status == "cancelled" and world["slot"].seats_taken == 0
    page = client.get(f"/tickets/{ticket.code}?key={order.secret}&lang=en").get_data(as_text=True)
    assert "no longer valid" in page and "<svg" not in page


def test_cancelling_too_late_is_refused_with_the_policy(client, world, book, pay, make_slot):
    slot = make_slot(world["tour"], starts_at=soon(1, utcnow().hour) + timedelta(hours=3))
    order, ticket = _paid_ticket(book, pay, slot)
    page = client.get(f"/tickets/{ticket.code}?key={order.secret}&lang=en").get_data(as_text=True)
    assert "too late to cancel online" in page and "Cancel this booking" not in page
    response = client.post(f"/tickets/{ticket.code}/cancel?lang=en", data={"key": order.secret})
    assert response.status_code == 409 and "48 hours before the visit" in response.get_data(as_text=True)
    db.session.refresh(ticket)
    assert ticket.status == "valid"
    assert client.post(f"/tickets/{ticket.code}/cancel", data={"key": "wrong"}).status_code == 404


# -- check-in ------------------------------------------------------------------------------------------------------

def test_check_in_by_scanning_the_qr(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    url = "/checkin/" + tickets.checkin_token(ticket)
    login_as(client, world["a"])
    page = client.get(url + "?lang=en").get_data(as_text=True)
    assert "Trịnh Thị Mai" in page and "Check in 2 people" in page
    response = client.post(url)
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.checked_in_at is not None and ticket.checked_in_by_id == world["a"].id
    client.post(url)
    page = client.get(url + "?lang=en").get_data(as_text=True)
    assert "Already checked in at" in page and "Check in 2 people" not in page
    first = ticket.checked_in_at
    db.session.refresh(ticket)
    assert ticket.checked_in_at == first, "a second check-in changes nothing"


def test_check_in_by_typing_the_code(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    login_as(client, world["a"])
    page = client.get(f"/farmer/checkin?code={ticket.display_code.lower()}&lang=en").get_data(as_text=True)
    assert "Check in 2 people" in page
    client.post("/farmer/checkin", data={"code": ticket.code})
    db.session.refresh(ticket)
    assert ticket.checked_in_at is not None
    response = client.get("/farmer/checkin?code=XXXX-YYYY&lang=en")
    assert response.status_code == 404 and "No ticket for a visit of this farm has the code" in response.get_data(
        as_text=True)


def test_check_in_refusals(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    token = tickets.checkin_token(ticket)
    login_as(client, world["b"])
    response = client.get(f"/checkin/{token}?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "not for a visit of this farm" in page and "Trịnh Thị Mai" not in page
    client.post(f"/checkin/{token}")
    client.post("/farmer/checkin", data={"code": ticket.code})
    db.session.refresh(ticket)
    assert ticket.checked_in_at is None, "farmer B cannot check in A's visitors"
    client.post("/logout")
    login_as(client, world["a"])
    forged = ticket.code[:-1] + ("C" if ticket.code[-1] != "C" else "D") + token[8:]
    response = client.get(f"/checkin/{forged}?lang=en")
    assert response.status_code == 400 and "not a valid ticket" in response.get_data(as_text=True)
    response = client.get(f"/checkin/{ticket.code}?lang=en")
    assert response.status_code == 400, "a bare code without signature"


def _unused_code(ticket) -> str:
    """A well-formed code of the same shape that no ticket has."""
    for ch in services.CODE_ALPHABET:
        code = ticket.code[:-1] + ch
        if code != ticket.code and services.find_ticket(code) is None:
            return code
    raise AssertionError("no free code")


def _main(response, *codes: str) -> str:
    """The page's <main>, with the codes typed replaced by one placeholder."""
    html = response.get_data(as_text=True)
    main = html[html.index("<main"):html.index("</main>")]
    for code in codes:
        main = main.replace(code, "CODE").replace(f"{code[:4]}-{code[4:]}", "CODE")
    return main


def test_another_farms_ticket_gets_the_same_answer_as_no_ticket(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    missing = _unused_code(ticket)
    login_as(client, world["b"])
    client.get("/?lang=en")  # shows the "logged in" message, so it is not on the pages compared
    for send in (lambda code: client.get(f"/farmer/checkin?code={code}&lang=en"),
                 lambda code: client.post("/farmer/checkin?lang=en", data={"code": code})):
        theirs, nobodys = send(ticket.code), send(missing)
        assert theirs.status_code == nobodys.status_code == 404
        assert _main(theirs, ticket.code) == _main(nobodys, missing)
        assert "No ticket for a visit of this farm has the code CODE." in _main(theirs, ticket.code)
    for send in (client.get, client.post):
        theirs = send(f"/checkin/{tickets.checkin_token(ticket)}?lang=en")
        nobodys = send(f"/checkin/{ticket_signing.sign(missing, ticket.line.slot.tour.farm_id, ticket.line.slot.starts_at.date())}?lang=en")
        assert theirs.status_code == nobodys.status_code == 404
        assert _main(theirs) == _main(nobodys) and "not for a visit of this farm" in _main(theirs)
    db.session.refresh(ticket)
    assert ticket.checked_in_at is None


def test_a_cancelled_or_unpaid_booking_is_refused(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    unpaid = book(world["slot"], 1, 0, now=utcnow())
    from tours.cancellations import cancel_booking
    cancel_booking(ticket, None, utcnow())
    db.session.commit()
    login_as(client, world["a"])
    response = client.get(f"/checkin/{tickets.checkin_token(ticket)}?lang=en")
    assert response.status_code == 409 and "was cancelled" in response.get_data(as_text=True)
    client.post(f"/checkin/{tickets.checkin_token(ticket)}")
    db.session.refresh(ticket)
    assert ticket.checked_in_at is None
    assert db.session.scalar(select(Ticket).join(Ticket.line).where(Ticket.line.has(farm_order_id=unpaid.farm_orders[0].id))) is None
    manifest = client.get(f"/farmer/slots/{world['slot'].id}/manifest?lang=en").get_data(as_text=True)
    assert "Waiting for payment" in manifest and "Cancelled bookings" in manifest


def test_staff_can_check_in_from_the_qr(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    login_as(client, world["admin"])
    url = "/checkin/" + tickets.checkin_token(ticket)
    assert client.get(url).status_code == 200
    client.post(url)
    db.session.refresh(ticket)
    assert ticket.checked_in_by_id == world["admin"].id


def test_the_home_page_shows_the_next_visits_in_constant_queries(client, make_tour, make_slot):
    def add(n):
        for _ in range(n):
            tour = make_tour()
            make_slot(tour, starts_at=soon(2))
            make_slot(tour, starts_at=soon(3))
    add(1)
    make_slot(make_tour(status="paused"), starts_at=soon(1))
    make_slot(make_tour(), starts_at=soon(1), status="cancelled")
    with count_queries() as few:
        html = client.get("/?lang=en").get_data(as_text=True)
    assert "Upcoming visits" in html and html.count('href="/tours/tham-quan-doi-dua-') == 1
    assert 'href="/tours"' in html
    add(8)
    with count_queries() as many:
        html = client.get("/?lang=en").get_data(as_text=True)
    assert html.count('href="/tours/tham-quan-doi-dua-') == 4, "the four soonest"
    assert len(few) == len(many) <= 6


def test_the_farm_page_links_its_visits(client, make_tour):
    tour = make_tour(slug="hai-dua")
    html = client.get(f"/farms/{tour.farm.slug}").get_data(as_text=True)
    assert 'href="/tours/hai-dua"' in html


def test_the_order_page_lists_the_tickets(client, world, book, pay):
    order, ticket = _paid_ticket(book, pay, world["slot"])
    html = client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en").get_data(as_text=True)
    assert "Tickets for your visits" in html and ticket.display_code in html
    assert f"/tickets/{ticket.code}?key={order.secret}" in html


def test_booking_from_the_tour_page_to_a_paid_ticket(client, world, make_product, pay):
    """The whole path a tourist takes: tour page, cart (with pineapples), checkout, payment, ticket."""
    from shop.order_models import Order

    slot = world["slot"]
    pineapples = make_product(farm=world["farm_a"], price_vnd=25000, stock=50)
    client.post("/cart/add", data={"product_id": pineapples.id, "quantity": "10"})
    client.post("/tours/hai-dua-tren-doi/book", data={"slot": slot.id, "adults": "2", "children": "1"})
    assert "Hái dứa trên đồi" in client.get("/cart").get_data(as_text=True)
    html = client.get("/checkout").get_data(as_text=True)
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):  # what the browser sends: hidden fields, checked radios
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and not ('type="radio"' in tag and "checked" not in tag):
            values[name.group(1)] = value.group(1) if value else ""
    values.update(name="Tom Baker", phone="0987654321", email="tom@example.com", place="1")
    assert client.post("/checkout", data=values).status_code == 302
    order = db.session.scalar(select(Order))
    assert order.total_vnd == 10 * 25000 + 2 * 150000 + 50000 and slot.seats_taken == 3
    pay(order, now=utcnow())
    ticket = services.tickets_for_order(order)[0]
    page = client.get(f"/orders/{order.public_id}?key={order.secret}").get_data(as_text=True)
    assert ticket.display_code in page
    assert client.get(f"/tickets/{ticket.code}?key={order.secret}").status_code == 200
