"""The farmer's "My products" screens: who may see them, the product form, pause/resume/delete, staff help."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event, func, select

from core.audit import AuditEntry
from core.extensions import db
from core.time import utcnow
from shop.models import Product, ProductSlugRedirect
from tests.factories import make_order
from tests.helpers import csrf_token_from, login_as

FORM = {"name": "Dứa Queen Kép", "description": "Dứa ngọt.", "category": "fresh", "unit": "kg",
        "price_vnd": "25000", "stock": "120", "min_order_qty": "1", "season_start": "", "season_end": ""}


@pytest.fixture
def app_config(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads")}


@pytest.fixture
def farm(make_farm):
    return make_farm(name="Vườn dứa Anh An")


def product_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def english(client, user=None):
    if user is not None:
        login_as(client, user)
    client.get("/?lang=en")


def product_urls(product_id: int, photo_id: int = 1) -> list[tuple[str, str]]:
    base = f"/farmer/products/{product_id}"
    return [("get", f"{base}/edit"), ("post", f"{base}/edit"), ("post", f"{base}/pause"),
            ("post", f"{base}/resume"), ("get", f"{base}/delete"), ("post", f"{base}/delete"),
            ("post", f"{base}/photos"), ("post", f"{base}/photos/{photo_id}/delete"),
            ("post", f"{base}/photos/{photo_id}/move")]


# --- who may see the screens ----------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_log_in(client, make_product):
    product = make_product()
    for method, url in [("get", "/farmer/products"), ("get", "/farmer/products/new"), *product_urls(product.id)]:
        response = getattr(client, method)(url, data=FORM if method == "post" else None)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_buyers_are_refused(client, make_user, make_product):
    product = make_product()
    login_as(client, make_user(role="buyer"))
    for method, url in [("get", "/farmer/products"), ("post", "/farmer/products/new"), *product_urls(product.id)]:
        assert getattr(client, method)(url, data=FORM if method == "post" else None).status_code == 403, url
    assert product_count() == 1


@pytest.mark.parametrize("status, text", [
    ("pending", "waiting for commune staff"), ("rejected", "was not approved"), ("suspended", "is suspended")])
def test_farmers_whose_farm_is_not_approved_see_a_notice(client, make_farm, make_user, status, text):
    owner = make_user(role="farmer" if status == "suspended" else "buyer")
    make_farm(owner=owner, status=status)
    english(client, owner)
    response = client.get("/farmer/products")
    assert response.status_code == 403 and text in response.get_data(as_text=True)
    assert client.post("/farmer/products/new", data=FORM).status_code == 403
    assert product_count() == 0


def test_a_farmer_without_a_farm_is_invited_to_apply(client, make_user):
    english(client, make_user(role="farmer"))
    response = client.get("/farmer/products")
    assert response.status_code == 403 and 'href="/sell"' in response.get_data(as_text=True)


def test_another_farms_products_do_not_exist_for_a_farmer(client, farm, make_farm, make_product):
    other = make_product(farm=make_farm(), name="Dứa của người khác", price_vnd=30000)
    mine = make_product(farm=farm)
    login_as(client, farm.owner)
    for method, url in product_urls(other.id):
        response = getattr(client, method)(url, data={**FORM, "to": "first"} if method == "post" else None)
        assert response.status_code == 404, url
    db.session.refresh(other)
    assert (other.name, other.price_vnd, other.status) == ("Dứa của người khác", 30000, "active")
    assert "Dứa của người khác" not in client.get("/farmer/products").get_data(as_text=True)
    assert client.get(f"/farmer/products/{mine.id}/edit").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- the product form -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["25000", "25.000", "25,000", "25 000", "25\u00a0000", " 25.000 đ "])
def test_prices_typed_the_vietnamese_way_are_understood(client, farm, typed):
    login_as(client, farm.owner)
    response = client.post("/farmer/products/new", data={**FORM, "price_vnd": typed, "stock": "1.000"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/farmer/products")
    product = db.session.scalars(select(Product)).one()
    assert (product.price_vnd, product.stock, product.farm_id, product.slug) == (25000, 1000, farm.id,
                                                                                 "dua-queen-kep")


@pytest.mark.parametrize("field, typed, message", [
    ("price_vnd", "0", "The price must be more than 0"),
    ("price_vnd", "-5000", "The price must be more than 0"),
    ("price_vnd", "150.000.000", "at most 100,000,000"),
    ("price_vnd", "9" * 40, "far too large"),
    ("price_vnd", "25,5", "without decimals"),
    ("price_vnd", "25.50", "without decimals"),
    ("price_vnd", "hai lăm nghìn", "Enter a number"),
    ("price_vnd", "", "Enter the price."),
    ("stock", "-1", "cannot be less than 0"),
    ("stock", "2,5", "without decimals"),
    ("stock", "1000001", "at most 1,000,000"),
    ("min_order_qty", "0", "at least 1"),
    ("name", "  ", "Enter the name of the product."),
    ("description", "x" * 3001, "at most 3000 characters"),
    ("category", "jewels", "Not a valid choice"),
    ("season_end", "", "Choose both the first and the last month"),  # with season_start November
])
def test_bad_input_gets_a_clear_message_and_nothing_is_created(client, farm, field, typed, message):
    english(client, farm.owner)
    response = client.post("/farmer/products/new", data={**FORM, "season_start": "11", "season_end": "2",
                                                          field: typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and f'id="{field}-error"' in html
    assert "Please correct the fields marked below." in html
    assert product_count() == 0


def test_the_form_keeps_what_was_typed_after_an_error(client, farm):
    login_as(client, farm.owner)
    html = client.post("/farmer/products/new", data={**FORM, "price_vnd": "25,5", "stock": "1.000"}).get_data(
        as_text=True)
    assert 'value="25,5"' in html and 'value="1.000"' in html and 'value="Dứa Queen Kép"' in html


def test_numbers_use_the_number_pad_and_every_input_has_a_label(client, farm):
    login_as(client, farm.owner)
    html = client.get("/farmer/products/new").get_data(as_text=True)
    for name in ("price_vnd", "stock", "min_order_qty"):
        assert 'inputmode="numeric"' in html.split(f'name="{name}"')[0].rsplit("<input", 1)[1]
    for name in ("name", "description", "category", "unit", "price_vnd", "stock", "min_order_qty",
                 "season_start", "season_end", "photos"):
        assert f'<label for="{name}">' in html, name
    assert 'type="file"' in html and 'accept="image/*"' in html and "multiple" in html
    assert 'enctype="multipart/form-data"' in html and "style=" not in html
    # The only script is the photo shrinker, a static file the form does not need (it posts as it is without it).
    assert re.findall(r"<script[^>]*>[^<]*</script>", html) == [
        re.search(r'<script src="/static/js/photos\.[^"]*js" defer></script>', html).group(0)]


def test_a_script_in_the_description_is_stored_as_text_and_escaped(client, farm):
    login_as(client, farm.owner)
    script = "<script>alert('dứa')</script>\nDòng hai"
    client.post("/farmer/products/new", data={**FORM, "description": script, "name": "<b>Dứa</b>"})
    product = db.session.scalars(select(Product)).one()
    assert product.description == script and product.name == "<b>Dứa</b>"
    for url in ("/farmer/products", f"/farmer/products/{product.id}/edit", f"/farmer/products/{product.id}/delete"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>Dứa</b>" not in html, url
        assert "&lt;b&gt;Dứa&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(" in client.get(f"/farmer/products/{product.id}/delete").get_data(as_text=True)


def test_edit_saves_changes_and_a_rename_keeps_the_old_address(client, farm, make_product):
    product = make_product(farm=farm, name="Dứa Queen", season_start=None, season_end=None)
    english(client, farm.owner)
    page = client.get(f"/farmer/products/{product.id}/edit").get_data(as_text=True)
    assert 'value="Dứa Queen"' in page and 'value="25000"' in page
    response = client.post(f"/farmer/products/{product.id}/edit", data={
        **FORM, "name": "Dứa mật Kép", "price_vnd": "30.000", "season_start": "11", "season_end": "2"})
    assert response.status_code == 302
    db.session.refresh(product)
    assert (product.name, product.slug, product.price_vnd, product.season_start, product.season_end) == (
        "Dứa mật Kép", "dua-mat-kep", 30000, 11, 2)
    assert db.session.get(ProductSlugRedirect, "dua-queen").product_id == product.id
    assert "Your changes are saved." in client.get("/farmer/products").get_data(as_text=True)


def test_a_refused_edit_changes_nothing(client, farm, make_product):
    product = make_product(farm=farm, name="Dứa Queen")
    login_as(client, farm.owner)
    response = client.post(f"/farmer/products/{product.id}/edit", data={**FORM, "name": "Khác", "price_vnd": "0"})
    assert response.status_code == 200
    db.session.refresh(product)
    assert (product.name, product.price_vnd) == ("Dứa Queen", 25000)
    assert db.session.scalar(select(func.count()).select_from(ProductSlugRedirect)) == 0


def test_pause_resume_and_delete(client, farm, make_product):
    product = make_product(farm=farm)
    english(client, farm.owner)
    client.post(f"/farmer/products/{product.id}/pause")
    db.session.refresh(product)
    assert product.status == "paused"
    assert "Paused" in client.get("/farmer/products").get_data(as_text=True)
    client.post(f"/farmer/products/{product.id}/resume")
    db.session.refresh(product)
    assert product.status == "active"
    page = client.get(f"/farmer/products/{product.id}/delete").get_data(as_text=True)
    assert "This cannot be undone" in page
    response = client.post(f"/farmer/products/{product.id}/delete", follow_redirects=True)
    assert "is deleted" in response.get_data(as_text=True)
    assert product_count() == 0
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["product.paused", "product.resumed", "product.deleted"]


def test_an_ordered_product_is_archived_instead_of_deleted(client, farm, make_product):
    product = make_product(farm=farm)
    make_order((product, product.min_order_qty), now=utcnow())
    english(client, farm.owner)
    assert "archived" in client.get(f"/farmer/products/{product.id}/delete").get_data(as_text=True)
    client.post(f"/farmer/products/{product.id}/delete")
    db.session.refresh(product)
    assert product.status == "archived"
    assert client.get(f"/farmer/products/{product.id}/edit").status_code == 302
    client.post(f"/farmer/products/{product.id}/resume")
    db.session.refresh(product)
    assert product.status == "archived"


def test_the_list_shows_each_product_and_its_query_count_does_not_grow(client, farm, make_product):
    make_product(farm=farm, name="Dứa sấy", price_vnd=85000, stock=0, unit="bag", status="paused")
    english(client, farm.owner)

    def queries() -> tuple[int, str]:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            html = client.get("/farmer/products").get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements), html

    few, html = queries()
    assert "Dứa sấy" in html and "Paused" in html and "sold out" in html and "/ bag" in html
    for n in range(6):
        make_product(farm=farm, name=f"Dứa {n}")
    many, html = queries()
    assert many == few and html.count('class="card"') == 7


def test_csrf_tokens_are_required(app, client, farm):
    app.config["WTF_CSRF_ENABLED"] = True
    login_page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": farm.owner.email, "password": "pineapple-123",
                                "csrf_token": csrf_token_from(login_page)})
    assert client.post("/farmer/products/new", data=FORM).status_code == 400
    assert product_count() == 0
    token = csrf_token_from(client.get("/farmer/products/new").get_data(as_text=True))
    assert client.post("/farmer/products/new", data={**FORM, "csrf_token": token}).status_code == 302
    product = db.session.scalars(select(Product)).one()
    assert client.post(f"/farmer/products/{product.id}/pause").status_code == 400
    db.session.refresh(product)
    assert product.status == "active"


# --- commune staff helping a farmer ---------------------------------------------------------------------------

def test_staff_choose_a_farm_then_use_the_same_screens(client, farm, make_user, make_farm, grant_consent):
    admin = make_user(role="admin")
    grant_consent(farm, admin)
    make_farm(name="Vườn chờ duyệt", status="pending")
    english(client, admin)
    picker = client.get("/farmer/products").get_data(as_text=True)
    assert f'href="/farmer/products?farm={farm.id}"' in picker and "Vườn chờ duyệt" not in picker

    page = client.get(f"/farmer/products?farm={farm.id}").get_data(as_text=True)
    assert "You are helping Vườn dứa Anh An" in page and f'href="/farmer/products/new?farm={farm.id}"' in page
    response = client.post(f"/farmer/products/new?farm={farm.id}", data=FORM)
    assert response.headers["Location"].endswith(f"/farmer/products?farm={farm.id}")
    product = db.session.scalars(select(Product)).one()
    assert product.farm_id == farm.id
    edit = client.get(f"/farmer/products/{product.id}/edit?farm={farm.id}").get_data(as_text=True)
    assert f'action="/farmer/products/{product.id}/pause?farm={farm.id}"' in edit
    client.post(f"/farmer/products/{product.id}/pause?farm={farm.id}")

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "product")
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["product.created", "product.paused"]
    assert all((e.actor_id, e.on_behalf_of_id) == (admin.id, farm.owner_id) for e in entries)
    assert json.loads(entries[0].details) == {"name": "Dứa Queen Kép"}


def test_staff_cannot_reach_a_product_through_another_farm(client, farm, make_user, make_farm, make_product,
                                                           grant_consent):
    product = make_product(farm=make_farm())
    admin = make_user(role="admin")
    grant_consent(farm, admin)
    login_as(client, admin)
    for method, url in product_urls(product.id):
        response = getattr(client, method)(f"{url}?farm={farm.id}", data=FORM if method == "post" else None)
        assert response.status_code == 404, url
    assert client.get(f"/farmer/products/{product.id}/edit").status_code == 404  # no ?farm= at all
    assert client.get("/farmer/products?farm=999999").status_code == 404
    suspended = make_farm(status="suspended")
    assert client.get(f"/farmer/products?farm={suspended.id}").status_code == 403


def test_pages_are_in_vietnamese_by_default(client, farm, make_product):
    make_product(farm=farm, name="Dứa Queen")
    login_as(client, farm.owner)
    html = client.get("/farmer/products").get_data(as_text=True)
    assert "Sản phẩm của tôi" in html and "Thêm sản phẩm" in html
    html = client.post("/farmer/products/new", data={**FORM, "price_vnd": "0"}).get_data(as_text=True)
    assert "Giá phải lớn hơn 0 đồng." in html
