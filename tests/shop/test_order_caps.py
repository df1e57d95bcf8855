"""What one order may hold: a product's most per order (set by the farmer, or the default) and a visit's
largest group per booking, in the cart, on the product page, at checkout on the server, and on the farmer's forms."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from core.extensions import db
from shop import cart as carts
from shop import checkout
from shop import services as product_services
from shop.models import DEFAULT_MAX_ORDER_QTY, MAX_ORDER_QTY_CEILING, Product
from shop.order_models import Order
from tests.factories import NOW
from tests.helpers import login, login_as
from tests.shop.test_cart_views import add, english, page, session_cart
from tours import manage, visit_lines
from tours.models import DEFAULT_MAX_PARTY, TourSlot


@pytest.fixture(autouse=True)
def english_messages(app):
    with force_locale("en"):
        yield


def _count_orders() -> int:
    return db.session.query(Order).count()


# --- products: the most per order ------------------------------------------------------------------------

def test_the_default_cap_is_50_units_whatever_the_stock(store, make_product):
    product = make_product(stock=800)
    assert DEFAULT_MAX_ORDER_QTY == 50 and product.order_limit == 50
    carts.add_product(store, product.id, "50")
    with pytest.raises(carts.CartError, match="at most 50 kg"):
        carts.add_product(store, product.id, "1")  # adding up past the cap
    with pytest.raises(carts.CartError, match="at most 50 kg"):
        carts.set_product_quantity(store, product.id, "51")
    assert store.items()[f"p:{product.id}"]["q"] == 50


def test_the_smallest_order_always_fits_under_the_default(store, make_product):
    """A wholesale listing (at least 100 kg) is not made unorderable by the default of 50."""
    product = make_product(stock=800, min_order_qty=100)
    assert product.order_limit == 100
    carts.add_product(store, product.id, "100")
    with pytest.raises(carts.CartError, match="at most 100 kg"):
        carts.set_product_quantity(store, product.id, "101")


def test_the_farmers_own_cap_is_used(store, make_product):
    product = make_product(stock=800, max_order_qty=10)
    carts.add_product(store, product.id, "10")
    with pytest.raises(carts.CartError, match="at most 10 kg"):
        carts.set_product_quantity(store, product.id, "11")
    raised = make_product(stock=800, max_order_qty=300)
    carts.add_product(store, raised.id, "300")
    assert store.items()[f"p:{raised.id}"]["q"] == 300


def test_the_cart_page_says_what_the_limit_is(client, make_product):
    english(client)
    product = make_product(stock=800, max_order_qty=10)
    add(client, product, "5")
    response = client.post("/cart", data={f"quantity-p:{product.id}": "12"})
    assert response.status_code == 400
    assert f"One order can hold at most 10 kg of {product.name}." in page(response)
    assert session_cart(client)[f"p:{product.id}"]["q"] == 5


def test_the_product_page_offers_no_more_than_the_cap(client, make_product):
    product = make_product(stock=800, max_order_qty=12, min_order_qty=2)
    html = page(client.get(f"/products/{product.slug}?lang=en"))
    assert 'max="12"' in html and "From 2 to 12 kg per order." in html


def test_a_tampered_cart_over_the_cap_is_refused_at_checkout_and_nothing_is_held(store, place, make_product):
    """The cart's own lines can be written directly (a changed database row, a replayed cookie): checkout re-checks."""
    product = make_product(stock=800, price_vnd=1000)
    store.put(f"p:{product.id}", {"q": 800, "price": 1000})
    with pytest.raises(checkout.CheckoutError) as error:
        place(store, shown_total=800_000)
    assert error.value.reason == "stale"
    db.session.rollback()
    assert db.session.get(Product, product.id).stock == 800 and _count_orders() == 0
    assert "At most 50 kg per order" in str(carts.load(store, NOW).lines[0].problems[0])


def test_a_cap_lowered_after_adding_is_enforced_at_checkout(store, place, make_product):
    product = make_product(stock=800, price_vnd=1000)
    carts.add_product(store, product.id, "40")
    product.max_order_qty = 20
    db.session.commit()
    with pytest.raises(checkout.CheckoutError, match="changed"):
        place(store)
    db.session.rollback()
    assert db.session.get(Product, product.id).stock == 800


def test_logging_in_merges_the_guest_cart_within_the_cap(client, make_user, make_product):
    from tests.shop.test_cart_views import db_cart

    product = make_product(stock=800, max_order_qty=30)
    buyer = make_user()
    carts.DbStore(buyer.id).put(f"p:{product.id}", {"q": 25, "price": product.price_vnd})
    add(client, product, "20")
    login(client, buyer)  # the real form: merging is part of logging in
    assert db_cart(buyer)[product.id] == 30, "25 + 20 is capped at 30, not 45"


def _data(**changes) -> product_services.ProductData:
    values = dict(name="Dứa Queen", description="", category="fresh", unit="kg", price_vnd=25000, stock=500,
                  min_order_qty=5)
    values.update(changes)
    return product_services.ProductData(**values)


@pytest.mark.parametrize("cap, message", [
    (4, r"cannot be less than the smallest order \(5\)"),
    (MAX_ORDER_QTY_CEILING + 1, f"at most {MAX_ORDER_QTY_CEILING:d} units"),
    (-1, "cannot be less than the smallest order"),
])
def test_the_farmers_cap_is_checked(make_farm, cap, message):
    farm = make_farm()
    with pytest.raises(product_services.ProductError, match=message) as error:
        product_services.create_product(farm.owner, farm, _data(max_order_qty=cap), now=NOW)
    assert error.value.field == "max_order_qty"


def test_the_farmer_sets_and_clears_the_cap_on_the_product_form(client, make_farm, make_product):
    from tests.farmers.test_products_views import FORM

    farm = make_farm()
    product = make_product(farm=farm, stock=120)
    login_as(client, farm.owner)
    client.get("/?lang=en")
    form = page(client.get(f"/farmer/products/{product.id}/edit"))
    assert 'name="max_order_qty"' in form and "Leave it empty for the usual 50" in form
    assert client.post(f"/farmer/products/{product.id}/edit",
                       data={**FORM, "max_order_qty": "1.000"}).status_code == 302
    db.session.refresh(product)
    assert product.max_order_qty == 1000
    refused = client.post(f"/farmer/products/{product.id}/edit",
                          data={**FORM, "min_order_qty": "10", "max_order_qty": "5"})
    assert refused.status_code == 200 and "cannot be less than the smallest order (10)" in page(refused)
    db.session.refresh(product)
    assert (product.min_order_qty, product.max_order_qty) == (1, 1000), "a refused edit changes nothing"
    assert client.post(f"/farmer/products/{product.id}/edit", data={**FORM, "max_order_qty": ""}).status_code == 302
    db.session.refresh(product)
    assert product.max_order_qty is None and product.order_limit == 50


def test_the_database_refuses_a_cap_below_the_minimum(make_product):
    from sqlalchemy.exc import IntegrityError

    product = make_product(min_order_qty=10)
    product.max_order_qty = 5
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --- visits: the largest group per booking -------------------------------------------------------------------

def test_the_default_group_is_20_people(store, make_slot):
    slot = make_slot(capacity=100)
    assert DEFAULT_MAX_PARTY == 20
    visit_lines.add_visit(store, slot.id, "15", "5", now=NOW)
    with pytest.raises(carts.CartError, match="more than 20 people"):
        visit_lines.add_visit(store, slot.id, "16", "5", now=NOW)


def test_the_farmers_own_group_size_is_used(store, make_slot):
    slot = make_slot(capacity=100, max_party=8)
    with pytest.raises(carts.CartError, match="more than 8 people"):
        visit_lines.add_visit(store, slot.id, "5", "4", now=NOW)
    visit_lines.add_visit(store, slot.id, "5", "3", now=NOW)
    assert store.items()[f"s:{slot.id}"] == {"a": 5, "c": 3, "price": 150000}


def test_a_tampered_party_is_refused_at_checkout_and_no_seat_is_held(store, place, make_slot):
    slot = make_slot(capacity=100)
    store.put(f"s:{slot.id}", {"a": 100, "c": 0, "price": 150000})
    with pytest.raises(checkout.CheckoutError) as error:
        place(store, shown_total=100 * 150000)
    assert error.value.reason == "stale"
    db.session.rollback()
    assert db.session.get(TourSlot, slot.id).seats_taken == 0 and _count_orders() == 0


def _tour_data(tour, **changes) -> manage.TourData:
    import dataclasses

    return dataclasses.replace(manage.data_of(tour), **changes)


@pytest.mark.parametrize("size, message", [(0, "at least 1 person"), (51, "At most 50 people per booking")])
def test_the_farmers_group_size_is_checked(make_slot, size, message):
    tour = make_slot().tour
    with pytest.raises(manage.TourError, match=message) as error:
        manage.update_tour(tour.farm.owner, tour.farm, tour, _tour_data(tour, meeting_point="Cổng", max_party=size))
    assert error.value.field == "max_party"


def test_the_farmer_sets_the_group_size_on_the_tour_form(client, make_slot):
    from tests.tours.test_farmer_views import FORM

    slot = make_slot(capacity=30, starts_at=NOW + timedelta(days=400))
    tour = slot.tour
    login_as(client, tour.farm.owner)
    client.get("/?lang=en")
    form = page(client.get(f"/farmer/tours/{tour.id}/edit"))
    assert 'name="max_party"' in form and "the usual 20 people" in form
    assert client.post(f"/farmer/tours/{tour.id}/edit", data={**FORM, "max_party": "6"}).status_code == 302
    db.session.refresh(tour)
    assert tour.max_party == 6 and tour.party_limit == 6
    refused = client.post(f"/farmer/tours/{tour.id}/edit", data={**FORM, "max_party": "80"})
    assert refused.status_code == 200 and "At most 50 people per booking" in page(refused)
    db.session.refresh(tour)
    assert tour.max_party == 6
