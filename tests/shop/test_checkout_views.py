"""Checkout through its page: guests and buyers, one order per page, what the buyer saw is what is charged."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from shop import checkout
from shop.order_models import CartItem, Order
from shop.product_lines import PRODUCTS
from tests.helpers import count, csrf_token_from, login_as
from tests.shop.test_cart_views import add, english, page, session_cart


def form_values(html: str) -> dict[str, str]:
    """What the browser would send: hidden fields, filled inputs and the checked radio buttons."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name:
            continue
        if 'type="radio"' in tag and "checked" not in tag:
            continue
        values[name.group(1)] = value.group(1) if value else ""
    return values


CONTACT = {"name": "Trịnh Thị Mai", "phone": "0987 654 321", "email": "mai@example.vn", "note": "Gọi trước khi giao"}


def open_checkout(client, **query) -> dict[str, str]:
    response = client.get("/checkout", query_string=query)
    assert response.status_code == 200, response.headers.get("Location")
    values = form_values(response.get_data(as_text=True))
    values.pop("csrf_token", None)
    return values


def submit(client, values: dict, **changes):
    data = {**values, **CONTACT, "place": "1"}
    data.update(changes)
    return client.post("/checkout", data=data)


KEP = {"province": "24", "commune": "7399", "street": "Số 12, thôn Kép 2"}


def shown_with(client, values: dict, **changes) -> dict[str, str]:
    """The page again for these choices (the "Update total" button): what it then shows, to be confirmed."""
    response = client.post("/checkout", data={**values, **CONTACT, **changes, "recalculate": "1"})
    assert response.status_code == 200
    shown = form_values(response.get_data(as_text=True))
    shown.pop("csrf_token", None)
    return {**shown, **changes}


def placed_order() -> Order:
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == 1, orders
    return orders[0]


def assert_goes_to_payment(response, order: Order) -> None:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert f"/orders/{order.public_id}" in location and f"key={order.secret}" in location


# --- the happy paths ----------------------------------------------------------------------------

def test_a_tourist_with_a_phone_from_abroad_can_check_out(client, make_product):
    pineapples = make_product(price_vnd=25000, stock=20)
    add(client, pineapples, "2")
    response = submit(client, open_checkout(client, lang="en"), phone="+44 7700 900123")
    order = placed_order()
    assert_goes_to_payment(response, order)
    assert order.buyer_phone == "+447700900123"


def test_guest_checkout_places_one_order_and_sends_to_payment(client, make_product, make_farm):
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=30000)
    pineapples = make_product(price_vnd=25000, stock=20)
    jam = make_product(farm=farm, price_vnd=55000, stock=5, unit="jar")
    add(client, pineapples, "4")
    add(client, jam, "2")
    # A delivery needs an address, and its fee is shown before the order is placed.
    values = shown_with(client, open_checkout(client), **{f"fulfilment_{farm.id}": "delivery"}, **KEP)
    response = submit(client, values)
    order = placed_order()
    assert_goes_to_payment(response, order)
    assert order.total_vnd == 4 * 25000 + 2 * 55000 + 30000
    assert (order.ship_street, order.ship_commune, order.ship_province) == ("Số 12, thôn Kép 2", "Xã Kép", "Bắc Ninh")
    assert (order.user_id, order.buyer_phone, order.note, order.payment_method) == (
        None, "0987654321", "Gọi trước khi giao", "vietqr")
    assert {fo.farm_id: fo.fulfilment for fo in order.farm_orders} == {
        pineapples.farm_id: "farm_pickup", farm.id: "delivery"}
    assert (pineapples.stock, jam.stock) == (16, 3)
    assert session_cart(client) == {}
    notice = db.session.scalar(select(Notification).where(Notification.kind == "order_placed"))
    assert notice is not None and notice.to_address == "mai@example.vn" and order.public_id in notice.body
    # The guest's order page is reached through the link with the key, which it asks to keep.
    text = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    assert "Keep this link" in text and order.secret in text


def test_logged_in_buyer_gets_the_details_prefilled_and_the_order_on_the_account(client, make_user, make_product):
    buyer = make_user(full_name="Trịnh Thị Mai", phone="0987654321", email="mai.khach@example.vn")
    product = make_product(stock=10)
    login_as(client, buyer)
    add(client, product, "3")
    values = open_checkout(client)
    assert (values["name"], values["phone"], values["email"]) == ("Trịnh Thị Mai", "0987654321",
                                                                  "mai.khach@example.vn")
    response = client.post("/checkout", data={**values, "place": "1"})
    order = placed_order()
    assert_goes_to_payment(response, order)
    assert order.user_id == buyer.id and order.buyer_email == "mai.khach@example.vn"
    assert product.stock == 7
    assert count(CartItem) == 0
    assert order.reference in page(client.get("/orders?lang=en"))


def test_update_total_shows_the_delivery_fee_without_ordering(client, make_product, make_farm):
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=30000)
    add(client, make_product(farm=farm, price_vnd=50000), "1")
    values = open_checkout(client, lang="en")
    response = client.post("/checkout?lang=en", data={**values, f"fulfilment_{farm.id}": "delivery", **KEP,
                                                      "recalculate": "1"})
    assert response.status_code == 200
    text = page(response)
    assert "80,000" in text and "delivery ₫30,000 included" in text
    assert count(Order) == 0


# --- one order per checkout page ----------------------------------------------------------------

def test_double_submit_places_one_order(client, make_product):
    product = make_product(stock=10)
    add(client, product, "2")
    values = open_checkout(client)
    first = submit(client, values)
    second = submit(client, values)
    order = placed_order()
    assert_goes_to_payment(first, order)
    assert second.headers["Location"] == first.headers["Location"]
    assert product.stock == 8
    assert count(Notification) == 1


def test_a_race_on_the_same_page_still_finds_the_one_order(client, make_product, monkeypatch):
    """Two submits at once: both miss the order, the second fails on the unique token and is sent to the first's."""
    product = make_product(stock=10)
    add(client, product, "2")
    values = open_checkout(client)
    submit(client, values)
    order = placed_order()
    add(client, product, "2")
    real = checkout.find_by_token
    calls = []

    def late(token):
        calls.append(token)
        return None if len(calls) <= 2 else real(token)  # the view's and place_order's look run "before" the commit

    monkeypatch.setattr(checkout, "find_by_token", late)
    response = submit(client, values)
    assert_goes_to_payment(response, order)
    assert count(Order) == 1 and product.stock == 8


def test_a_token_not_issued_to_this_browser_is_refused(client, make_product):
    product = make_product(stock=10)
    add(client, product, "2")
    values = open_checkout(client)
    response = submit(client, values, checkout_token="made-up-token")
    assert response.status_code == 302 and response.headers["Location"].endswith("/checkout")
    assert count(Order) == 0 and product.stock == 10


# --- what the buyer saw is what is charged -------------------------------------------------------

@pytest.mark.parametrize("shown", ["1000", "", "-5", "abc", "99999999999999999999"])
def test_tampered_hidden_total_is_refused_and_nothing_is_written(client, make_product, shown):
    product = make_product(price_vnd=25000, stock=10)
    add(client, product, "2")
    values = open_checkout(client)
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, "place": "1", "shown_total": shown})
    assert response.status_code == 409
    text = page(response)
    assert "The total changed while you were checking out." in text
    assert 'value="50000"' in text, "the page shows the real total again"
    assert count(Order) == 0 and product.stock == 10
    assert list(session_cart(client)) == [f"p:{product.id}"]


def test_tampered_delivery_fee_is_refused(client, make_product, make_farm):
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=30000)
    add(client, make_product(farm=farm, price_vnd=50000), "1")
    values = open_checkout(client)
    values = shown_with(client, values, **{f"fulfilment_{farm.id}": "delivery"}, **KEP)
    response = submit(client, values, **{f"fee_{farm.id}": "0"})
    assert response.status_code == 409 and count(Order) == 0


def test_delivery_fee_changed_by_the_farm_meanwhile_is_caught(client, make_product, make_farm):
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=30000)
    add(client, make_product(farm=farm, price_vnd=50000), "1")
    values = shown_with(client, open_checkout(client), **{f"fulfilment_{farm.id}": "delivery"}, **KEP)
    farm.delivery_fee_vnd = 45000
    db.session.commit()
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, "place": "1"})
    assert response.status_code == 409 and count(Order) == 0
    assert "95,000" in page(response)


def test_delivery_where_the_farm_does_not_deliver_is_refused(client, make_product):
    product = make_product(stock=10)
    add(client, product, "1")
    values = open_checkout(client)
    assert 'value="delivery"' not in client.get("/checkout").get_data(as_text=True)
    response = submit(client, values, **{f"fulfilment_{product.farm_id}": "delivery"})
    assert response.status_code == 400
    assert "Not a valid choice" in page(client.post("/checkout?lang=en", data={
        **open_checkout(client), **CONTACT, "place": "1", f"fulfilment_{product.farm_id}": "delivery"}))
    assert count(Order) == 0 and product.stock == 10


@pytest.mark.parametrize("field, value, message", [
    ("phone", "12345", "Enter a mobile number, for example 0912 345 678"),
    ("email", "not-an-email", "Enter a valid email address"),
    ("name", "", "Enter your name."),
    ("payment_method", "cash", "Not a valid choice"),
])
def test_bad_contact_details_are_shown_and_nothing_is_placed(client, make_product, field, value, message):
    product = make_product(stock=10)
    add(client, product, "1")
    values = open_checkout(client)
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, "place": "1", field: value})
    assert response.status_code == 400
    assert message in page(response)
    assert count(Order) == 0 and product.stock == 10


# --- a cart that changed, or is empty ------------------------------------------------------------

def test_price_changed_between_cart_and_checkout_sends_back_to_the_cart(client, make_product):
    english(client)
    product = make_product(price_vnd=25000, stock=10)
    add(client, product, "2")
    values = open_checkout(client)
    product.price_vnd = 30000
    db.session.commit()
    response = submit(client, values)
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    assert "Some lines of your cart changed." in page(client.get("/cart?lang=en"))
    assert count(Order) == 0 and product.stock == 10


def test_sold_out_between_cart_and_checkout_sends_back_to_the_cart(client, make_product):
    product = make_product(stock=3)
    add(client, product, "3")
    values = open_checkout(client)
    product.stock = 1
    db.session.commit()
    response = submit(client, values)
    assert response.headers["Location"].endswith("/cart")
    assert "Only 1 left." in page(client.get("/cart?lang=en"))
    assert count(Order) == 0 and product.stock == 1


def test_sold_out_at_the_moment_of_ordering_rolls_back(client, make_product, monkeypatch):
    english(client)
    first, second = make_product(stock=10), make_product(stock=3)
    add(client, first, "4")
    add(client, second, "3")
    values = open_checkout(client)
    monkeypatch.setattr(PRODUCTS, "reserve",
                        lambda product_id, quantity: product_id != second.id)  # another buyer was faster
    response = submit(client, values)
    assert response.headers["Location"].endswith("/cart")
    assert "has just sold out" in page(client.get("/cart?lang=en"))
    assert count(Order) == 0 and (first.stock, second.stock) == (10, 3)


def test_empty_cart_checkout_goes_to_the_cart(client, make_product):
    response = client.get("/checkout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")
    product = make_product()
    add(client, product)
    values = open_checkout(client)
    client.post("/cart/remove", data={"key": f"p:{product.id}"})
    response = submit(client, values)
    assert response.headers["Location"].endswith("/cart") and count(Order) == 0


# --- payment methods ----------------------------------------------------------------------------

def test_card_is_hidden_with_a_reason_without_stripe_keys(client, make_product):
    add(client, make_product(), "1")
    text = page(client.get("/checkout?lang=en"))
    assert 'value="card"' not in text
    assert "Card payment is not available right now; pay by bank transfer (VietQR)." in text
    assert re.search(r'<input[^>]*checked[^>]*value="vietqr"|<input[^>]*value="vietqr"[^>]*checked', text)


class TestWithStripeKeys:
    @pytest.fixture
    def app_config(self):
        return {"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_PUBLISHABLE_KEY": "pk_test_123"}

    def test_card_can_be_chosen(self, client, make_product):
        add(client, make_product(), "1")
        values = open_checkout(client)
        assert "Card payment is not available" not in page(client.get("/checkout?lang=en"))
        submit(client, values, payment_method="card")
        assert placed_order().payment_method == "card"


class TestCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_posts_without_the_token_are_refused(self, client, make_product):
        product = make_product(stock=10)
        for path, data in [("/cart/add", {"product_id": product.id, "quantity": "1"}),
                           ("/cart", {f"quantity-p:{product.id}": "2"}),
                           ("/cart/remove", {"key": f"p:{product.id}"}),
                           ("/checkout", {**CONTACT, "place": "1"})]:
            assert client.post(path, data=data).status_code == 400, path
        assert session_cart(client) == {} and count(Order) == 0

    def test_with_the_tokens_from_the_pages_it_works(self, client, make_product):
        product = make_product(stock=10)
        token = csrf_token_from(client.get(f"/products/{product.slug}").get_data(as_text=True))
        client.post("/cart/add", data={"product_id": product.id, "quantity": "2", "csrf_token": token})
        assert session_cart(client)[f"p:{product.id}"]["q"] == 2
        html = client.get("/checkout").get_data(as_text=True)
        response = client.post("/checkout", data={**form_values(html), **CONTACT, "place": "1"})
        order = placed_order()
        assert_goes_to_payment(response, order)
        confirm = f"/orders/{order.public_id}/pay/cancel?key={order.secret}"
        html = client.get(confirm).get_data(as_text=True)
        assert client.post(confirm, data={"then": "cancel"}).status_code == 400
        client.post(confirm, data={"then": "cancel", "csrf_token": csrf_token_from(html)})
        assert placed_order().status == "cancelled"
