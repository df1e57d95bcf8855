"""Checkout that never surprises: a delivery needs a complete address (finding 1), the total shown is the total
charged and is on the button, with a confirm step without JavaScript (finding 2), a visit-only cart asks nothing
about receiving (finding 3); the address reaches the order and the farmer."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from shop import checkout
from shop import delivery as deliveries
from shop.delivery_models import Address
from shop.order_models import Order
from tests.factories import KEP_ADDRESS, pay
from tests.helpers import count, login_as
from tests.shop.test_cart_views import add, page, session_cart
from tests.shop.test_checkout_views import CONTACT, KEP, open_checkout, placed_order, shown_with, submit

HANOI = {"province": "1", "commune": "70", "street": "Số 5 phố Hàng Bạc"}


@pytest.fixture
def farm(make_farm):
    return make_farm(offers_delivery=True, delivery_fee_vnd=30000, ships_parcels=True)


@pytest.fixture
def jam(make_product, farm):
    return make_product(farm=farm, name="Mứt dứa", price_vnd=65000, stock=10, unit="jar", shipping_weight_g=400)


def button_total(html: str) -> str:
    match = re.search(r"<button[^>]*data-place-button[^>]*>([^<]*)</button>", html)
    assert match, "no order button"
    return match.group(1).strip()


# --- finding 1: a delivery without an address ----------------------------------------------------------------

def test_finding_1_delivery_without_an_address_is_refused_and_nothing_is_placed(client, farm, jam):
    add(client, jam, "2")
    values = shown_with(client, open_checkout(client), **{f"fulfilment_{farm.id}": "delivery"})
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, "place": "1"})
    assert response.status_code == 400
    text = page(response)
    assert "Choose the province or city." in text and "Enter the street and house number." in text
    assert count(Order) == 0 and jam.stock == 10 and list(session_cart(client)) == [f"p:{jam.id}"]


def test_finding_1_the_service_refuses_a_delivery_without_an_address_too(store, place, farm, jam):
    from shop import cart as carts
    carts.add_product(store, jam.id, "1")
    with pytest.raises(checkout.CheckoutError) as error:
        place(store, fulfilments={farm.id: "delivery"}, shown_total=65000)
    assert error.value.reason == "address"
    db.session.rollback()
    assert count(Order) == 0


@pytest.mark.parametrize("bad", [
    {"province": "24", "commune": "70"},          # Hoàn Kiếm is not in Bắc Ninh
    {"province": "99", "commune": "7399"},         # no such province
    {"province": "24", "commune": "abc"},
    {**KEP, "street": "   "},
])
def test_a_bad_address_changes_nothing(client, farm, jam, bad):
    add(client, jam, "1")
    values = shown_with(client, open_checkout(client), **{f"fulfilment_{farm.id}": "delivery"}, **KEP)
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, **bad, "place": "1"})
    assert response.status_code == 400
    assert count(Order) == 0 and jam.stock == 10


def test_the_farmer_sees_the_address_on_the_farm_order_and_the_packing_list(client, farm, jam, make_user):
    add(client, jam, "2")
    values = shown_with(client, open_checkout(client), **{f"fulfilment_{farm.id}": "delivery"}, **HANOI)
    assert submit(client, values).status_code == 302
    order = placed_order()
    farm_order = order.farm_orders[0]
    assert (farm_order.delivery_method, farm_order.delivery_fee_vnd) == ("parcel", 25000)  # 800 g to the North
    assert (farm_order.delivery_days_min, farm_order.delivery_days_max) == (2, 3)
    assert (order.ship_name, order.ship_phone, order.ship_province) == ("Trịnh Thị Mai", "0987654321",
                                                                        "Thành phố Hà Nội")
    buyer_page = page(client.get(f"/orders/{order.public_id}?key={order.secret}&lang=en"))
    assert "Số 5 phố Hàng Bạc, Phường Hoàn Kiếm, Thành phố Hà Nội" in buyer_page
    assert "promised in 2–3 days" in buyer_page
    pay(order, now=utcnow())
    db.session.commit()
    notice = db.session.scalar(select(Notification).where(Notification.kind == "farm_new_order"))
    assert "Số 5 phố Hàng Bạc, Phường Hoàn Kiếm, Thành phố Hà Nội" in notice.body
    login_as(client, farm.owner)
    for url in (f"/farmer/orders/{farm_order.id}?lang=en", f"/farmer/orders/{farm_order.id}/packing-list?lang=en"):
        text = page(client.get(url))
        assert "Số 5 phố Hàng Bạc, Phường Hoàn Kiếm, Thành phố Hà Nội" in text, url
        assert "a parcel" in text


def test_local_only_fruit_to_hanoi_is_refused_with_the_reason(client, farm, make_product):
    fresh = make_product(farm=farm, name="Dứa Queen tươi", local_only=True)
    add(client, fresh, "2")
    values = shown_with(client, open_checkout(client, lang="en"), **{f"fulfilment_{farm.id}": "delivery"}, **HANOI)
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, "place": "1"})
    assert response.status_code == 400
    assert "Dứa Queen tươi can only be delivered nearby by the farm" in page(response)
    assert count(Order) == 0 and fresh.stock == 100


def test_a_saved_address_is_chosen_at_checkout_and_nobody_elses(client, farm, jam, make_user):
    buyer, other = make_user(full_name="Lê Văn Tuấn", phone="0912345678"), make_user()
    mine = Address(user_id=buyer.id, recipient_name="Bà Lan", phone="0977000111", province_code=1,
                   commune_code=70, street="Số 9 Hàng Đào")
    theirs = Address(user_id=other.id, recipient_name="X", phone="0977000222", province_code=24,
                     commune_code=7399, street="Số 1")
    db.session.add_all([mine, theirs])
    db.session.commit()
    login_as(client, buyer)
    add(client, jam, "1")
    values = open_checkout(client)
    assert values["address_id"] == str(mine.id), "the buyer's own saved address is chosen to start with"
    assert "Số 9 Hàng Đào" in page(client.get("/checkout")) and "Số 1<" not in page(client.get("/checkout"))
    stolen = client.post("/checkout", data={**values, f"fulfilment_{farm.id}": "delivery",
                                            "address_id": str(theirs.id), "recalculate": "1"})
    assert "Nhập địa chỉ nhận hàng" in page(stolen), "someone else's address is no address"
    values = shown_with(client, values, **{f"fulfilment_{farm.id}": "delivery"}, address_id=str(mine.id))
    assert client.post("/checkout", data={**values, "place": "1"}).status_code == 302
    order = placed_order()
    assert (order.ship_name, order.ship_street, order.ship_commune) == ("Bà Lan", "Số 9 Hàng Đào",
                                                                         "Phường Hoàn Kiếm")
    assert order.total_vnd == 65000 + 25000


def test_a_new_address_can_be_saved_on_the_account_with_the_order(client, farm, jam, make_user):
    buyer = make_user(full_name="Lê Văn Tuấn", phone="0912345678")
    login_as(client, buyer)
    add(client, jam, "1")
    values = shown_with(client, open_checkout(client), **{f"fulfilment_{farm.id}": "delivery"}, **HANOI,
                        save_address="y")
    assert client.post("/checkout", data={**values, "place": "1"}).status_code == 302
    saved = Address.query.one()
    assert (saved.user_id, saved.recipient_name, saved.commune_code, saved.street) == (
        buyer.id, "Trịnh Thị Mai", 70, "Số 5 phố Hàng Bạc")  # the recipient typed at checkout
    assert placed_order().ship_street == "Số 5 phố Hàng Bạc"


# --- finding 2: the total shown is the total charged ---------------------------------------------------------

def test_finding_2_a_choice_changed_without_the_new_total_shown_asks_to_confirm(client, make_product, make_farm):
    """The report: 130.000 ₫ shown, 160.000 ₫ charged after ticking delivery. Now the order is not placed until
    the page has shown the new total, on its button."""
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=30000)
    add(client, make_product(farm=farm, price_vnd=65000, stock=10), "2")
    first = client.get("/checkout?lang=en").get_data(as_text=True)
    assert button_total(first) == "Place order and pay ₫130,000"
    values = open_checkout(client)
    response = client.post("/checkout?lang=en", data={**values, **CONTACT, **KEP, "place": "1",
                                                      f"fulfilment_{farm.id}": "delivery"})
    assert response.status_code == 409 and count(Order) == 0
    text = page(response)
    assert button_total(text) == "Place order and pay ₫160,000"
    assert "Please check the total with your choices: ₫160,000" in text
    confirmed = shown_with(client, values, **{f"fulfilment_{farm.id}": "delivery"}, **KEP)
    assert submit(client, confirmed).status_code == 302
    assert placed_order().total_vnd == 160000


def test_the_live_quote_gives_the_totals_the_server_charges(client, farm, jam):
    add(client, jam, "2")
    values = open_checkout(client)
    quote = client.post("/checkout/quote?lang=en", data={**values, **CONTACT, **HANOI,
                                                         f"fulfilment_{farm.id}": "delivery"})
    assert quote.status_code == 200
    answer = quote.get_json()
    assert answer["total"] == 130000 + 25000 and answer["button"] == "Place order and pay ₫155,000"
    assert answer["farms"][str(farm.id)]["days_text"] == "Arrives in 2–3 days"
    # The script puts the shown values in the hidden fields: the order is then placed at once, at that total.
    response = submit(client, {**values, **answer["shown"], **HANOI, f"fulfilment_{farm.id}": "delivery"})
    assert response.status_code == 302
    assert placed_order().total_vnd == answer["total"]
    assert count(Order) == 1


def test_the_live_quote_without_an_address_says_what_is_missing(client, farm, jam):
    add(client, jam, "1")
    answer = client.post("/checkout/quote?lang=en", data={**open_checkout(client),
                                                          f"fulfilment_{farm.id}": "delivery"}).get_json()
    assert answer["total"] == 65000 and "Enter the delivery address" in answer["farms"][str(farm.id)]["error"]


def test_the_live_quote_of_an_empty_cart_is_refused(client):
    assert client.post("/checkout/quote", data={}).status_code == 409


# --- finding 3: a visit-only cart -----------------------------------------------------------------------------

def test_finding_3_a_visit_only_checkout_asks_nothing_about_receiving(client, make_slot, farm):
    slot = make_slot(farm=farm, starts_at=(utcnow() + timedelta(days=5)).replace(microsecond=0))
    assert client.post(f"/tours/{slot.tour.slug}/book", data={"slot": slot.id, "adults": "2"}).status_code == 302
    text = page(client.get("/checkout?lang=en"))
    assert "How do you want to receive it?" not in text and "Pick up at the farm" not in text
    assert "Delivery address" not in text and f"fulfilment_{farm.id}" not in text
    response = submit(client, open_checkout(client))
    assert response.status_code == 302
    order = placed_order()
    assert order.total_vnd == 300000 and order.farm_orders[0].fulfilment == "farm_pickup"
    assert order.ship_street is None


def test_goods_and_a_visit_of_one_farm_still_ask_for_the_goods(client, make_slot, farm, jam):
    slot = make_slot(farm=farm, starts_at=(utcnow() + timedelta(days=5)).replace(microsecond=0))
    client.post(f"/tours/{slot.tour.slug}/book", data={"slot": slot.id, "adults": "1"})
    add(client, jam, "1")
    assert "How do you want to receive it?" in page(client.get("/checkout?lang=en"))


def test_kep_destination_helper_is_complete():
    assert KEP_ADDRESS.complete and not deliveries.Destination("", "", 24, 7399, "x").complete
