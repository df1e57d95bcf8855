"""The farmer's screens end to end: a new visit with a photo, times generated in Vietnam time,
capacity, closing, and cancelling a time with refunds and messages."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from core.time import local_to_utc, to_local, utcnow
from shop.payment_models import Refund
from tests.helpers import count, login_as
from tours.models import Tour, TourPhoto, TourSlot

FORM = {"title": "Hái dứa trên đồi Hương Sơn", "description": "Đi dạo, hái dứa.", "included": "Nếm dứa tươi",
        "duration_minutes": "150", "meeting_point": "Cổng vườn, thôn Kép 3", "map_url": "https://maps.app.goo.gl/x",
        "languages": ["vi", "en"], "price_adult_vnd": "150.000", "price_child_vnd": "0",
        "default_capacity": "15", "free_cancel_hours": "48"}


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def _jpeg() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (230, 190, 40)).save(buf, "JPEG")
    buf.seek(0)
    return buf


def test_a_farmer_offers_a_visit_with_a_photo(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    response = client.post("/farmer/tours/new", data={**FORM, "photos": [(_jpeg(), "doi-dua.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    tour = db.session.scalar(select(Tour))
    assert (tour.title, tour.price_adult_vnd, tour.price_child_vnd, tour.languages, tour.default_capacity) == \
        ("Hái dứa trên đồi Hương Sơn", 150000, 0, "vi,en", 15)
    assert tour.slug == "hai-dua-tren-doi-huong-son" and tour.farm_id == farm.id
    photo = db.session.scalar(select(TourPhoto))
    assert photo.large_key.endswith(".webp") and client.get(f"/media/{photo.small_key}").status_code == 200
    page = client.get(f"/tours/{tour.slug}").get_data(as_text=True)
    assert photo.small_key in page


@pytest.mark.parametrize("field, value, message", [
    ("title", "", "Enter the name of the visit"),
    ("price_adult_vnd", "0", "more than 0"),
    ("price_child_vnd", "-5", "less than 0"),
    ("default_capacity", "0", "at least 1 person"),
    ("default_capacity", "9999", "at most 500"),
    ("map_url", "javascript:alert(1)", "https://"),
    ("languages", [], "at least one language"),
    ("meeting_point", " ", "where the visitors meet"),
    ("duration_minutes", "1,5", "whole number"),
])
def test_bad_tour_forms_are_refused_clearly(client, make_farm, field, value, message):
    login_as(client, make_farm().owner)
    response = client.post("/farmer/tours/new?lang=en", data={**FORM, field: value})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert count(Tour) == 0


def test_editing_keeps_the_address(client, make_tour):
    tour = make_tour(title="Cũ", slug="cu")
    login_as(client, tour.farm.owner)
    form = client.get(f"/farmer/tours/{tour.id}/edit").get_data(as_text=True)
    assert 'value="Cổng vườn"' in form and 'value="150000"' in form
    assert re.search(r'<input checked[^>]*value="en"', form), "the languages it offers are ticked"
    assert client.post(f"/farmer/tours/{tour.id}/edit", data={**FORM, "price_adult_vnd": "180000"}).status_code == 302
    db.session.refresh(tour)
    assert (tour.title, tour.slug, tour.price_adult_vnd) == ("Hái dứa trên đồi Hương Sơn", "cu", 180000)


def test_generating_times_through_the_form(client, make_tour):
    tour = make_tour(default_capacity=8)
    login_as(client, tour.farm.owner)
    first = to_local(utcnow()).date() + timedelta(days=1)
    last = first + timedelta(days=13)
    data = {"first": first.isoformat(), "last": last.isoformat(), "weekdays": ["5", "6"], "times": "8h, 14:30",
            "capacity": ""}
    response = client.post(f"/farmer/tours/{tour.id}/slots/generate?lang=en", data=data)
    assert response.status_code == 302
    starts = db.session.scalars(select(TourSlot.starts_at).order_by(TourSlot.starts_at)).all()
    assert len(starts) == 8
    assert {to_local(s).strftime("%H:%M") for s in starts} == {"08:00", "14:30"}
    assert {to_local(s).weekday() for s in starts} == {5, 6}
    assert starts[0] == local_to_utc(datetime.combine(to_local(starts[0]).date(), datetime.min.time().replace(hour=8)))
    client.post(f"/farmer/tours/{tour.id}/slots/generate?lang=en", data=data)
    page = client.get(f"/farmer/tours/{tour.id}/slots?lang=en").get_data(as_text=True)
    assert "8 already existed" in page
    assert count(TourSlot) == 8
    response = client.post(f"/farmer/tours/{tour.id}/slots/generate?lang=en", data={**data, "times": "25:00"})
    assert response.status_code == 400 and "is not a time" in response.get_data(as_text=True)


def test_each_field_of_the_times_page_has_its_own_id_so_each_label_points_at_its_field(client, make_tour):
    """Both forms of the page have a "capacity" field: the label of the second pointed at the first."""
    tour = make_tour()
    login_as(client, tour.farm.owner)
    page = client.get(f"/farmer/tours/{tour.id}/slots").get_data(as_text=True)
    ids = re.findall(r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(ids)
    assert '<label for="slot-capacity">' in page
    assert re.search(r'<input(?=[^>]*\bid="slot-capacity")(?=[^>]*\bname="capacity")', page)


def test_adding_one_time_and_changing_its_capacity(client, make_tour, make_slot):
    tour = make_tour()
    login_as(client, tour.farm.owner)
    day = (to_local(utcnow()).date() + timedelta(days=3)).isoformat()
    assert client.post(f"/farmer/tours/{tour.id}/slots/add", data={"day": day, "start": "09:00",
                                                                    "capacity": "6"}).status_code == 302
    slot = db.session.scalar(select(TourSlot))
    assert slot.capacity == 6 and to_local(slot.starts_at).strftime("%H:%M") == "09:00"
    response = client.post(f"/farmer/tours/{tour.id}/slots/add?lang=en", data={"day": day, "start": "09:00"})
    assert response.status_code == 400 and "already a visit at this time" in response.get_data(as_text=True)
    slot.seats_taken = 4
    db.session.commit()
    response = client.post(f"/farmer/slots/{slot.id}/capacity?lang=en", data={"capacity": "3"})
    assert response.status_code == 400 and "4 places are already booked" in response.get_data(as_text=True)
    assert client.post(f"/farmer/slots/{slot.id}/capacity", data={"capacity": "12"}).status_code == 302
    db.session.refresh(slot)
    assert slot.capacity == 12


def test_cancelling_a_time_from_the_screen(client, make_slot, book, pay):
    slot = make_slot(starts_at=utcnow() + timedelta(days=4))
    order = pay(book(slot, 2, 0, now=utcnow()), now=utcnow())
    login_as(client, slot.tour.farm.owner)
    page = client.get(f"/farmer/slots/{slot.id}/cancel?lang=en").get_data(as_text=True)
    assert "1 group is booked" in page
    response = client.post(f"/farmer/slots/{slot.id}/cancel?lang=en", data={"reason": "nope"})
    assert response.status_code == 400
    assert client.post(f"/farmer/slots/{slot.id}/cancel",
                       data={"reason": "harvest", "note": "Thu hoạch sớm"}).status_code == 302
    db.session.refresh(slot)
    assert slot.status == "cancelled" and slot.cancel_note == "Thu hoạch sớm"
    refund = db.session.scalar(select(Refund))
    assert (refund.amount_vnd, refund.provider, refund.status) == (300000, "vietqr", "pending")
    assert db.session.scalar(select(Notification).where(Notification.kind == "visit_slot_cancelled")) is not None
    page = client.get(f"/tours/{slot.tour.slug}?lang=en").get_data(as_text=True)
    assert "Cancelled" in page
