"""Capacity by shared resource: the arithmetic of overlapping times, reserve_seats, booking problems, the public
calendar, the waiting list, and the seats taken through checkout."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.time import to_local, utcnow
from shop import checkout
from shop.cart import CartError
from tests.factories import make_cart, place
from tests.helpers import count_queries
from tours import resources, services, slots, waitlist
from tours.manage import TourError
from tours.models import TourSlot
from tours.resource_models import FarmResource, TourResource

T0 = datetime(2026, 6, 1, 1, 0)  # 08:00 in Vietnam


def _at(hours: float, day: int = 5) -> datetime:
    """A start ``hours`` after 08:00 (Vietnam time), ``day`` days after the tests' NOW."""
    return (utcnow() + timedelta(days=day)).replace(hour=1, minute=0, second=0, microsecond=0) + \
        timedelta(hours=hours)


@pytest.fixture
def minibus_world(make_farm, make_tour, make_slot):
    """Two tours of one farm (2 hours each) sharing a 12-seat minibus; each time takes 20 on its own."""
    farm = make_farm()
    hill = make_tour(farm, title="Đồi dứa", duration_minutes=120, default_capacity=20)
    village = make_tour(farm, title="Làng Kép", duration_minutes=120, default_capacity=20)
    bus = resources.add_resource(farm.owner, farm, name="Xe buýt xã", kind="vehicle", count=12)
    resources.set_tour_resources(farm.owner, farm, hill, [bus.id])
    resources.set_tour_resources(farm.owner, farm, village, [bus.id])
    db.session.commit()
    return dict(farm=farm, hill=hill, village=village, bus=bus,
                a=make_slot(hill, starts_at=_at(0), capacity=20),       # 08:00–10:00
                b=make_slot(village, starts_at=_at(1), capacity=20),    # 09:00–11:00
                c=make_slot(hill, starts_at=_at(3), capacity=20))       # 11:00–13:00: right after b


# -- the arithmetic ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("a_start, a_min, b_start, b_min, expected", [
    (0, 120, 120, 60, False),   # back to back: the first ends when the second starts
    (120, 60, 0, 120, False),   # the same, the other way round
    (0, 120, 119, 60, True),    # one minute in common
    (0, 240, 60, 30, True),     # one inside the other
    (60, 30, 0, 240, True),
    (0, 60, 0, 60, True),       # the same time
    (0, 60, 61, 60, False),     # a gap
])
def test_two_times_overlap_only_when_they_share_a_moment(a_start, a_min, b_start, b_min, expected):
    a, b = T0 + timedelta(minutes=a_start), T0 + timedelta(minutes=b_start)
    assert resources.overlaps(a, a_min, b, b_min) is expected


def test_guides_take_their_count_times_the_visitors_each_leads():
    assert FarmResource(kind="guide", count=3, visitors_per_guide=8).visitors == 24
    assert FarmResource(kind="vehicle", count=12).visitors == 12


def test_a_shared_minibus_limits_overlapping_times_of_both_tours(minibus_world):
    w = minibus_world
    assert services.reserve_seats(w["a"].id, 8)
    db.session.commit()
    db.session.expire_all()
    found = resources.limits([w["a"], w["b"], w["c"]])
    assert found[w["a"].id].seats_left == 4, "12 seats less the 8 booked at 08:00"
    assert found[w["b"].id].seats_left == 4, "09:00 overlaps 08:00–10:00"
    assert found[w["b"].id].resource.id == w["bus"].id
    assert [(s.title, s.seats_taken) for s in found[w["b"].id].shared_with] == [("Đồi dứa", 8)]
    assert found[w["c"].id].seats_left == 12, "11:00 starts when 09:00–11:00 ends and after 08:00–10:00"
    assert found[w["c"].id].shared_with == [], "the bus, not its own 20 places, limits it; nobody shares it then"
    assert not services.reserve_seats(w["b"].id, 5), "5 more would put 13 in the 12-seat minibus"
    assert services.reserve_seats(w["b"].id, 4)
    assert not services.reserve_seats(w["a"].id, 1), "the bus is full from 08:00 to 11:00"
    assert services.reserve_seats(w["c"].id, 12), "back to back: the bus is free again at 11:00"
    db.session.commit()
    db.session.expire_all()
    assert [db.session.get(TourSlot, w[k].id).seats_taken for k in "abc"] == [8, 4, 12]
    assert resources.sellable(db.session.get(TourSlot, w["b"].id)) == 0


def test_the_slot_own_capacity_still_limits_when_it_is_smaller(minibus_world, make_slot):
    small = make_slot(minibus_world["hill"], starts_at=_at(0, day=9), capacity=3)
    assert resources.sellable(small) == 3
    assert not services.reserve_seats(small.id, 4)
    assert services.reserve_seats(small.id, 3)


def test_a_cancelled_time_gives_its_share_back_and_a_closed_one_keeps_it(minibus_world):
    w = minibus_world
    assert services.reserve_seats(w["a"].id, 10)
    db.session.execute(TourSlot.__table__.update().where(TourSlot.id == w["a"].id).values(status="closed"))
    db.session.commit()
    db.session.expire_all()
    assert resources.sellable(db.session.get(TourSlot, w["b"].id)) == 2, "its visitors still ride the bus"
    db.session.execute(TourSlot.__table__.update().where(TourSlot.id == w["a"].id).values(status="cancelled"))
    db.session.commit()
    db.session.expire_all()
    assert resources.sellable(db.session.get(TourSlot, w["b"].id)) == 12


def test_guides_are_shared_like_seats(make_farm, make_tour, make_slot):
    farm = make_farm()
    one, two = make_tour(farm, duration_minutes=90), make_tour(farm, duration_minutes=90)
    guides = resources.add_resource(farm.owner, farm, name="Hướng dẫn viên", kind="guide", count=2,
                                    visitors_per_guide=5)
    for tour in (one, two):
        resources.set_tour_resources(farm.owner, farm, tour, [guides.id])
    db.session.commit()
    first, second = make_slot(one, starts_at=_at(0), capacity=20), make_slot(two, starts_at=_at(1), capacity=20)
    assert services.reserve_seats(first.id, 6)
    assert not services.reserve_seats(second.id, 5), "two guides of five visitors: 10 at a time"
    assert services.reserve_seats(second.id, 4)


def test_a_tour_without_resources_takes_seats_with_one_statement(make_slot):
    slot_id = make_slot(capacity=10).id
    with count_queries() as statements:
        assert services.reserve_seats(slot_id, 3)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("UPDATE")


# -- what visitors see -----------------------------------------------------------------------------------------

def test_booking_problems_and_the_calendar_count_the_shared_minibus(minibus_world):
    w = minibus_world
    assert services.reserve_seats(w["a"].id, 9)
    db.session.commit()
    db.session.expire_all()
    b = db.session.get(TourSlot, w["b"].id)
    assert [str(p) for p in services.booking_problems(b, 4, 0, utcnow())] == ["Only 3 places left at this time."]
    assert services.booking_problems(b, 3, 0, utcnow()) == []
    views = {view.slot.id: view for day in services.calendar(w["village"], utcnow()).days for view in day.slots}
    assert (views[b.id].seats_left, views[b.id].state) == (3, "open")
    assert services.reserve_seats(b.id, 3)
    db.session.commit()
    db.session.expire_all()
    views = {view.slot.id: view for day in services.calendar(w["village"], utcnow()).days for view in day.slots}
    assert views[w["b"].id].state == "full", "its own 20 places are not full, but the minibus is"
    assert waitlist.can_join(db.session.get(TourSlot, w["b"].id), utcnow())


def test_the_public_tour_page_counts_as_many_queries_with_2_or_12_shared_times(client, minibus_world, make_slot):
    w = minibus_world
    slug = w["village"].slug
    with count_queries() as few:
        page = client.get(f"/tours/{slug}?lang=en")
    assert page.status_code == 200
    for day in range(6, 16):
        make_slot(w["village"], starts_at=_at(1, day=day), capacity=20)
        make_slot(w["hill"], starts_at=_at(0, day=day), capacity=20)
    with count_queries() as many:
        page = client.get(f"/tours/{slug}?lang=en")
    assert page.status_code == 200
    assert len(few) == len(many)


def test_the_tour_page_shows_the_places_the_minibus_leaves(client, minibus_world):
    w = minibus_world
    assert services.reserve_seats(w["a"].id, 7)
    db.session.commit()
    page = client.get(f"/tours/{w['village'].slug}?lang=en").get_data(as_text=True)
    assert "5 places left" in page, "09:00 has 20 places of its own, but 12 - 7 seats left in the bus"
    assert "20 places left" not in page


# -- checkout and the waiting list ------------------------------------------------------------------------------

def test_checkout_refuses_two_visits_that_together_overfill_the_minibus(minibus_world):
    w = minibus_world
    store = make_cart((w["a"], 8, 0), (w["b"], 5, 0))  # each fits alone, not both: 13 in 12 seats
    with pytest.raises(checkout.CheckoutError) as raised:
        place(store)
    db.session.rollback()
    assert raised.value.reason == "sold_out"
    db.session.expire_all()
    assert [db.session.get(TourSlot, w[k].id).seats_taken for k in "ab"] == [0, 0], "nothing taken"
    place(make_cart((w["a"], 8, 0), (w["b"], 4, 0)))
    db.session.commit()
    db.session.expire_all()
    assert [db.session.get(TourSlot, w[k].id).seats_taken for k in "ab"] == [8, 4]
    with pytest.raises(CartError, match="full"):
        make_cart((db.session.get(TourSlot, w["b"].id), 1, 0))


def test_a_cart_line_the_bus_can_no_longer_take_stops_checkout_and_takes_nothing(minibus_world):
    w = minibus_world
    store = make_cart((w["b"], 5, 0))  # fits now
    assert services.reserve_seats(w["a"].id, 8)  # someone else books meanwhile
    db.session.commit()
    with pytest.raises(checkout.CheckoutError) as raised:
        place(store)
    db.session.rollback()
    assert raised.value.reason == "stale", "the cart shows the line's problem: only 4 places left"
    db.session.expire_all()
    assert db.session.get(TourSlot, w["b"].id).seats_taken == 0


def test_the_waiting_list_is_offered_only_what_the_minibus_has_free(minibus_world):
    w = minibus_world
    now = utcnow()
    assert services.reserve_seats(w["a"].id, 8)
    db.session.commit()
    order = place(make_cart((w["b"], 4, 0)))
    db.session.commit()
    b = db.session.get(TourSlot, w["b"].id)
    assert waitlist.can_join(b, now)
    big = waitlist.join(b, name="Nhóm lớn", phone="0987000001", email="", adults=5, children=0, user=None,
                        locale="vi", now=now)
    small = waitlist.join(b, name="Nhóm nhỏ", phone="0987000002", email="", adults=3, children=0, user=None,
                          locale="vi", now=now + timedelta(seconds=1))
    db.session.commit()
    checkout.cancel_unpaid(order, None, now)  # 4 seats back at 09:00: its own 20, but the bus has 4
    db.session.commit()
    db.session.expire_all()
    assert (db.session.get(type(big), big.id).status, db.session.get(type(small), small.id).status) == \
        ("waiting", "offered")
    assert db.session.get(TourSlot, w["b"].id).seats_taken == 3
    assert resources.sellable(db.session.get(TourSlot, w["b"].id)) == 1


def test_raising_a_slot_capacity_offers_nothing_the_bus_does_not_have(minibus_world):
    w = minibus_world
    farm, now = w["farm"], utcnow()
    local = to_local(_at(1, day=7))  # 09:00 in Vietnam
    small = slots.add_slot(farm.owner, farm, w["village"], local.date(), local.time(), 2, now)
    hill = slots.add_slot(farm.owner, farm, w["hill"], local.date(), local.time(), 20, now)
    db.session.commit()
    assert services.reserve_seats(small.id, 2) and services.reserve_seats(hill.id, 10)
    db.session.commit()
    entry = waitlist.join(small, name="Khách", phone="0987000003", email="", adults=1, children=0, user=None,
                          locale="vi", now=now)
    db.session.commit()
    slots.change_capacity(farm.owner, farm, small, 10)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(entry), entry.id).status == "waiting", "2 + 10 already fill the 12-seat bus"


# -- the farmer's rules ---------------------------------------------------------------------------------------------

def test_a_tour_uses_only_its_own_farm_resources(minibus_world, make_farm, make_tour):
    other = make_farm()
    theirs = resources.add_resource(other.owner, other, name="Xe điện", kind="vehicle", count=6)
    db.session.commit()
    w = minibus_world
    with pytest.raises(TourError):
        resources.set_tour_resources(w["farm"].owner, w["farm"], w["hill"], [theirs.id])
    with pytest.raises(TourError):
        resources.set_tour_resources(other.owner, other, w["hill"], [theirs.id])


@pytest.mark.parametrize("values, field", [
    (dict(name="", kind="vehicle", count=4), "name"),
    (dict(name="Xe", kind="boat", count=4), "kind"),
    (dict(name="Xe", kind="vehicle", count=0), "count"),
    (dict(name="Xe", kind="vehicle", count=501), "count"),
    (dict(name="HDV", kind="guide", count=2, visitors_per_guide=None), "visitors_per_guide"),
    (dict(name="HDV", kind="guide", count=2, visitors_per_guide=101), "visitors_per_guide"),
])
def test_bad_resources_are_refused_with_their_field(make_farm, values, field):
    farm = make_farm()
    with pytest.raises(TourError) as raised:
        resources.add_resource(farm.owner, farm, **values)
    assert raised.value.field == field
    assert db.session.scalar(select(FarmResource.id)) is None


def test_removing_a_resource_frees_the_tours_that_used_it(minibus_world):
    w = minibus_world
    assert services.reserve_seats(w["a"].id, 12)
    db.session.commit()
    resources.remove_resource(w["farm"].owner, w["farm"], w["bus"])
    db.session.commit()
    assert db.session.scalar(select(TourResource.tour_id)) is None
    db.session.expire_all()
    assert resources.sellable(db.session.get(TourSlot, w["b"].id)) == 20


def test_other_times_suggested_to_a_cancelled_visit_leave_out_those_the_bus_cannot_take(minibus_world, make_slot):
    w = minibus_world
    assert services.reserve_seats(w["a"].id, 10)  # the bus is nearly full from 08:00 to 11:00
    db.session.commit()
    cancelled = make_slot(w["village"], starts_at=_at(0, day=9), capacity=20)
    suggested = services.suggest_slots(cancelled, 4, utcnow())
    assert w["b"].id not in {s.id for s in suggested}, "09:00 has 20 places of its own but 2 seats in the bus"
    assert services.suggest_slots(cancelled, 2, utcnow())[0].id == w["b"].id


def test_the_job_offers_seats_the_bus_got_back_at_another_time_to_the_waiting_list(minibus_world, app):
    w = minibus_world
    now = utcnow()
    order = place(make_cart((w["a"], 12, 0)))
    db.session.commit()
    b = db.session.get(TourSlot, w["b"].id)
    entry = waitlist.join(b, name="Khách", phone="0987000009", email="", adults=2, children=0, user=None,
                          locale="vi", now=now)
    db.session.commit()
    checkout.cancel_unpaid(order, None, now)  # 08:00's seats go back: 09:00's own list is not offered them here
    db.session.commit()
    assert db.session.get(type(entry), entry.id).status == "waiting"
    result = app.test_cli_runner().invoke(args=["expire-waitlist-offers"])
    assert "1 new offer(s) of shared seats" in result.output, result.output
    db.session.expire_all()
    assert db.session.get(type(entry), entry.id).status == "offered"
    assert db.session.get(TourSlot, w["b"].id).seats_taken == 2
    assert waitlist.offer_shared_seats(now) == 0, "a second run offers nothing twice"
