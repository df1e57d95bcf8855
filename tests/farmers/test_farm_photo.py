"""The farm's picture: the farmer sets it on "My farm", checked and re-encoded like every photo."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from core.audit import AuditEntry
from core.extensions import db
from tests.helpers import login_as


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


def jpeg(size=(2000, 1500)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 140, 60)).save(out, "JPEG")
    return out.getvalue()


def post(client, data: bytes, name: str = "IMG_1.JPG"):
    return client.post("/farmer/photo", data={"photos": [(io.BytesIO(data), name)]},
                       content_type="multipart/form-data")


def test_the_farmer_sets_the_farm_picture(app, client, make_farm):
    farm = make_farm(name="Vườn dứa Anh An")
    login_as(client, farm.owner)
    page = client.get("/sell?lang=en").get_data(as_text=True)
    assert 'action="/farmer/photo"' in page and "data-shrink-photos" in page and 'class="farm-face farm-initial' in page
    response = post(client, jpeg())
    assert response.status_code == 302 and response.headers["Location"].endswith("/sell")
    db.session.refresh(farm)
    assert (farm.photo_width, farm.photo_height) == (1200, 900)
    assert Image.open(Path(app.config["UPLOAD_FOLDER"]) / farm.photo_small_key).format == "WEBP"
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.entity_type == "farm")) == "farm.photo_changed"
    old = farm.photo_large_key
    post(client, jpeg((800, 800)))
    db.session.refresh(farm)
    assert farm.photo_large_key != old and not (Path(app.config["UPLOAD_FOLDER"]) / old).exists()
    assert f"/media/{farm.photo_small_key}" in client.get("/").get_data(as_text=True)


def test_a_file_that_is_no_photo_changes_nothing(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    client.get("/?lang=en")
    response = post(client, b"%PDF-1.4 not a photo", "dua.jpg")
    assert response.status_code == 302
    db.session.refresh(farm)
    assert farm.photo_small_key is None
    assert "This file is not a photo" in client.get("/sell").get_data(as_text=True)
    client.post("/farmer/photo", data={}, content_type="multipart/form-data")
    assert "Choose a photo." in client.get("/sell").get_data(as_text=True)


def test_only_an_approved_farms_owner(client, make_farm, make_user):
    pending = make_farm(status="pending")
    login_as(client, pending.owner)
    assert post(client, jpeg()).status_code == 404
    login_as(client, make_user())
    assert post(client, jpeg()).status_code == 404
