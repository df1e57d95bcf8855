"""Photos from a phone: upload with a new product or later, refusals, limits, order, removal, serving."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select

from core.extensions import db
from shop.models import Product, ProductPhoto
from tests.helpers import login_as

FORM = {"name": "Dứa Queen Kép", "description": "Dứa ngọt.", "category": "fresh", "unit": "kg",
        "price_vnd": "25000", "stock": "120", "min_order_qty": "1", "season_start": "", "season_end": ""}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def farm(make_farm):
    return make_farm()


@pytest.fixture
def farmer_client(client, farm):
    login_as(client, farm.owner)
    client.get("/?lang=en")
    return client


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def image(fmt: str = "JPEG", size: tuple[int, int] = (1600, 1200), **params) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", size, (40, 40, 200))
    img.paste((220, 30, 30), (0, 0, size[0] // 2, size[1]))  # left half red
    img.save(buf, fmt, **params)
    return buf.getvalue()


def bomb() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def files(*items: tuple[bytes, str]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for data, name in items]


def create(client, *photos: tuple[bytes, str], **fields):
    return client.post("/farmer/products/new", data={**FORM, **fields, "photos": files(*photos)},
                       content_type="multipart/form-data")


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Product)),
            db.session.scalar(select(func.count()).select_from(ProductPhoto)))


def test_a_product_with_photos_from_a_phone(app, farmer_client):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # taken holding the phone upright
    exif[ExifTags.Base.Make] = "PhoneCo"
    response = create(farmer_client, (image(exif=exif.tobytes()), "IMG_0001.JPG"), (image("PNG"), "b.png"),
                      (image("WEBP"), "c.webp"))
    assert response.status_code == 302
    product = db.session.scalars(select(Product)).one()
    assert [(p.position, p.width, p.height) for p in product.photos] == [(0, 900, 1200), (1, 1200, 900),
                                                                        (2, 1200, 900)]
    assert len(stored_files(app)) == 6
    served = farmer_client.get(f"/media/{product.photos[0].large_key}")
    assert served.status_code == 200 and b"PhoneCo" not in served.data and b"EXIF" not in served.data
    listing = farmer_client.get("/farmer/products").get_data(as_text=True)
    assert f'src="/media/{product.photos[0].small_key}"' in listing and 'loading="lazy"' in listing


@pytest.mark.parametrize("bad, name, message", [
    (PDF, "dua.jpg", "This file is not a photo"),
    (bomb(), "bomb.png", "too large in pixels"),
    (b"", "empty.jpg", "The file is empty"),
    (b"\xff\xd8" + b"\0" * (16 * 1024 * 1024), "big.jpg", "larger than 15 MB"),
])
def test_a_refused_photo_creates_nothing(app, farmer_client, bad, name, message):
    response = create(farmer_client, (image(), "good.jpg"), (bad, name))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and f"“{name}”" in html and "Nothing was saved" in html and 'id="photos-error"' in html
    assert 'value="Dứa Queen Kép"' in html  # the rest of the form is kept
    assert counts() == (0, 0) and stored_files(app) == []


def test_seven_photos_are_refused(app, farmer_client):
    response = create(farmer_client, *[(image(size=(300, 200)), f"{n}.jpg") for n in range(7)])
    assert "at most 6 photos" in response.get_data(as_text=True)
    assert counts() == (0, 0) and stored_files(app) == []


def test_a_60_mb_upload_gets_the_friendly_413_page(app, farmer_client):
    response = create(farmer_client, (b"\xff\xd8" + b"\0" * (60 * 1024 * 1024), "huge.jpg"))
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)
    assert counts() == (0, 0) and stored_files(app) == []


def test_a_photo_with_a_html_file_name_is_quoted_as_text(app, farmer_client):
    html = create(farmer_client, (PDF, "<img src=x onerror=alert(1)>.jpg")).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.jpg" in html


@pytest.fixture
def product(make_product, farm):
    return make_product(farm=farm)


def add(client, product, *photos: tuple[bytes, str]):
    return client.post(f"/farmer/products/{product.id}/photos", data={"photos": files(*photos)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_add_photos_later_up_to_six(app, farmer_client, product):
    html = add(farmer_client, product, *[(image(size=(300, 200)), f"{n}.jpg") for n in range(5)]).get_data(
        as_text=True)
    assert "5 photos added." in html and "Photos (5 of 6)" in html
    html = add(farmer_client, product, (image(), "6.jpg"), (image(), "7.jpg")).get_data(as_text=True)
    assert "You can add 1 more." in html
    html = add(farmer_client, product, (image(), "6.jpg")).get_data(as_text=True)
    assert "1 photo added." in html and "Remove one to add another" in html and 'type="file"' not in html
    html = add(farmer_client, product, (image(), "7.jpg")).get_data(as_text=True)
    assert "already has 6 photos" in html
    assert counts() == (1, 6) and len(stored_files(app)) == 12


def test_adding_a_bad_photo_adds_none(app, farmer_client, product):
    html = add(farmer_client, product, (image(), "a.jpg"), (PDF, "b.jpg")).get_data(as_text=True)
    assert "“b.jpg”: This file is not a photo" in html
    assert counts() == (1, 0) and stored_files(app) == []
    html = add(farmer_client, product).get_data(as_text=True)
    assert "Choose at least one photo." in html


def test_reorder_and_remove_photos(app, farmer_client, product):
    add(farmer_client, product, *[(image(size=(300, 200)), f"{n}.jpg") for n in range(3)])
    db.session.refresh(product)
    a, b, c = (p.id for p in product.photos)
    base = f"/farmer/products/{product.id}/photos"
    farmer_client.post(f"{base}/{c}/move", data={"to": "up"})
    db.session.refresh(product)
    assert [p.id for p in product.photos] == [a, c, b]
    farmer_client.post(f"{base}/{b}/move", data={"to": "first"})
    db.session.refresh(product)
    assert [p.id for p in product.photos] == [b, a, c]
    assert farmer_client.post(f"{base}/{b}/move", data={"to": "sideways"}).status_code == 400

    removed = product.photos[1]
    keys = (removed.large_key, removed.small_key)
    response = farmer_client.post(f"{base}/{a}/delete", follow_redirects=True)
    assert "The photo is removed." in response.get_data(as_text=True)
    db.session.refresh(product)
    assert [(p.id, p.position) for p in product.photos] == [(b, 0), (c, 1)]
    assert farmer_client.get(f"/media/{keys[0]}").status_code == 404
    assert len(stored_files(app)) == 4


def test_photo_ids_of_another_product_are_not_found(app, farmer_client, product, make_product, farm):
    add(farmer_client, product, (image(), "a.jpg"))
    other = make_product(farm=farm, name="Dứa sấy")
    photo_id = db.session.scalars(select(ProductPhoto.id)).one()
    assert farmer_client.post(f"/farmer/products/{other.id}/photos/{photo_id}/delete").status_code == 404
    assert farmer_client.post(f"/farmer/products/{other.id}/photos/{photo_id}/move",
                              data={"to": "first"}).status_code == 404
    assert counts() == (2, 1) and len(stored_files(app)) == 2


def test_deleting_a_product_deletes_its_photo_files(app, farmer_client, product):
    add(farmer_client, product, (image(), "a.jpg"), (image(), "b.jpg"))
    assert len(stored_files(app)) == 4
    farmer_client.post(f"/farmer/products/{product.id}/delete")
    assert counts() == (0, 0) and stored_files(app) == []


# --- serving photos -------------------------------------------------------------------------------------------

def test_media_serves_stored_photos_for_a_year(app, client):
    from core.storage import get_storage

    key = get_storage(app).save(image("WEBP"), "webp")
    response = client.get(f"/media/{key}")
    assert response.status_code == 200 and response.data[8:12] == b"WEBP"
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("key", [
    "ab/" + "0" * 32 + ".webp",  # well formed, never stored
    "../../etc/passwd", "..%2F..%2Fsecret_key", "ab/../../secret_key.webp", "ab/" + "0" * 32 + ".png",
    "nothing", "ab/XYZ.webp",
])
def test_media_answers_404_for_unknown_or_invalid_keys(client, key):
    assert client.get(f"/media/{key}").status_code == 404
