"""Pages on a 360 px phone: a one-row header (menu behind one button, cart icon with its count), the farmer's
bottom bar on the farmer's own screens only, a sticky add-to-cart bar, stacked tables, printed chart values,
photo uploads that work with and without the page's script. The markup is checked here (the browser journey
in tests/browser/test_phone_screen.py measures the real header height)."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from core.time import utcnow
from tests.farmers.ledger_helpers import sale
from tests.helpers import login_as


def _get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _header(html: str) -> str:
    match = re.search(r'<header class="site-header">(.*?)</header>', html, re.S)
    assert match, "no site header"
    return match.group(1)


def _header_row(html: str) -> str:
    """The one visible row of the header: everything before the menu's hidden panel."""
    header = _header(html)
    return header[:header.index('<div class="menu-panel">')]


def test_header_is_one_row_with_a_menu_button_and_the_cart_count(client, make_product):
    product = make_product(stock=20)
    client.get("/?lang=en")
    client.post("/cart/add", data={"product_id": product.id, "quantity": "2"})
    html = _get(client, "/")
    row = _header_row(html)
    # One menu button, a <details> so that it opens without JavaScript; no nav link list in the row itself
    # but the two main links (shown from tablets up).
    assert row.count("<details") == 1 and '<summary class="menu-button">' in row and "Menu" in row
    cart = r'<a class="cart-link" href="/cart">.*?Cart \(1\).*?<span class="cart-count"[^>]*>1</span>'
    assert re.search(cart, row, re.S)
    assert row.count("<a ") == 4  # logo, products, hill visits, cart
    assert "<svg" not in row, "icons come from the stylesheet: pages that show a QR code stay the only SVG"
    menu = _header(html)[len(row):]
    for link in ("/login", "/register", "/sell", "/products", "/tours"):
        assert f'href="{link}"' in menu
    assert 'hreflang="vi"' in menu and 'lang="vi"' in menu


def test_empty_cart_count_is_hidden_but_still_said(client):
    row = _header_row(_get(client, "/?lang=en"))
    assert "Cart (0)" in row and 'class="cart-count empty-cart" aria-hidden="true">0<' in row


def test_logged_in_menu_has_account_and_log_out(client, make_user):
    login_as(client, make_user())
    menu = _header(_get(client, "/?lang=en"))
    assert 'action="/logout"' in menu and 'href="/account"' in menu and 'href="/orders"' in menu


@pytest.fixture
def farmer_client(client, make_farm):
    farm = make_farm()
    login_as(client, farm.owner)
    client.get("/?lang=en")
    return client


@pytest.mark.parametrize("path", ["/farmer/dashboard", "/farmer/orders", "/farmer/products", "/farmer/tours",
                                  "/farmer/checkin"])
def test_farmer_screens_have_the_bottom_bar(farmer_client, path):
    html = _get(farmer_client, path)
    bar = re.search(r'<nav class="farm-bar" aria-label="My farm">(.*?)</nav>', html, re.S)
    assert bar, path
    item = (r'<a href="([^"]+)"( aria-current="page")?><span class="icon icon-\w+" aria-hidden="true"></span>'
            r'<span>([^<]+)</span>')
    links = re.findall(item, bar.group(1), re.S)
    assert 4 <= len(links) <= 5
    assert [label for _, _, label in links] == ["Income", "Orders", "Products", "Visits", "Check in"]
    current = [href for href, mark, _ in links if mark]
    assert current == [path]


@pytest.mark.parametrize("path", ["/", "/products", "/tours", "/cart", "/account"])
def test_bottom_bar_only_on_the_farmer_screens(farmer_client, path):
    assert 'class="farm-bar"' not in _get(farmer_client, path)


def test_buyers_never_get_the_bottom_bar(client, make_user):
    login_as(client, make_user())
    assert 'class="farm-bar"' not in _get(client, "/")


# --- product page: the add-to-cart button in a bar that stays on the screen ----------------------------------

def test_product_page_has_the_sticky_add_to_cart_bar_inside_the_form(client, make_product):
    make_product(name="Dứa Queen tươi", price_vnd=25000, unit="kg", stock=30)
    html = _get(client, "/products/dua-queen-tuoi")
    form = re.search(r'<form class="form narrow buy" method="post" action="/cart/add">(.*?)</form>', html, re.S)
    form = form.group(1)
    bar = re.search(r'<div class="buy-bar">(.*?)</div>', form, re.S)
    assert bar, "the bar is part of the form: its button sends the quantity without JavaScript"
    assert '<button type="submit" class="button primary">Thêm vào giỏ hàng</button>' in bar.group(1)
    assert "25.000\xa0₫ / kg" in bar.group(1)
    assert form.count('type="submit"') == 1
    css = (Path(__file__).parents[2] / "static/css/site.css").read_text()
    assert re.search(r"\.buy-bar \{ position: fixed;[^}]*bottom: 0", css)


def test_sold_out_product_has_no_bar(client, make_product):
    make_product(name="Dứa hết", stock=0)
    assert 'class="buy-bar"' not in _get(client, "/products/dua-het")


# --- tables that fit 360 px: stacked rows, each cell led by its column's name ---------------------------------

def _stacked_cells(html: str) -> list[tuple[str, str]]:
    tables = re.findall(r'<table class="[^"]*\bstack\b[^"]*">(.*?)</table>', html, re.S)
    assert tables, "no stacked table"
    return [(label, cell) for table in tables
            for label, cell in re.findall(r'<td data-label="([^"]*)">(.*?)</td>', table, re.S)]


def test_payouts_table_is_stacked_on_phones(client, make_user, make_farm):
    farm = make_farm(name="Vườn dứa Anh An")
    sale(farm, datetime(2026, 6, 2), 1000000, fee=50000)
    login_as(client, make_user(role="admin"))
    client.get("/?lang=en")
    cells = _stacked_cells(_get(client, "/admin/payouts"))
    labels = [label for label, _ in cells]
    assert labels[:5] == ["Earned", "Paid out", "Pending", "Available", "Last payout"]
    assert "950,000" in dict(cells)["Earned"]
    # Every data cell but the last (a link that names itself) says which column it is.
    assert all(label for label in labels[:-1])


def test_dashboard_tables_are_stacked_and_the_chart_prints_its_values(farmer_client, make_farm):
    from accounts.farms import Farm
    from core.extensions import db

    farm = db.session.query(Farm).one()
    sale(farm, datetime(2026, 6, 2, 2), 300000, fee=15000)
    sale(farm, datetime(2026, 6, 15, 2), 1250000, fee=62500)
    html = _get(farmer_client, "/farmer/dashboard?from=2026-06-01&to=2026-06-30")
    labels = {label for label, _ in _stacked_cells(html)}
    assert {"Produce", "Visits", "Net income", "Sold", "Sales", "Share"} <= labels
    values = re.search(r'<g class="chart-values" aria-hidden="true"[^>]*>(.*?)</g>', html, re.S)
    assert values, "the chart's figures are printed, not only in hover titles"
    printed = re.findall(r"<text [^>]*>([^<]+)</text>", values.group(1))
    assert printed == ["285k", "1.2M"]    # the net of each day that sold: 300,000 - 15,000 and 1,250,000 - 62,500


def test_chart_labels_one_per_bar_when_few_and_one_per_bucket_when_many(app):
    from farmers.dashboard import Bucket, Totals
    from farmers.dashboard_chart import chart

    def totals(net):
        return Totals(sales=net) if net >= 0 else Totals(refunds=-net)

    def bucket(day, produce, tours):
        return Bucket(date(2026, 6, day), date(2026, 6, day), totals(produce), totals(tours))

    with app.test_request_context("/?lang=vi"):
        few = chart([bucket(1, 1_200_000, 450_000), bucket(2, 0, 0), bucket(3, -50_000, 0)], "day")
        many = chart([bucket(d, 100_000 * d, 20_000) for d in range(1, 31)], "day")
    assert [v.text for v in few.values] == ["1,2tr", "450k", "-50k"]
    assert few.values[2].below and not few.values[0].below
    assert len(many.values) == 30 and all(v.upright for v in many.values)
    assert many.values[0].text == "120k" and many.values[-1].text == "3tr"


# --- a destructive action asks twice ------------------------------------------------------------------------

def test_removing_a_photo_asks_for_confirmation(farmer_client):
    from accounts.farms import Farm
    from core.extensions import db
    from shop.models import ProductPhoto
    from tests.factories import make_product

    farm = db.session.query(Farm).one()
    product = make_product(farm=farm)
    db.session.add(ProductPhoto(product_id=product.id, position=0, large_key="aa/a.webp", small_key="aa/b.webp",
                                width=800, height=600))
    db.session.commit()
    html = _get(farmer_client, f"/farmer/products/{product.id}/edit")
    confirm = re.search(r'<details class="confirm">\s*<summary class="button danger">Remove.*?</summary>'
                        r'(.*?)</details>', html, re.S)
    assert confirm and "/photos/" in confirm.group(1) and "Yes, remove this photo" in confirm.group(1)


# --- photos shrunk in the browser, and still sent without it -------------------------------------------------

def _photo_forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="[^"]+" enctype="multipart/form-data" class="form[^"]*"'
                      r'( novalidate)? (data-shrink-photos [^>]*)>', html)


@pytest.mark.parametrize("path", ["/farmer/products/new", "/farmer/tours/new", "edit-product", "edit-tour"])
def test_photo_forms_shrink_photos_in_the_browser(farmer_client, make_product, make_tour, path):
    from accounts.farms import Farm
    from core.extensions import db

    farm = db.session.query(Farm).one()
    if path == "edit-product":
        path = f"/farmer/products/{make_product(farm=farm).id}/edit"
    elif path == "edit-tour":
        path = f"/farmer/tours/{make_tour(farm=farm).id}/edit"
    html = _get(farmer_client, path)
    forms = _photo_forms(html)
    assert len(forms) == 1, path
    attrs = forms[0][1]
    assert 'data-uploading-text="Sending the photos: {percent}"' in attrs and "data-failed-text=" in attrs
    assert re.search(r'<script src="/static/js/photos\.[^"]*js" defer></script>', html)
    assert 'type="file"' in html  # the plain file field stays: the form works as it is without the script


def test_the_script_shrinks_to_1600_px_jpeg_and_sends_with_progress():
    script = (Path(__file__).parents[2] / "static/js/photos.js").read_text()
    assert "LONG_SIDE = 1600" in script and "QUALITY = 0.8" in script and '"image/jpeg"' in script
    assert "xhr.upload.onprogress" in script and "form[data-shrink-photos]" in script
    assert len(script.encode()) < 6_000, "a small script for phones on 3G"


def test_a_photo_posted_without_the_script_is_still_checked_and_stored(app, farmer_client, make_product):
    import io

    from PIL import Image

    from accounts.farms import Farm
    from core.extensions import db

    product = make_product(farm=db.session.query(Farm).one())
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), (200, 160, 30)).save(buffer, "JPEG")
    response = farmer_client.post(f"/farmer/products/{product.id}/photos",
                                  data={"photos": [(io.BytesIO(buffer.getvalue()), "IMG_1.JPG")]},
                                  content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(product)
    assert [(p.width, p.height) for p in product.photos] == [(1200, 900)]   # re-encoded by the server


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


# --- a market that looks like one: two columns of cards, sold counts, the visits and the farmers at home ----

def test_product_grid_has_two_columns_on_a_phone():
    css = (Path(__file__).parents[2] / "static/css/site.css").read_text()
    assert ".grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr));" in css


def test_cards_show_price_per_unit_and_sold_count(client, make_product):
    make_product(name="Dứa Queen bán chạy", price_vnd=25000, unit="kg", orders_count=12)
    make_product(name="Dứa mới", price_vnd=30000, unit="fruit", orders_count=0)
    html = _get(client, "/products")
    cards = dict(re.findall(r'<h3>([^<]+)</h3>\s*</a>(.*?)</li>', html, re.S))
    assert '25.000\xa0₫<span class="per"> / kg</span>' in cards["Dứa Queen bán chạy"]
    assert '<p class="muted sold">Đã bán 12 đơn</p>' in cards["Dứa Queen bán chạy"]
    assert 'class="sold"' not in cards["Dứa mới"]


def test_home_shows_the_visits_with_pictures_and_the_farmers(client, make_farm, make_product, make_slot):
    from core.extensions import db
    from tours.models import TourPhoto

    farm = make_farm(name="Vườn dứa Anh An", village="Kép 2", description="Ông An trồng dứa Queen từ năm 1998.")
    farm.photo_small_key, farm.photo_large_key, farm.photo_width, farm.photo_height = "aa/s.webp", "aa/l.webp", 800, 800
    make_farm(name="Đồi dứa Cường", village="Ca")
    slot = make_slot(farm=farm, title="Hái dứa trên đồi", starts_at=utcnow() + timedelta(days=3))
    db.session.add(TourPhoto(tour_id=slot.tour.id, position=0, large_key="bb/l.webp", small_key="bb/s.webp",
                             width=1200, height=900))
    db.session.commit()
    make_product(farm=farm, name="Dứa Queen tươi")
    html = _get(client, "/")
    tours = re.search(r'<section aria-labelledby="tours">(.*?)</section>', html, re.S).group(1)
    assert 'class="grid tour-grid"' in tours and "/media/bb/s.webp" in tours and "Hái dứa trên đồi" in tours
    farms = re.search(r'<section aria-labelledby="farms">(.*?)</section>', html, re.S).group(1)
    assert "Nông dân xã Kép" in farms
    assert re.search(r'<img class="farm-face" src="/media/aa/s.webp" width="400" height="400" alt="[^"]+"', farms)
    assert 'class="farm-face farm-initial' in farms   # the farm without a picture yet shows its initial
    assert "Thôn Kép 2" in farms and "Ông An trồng dứa Queen từ năm 1998." in farms


# --- the page-weight budget stays (Lighthouse in audit/ measures the real pages) -----------------------------

def test_page_weight_budget_of_the_phone_pages(client, make_farm, make_product):
    import gzip

    from core.extensions import db
    from shop.models import ProductPhoto

    for n in range(12):
        farm = make_farm(name=f"Vườn dứa {n}", description="Gia đình trồng dứa Queen trên đồi đất đỏ. " * 4)
        product = make_product(farm=farm, name=f"Dứa Queen {n}", orders_count=n)
        db.session.add(ProductPhoto(product_id=product.id, position=0, large_key=f"aa/l{n}.webp",
                                    small_key=f"aa/s{n}.webp", width=1200, height=900))
    db.session.commit()
    root = Path(__file__).parents[2] / "static"
    assert len(gzip.compress((root / "css/site.css").read_bytes())) < 9_000, "one small stylesheet"
    assert len(gzip.compress((root / "js/photos.js").read_bytes())) < 2_500
    for path in ("/", "/products", "/products/dua-queen-3"):
        html = _get(client, path)
        assert len(gzip.compress(html.encode())) < 8_000, path
        # Only the first pictures load at once; the rest wait until scrolled to.
        photos = re.findall(r'<img [^>]*src="/media/[^>]*>', html)
        eager = [tag for tag in photos if 'loading="lazy"' not in tag]
        assert photos and len(eager) <= 2, (path, eager)
