"""Products and visits in both languages: the farm may write an English name and description; an English reader
sees them, and where there is none, the Vietnamese original, marked as such."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from shop import catalogue
from shop.models import Product
from tests.helpers import login_as
from tours.models import Tour

PRODUCT = {"name": "Dứa Queen Kép", "description": "Dứa ngọt, hái buổi sáng.", "category": "fresh", "unit": "kg",
           "price_vnd": "25000", "stock": "120", "min_order_qty": "1", "season_start": "", "season_end": "",
           "name_en": "  Kep Queen   pineapple ", "description_en": "Sweet pineapple, picked in the morning."}
TOUR = {"title": "Hái dứa trên đồi Hương Sơn", "description": "Đi dạo, hái dứa.", "included": "Nếm dứa tươi",
        "duration_minutes": "150", "meeting_point": "Cổng vườn, thôn Kép 3", "map_url": "",
        "languages": ["vi", "en"], "price_adult_vnd": "150.000", "price_child_vnd": "0",
        "default_capacity": "15", "free_cancel_hours": "48", "title_en": "Pineapple picking on the hill",
        "description_en": ""}


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def _text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_farmer_writes_an_english_name_and_english_readers_see_it(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    assert client.post("/farmer/products/new", data=PRODUCT).status_code == 302
    product = db.session.scalar(select(Product))
    assert (product.name, product.name_en) == ("Dứa Queen Kép", "Kep Queen pineapple")
    english = _text(client.get(f"/products/{product.slug}?lang=en"))
    assert '<h1>Kep Queen pineapple</h1>' in english
    assert "Sweet pineapple, picked in the morning." in english and "Dứa ngọt, hái buổi sáng." not in english
    assert "Vietnamese only" not in english
    assert '<h3>Kep Queen pineapple</h3>' in _text(client.get("/products?lang=en"))
    vietnamese = _text(client.get(f"/products/{product.slug}?lang=vi"))
    assert '<h1>Dứa Queen Kép</h1>' in vietnamese and "Sweet pineapple" not in vietnamese
    # Searching in English finds it too.
    assert [p.slug for p in catalogue.search(catalogue.parse_filters({"q": "queen pineapple"},
                                                                     catalogue.filter_options())).products] \
        == [product.slug]


def test_without_an_english_text_the_vietnamese_is_shown_and_marked(client, make_product):
    product = make_product(name="Mứt dứa", description="Mứt dứa nấu thủ công.")
    page = _text(client.get(f"/products/{product.slug}?lang=en"))
    assert '<h1 lang="vi">Mứt dứa</h1>' in page
    assert '<p class="prose" lang="vi">Mứt dứa nấu thủ công.</p>' in page
    assert "The farm wrote this in Vietnamese only." in page
    assert "Trang trại chỉ viết" not in _text(client.get(f"/products/{product.slug}?lang=vi"))


def test_an_english_name_that_is_too_long_is_refused_with_a_message(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    page = _text(client.post("/farmer/products/new?lang=en", data={**PRODUCT, "name_en": "x" * 121}))
    assert "The name is too long (at most 120 characters)." in page
    assert db.session.scalar(select(Product)) is None


def test_a_visit_with_an_english_title_only(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    assert client.post("/farmer/tours/new", data=TOUR).status_code == 302
    tour = db.session.scalar(select(Tour))
    page = _text(client.get(f"/tours/{tour.slug}?lang=en"))
    assert '<h1>Pineapple picking on the hill</h1>' in page
    assert '<p class="prose" lang="vi">Đi dạo, hái dứa.</p>' in page and "Vietnamese only" in page
    assert '<h2>Pineapple picking on the hill</h2>' in _text(client.get("/tours?lang=en"))
    assert '<h1>Hái dứa trên đồi Hương Sơn</h1>' in _text(client.get(f"/tours/{tour.slug}?lang=vi"))
    # The edit form shows what was saved.
    assert 'value="Pineapple picking on the hill"' in _text(client.get(f"/farmer/tours/{tour.id}/edit"))
