"""The cart through its pages: add, update, remove, problems next to the line, merge at login, query counts."""
from __future__ import annotations

import html as html_lib
import re

import pytest
from sqlalchemy import select

from core.extensions import db
from shop.order_models import CartItem
from tests.helpers import count_queries, login, login_as, register


def page(response) -> str:
    """The page's text with entities decoded, so assertions can use plain Vietnamese."""
    return html_lib.unescape(response.get_data(as_text=True))


def session_cart(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess.get("cart") or {})


def db_cart(user) -> dict[int, int]:
    return {item.product_id: item.quantity
            for item in db.session.scalars(select(CartItem).where(CartItem.user_id == user.id))}


def english(client) -> None:
    """Switch this browser to English (messages are written in the language of the request that makes them)."""
    client.get("/cart?lang=en")


def add(client, product, quantity="1", **extra):
    return client.post("/cart/add", data={"product_id": str(product.id), "quantity": quantity, **extra})


# --- adding -------------------------------------------------------------------------------------

def test_add_goes_back_to_the_product_with_a_message(client, make_product):
    english(client)
    product = make_product(name="Dứa Queen loại 1", price_vnd=25000, stock=50)
    response = add(client, product, "3")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/products/{product.slug}")
    assert session_cart(client) == {f"p:{product.id}": {"q": 3, "price": 25000}}
    text = page(client.get(response.headers["Location"] + "?lang=en"))
    assert "Dứa Queen loại 1 is in your cart (3 kg)." in text
    assert "Cart (1)" in text


def test_adding_again_adds_up_and_next_is_followed_only_when_local(client, make_product):
    product = make_product(stock=10)
    assert add(client, product, "2", next="/cart").headers["Location"].endswith("/cart")
    response = add(client, product, "3", next="https://evil.example/")
    assert response.headers["Location"].endswith(f"/products/{product.slug}")
    assert session_cart(client)[f"p:{product.id}"]["q"] == 5


@pytest.mark.parametrize("quantity, message", [
    ("0", "The quantity must be at least 1."),
    ("-2", "Enter the quantity as a whole number, for example 2."),
    ("1.5", "Enter the quantity as a whole number, for example 2."),
    ("abc", "Enter the quantity as a whole number, for example 2."),
    ("", "Enter the quantity as a whole number, for example 2."),
    ("11", "Only 10 left of"),
    ("1000001", "That quantity is too large."),
    ("99999999999999999999999", "That quantity is too large."),
])
def test_bad_quantities_are_refused_with_a_message(client, make_product, quantity, message):
    english(client)
    product = make_product(stock=10)
    response = add(client, product, quantity)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/products/{product.slug}")
    assert session_cart(client) == {}
    assert message in page(client.get("/cart?lang=en"))


def test_bad_quantity_message_is_in_vietnamese_by_default(client, make_product):
    product = make_product(stock=10)
    add(client, product, "0")
    text = page(client.get("/cart"))
    assert "Số lượng phải ít nhất là 1." in text
    assert "Giỏ hàng của bạn đang trống." in text


def test_below_minimum_order_is_refused(client, make_product):
    english(client)
    product = make_product(stock=10, min_order_qty=3)
    add(client, product, "2")
    assert session_cart(client) == {}
    assert "The minimum order of" in page(client.get("/cart?lang=en"))


@pytest.mark.parametrize("product_id", ["999999", "abc", "", "99999999999999999999999", "-1"])
def test_unknown_products_are_refused_without_error(client, product_id):
    response = client.post("/cart/add", data={"product_id": product_id, "quantity": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    assert session_cart(client) == {}


def test_paused_product_or_unapproved_farm_cannot_be_added(client, make_product, make_farm):
    paused = make_product(status="paused")
    hidden = make_product(farm=make_farm(status="suspended"))
    for product in (paused, hidden):
        assert add(client, product).headers["Location"].endswith("/cart")
    assert session_cart(client) == {}


def test_logged_in_buyer_keeps_the_cart_in_the_database(client, make_user, make_product):
    buyer = make_user()
    product = make_product(stock=10)
    login_as(client, buyer)
    add(client, product, "4")
    assert db_cart(buyer) == {product.id: 4}
    assert session_cart(client) == {}
    assert "Cart (1)" in page(client.get("/cart?lang=en"))


# --- the cart page ------------------------------------------------------------------------------

def test_empty_cart_helps(client):
    text = page(client.get("/cart?lang=en"))
    assert "Your cart is empty." in text and 'href="/products"' in text


def test_cart_groups_lines_by_farm_with_totals(client, make_product, make_farm):
    first, second = make_farm(name="Vườn Anh An"), make_farm(name="Vườn Chị Bình")
    a = make_product(farm=first, name="Dứa tươi", price_vnd=25000)
    b = make_product(farm=first, name="Dứa sấy", price_vnd=80000, unit="bag")
    c = make_product(farm=second, name="Mứt dứa", price_vnd=55000, unit="jar")
    add(client, a, "4")
    add(client, b, "1")
    add(client, c, "2")
    client.get("/cart")  # shows (and so clears) the "added" messages
    text = page(client.get("/cart?lang=en"))
    assert text.index("Vườn Anh An") < text.index("Dứa tươi") < text.index("Vườn Chị Bình") < text.index("Mứt dứa")
    assert "180,000" in text  # the first farm: 4 × 25,000 + 80,000
    assert "290,000" in text  # everything
    assert f'name="quantity-p:{a.id}"' in text
    assert 'href="/checkout"' in text


def test_problems_are_shown_next_to_the_line_and_block_checkout(client, make_product):
    sold_out = make_product(name="Dứa hết hàng", stock=5)
    few = make_product(name="Dứa còn ít", stock=5)
    dearer = make_product(name="Dứa tăng giá", price_vnd=25000, stock=5)
    add(client, sold_out, "2")
    add(client, few, "4")
    add(client, dearer, "1")
    sold_out.stock, few.stock, dearer.price_vnd = 0, 2, 30000
    db.session.commit()
    text = page(client.get("/cart?lang=en"))
    assert "Sold out. Please remove it from your cart." in text
    assert "Only 2 left. Please lower the quantity." in text
    assert "The price changed since you added it." in text and "<s>" in text
    assert 'href="/checkout"' not in text
    assert client.get("/checkout").headers["Location"].endswith("/cart")


def test_visit_lines_are_shown(client, make_slot):
    slot = make_slot(title="Tham quan đồi dứa Hương Sơn")
    with client.session_transaction() as sess:
        sess["cart"] = {f"s:{slot.id}": {"a": 2, "c": 1, "price": 150000}}
    text = page(client.get("/cart?lang=en"))
    assert "Tham quan đồi dứa Hương Sơn" in text and "Adults: 2" in text and "Children: 1" in text
    assert "350,000" in text


# --- updating and removing ----------------------------------------------------------------------

def test_update_changes_quantities_and_zero_removes(client, make_product):
    a, b = make_product(stock=10), make_product(stock=10)
    add(client, a, "1")
    add(client, b, "1")
    response = client.post("/cart", data={f"quantity-p:{a.id}": "6", f"quantity-p:{b.id}": "0"})
    assert response.status_code == 302
    assert session_cart(client) == {f"p:{a.id}": {"q": 6, "price": a.price_vnd}}


@pytest.mark.parametrize("quantity, message", [
    ("-1", "Enter the quantity as a whole number"), ("2.5", "Enter the quantity as a whole number"),
    ("11", "Only 10 left of"), ("1000001", "That quantity is too large."),
])
def test_a_bad_update_changes_nothing_and_says_why_next_to_the_line(client, make_product, quantity, message):
    a, b = make_product(stock=10), make_product(stock=10)
    add(client, a, "1")
    add(client, b, "1")
    before = session_cart(client)
    response = client.post("/cart?lang=en", data={f"quantity-p:{a.id}": "3", f"quantity-p:{b.id}": quantity})
    assert response.status_code == 400
    text = page(response)
    assert message in text
    assert re.search(rf'id="problem-p-{b.id}"[^>]*>[^<]*{re.escape(message)}', text)
    assert f'value="{quantity}"' in text, "what the buyer typed is kept"
    assert session_cart(client) == before


def test_a_bad_update_in_the_database_cart_changes_nothing(client, make_user, make_product):
    buyer = make_user()
    a, b = make_product(stock=10), make_product(stock=10)
    login_as(client, buyer)
    add(client, a, "1")
    add(client, b, "1")
    assert client.post("/cart", data={f"quantity-p:{a.id}": "3", f"quantity-p:{b.id}": "x"}).status_code == 400
    assert db_cart(buyer) == {a.id: 1, b.id: 1}
    assert client.post("/cart", data={f"quantity-p:{a.id}": "3", f"quantity-p:{b.id}": "2"}).status_code == 302
    assert db_cart(buyer) == {a.id: 3, b.id: 2}


def test_updating_confirms_a_changed_price(client, make_product):
    product = make_product(price_vnd=25000, stock=10)
    add(client, product, "2")
    product.price_vnd = 27000
    db.session.commit()
    client.post("/cart", data={f"quantity-p:{product.id}": "2"})
    assert session_cart(client)[f"p:{product.id}"] == {"q": 2, "price": 27000}
    text = page(client.get("/cart?lang=en"))
    assert "The price changed" not in text and 'href="/checkout"' in text


def test_an_untouched_sold_out_line_does_not_block_updating_others(client, make_product):
    gone, other = make_product(stock=5), make_product(stock=5)
    add(client, gone, "2")
    add(client, other, "1")
    gone.stock = 0
    db.session.commit()
    response = client.post("/cart", data={f"quantity-p:{gone.id}": "2", f"quantity-p:{other.id}": "3"})
    assert response.status_code == 302
    assert session_cart(client)[f"p:{other.id}"]["q"] == 3


def test_remove_a_line(client, make_user, make_product):
    a, b = make_product(), make_product()
    add(client, a)
    add(client, b)
    assert client.post("/cart/remove", data={"key": f"p:{a.id}"}).headers["Location"].endswith("/cart")
    assert client.post("/cart", data={"remove": f"p:{b.id}"}).status_code == 302
    assert session_cart(client) == {}
    buyer = make_user()
    login_as(client, buyer)
    add(client, a)
    client.post("/cart/remove", data={"key": f"p:{a.id}"})
    assert db_cart(buyer) == {}


@pytest.mark.parametrize("key", ["", "p:abc", "x:1", "p:99999999999999999999999", "p:"])
def test_removing_something_not_in_the_cart_is_harmless(client, make_product, key):
    product = make_product()
    add(client, product)
    assert client.post("/cart/remove", data={"key": key}).status_code == 302
    assert list(session_cart(client)) == [f"p:{product.id}"]


def test_get_on_post_only_routes_is_refused(client):
    assert client.get("/cart/add").status_code == 405
    assert client.get("/cart/remove").status_code == 405


# --- the guest cart follows the buyer into the account ------------------------------------------

def test_guest_cart_merges_into_the_account_at_login(client, make_user, make_product):
    buyer = make_user()
    kept, shared = make_product(stock=10), make_product(stock=10)
    db.session.add(CartItem(user_id=buyer.id, product_id=shared.id, quantity=2, seen_price_vnd=shared.price_vnd))
    db.session.commit()
    add(client, kept, "3")
    add(client, shared, "4")
    login(client, buyer)  # the real form: merging is part of logging in
    assert db_cart(buyer) == {kept.id: 3, shared.id: 6}
    assert session_cart(client) == {}
    assert "Cart (2)" in page(client.get("/cart?lang=en"))


def test_guest_cart_merges_at_registration(client, make_product):
    product = make_product(stock=10)
    add(client, product, "2")
    response = register(client, {"email": "moi@example.vn", "full_name": "Người Mới",
                                 "phone": "0912345678", "password": "dua-kep-2026", "confirm": "dua-kep-2026"})
    assert response.status_code == 302
    items = db.session.scalars(select(CartItem)).all()
    assert [(item.product_id, item.quantity) for item in items] == [(product.id, 2)]


# --- constant queries ---------------------------------------------------------------------------

def _fill_cart(client, make_product, make_farm, lines: int) -> None:
    farms = [make_farm(), make_farm()]
    products = [make_product(farm=farms[n % 2], stock=50) for n in range(lines)]
    for n, product in enumerate(products):
        if n % 5 == 0:  # some lines with problems too
            product.price_vnd += 1000
    db.session.commit()
    with client.session_transaction() as sess:
        sess["cart"] = {f"p:{p.id}": {"q": 2, "price": 25000} for p in products}


@pytest.mark.parametrize("logged_in", [False, True])
def test_cart_page_queries_do_not_grow_with_lines(app, make_user, make_product, make_farm, logged_in):
    counts = []
    for lines in (2, 20):
        client = app.test_client()
        _fill_cart(client, make_product, make_farm, lines)
        if logged_in:
            login(client, make_user())  # the real form: the guest cart moves into the database
        with count_queries() as statements:
            response = client.get("/cart")
        assert response.status_code == 200
        assert page(response).count('name="quantity-') == lines
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 5, counts

