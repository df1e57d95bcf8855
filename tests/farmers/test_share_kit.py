"""The farmer's share kit: who may open it, the share links, the posters (sizes, QR code with the farm's code),
the caption; the public posters behind the pages' Open Graph previews."""
from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from flask import current_app
from PIL import Image

from core.extensions import db
from core.storage import get_storage
from shop.models import ProductPhoto
from tests.helpers import login_as
from tours.models import TourPhoto


def _webp(width=1600, height=1200, colour=(230, 160, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "WEBP")
    return out.getvalue()


def _store_photo(model, **owner) -> None:
    storage = get_storage(current_app)
    db.session.add(model(position=0, large_key=storage.save(_webp()), small_key=storage.save(_webp(400, 300)),
                         width=1600, height=1200, **owner))
    db.session.commit()


@pytest.fixture
def pineapples(make_farm, make_product):
    farm = make_farm(name="Vườn dứa Anh An", village="Kép 2", vietgap_certified=True)
    product = make_product(farm=farm, name="Dứa Queen tươi", price_vnd=35000, unit="kg")
    _store_photo(ProductPhoto, product_id=product.id)
    return product


def _image(response) -> Image.Image:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "image/jpeg"
    return Image.open(io.BytesIO(response.data))


def _qr(image: Image.Image) -> str:
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1, found
    return found[0].text


# --- who may open it ---------------------------------------------------------------------------------------

def test_the_farmer_opens_the_kit_with_links_carrying_the_farm_code(client, pineapples):
    farm = pineapples.farm
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{6}", farm.referral_code)
    login_as(client, farm.owner)
    response = client.get(f"/farmer/share/product/{pineapples.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = f"http://localhost/products/dua-queen-tuoi?ref={farm.referral_code}"
    assert f'href="{link}"' in html
    assert "https://sp.zalo.me/share_inline?url=http%3A%2F%2Flocalhost%2Fproducts%2Fdua-queen-tuoi%3Fref%3D" in html
    assert "https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2Flocalhost%2Fproducts%2F" in html
    assert "data-share-sheet" in html and "js/share" in html  # navigator.share, shown by the script only
    caption = re.search(r"<textarea[^>]*data-caption>(.*?)</textarea>", html, re.S).group(1)
    assert "Dứa Queen tươi" in caption and "35.000" in caption and "Vườn dứa Anh An" in caption
    assert "VietGAP" in caption and link in caption
    assert f"/farmer/share/product/{pineapples.id}/poster-1080x1080.jpg" in html
    assert f"/farmer/share/product/{pineapples.id}/poster-1200x630.jpg" in html


def test_the_products_list_links_to_the_kit(client, pineapples):
    login_as(client, pineapples.farm.owner)
    html = client.get("/farmer/products").get_data(as_text=True)
    assert f'href="/farmer/share/product/{pineapples.id}"' in html


@pytest.mark.parametrize("path", ["/farmer/share/product/{id}", "/farmer/share/product/{id}/poster-1080x1080.jpg"])
def test_no_one_else_opens_a_farm_kit(client, pineapples, make_farm, make_user, path):
    path = path.format(id=pineapples.id)
    assert client.get(path).status_code == 302  # to the login page
    login_as(client, make_farm().owner)
    assert client.get(path).status_code == 404  # another farm's product does not exist here
    login_as(client, make_user(role="buyer"))
    assert client.get(path).status_code == 403


def test_staff_need_the_farmers_consent(client, pineapples, make_user, grant_consent):
    staff = make_user(role="admin")
    login_as(client, staff)
    path = f"/farmer/share/product/{pineapples.id}?farm={pineapples.farm_id}"
    assert client.get(path).status_code == 403
    grant_consent(pineapples.farm, staff)
    html = client.get(path).get_data(as_text=True)
    assert pineapples.farm.referral_code in html
    assert f"/farmer/share/product/{pineapples.id}/poster-1200x630.jpg?farm={pineapples.farm_id}" in html


def test_unknown_sizes_and_products_are_not_found(client, pineapples):
    login_as(client, pineapples.farm.owner)
    assert client.get(f"/farmer/share/product/{pineapples.id}/poster-800x800.jpg").status_code == 404
    assert client.get("/farmer/share/product/999999").status_code == 404
    assert client.get("/farmer/share/tour/999999").status_code == 404


# --- posters -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1080, 1080), (1200, 630)])
def test_the_farmers_poster_has_its_size_and_a_qr_code_to_the_page_with_the_code(client, pineapples, size):
    farm = pineapples.farm
    login_as(client, farm.owner)
    response = client.get(f"/farmer/share/product/{pineapples.id}/poster-{size[0]}x{size[1]}.jpg")
    image = _image(response)
    assert image.size == size
    assert "attachment" in response.headers["Content-Disposition"]
    assert _qr(image) == f"http://localhost/products/dua-queen-tuoi?ref={farm.referral_code}"


def test_a_visit_has_its_kit_and_posters(client, make_farm, make_tour):
    farm = make_farm(name="Đồi dứa Hương Sơn")
    tour = make_tour(farm=farm, title="Một buổi trên đồi dứa", slug="mot-buoi-tren-doi-dua")
    _store_photo(TourPhoto, tour_id=tour.id)
    login_as(client, farm.owner)
    html = client.get(f"/farmer/share/tour/{tour.id}").get_data(as_text=True)
    link = f"http://localhost/tours/mot-buoi-tren-doi-dua?ref={farm.referral_code}"
    assert link in html and "150.000" in html
    assert f'href="/farmer/share/tour/{tour.id}"' in client.get("/farmer/tours").get_data(as_text=True)
    for size in ((1080, 1080), (1200, 630)):
        image = _image(client.get(f"/farmer/share/tour/{tour.id}/poster-{size[0]}x{size[1]}.jpg"))
        assert image.size == size and _qr(image) == link


def test_a_poster_without_a_photo_is_still_drawn(client, make_product):
    product = make_product(name="Mứt dứa", unit="jar")
    login_as(client, product.farm.owner)
    image = _image(client.get(f"/farmer/share/product/{product.id}/poster-1080x1080.jpg"))
    assert image.size == (1080, 1080) and "ref=" in _qr(image)


def test_the_public_poster_has_no_code_and_is_cached(client, pineapples):
    response = client.get("/share/poster/product/dua-queen-tuoi-1200x630.jpg")
    image = _image(response)
    assert image.size == (1200, 630)
    assert _qr(image) == "http://localhost/products/dua-queen-tuoi"
    assert response.headers["Cache-Control"] == "public, max-age=86400" and response.headers["ETag"]
    again = client.get("/share/poster/product/dua-queen-tuoi-1200x630.jpg",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_a_paused_product_has_no_public_poster(client, make_product):
    make_product(name="Dứa nghỉ bán", status="paused")
    assert client.get("/share/poster/product/dua-nghi-ban-1200x630.jpg").status_code == 404


# --- previews ----------------------------------------------------------------------------------------------

def _meta(html: str, prop: str) -> str:
    match = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', html)
    assert match, f"no {prop}"
    return match.group(1)


def test_product_farm_and_visit_pages_preview_with_the_wide_poster(client, pineapples, make_tour):
    pages = {"/products/dua-queen-tuoi": "/share/poster/product/dua-queen-tuoi-1200x630.jpg",
             "/farms/vuon-dua-anh-an": "/share/poster/farm/vuon-dua-anh-an-1200x630.jpg"}
    tour = make_tour(farm=pineapples.farm, title="Thăm đồi", slug="tham-doi")
    pages["/tours/tham-doi"] = "/share/poster/tour/tham-doi-1200x630.jpg"
    for page, poster in pages.items():
        html = client.get(page).get_data(as_text=True)
        assert _meta(html, "og:image") == "http://localhost" + poster
        assert (_meta(html, "og:image:width"), _meta(html, "og:image:height")) == ("1200", "630")
        assert _meta(html, "og:title") and _meta(html, "og:description")
        assert _image(client.get(poster)).size == (1200, 630)
    assert "35.000" in _meta(client.get("/products/dua-queen-tuoi").get_data(as_text=True), "og:description")
    assert "150.000" in _meta(client.get("/tours/tham-doi").get_data(as_text=True), "og:description")
    assert tour.id


def test_a_shared_link_keeps_the_code_out_of_the_preview(client, pineapples):
    code = pineapples.farm.referral_code
    html = client.get(f"/products/dua-queen-tuoi?ref={code}").get_data(as_text=True)
    assert code not in _meta(html, "og:image") and code not in _meta(html, "og:url")
    query = parse_qs(urlsplit(_meta(html, "og:url")).query)
    assert "ref" not in query
