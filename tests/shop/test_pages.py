"""The buyer's pages: home, catalogue, product and farm pages, through the real routes."""
from __future__ import annotations

import html as html_lib
import json
import re
import secrets

import pytest
from flask import Blueprint, url_for

from core.extensions import db
from shop.models import ProductPhoto, ProductSlugRedirect


@pytest.fixture(autouse=True)
def media_endpoint(app):
    """Photos are served by core/media.py (other work); stand in for its endpoint until it is registered."""
    if "media.photo" not in app.view_functions:
        stub = Blueprint("media", __name__)
        stub.add_url_rule("/media/<path:key>", "photo", lambda key: ("", 404))
        app.register_blueprint(stub)


def _key() -> str:
    name = secrets.token_hex(16)
    return f"{name[:2]}/{name}.webp"


@pytest.fixture
def add_photo():
    def add(product, position=0, width=1200, height=900) -> ProductPhoto:
        photo = ProductPhoto(product_id=product.id, position=position, large_key=_key(), small_key=_key(),
                             width=width, height=height)
        db.session.add(photo)
        db.session.commit()
        return photo
    return add


def _get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def _json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


def _meta(html: str, prop: str) -> str:
    match = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', html)
    assert match, f"no {prop}"
    return html_lib.unescape(match.group(1))


# --- home ---------------------------------------------------------------------------------------

def test_home_shows_in_season_products_categories_and_farms(client, make_farm, make_product):
    farm = make_farm(name="Vườn dứa Anh An", village="Kép 2", vietgap_certified=True)
    make_product(farm, name="Dứa Queen tươi", season_start=1, season_end=12)
    make_product(farm, name="Mứt dứa", category="processed", season_start=None, season_end=None)
    make_product(farm, name="Dứa đã hết", stock=0)
    make_product(farm, name="Dứa tạm dừng", status="paused")
    make_product(make_farm(status="pending", name="Trại chờ duyệt"), name="Dứa chưa duyệt")

    html = _get(client, "/")
    assert "Dứa đồi Kép, mua thẳng từ nhà vườn" in html
    assert "Dứa Queen tươi" in html and "Mứt dứa" in html
    for hidden in ("Dứa đã hết", "Dứa tạm dừng", "Dứa chưa duyệt", "Trại chờ duyệt"):
        assert hidden not in html
    assert 'href="/products/dua-queen-tuoi"' in html
    assert 'href="/products?category=fresh"' in html and 'href="/products?category=processed"' in html
    assert 'href="/farms/vuon-dua-anh-an"' in html and "VietGAP" in html
    assert 'action="/products"' in html and 'name="q"' in html


def test_home_out_of_season_products_are_not_highlighted(client, make_farm, make_product):
    from datetime import datetime

    from core.time import LOCAL_TZ
    month = datetime.now(LOCAL_TZ).month
    other = month % 12 + 1
    make_product(make_farm(name="Vườn Kép"), name="Dứa trái mùa", season_start=other, season_end=other)
    html = _get(client, "/")
    assert "Dứa trái mùa" not in html
    assert "Xem tất cả sản phẩm" in html


def test_home_tours_section_only_when_there_are_tours(client):
    html = _get(client, "/?lang=en")
    assert "Upcoming visits" not in html


# --- catalogue ----------------------------------------------------------------------------------

@pytest.fixture
def market(make_farm, make_product):
    kep = make_farm(name="Vườn Kép", village="Kép")
    ca = make_farm(name="Đồi Ca", village="Ca")
    make_product(kep, name="Dứa Queen tươi", price_vnd=25000)
    make_product(kep, name="Mứt dứa", category="processed", price_vnd=55000)
    make_product(ca, name="Nước ép dứa", category="processed", price_vnd=35000)
    make_product(ca, name="Mít Thái", description="Quả to.", price_vnd=40000)
    return kep, ca


def _names(html: str) -> list[str]:
    return re.findall(r"<h3[^>]*>(.*?)</h3>", html)


@pytest.mark.parametrize("q", ["dua", "DỨA", "dứa", "%C4%91%E1%BB%A9a", "Dua"])
def test_catalogue_search_ignores_diacritics(client, market, q):
    assert sorted(_names(_get(client, f"/products?q={q}"))) == ["Dứa Queen tươi", "Mứt dứa", "Nước ép dứa"]


def test_catalogue_filters_and_sort(client, market):
    assert _names(_get(client, "/products?category=processed&sort=price_asc")) == ["Nước ép dứa", "Mứt dứa"]
    assert sorted(_names(_get(client, "/products?village=Ca"))) == ["Mít Thái", "Nước ép dứa"]
    assert _names(_get(client, "/products?farm=vuon-kep&q=mut")) == ["Mứt dứa"]
    assert _names(_get(client, "/products?min_price=30000&max_price=45000&sort=price_desc")) == [
        "Mít Thái", "Nước ép dứa"]


@pytest.mark.parametrize("query", [
    "category=%3Cscript%3E", "village=nowhere", "farm=zzz", "min_price=abc", "max_price=-1", "sort=evil",
    "in_stock=2", "page=-1", "page=abc", "page=", "page=0", "min_price=1e400", "village=%00", "farm=%00",
    "q=", "q=%00", "q=+%09+", "page=1.5", "max_price=" + "9" * 400,
])
def test_catalogue_garbage_parameters_are_ignored(client, market, query):
    html = _get(client, f"/products?{query}")
    assert len(_names(html)) == 4


@pytest.mark.parametrize("q", ["%", "_", "%25%25%25", "%5C", "a" * 5000, "%25_" * 2500, "%F0%9F%8D%8D"])
def test_catalogue_odd_searches_are_empty_not_errors(client, market, q):
    html = _get(client, f"/products?q={q}&lang=en")
    assert _names(html) == []
    assert "No products found" in html
    assert 'href="/products?category=fresh"' in html, "the empty state offers the categories"


def test_catalogue_empty_state_helps_remove_filters(client, market):
    html = _get(client, "/products?q=sầu+riêng&village=Ca&lang=en")
    assert "No products found" in html
    assert 'href="/products?village=Ca"' in html, "a link that drops the search words"
    assert 'href="/products?q=s%E1%BA%A7u+ri%C3%AAng"' in html, "a link that drops the village"
    assert 'href="/products"' in html


def test_catalogue_pages_keep_every_filter(client, make_farm, make_product):
    farm = make_farm(name="Vườn Kép", village="Kép 2")
    for n in range(30):
        make_product(farm, name=f"Dứa số {n}", price_vnd=10000 + n)
    base = "q=dua&village=K%C3%A9p+2&max_price=90000&in_stock=1&sort=price_asc"
    first = _get(client, f"/products?{base}&lang=en")
    assert len(_names(first)) == 24 and "30 products" in first and "Page 1 of 2" in first
    next_href = re.search(r'<a rel="next" href="([^"]+)"', first).group(1)
    assert html_lib.unescape(next_href) == f"/products?{base}&page=2"
    second = _get(client, html_lib.unescape(next_href))
    assert _names(second) == [f"Dứa số {n}" for n in range(24, 30)]
    prev_href = html_lib.unescape(re.search(r'<a rel="prev" href="([^"]+)"', second).group(1))
    assert prev_href == f"/products?{base}", "page 1 has no page argument"
    assert _names(_get(client, f"/products?{base}&page=-1")) == _names(first)
    assert _names(_get(client, f"/products?{base}&page=abc")) == _names(first)


def test_catalogue_for_one_farm_keeps_the_farm_in_the_form(client, market):
    html = _get(client, "/products?farm=vuon-kep&lang=en")
    assert "<h1>Products of Vườn Kép</h1>" in html
    assert '<input type="hidden" name="farm" value="vuon-kep">' in html
    assert sorted(_names(html)) == ["Dứa Queen tươi", "Mứt dứa"]


def test_catalogue_page_past_the_end(client, market):
    html = _get(client, "/products?q=dua&page=99999&lang=en")
    assert _names(html) == []
    assert "There is no page 99999" in html
    assert 'href="/products?q=dua"' in html, "a link back to the last page"
    html = _get(client, "/products?page=" + "9" * 50)
    assert _names(html) == []


def test_catalogue_hides_what_is_not_public(client, make_farm, make_product):
    make_product(make_farm(name="Vườn Kép"), name="Dứa tạm dừng", status="paused")
    make_product(make_farm(name="Vườn Ca"), name="Dứa lưu trữ", status="archived")
    make_product(make_farm(status="suspended", name="Trại bị khóa"), name="Dứa trại khóa")
    html = _get(client, "/products?q=dua")
    assert _names(html) == [] and "Trại bị khóa" not in html
    assert "Trại bị khóa" not in _get(client, "/products"), "not even in the farm filter"


# --- product page -------------------------------------------------------------------------------

def test_product_page(client, make_farm, make_product, add_photo):
    farm = make_farm(name="Vườn dứa Anh An", village="Kép 2", vietgap_certified=True)
    product = make_product(farm, name="Dứa Queen tươi", description="Ngọt thanh.\nHái buổi sáng.",
                           price_vnd=25000, unit="kg", stock=800, min_order_qty=2, season_start=4, season_end=8)
    first, second = add_photo(product, 0, 1200, 900), add_photo(product, 1, 900, 1200)
    html = _get(client, "/products/dua-queen-tuoi")

    assert "<h1>Dứa Queen tươi</h1>" in html
    assert "25.000\xa0₫ / kg" in html
    assert "Còn hàng" in html and "Tháng 4 – Tháng 8" in html and "Ngọt thanh.\nHái buổi sáng." in html
    images = re.findall(r"<img src=\"/media/[^>]*>", html)
    assert len(images) == 2
    small = url_for("media.photo", key=first.small_key, _external=False)
    large = url_for("media.photo", key=first.large_key, _external=False)
    assert f'srcset="{small} 400w, {large} 1200w"' in images[0]
    assert 'width="1200" height="900"' in images[0] and "loading=" not in images[0]
    assert 'loading="lazy"' in images[1] and "300w" in images[1] and 'width="900" height="1200"' in images[1]
    assert url_for("media.photo", key=second.large_key, _external=False) in images[1]

    form = re.search(r'<form class="form narrow buy" method="post" action="/cart/add">(.*?)</form>',
                     html, re.S).group(1)
    assert 'name="csrf_token"' in form and f'name="product_id" value="{product.id}"' in form
    assert 'name="quantity"' in form and 'min="2"' in form and 'max="50"' in form  # the most per order, not the stock

    assert 'href="/farms/vuon-dua-anh-an"' in html and "Kép 2" in html and "VietGAP" in html


def test_the_cart_form_is_accepted_by_the_cart(client, make_product):
    product = make_product(name="Dứa Queen tươi", min_order_qty=2)
    html = _get(client, "/products/dua-queen-tuoi")
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    quantity = re.search(r'name="quantity"[^>]*value="(\d+)"', html).group(1)
    response = client.post("/cart/add", data={**fields, "quantity": quantity})
    assert response.status_code == 302 and response.headers["Location"].endswith("/products/dua-queen-tuoi")
    assert fields["product_id"] == str(product.id) and quantity == "2"
    assert 'class="flash flash-success"' in _get(client, "/products/dua-queen-tuoi"), "added, not refused"


def test_a_small_photo_has_no_srcset(client, make_product, add_photo):
    product = make_product(name="Dứa nhỏ")
    add_photo(product, 0, 300, 200)
    image = re.search(r"<img src=\"/media/[^>]*>", _get(client, "/products/dua-nho")).group(0)
    assert "srcset" not in image and 'width="300" height="200"' in image


def test_product_page_structured_data_and_open_graph(client, make_product, add_photo):
    product = make_product(name="Dứa Queen tươi", description="Ngọt thanh.", price_vnd=25000)
    photo = add_photo(product)
    html = _get(client, "/products/dua-queen-tuoi")
    data = _json_ld(html)
    assert data["@type"] == "Product" and data["name"] == "Dứa Queen tươi"
    assert data["offers"]["price"] == 25000 and data["offers"]["priceCurrency"] == "VND"
    assert data["offers"]["availability"] == "https://schema.org/InStock"
    image = url_for("media.photo", key=photo.large_key, _external=True)
    assert image.startswith("http://localhost/") and data["image"] == [image]
    # The preview is the 1200×630 share poster, then the photo itself.
    assert _meta(html, "og:image") == "http://localhost/share/poster/product/dua-queen-tuoi-1200x630.jpg"
    assert (_meta(html, "og:image:width"), _meta(html, "og:image:height")) == ("1200", "630")
    assert f'<meta property="og:image" content="{image}">' in html
    assert _meta(html, "og:type") == "product" and _meta(html, "og:title") == "Dứa Queen tươi"
    assert _meta(html, "og:url") == "http://localhost/products/dua-queen-tuoi"
    assert _meta(html, "og:description") == "25.000\xa0₫ / kg · Ngọt thanh."


def test_sold_out_product_has_no_cart_form(client, make_product):
    make_product(name="Dứa hết hàng", stock=1, min_order_qty=2)
    html = _get(client, "/products/dua-het-hang")
    assert "Hết hàng" in html and "/cart/add" not in html
    assert _json_ld(html)["offers"]["availability"] == "https://schema.org/OutOfStock"
    assert "no-photo" in html and "/media/" not in html  # no photo to show: the preview is the poster alone
    assert _meta(html, "og:image").endswith("/share/poster/product/dua-het-hang-1200x630.jpg")


def test_low_stock_is_shown(client, make_product):
    make_product(name="Dứa sắp hết", stock=3, unit="fruit")
    assert "Chỉ còn 3 quả" in _get(client, "/products/dua-sap-het")


@pytest.mark.parametrize("status, farm_status", [
    ("paused", "approved"), ("archived", "approved"), ("active", "pending"), ("active", "rejected"),
    ("active", "suspended")])
def test_product_page_404_when_not_public(client, make_farm, make_product, status, farm_status):
    make_product(make_farm(status=farm_status), name="Dứa ẩn", status=status)
    _get(client, "/products/dua-an", 404)


@pytest.mark.parametrize("slug", ["khong-co", "%00", "DUA", "a" * 300, "d%E1%BB%A9a", "..%2F..%2Fetc"])
def test_unknown_product_slugs_404(client, make_product, slug):
    make_product(name="Dua")
    _get(client, f"/products/{slug}", 404)


def test_old_slug_redirects_permanently(client, make_product):
    product = make_product(name="Dứa Queen mới")
    paused = make_product(name="Dứa nghỉ bán", status="paused")
    db.session.add_all([ProductSlugRedirect(slug="dua-queen-cu", product_id=product.id),
                        ProductSlugRedirect(slug="dua-nghi-cu", product_id=paused.id)])
    db.session.commit()
    response = client.get("/products/dua-queen-cu")
    assert response.status_code == 301 and response.headers["Location"].endswith("/products/dua-queen-moi")
    _get(client, "/products/dua-nghi-cu", 404)


def test_markup_in_names_is_escaped_everywhere(client, make_farm, make_product):
    evil = '</script><script>alert(1)</script>'
    farm = make_farm(name=f"Trại {evil}", slug="trai-x", description=f"Chuyện {evil}\n<b>đậm</b>")
    make_product(farm, name=f"Dứa {evil}", slug="dua-x", description=f"Mô tả {evil}")
    for path in ("/", "/products", "/products?q=dua", "/products/dua-x", "/farms/trai-x"):
        html = _get(client, path)
        assert "<script>alert(1)" not in html, path
        assert "&lt;script&gt;alert(1)" in html, path
    html = _get(client, "/products/dua-x")
    assert html.count("</script>") == 1, "only the JSON-LD block's own end tag"
    data = _json_ld(html)
    assert data["name"] == f"Dứa {evil}" and data["brand"]["name"] == f"Trại {evil}"
    assert "<b>" not in _get(client, "/farms/trai-x")


# --- farm page ----------------------------------------------------------------------------------

def test_farm_page(client, make_farm, make_product, make_tour):
    farm = make_farm(name="Vườn dứa Anh An", village="Kép 2", vietgap_certified=True,
                     vietgap_certificate_no="VG-BG-2024-0117", description="Ba đời trồng dứa.\nĐồi Kép.")
    make_product(farm, name="Dứa Queen tươi")
    make_product(farm, name="Dứa tạm dừng", status="paused")
    make_product(make_farm(name="Vườn khác"), name="Dứa trại khác")
    make_tour(farm, title="Tham quan đồi dứa", slug="tham-quan", price_adult_vnd=80000)
    make_tour(farm, title="Tour đã dừng", slug="tour-dung", price_adult_vnd=1, status="paused")
    html = _get(client, "/farms/vuon-dua-anh-an")
    assert "Vườn dứa Anh An" in html and "Kép 2" in html and "VG-BG-2024-0117" in html
    assert '<p class="prose">Ba đời trồng dứa.\nĐồi Kép.</p>' in html
    assert _names(html) == ["Dứa Queen tươi", "Tham quan đồi dứa"]
    assert "80.000\xa0₫" in html and "Tour đã dừng" not in html


@pytest.mark.parametrize("status", ["pending", "rejected", "suspended"])
def test_farm_page_404_unless_approved(client, make_farm, status):
    make_farm(status=status, name="Trại ẩn")
    _get(client, "/farms/trai-an", 404)


def test_unknown_farm_404(client):
    _get(client, "/farms/khong-co", 404)
    _get(client, "/farms/%00", 404)


def test_pages_work_in_english(client, market):
    assert "In season now" in _get(client, "/?lang=en")
    assert "4 products" in _get(client, "/products?lang=en")
    assert "Minimum order" in _get(client, "/products/dua-queen-tuoi?lang=en")
