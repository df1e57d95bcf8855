"""Waiting lists of full visit times: offers that hold seats, expire to the next in line, and book exactly the
held seats; on PostgreSQL, many seats freed at once never offer more seats than are free."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import checkout
from shop.cart import CartError
from shop.order_models import Order, OrderLine
from tests.factories import MemoryStore, make_cart, place
from tests.helpers import login_as, race, requires_postgres
from tours import visit_lines, waitlist
from tours.models import TourSlot, WaitlistEntry

THREADS = 40


def _soon():
    return utcnow().replace(microsecond=0) + timedelta(days=5)


def _join(slot, n, adults=1, children=0, user=None, now=None):
    entry = waitlist.join(slot, name=f"Khách {n}", phone=f"09876{n:05d}", email=f"k{n}@example.vn", adults=adults,
                          children=children, user=user, locale="vi", now=now or utcnow())
    db.session.commit()
    return entry


def _offer_token(entry) -> str:
    """The token the offer's message carries (only its hash is stored)."""
    note = db.session.scalars(select(Notification).where(Notification.kind == "waitlist_offer",
                                                         Notification.to_address == entry.email)
                              .order_by(Notification.id.desc())).first()
    assert note is not None, "the offer was sent"
    return note.body.split("/waitlist/offer/")[1].split()[0]


def _book_seats(slot, seats, now):
    store = make_cart((slot, seats, 0), now=now)
    order = place(store, now=now)
    db.session.commit()
    return order


def test_freed_seats_go_to_the_first_party_that_fits_and_are_held(app, make_slot):
    now = utcnow()
    slot = make_slot(starts_at=_soon(), capacity=6)
    order = _book_seats(slot, 6, now)
    big, small, later = _join(slot, 1, adults=3), _join(slot, 2, adults=2), _join(slot, 3, adults=1)
    assert waitlist.place_in_line(later) == 3
    checkout.cancel_unpaid(order, None, now)  # 6 seats back: 3 to the first, 2 to the second, 1 to the third
    db.session.commit()
    db.session.expire_all()
    assert [e.status for e in (big, small, later)] == ["offered"] * 3
    assert db.session.get(TourSlot, slot.id).seats_taken == 6, "held seats count as taken"
    with pytest.raises(CartError):  # nobody else can book the held seats
        make_cart((slot, 1, 0), now=now)


def test_a_paid_booking_cancelled_by_its_visitor_frees_seats_for_the_list(app, make_slot):
    from tests.factories import pay
    from tours.cancellations import cancel_booking
    from tours.services import tickets_for_order

    now = utcnow()
    slot = make_slot(starts_at=_soon(), capacity=2)
    order = pay(_book_seats(slot, 2, now), now=now)
    entry = _join(slot, 1, adults=2)
    cancel_booking(tickets_for_order(order)[0], None, now)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == "offered"
    assert db.session.get(TourSlot, slot.id).seats_taken == 2


def test_a_party_too_large_keeps_its_place_and_the_next_fits(app, make_slot):
    now = utcnow()
    slot = make_slot(starts_at=_soon(), capacity=4)
    order = _book_seats(slot, 2, now)
    _book_seats(slot, 2, now)
    big, small = _join(slot, 1, adults=3), _join(slot, 2, adults=2)
    checkout.cancel_unpaid(order, None, now)
    db.session.commit()
    db.session.expire_all()
    assert (big.status, small.status) == ("waiting", "offered")


def test_an_expired_offer_passes_to_the_next(app, make_slot):
    now = utcnow()
    slot = make_slot(starts_at=_soon(), capacity=2)
    order = _book_seats(slot, 2, now)
    first, second = _join(slot, 1, adults=2), _join(slot, 2, adults=2)
    checkout.cancel_unpaid(order, None, now)
    db.session.commit()
    db.session.expire_all()
    assert (first.status, second.status) == ("offered", "waiting")
    later = now + timedelta(minutes=waitlist.offer_minutes() + 1)
    assert waitlist.expire_offers(later) == 1
    assert waitlist.expire_offers(later) == 0, "safe to run twice"
    db.session.expire_all()
    assert (first.status, second.status) == ("expired", "offered")
    assert db.session.get(TourSlot, slot.id).seats_taken == 2
    assert _offer_token(second)


def test_the_job_command_is_safe_to_run_twice(app, make_slot):
    slot = make_slot(starts_at=_soon(), capacity=1, seats_taken=1)
    entry = _join(slot, 1, adults=1)
    db.session.execute(WaitlistEntry.__table__.update().values(
        status="offered", offered_at=utcnow() - timedelta(hours=3), offer_expires_at=utcnow() - timedelta(hours=1),
        offer_token_hash="0" * 64))
    db.session.commit()
    runner = app.test_cli_runner()
    assert "Expired 1 " in runner.invoke(args=["expire-waitlist-offers"]).output
    assert "Expired 0 " in runner.invoke(args=["expire-waitlist-offers"]).output
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == "expired"
    assert db.session.get(TourSlot, slot.id).seats_taken == 0


def test_the_link_books_exactly_the_held_seats(app, client, make_slot):
    now = utcnow()
    slot = make_slot(starts_at=_soon(), capacity=5)
    order = _book_seats(slot, 5, now)
    entry = _join(slot, 1, adults=2, children=1)
    checkout.cancel_unpaid(order, None, now)
    db.session.commit()
    token = _offer_token(entry)
    page = client.get(f"/waitlist/offer/{token}")
    assert page.status_code == 200
    assert client.post(f"/waitlist/offer/{token}").status_code == 302
    cart = client.get("/cart").get_data(as_text=True)
    assert slot.tour.title in cart and "Giờ này đã hết chỗ" not in cart  # the held places are this visitor's
    # The places are in the cart; checkout takes over the 3 held seats (the slot stays at 3 taken, not 6).
    store = MemoryStore()
    db.session.expire_all()
    entry = db.session.get(WaitlistEntry, entry.id)
    visit_lines.add_offer(store, entry, token, now)
    placed = place(store, now=now)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(TourSlot, slot.id).seats_taken == 3
    assert db.session.get(WaitlistEntry, entry.id).status == "booked"
    line = db.session.scalar(select(OrderLine).where(OrderLine.farm_order_id == placed.farm_orders[0].id))
    assert (line.adults, line.children, line.quantity) == (2, 1, 3)
    assert waitlist.held_for(token, slot.id, now) == 0, "used once"


def test_a_signed_in_visitors_cart_keeps_the_offer_and_books_exactly_the_held_seats(app, make_slot, make_user):
    """A logged-in visitor's cart is in the database: the offer's token must survive there, or checkout would
    take new seats and leave the held ones held."""
    from shop.cart import DbStore
    now = utcnow()
    visitor = make_user()
    slot = make_slot(starts_at=_soon(), capacity=4)
    order = _book_seats(slot, 4, now)
    entry = _join(slot, 1, adults=2, user=visitor)
    checkout.cancel_unpaid(order, None, now)
    db.session.commit()
    token = _offer_token(entry)
    visit_lines.add_offer(DbStore(visitor.id), db.session.get(WaitlistEntry, entry.id), token, now)
    db.session.commit()
    assert [v.get("w") for v in DbStore(visitor.id).items().values()] == [token]
    placed = place(DbStore(visitor.id), user=visitor, now=now)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(TourSlot, slot.id).seats_taken == 2, "the two held seats, not two more"
    assert db.session.get(WaitlistEntry, entry.id).status == "booked"
    assert placed.user_id == visitor.id


def test_someone_elses_link_is_refused(app, client, make_slot, make_user):
    now = utcnow()
    slot = make_slot(starts_at=_soon(), capacity=2)
    order = _book_seats(slot, 2, now)
    owner, other = make_user(), make_user()
    entry = _join(slot, 1, adults=2, user=owner)
    checkout.cancel_unpaid(order, None, now)
    db.session.commit()
    token = _offer_token(entry)
    login_as(client, other)
    assert client.get(f"/waitlist/offer/{token}").status_code == 404
    assert client.post(f"/waitlist/offer/{token}").status_code == 404
    assert client.get("/waitlist/offer/not-a-token").status_code == 404
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == "offered"


def test_the_full_slot_page_offers_the_waiting_list(app, client, make_slot):
    slot = make_slot(starts_at=_soon(), capacity=2, seats_taken=2)
    page = client.get(f"/tours/{slot.tour.slug}").get_data(as_text=True)
    assert f"/tours/slots/{slot.id}/waitlist" in page
    form = client.get(f"/tours/slots/{slot.id}/waitlist")
    assert form.status_code == 200
    response = client.post(f"/tours/slots/{slot.id}/waitlist", data={
        "name": "Nguyễn Văn An", "phone": "0912345678", "email": "", "adults": "2", "children": "0"})
    assert response.status_code == 302
    entry = db.session.scalar(select(WaitlistEntry))
    assert (entry.name, entry.phone, entry.adults, entry.status) == ("Nguyễn Văn An", "0912345678", 2, "waiting")
    bad = client.post(f"/tours/slots/{slot.id}/waitlist", data={"name": "", "phone": "12", "adults": "x"})
    assert bad.status_code == 400
    assert db.session.scalar(select(func.count(WaitlistEntry.id))) == 1


def test_a_capacity_increase_offers_the_new_places(app, make_slot):
    from tours import slots

    slot = make_slot(starts_at=_soon(), capacity=2, seats_taken=2)
    entry = _join(slot, 1, adults=2)
    slots.change_capacity(slot.tour.farm.owner, slot.tour.farm, slot, 4)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == "offered"
    assert db.session.get(TourSlot, slot.id).seats_taken == 4


def test_the_farmer_sees_the_waiting_list(app, client, make_slot):
    slot = make_slot(starts_at=_soon(), capacity=2, seats_taken=2)
    _join(slot, 1, adults=2, children=1)
    login_as(client, slot.tour.farm.owner)
    page = client.get(f"/farmer/slots/{slot.id}").get_data(as_text=True)
    assert "1 nhóm đang chờ" in page and "3 người" in page


# -- on PostgreSQL: many seats freed at once ----------------------------------------------------------------

@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 2, "max_overflow": 0, "pool_pre_ping": True}}


@requires_postgres
@pytest.mark.parametrize("run", range(2))
def test_40_releases_with_40_waiting_never_offer_more_than_free(app, make_slot, run):
    """40 unpaid orders of one seat are cancelled at once while 40 parties of 1 to 3 wait: the seats offered
    are never more than the seats freed, and the slot's seats_taken (booked + held) never passes capacity."""
    now = utcnow()
    rng = random.Random(run)
    slot = make_slot(starts_at=_soon(), capacity=THREADS)
    orders = [_book_seats(slot, 1, now) for _ in range(THREADS)]
    for n in range(THREADS):
        _join(slot, n, adults=rng.randint(1, 3))
    order_ids = [order.id for order in orders]
    slot_id = slot.id
    db.session.remove()

    def release(i):
        order = db.session.get(Order, order_ids[i])
        if i % 2:
            checkout.cancel_unpaid(order, None, now)
        else:
            order.expires_at = now - timedelta(minutes=1)
            db.session.flush()
            checkout.expire_order(order.id, now, "test")
        db.session.commit()
        return "released"

    results = race(app, THREADS, lambda i: _retry(lambda: release(i)))
    assert results.count("released") == THREADS
    db.session.expire_all()
    slot = db.session.get(TourSlot, slot_id)
    held = db.session.scalar(select(func.coalesce(func.sum(WaitlistEntry.adults + WaitlistEntry.children), 0))
                             .where(WaitlistEntry.slot_id == slot.id, WaitlistEntry.status == "offered"))
    offers = db.session.scalar(select(func.count(WaitlistEntry.id)).where(WaitlistEntry.status == "offered"))
    print(f"\nrun {run}: {offers} offers holding {held} of {THREADS} freed seats; seats_taken {slot.seats_taken}")
    assert held <= THREADS and slot.seats_taken == held <= slot.capacity
    sent = db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "waitlist_offer"))
    assert sent == offers, "one message per offer, none for an offer rolled back or made twice"
    # Every party that could fit was offered: what is left free is smaller than every party still waiting.
    waiting = db.session.scalars(select(WaitlistEntry.adults).where(WaitlistEntry.status == "waiting")).all()
    assert all(size > slot.capacity - slot.seats_taken for size in waiting)


def _retry(job):
    """A deadlock or serialization failure is retried, as core.transactions does for the app."""
    from core import transactions

    return transactions.run(job, what="releasing seats")
