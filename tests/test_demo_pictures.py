"""The demo's pictures: each product, farm and visit has its own, small, stored through the photo pipeline."""
from __future__ import annotations

import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

import demo_pictures
from accounts.farms import Farm
from core.extensions import db
from shop.models import Product
from tours.models import Tour


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.mark.parametrize("draw", [lambda seed: demo_pictures.product_picture(unit, seed) for unit in
                                  ("kg", "fruit", "bag", "jar", "bottle", "plant")]
                         + [demo_pictures.tour_picture, demo_pictures.farm_picture])
def test_each_drawing_is_a_small_webp_that_differs_by_seed(draw):
    first, again, other = draw("vuon-dua-anh-an"), draw("vuon-dua-anh-an"), draw("doi-dua-cuong-thinh")
    assert first == again, "the same listing gets the same picture on every run"
    assert first != other
    for data in (first, other):
        assert len(data) < 30_000
        image = Image.open(io.BytesIO(data))
        assert image.format == "WEBP" and image.size == (800, 600)


def _digest(app, key: str) -> str:
    return hashlib.sha256((Path(app.config["UPLOAD_FOLDER"]) / key).read_bytes()).hexdigest()


def test_seeded_demo_has_a_picture_of_its_own_for_every_listing(app):
    import demo_data

    demo_data.seed(date(2026, 7, 20))
    added = demo_pictures.add_demo_pictures()
    db.session.commit()
    products = db.session.scalars(select(Product)).all()
    tours = db.session.scalars(select(Tour)).all()
    farms = db.session.scalars(select(Farm)).all()
    assert added == len(products) + len(tours) + len(farms) and len(farms) == 12 and len(tours) >= 4
    keys = [p.photos[0].small_key for p in products] + [t.photos[0].small_key for t in tours]
    keys += [f.photo_small_key for f in farms]
    assert all(keys) and len(set(_digest(app, key) for key in keys)) == len(keys), "no two listings share one"
    # Through the normal pipeline: two WebP sizes, the large one no bigger than what was drawn.
    photo = products[0].photos[0]
    assert (photo.width, photo.height) == (800, 600)
    assert Image.open(Path(app.config["UPLOAD_FOLDER"]) / photo.small_key).size == (400, 300)
    assert all(f.photo_width == 800 and f.photo_large_key for f in farms)
    # A second run adds nothing: listings that have a picture keep it.
    assert demo_pictures.add_demo_pictures() == 0


def test_seed_demo_command_stores_the_pictures(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "pictures" in result.output
    assert all(p.photos for p in db.session.scalars(select(Product)))


def test_the_farm_page_shows_the_farm_picture(app, client, make_farm):
    from accounts.farms import set_farm_photo

    farm = make_farm(name="Vườn dứa Anh An")
    set_farm_photo(farm, io.BytesIO(demo_pictures.farm_picture(farm.slug)))
    db.session.commit()
    html = client.get(f"/farms/{farm.slug}").get_data(as_text=True)
    assert f'<img class="farm-photo" src="/media/{farm.photo_small_key}"' in html
    assert f'alt="{farm.owner.full_name}, Vườn dứa Anh An"' in html
