"""Each farm's delivery rules: its own delivery to the communes it lists, parcels by weight band and region,
local-only products, the carrier seam; and the farmer's settings page."""
from __future__ import annotations

import pytest

from core.audit import AuditEntry
from core.extensions import db
from shop import carriers, delivery
from shop import cart as carts
from shop.delivery_models import ParcelRate
from tests.factories import HANOI_ADDRESS, KEP_ADDRESS, MemoryStore
from tests.helpers import count, login_as
from tests.shop.test_cart_views import page

SAIGON = delivery.Destination("Nguyễn Văn Bảy", "0909123456", 79, 26743, "12 Lê Lợi")
DA_NANG = delivery.Destination("Trần Thị Hoa", "0905123456", 48, 20242, "5 Bạch Đằng")
LANG_GIANG = delivery.Destination("Mai", "0987654321", 24, 7375, "Thôn Chùa")  # Bắc Ninh, not a local commune


def part(farm_lines):
    """The farm's one part of a cart: its lines."""
    return farm_lines[0][1]


def cart_of(*items):
    store = MemoryStore()
    for product, quantity in items:
        carts.add_product(store, product.id, str(quantity))
    return carts.load(store, None).by_farm()


@pytest.fixture
def farm(make_farm):
    return make_farm(offers_delivery=True, delivery_fee_vnd=30000, ships_parcels=True,
                     local_commune_codes="7399 7420", local_days_min=0, local_days_max=1)


def test_the_places_used_here_exist():
    for where in (SAIGON, DA_NANG, LANG_GIANG, KEP_ADDRESS, HANOI_ADDRESS):
        assert where.complete, where


@pytest.mark.parametrize("grams, quantity, region_address, fee", [
    (1000, 1, HANOI_ADDRESS, 25000),       # 1 kg to the North: first band
    (1000, 3, HANOI_ADDRESS, 35000),       # 3 kg: second band, inclusive
    (1050, 3, HANOI_ADDRESS, 45000),       # 3.15 kg: third band
    (1000, 20, SAIGON, 180000),            # 20 kg to the South: last band
    (1000, 23, SAIGON, 180000 + 3 * 8000),  # 3 kg above 20, per started kg
    (1000, 21, DA_NANG, 150000 + 7000),
    (400, 2, LANG_GIANG, 20000),           # Bắc Ninh, outside the farm's own communes: a parcel
])
def test_parcel_fees_go_by_weight_band_and_region(farm, make_product, grams, quantity, region_address, fee):
    product = make_product(farm=farm, shipping_weight_g=grams, stock=100, max_order_qty=100)
    found = delivery.quote(farm, part(cart_of((product, quantity))), region_address)
    assert (found.method, found.fee_vnd) == ("parcel", fee)


def test_the_days_are_the_regions(farm, make_product):
    product = make_product(farm=farm)
    lines = part(cart_of((product, 1)))
    assert (delivery.quote(farm, lines, SAIGON).days_min, delivery.quote(farm, lines, SAIGON).days_max) == (3, 6)
    assert delivery.quote(farm, lines, HANOI_ADDRESS).days_max == 3


def test_the_farms_own_table_wins_over_the_defaults(farm, make_product):
    db.session.add(ParcelRate(farm_id=farm.id, region="north", fee_1kg_vnd=15000, fee_3kg_vnd=20000,
                              fee_5kg_vnd=30000, fee_10kg_vnd=50000, fee_20kg_vnd=80000, per_kg_above_vnd=4000,
                              days_min=1, days_max=2))
    db.session.commit()
    lines = part(cart_of((make_product(farm=farm, shipping_weight_g=2000), 1)))
    assert delivery.quote(farm, lines, HANOI_ADDRESS) == delivery.DeliveryQuote("parcel", 20000, 1, 2)
    assert delivery.quote(farm, lines, SAIGON).fee_vnd == 60000  # the South keeps the cooperative's row


def test_a_local_commune_gets_the_farms_own_fee_whatever_the_weight(farm, make_product):
    lines = part(cart_of((make_product(farm=farm, shipping_weight_g=5000, max_order_qty=100), 10)))
    assert delivery.quote(farm, lines, KEP_ADDRESS) == delivery.DeliveryQuote("local", 30000, 0, 1)


def test_without_listed_communes_the_farm_delivers_in_kep(make_farm, make_product):
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=10000)
    lines = part(cart_of((make_product(farm=farm), 1)))
    assert delivery.quote(farm, lines, KEP_ADDRESS).fee_vnd == 10000
    with pytest.raises(delivery.NoDelivery, match="chỉ giao gần"):
        delivery.quote(farm, lines, HANOI_ADDRESS)


def test_local_only_fruit_is_refused_for_a_far_province_but_delivered_nearby(farm, make_product):
    fresh = make_product(farm=farm, name="Dứa Queen tươi", local_only=True)
    lines = part(cart_of((fresh, 2)))
    with pytest.raises(delivery.NoDelivery, match="Dứa Queen tươi"):
        delivery.quote(farm, lines, HANOI_ADDRESS)
    assert delivery.quote(farm, lines, KEP_ADDRESS).method == "local"


def test_an_incomplete_address_is_no_quote(farm, make_product):
    lines = part(cart_of((make_product(farm=farm), 1)))
    for where in (None, delivery.Destination("Mai", "0987654321", 24, 70, "Số 1"),
                  delivery.Destination("Mai", "0987654321", 24, 7399, " ")):
        with pytest.raises(delivery.NoDelivery, match="Nhập địa chỉ nhận hàng"):
            delivery.quote(farm, lines, where)


def test_a_configured_carrier_prices_parcels(farm, make_product, monkeypatch):
    asked = []

    class Carrier:
        code = "test"

        def quote(self, origin, destination, weight_g, value_vnd):
            asked.append((origin, destination.commune_code, weight_g, value_vnd))
            return carriers.Quote(41000, 2, 4)

    monkeypatch.setattr(carriers, "configured", lambda: Carrier())
    lines = part(cart_of((make_product(farm=farm, shipping_weight_g=1500, price_vnd=25000), 2)))
    assert delivery.quote(farm, lines, HANOI_ADDRESS) == delivery.DeliveryQuote("parcel", 41000, 2, 4)
    assert asked == [(carriers.Place(24, 7399), 70, 3000, 50000)]
    assert delivery.quote(farm, lines, KEP_ADDRESS).method == "local", "the farm's own delivery comes first"


def test_no_carrier_is_configured_yet():
    assert carriers.configured() is None


# --- the farmer's settings page --------------------------------------------------------------------------------

def settings_form(**changes) -> dict:
    data = {"offers_delivery": "y", "delivery_fee_vnd": "20.000", "local_communes": ["7399", "7375"],
            "local_days_min": "0", "local_days_max": "1", "ships_parcels": "y"}
    for region, rate in delivery.DEFAULT_RATES.items():
        data.update({f"{region}_{i}": str(fee) for i, fee in enumerate(rate.fees)})
        data.update({f"{region}_per_kg": str(rate.per_kg_above_vnd), f"{region}_days_min": str(rate.days_min),
                     f"{region}_days_max": str(rate.days_max)})
    data.update(changes)
    return data


def test_a_farmer_sets_the_rules_and_checkout_uses_them(client, make_farm, make_product):
    farm = make_farm()
    login_as(client, farm.owner)
    text = page(client.get("/farmer/delivery"))
    assert "Xã Kép" in text and 'value="25000"' in text  # the communes to choose, the cooperative's prices
    response = client.post("/farmer/delivery", data=settings_form(north_0="22000"))
    assert response.status_code == 302
    db.session.refresh(farm)
    assert (farm.offers_delivery, farm.delivery_fee_vnd, farm.local_communes, farm.ships_parcels) == (
        True, 20000, [7375, 7399], True)
    assert count(ParcelRate, ParcelRate.farm_id == farm.id) == 4
    lines = part(cart_of((make_product(farm=farm), 1)))
    assert delivery.quote(farm, lines, HANOI_ADDRESS).fee_vnd == 22000
    assert delivery.quote(farm, lines, LANG_GIANG).method == "local"
    assert count(AuditEntry, AuditEntry.action == "farm.delivery_rules") == 1


@pytest.mark.parametrize("changes, message", [
    ({"north_0": "-5"}, ""),
    ({"north_0": "abc"}, ""),
    ({"south_2": "9000000"}, "from 0 to 5,000,000"),
    ({"centre_1": "1000"}, "cannot cost less than a lighter one"),
    ({"local_days_min": "3", "local_days_max": "1"}, "fewest days cannot be more"),
    ({"local_communes": ["70"]}, "communes of Bắc Ninh"),
    ({"delivery_fee_vnd": ""}, "Enter a whole number"),
])
def test_bad_rules_are_refused_and_change_nothing(client, make_farm, changes, message):
    farm = make_farm()
    login_as(client, farm.owner)
    response = client.post("/farmer/delivery?lang=en", data=settings_form(**changes))
    assert response.status_code == 400
    assert message in page(response)
    db.session.refresh(farm)
    assert (farm.offers_delivery, farm.ships_parcels, farm.local_commune_codes) == (False, False, "")
    assert count(ParcelRate) == 0


def test_only_farmers_reach_the_settings(client, make_user, make_farm):
    assert "/login" in client.get("/farmer/delivery").headers["Location"]
    login_as(client, make_user(role="buyer"))
    assert client.get("/farmer/delivery").status_code == 403
    assert client.post("/farmer/delivery", data=settings_form()).status_code == 403
    pending = make_farm(status="pending")
    login_as(client, pending.owner)
    assert client.post("/farmer/delivery", data=settings_form()).status_code == 403
    db.session.refresh(pending)
    assert pending.ships_parcels is False
