"""The farmer's guides and vehicles pages: add, change, remove, tick them on a visit, and the slot page saying what
limits its places."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from core.time import utcnow
from tests.helpers import count, login_as
from tours import resources, services
from tours.resource_models import FarmResource, TourResource


def _start(hours: int = 0, day: int = 5):
    return (utcnow() + timedelta(days=day)).replace(hour=1, minute=0, second=0, microsecond=0) + \
        timedelta(hours=hours)


def test_a_farmer_adds_a_minibus_and_ticks_it_on_two_visits(client, make_farm, make_tour):
    farm = make_farm()
    hill, village = make_tour(farm, title="Đồi dứa"), make_tour(farm, title="Làng Kép")
    login_as(client, farm.owner)
    assert "Chưa có hướng dẫn viên" in client.get("/farmer/resources").get_data(as_text=True)
    response = client.post("/farmer/resources/add", data={"name": "Xe buýt xã", "kind": "vehicle", "count": "12"})
    assert response.status_code == 302
    bus = db.session.scalar(select(FarmResource))
    assert (bus.farm_id, bus.name, bus.kind, bus.count, bus.visitors_per_guide) == (farm.id, "Xe buýt xã", "vehicle",
                                                                                    12, None)
    edit_page = client.get(f"/farmer/tours/{hill.id}/edit?lang=en").get_data(as_text=True)
    assert "Xe buýt xã" in edit_page and f'action="/farmer/tours/{hill.id}/resources' in edit_page
    for tour in (hill, village):
        assert client.post(f"/farmer/tours/{tour.id}/resources", data={"resources": str(bus.id)}).status_code == 302
    assert set(db.session.scalars(select(TourResource.tour_id))) == {hill.id, village.id}
    page = client.get("/farmer/resources?lang=en").get_data(as_text=True)
    assert "12 visitors at a time" in page and "Đồi dứa" in page and "Làng Kép" in page
    assert count(AuditEntry, AuditEntry.action == "tour.resources_changed") == 2
    # Unticking every box: the visit no longer uses it.
    assert client.post(f"/farmer/tours/{hill.id}/resources", data={}).status_code == 302
    assert set(db.session.scalars(select(TourResource.tour_id))) == {village.id}


def test_guides_are_changed_and_removed(client, make_farm, make_tour):
    farm = make_farm()
    tour = make_tour(farm)
    guides = resources.add_resource(farm.owner, farm, name="Hướng dẫn viên", kind="guide", count=2,
                                    visitors_per_guide=8)
    resources.set_tour_resources(farm.owner, farm, tour, [guides.id])
    db.session.commit()
    login_as(client, farm.owner)
    form = client.get(f"/farmer/resources/{guides.id}/edit").get_data(as_text=True)
    assert 'value="Hướng dẫn viên"' in form and 'value="8"' in form
    response = client.post(f"/farmer/resources/{guides.id}/edit",
                           data={"name": "Hướng dẫn viên", "kind": "guide", "count": "3", "visitors_per_guide": "8"})
    assert response.status_code == 302
    db.session.refresh(guides)
    assert guides.visitors == 24
    assert client.post(f"/farmer/resources/{guides.id}/delete").status_code == 302
    assert count(FarmResource) == 0 and count(TourResource) == 0


def test_bad_input_is_explained_and_changes_nothing(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    cases = [({"name": "", "kind": "vehicle", "count": "12"}, "Enter a name."),
             ({"name": "Xe", "kind": "boat", "count": "12"}, "Not a valid choice"),
             ({"name": "Xe", "kind": "vehicle", "count": "0"}, "Enter how many visitors it seats (1 to 500)."),
             ({"name": "Xe", "kind": "vehicle", "count": "mười"}, "Enter a number"),
             ({"name": "HDV", "kind": "guide", "count": "2"}, "Enter how many visitors one guide leads"),
             ({"name": "X" * 81, "kind": "vehicle", "count": "4"}, "at most 80 characters")]
    for data, message in cases:
        response = client.post("/farmer/resources/add?lang=en", data=data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), (data, message)
    assert count(FarmResource) == 0


def test_another_farms_resource_does_not_exist_here(client, make_farm, make_tour):
    mine, theirs = make_farm(), make_farm()
    bus = resources.add_resource(theirs.owner, theirs, name="Xe của họ", kind="vehicle", count=6)
    tour = make_tour(mine)
    db.session.commit()
    login_as(client, mine.owner)
    assert client.get(f"/farmer/resources/{bus.id}/edit").status_code == 404
    assert client.post(f"/farmer/resources/{bus.id}/delete").status_code == 404
    response = client.post(f"/farmer/tours/{tour.id}/resources?lang=en", data={"resources": str(bus.id)})
    assert response.status_code == 302 and count(TourResource) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose among your own guides and vehicles." in page
    assert count(FarmResource) == 1


def test_the_slot_page_says_the_minibus_is_shared_and_with_whom(client, make_farm, make_tour, make_slot):
    farm = make_farm()
    hill = make_tour(farm, title="Đồi dứa", duration_minutes=120)
    village = make_tour(farm, title="Làng Kép", duration_minutes=120)
    bus = resources.add_resource(farm.owner, farm, name="Xe buýt xã", kind="vehicle", count=12)
    for tour in (hill, village):
        resources.set_tour_resources(farm.owner, farm, tour, [bus.id])
    db.session.commit()
    morning = make_slot(hill, starts_at=_start(0), capacity=20)   # 08:00 in Vietnam
    later = make_slot(village, starts_at=_start(1), capacity=20)  # 09:00
    alone = make_slot(village, starts_at=_start(0, day=8), capacity=20)
    assert services.reserve_seats(morning.id, 10)
    db.session.commit()
    login_as(client, farm.owner)
    page = client.get(f"/farmer/slots/{later.id}?lang=en").get_data(as_text=True)
    assert "2 places left: Xe buýt xã is shared with Đồi dứa at 08:00." in page
    page = client.get(f"/farmer/slots/{alone.id}?lang=en").get_data(as_text=True)
    assert "12 places left: Xe buýt xã takes 12 visitors at a time." in page
    vietnamese = client.get(f"/farmer/slots/{later.id}?lang=vi").get_data(as_text=True)
    assert "Còn 2 chỗ: Xe buýt xã dùng chung với Đồi dứa lúc 08:00." in vietnamese


def test_the_tour_list_and_home_give_the_next_time_the_shared_bus_has_room_on(client, make_farm, make_tour,
                                                                              make_slot):
    """The hill's 08:00 has places of its own, but the bus it shares is full with the village's 08:00: the next
    time shown is the hill's 14:00, as on the tour's own page."""
    farm = make_farm()
    hill = make_tour(farm, title="Đồi dứa", slug="doi-dua", duration_minutes=120)
    village = make_tour(farm, title="Làng Kép", slug="lang-kep", duration_minutes=120)
    bus = resources.add_resource(farm.owner, farm, name="Xe buýt xã", kind="vehicle", count=12)
    for tour in (hill, village):
        resources.set_tour_resources(farm.owner, farm, tour, [bus.id])
    db.session.commit()
    make_slot(hill, starts_at=_start(0), capacity=20)
    full = make_slot(village, starts_at=_start(0), capacity=12)
    afternoon = make_slot(hill, starts_at=_start(6), capacity=20)
    assert services.reserve_seats(full.id, 12)
    db.session.commit()
    cards = {card.slug: card.next_start for card in services.public_tours(utcnow())}
    assert cards == {"doi-dua": afternoon.starts_at, "lang-kep": None}
    assert [(card.slug, card.next_start) for card in services.upcoming_tours(utcnow())] == \
        [("doi-dua", afternoon.starts_at)]
