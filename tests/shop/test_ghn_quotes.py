"""GHN prices parcels at checkout (shop/carriers/ghn.py) against a local stand-in for GHN's API (ghn_fake.py):
our communes mapped to GHN's wards by name from its master data, the fee asked as GHN documents it, and the
farm's own table whenever GHN cannot price the address, refuses, or does not answer in time."""
from __future__ import annotations

import pytest

from shop import carriers, delivery
from shop.carriers import ghn, ghn_places
from shop.shipment_models import CarrierPlace
from tests.factories import HANOI_ADDRESS, KEP_ADDRESS
from tests.helpers import count
from tests.shop.ghn_fake import _ghn_http, ghn_config, ghn_server  # noqa: F401
from tests.shop.test_delivery_rules import DA_NANG, SAIGON, cart_of, part

FEE = "/v2/shipping-order/fee"


@pytest.fixture
def app_config(_ghn_http):  # noqa: F811
    return ghn_config(_ghn_http[1])


@pytest.fixture
def farm(make_farm):
    return make_farm(offers_delivery=True, delivery_fee_vnd=30000, ships_parcels=True,
                     local_commune_codes="7399", local_days_min=0, local_days_max=1)


@pytest.fixture
def lines(farm, make_product):
    return part(cart_of((make_product(farm=farm, shipping_weight_g=1000, price_vnd=25000), 2)))


@pytest.fixture
def mapped(app, ghn_server):  # noqa: F811
    ghn.forget_quotes()
    assert ghn_places.refresh() == 3
    ghn_server.requests.clear()
    return ghn_server


def test_communes_are_mapped_to_ghn_wards_by_name_in_the_old_provinces_merged_into_ours(app, ghn_server):  # noqa: F811
    assert ghn_places.refresh() == 3
    kep, hoan_kiem = ghn_places.lookup(7399), ghn_places.lookup(70)
    assert ghn_places.lookup(9169).ward_code == "190101", "Phường Vũ Ninh kept its name"
    # Kép was in Bắc Giang, merged into Bắc Ninh: found under GHN's Bắc Giang, Huyện Lạng Giang.
    assert (kep.province_id, kep.district_id, kep.ward_code, kep.ward_name) == (248, 1766, "180511", "Xã Kép")
    assert (hoan_kiem.district_id, hoan_kiem.ward_code) == (1489, "1A0199")
    # GHN's "Phường Bến Nghé" is no commune of ours since 2025; Đà Nẵng is not in this master data at all.
    assert ghn_places.lookup(SAIGON.commune_code) is None and ghn_places.lookup(DA_NANG.commune_code) is None
    asked = [(method, path) for method, path, _ in ghn_server.requests]
    assert asked[0] == ("GET", "/master-data/province") and ("POST", "/master-data/ward") in asked
    assert ghn_places.refresh({24}) == 2 and count(CarrierPlace) == 3, "a province's rows are replaced, not added"


def test_a_ward_name_found_twice_is_not_mapped(app, ghn_server):  # noqa: F811
    ghn_server.wards["1728"].append({"WardCode": "190199", "DistrictID": 1728, "WardName": "Xã Kép"})
    ghn_places.refresh({24})
    assert ghn_places.lookup(7399) is None


def test_configured_only_with_token_and_shop_id(app):
    assert carriers.configured() == ghn.Ghn()
    app.config["GHN_SHOP_ID"] = " "
    assert carriers.configured() is None


def test_the_fee_is_ghns_asked_as_documented(app, lines, mapped):
    found = delivery.quote(lines[0].product.farm, lines, HANOI_ADDRESS)
    assert found == delivery.DeliveryQuote("parcel", 22000 + 2 * 2500, 2, 3)
    [body] = mapped.calls(FEE)
    assert body["service_type_id"] == 2 and body["weight"] == 2000 and body["cod_value"] == 0
    assert (body["to_district_id"], body["to_ward_code"]) == (1489, "1A0199")
    assert (body["from_district_id"], body["from_ward_code"]) == (1766, "180511"), "from the cooperative at Kép"
    assert body["insurance_value"] == 50000 and (body["length"], body["width"], body["height"]) == ghn.BOX_CM
    assert delivery.quote(lines[0].product.farm, lines, KEP_ADDRESS).method == "local"
    assert len(mapped.calls(FEE)) == 1, "the farm's own delivery asks GHN nothing"
    assert delivery.quote(lines[0].product.farm, lines, HANOI_ADDRESS) == found
    assert len(mapped.calls(FEE)) == 1, "the same parcel is not asked again within minutes"


def table_fee(farm, lines, where):
    rate = delivery.rates_for(farm)[delivery.places.region(where.province_code)]
    return delivery.DeliveryQuote("parcel", delivery.band_fee(rate, 2000), rate.days_min, rate.days_max)


def test_an_address_ghn_does_not_know_is_priced_by_the_farms_table(app, farm, lines, mapped):
    assert delivery.quote(farm, lines, DA_NANG) == table_fee(farm, lines, DA_NANG)
    assert mapped.calls(FEE) == []


@pytest.mark.parametrize("answer, status", [
    ("fee_error.json", 200), ("fee_error.json", 400), ({"code": 500, "message": "Hệ thống bận"}, 500),
    ({"unexpected": True}, 200), ({"code": 200, "message": "Success", "data": {"total": "a lot"}}, 200)])
def test_when_ghn_refuses_the_farms_table_prices_it_and_it_is_logged(app, farm, lines, mapped, caplog, answer,
                                                                      status):
    from tests.shop.ghn_fake import sample

    mapped.fail_next(sample(answer) if isinstance(answer, str) else answer, status)
    assert delivery.quote(farm, lines, HANOI_ADDRESS) == table_fee(farm, lines, HANOI_ADDRESS)
    assert "ghn gave no quote" in caplog.text


def test_when_ghn_does_not_answer_in_time_the_farms_table_prices_it(app, farm, lines, mapped, caplog):
    mapped.slow_next(1.5)  # the app waits GHN_TIMEOUT_SECONDS = 1
    assert delivery.quote(farm, lines, HANOI_ADDRESS) == table_fee(farm, lines, HANOI_ADDRESS)
    assert "could not be reached" in caplog.text


def test_when_ghn_cannot_be_reached_at_all_checkout_goes_on(app, farm, lines, mapped):
    app.config["GHN_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    assert delivery.quote(farm, lines, HANOI_ADDRESS) == table_fee(farm, lines, HANOI_ADDRESS)


def test_the_checkout_total_uses_ghns_fee(app, farm, lines, mapped):
    from shop import cart as carts
    from shop import checkout
    from tests.factories import MemoryStore

    store = MemoryStore()
    carts.add_product(store, lines[0].product.id, "2")
    loaded = carts.load(store, None)
    total = checkout.totals(loaded, {farm.id: "delivery"}, HANOI_ADDRESS)[1]
    assert total == 50000 + 27000


def test_the_days_quoted_are_the_cooperatives():
    assert ghn.REGION_DAYS == {region: (rate.days_min, rate.days_max)
                               for region, rate in delivery.DEFAULT_RATES.items()}


def test_ghn_times_are_read_as_utc():
    assert str(ghn.parse_time("2026-12-05T16:59:59Z")) == "2026-12-05 16:59:59"
    assert str(ghn.parse_time("2026-12-05T23:59:59+07:00")) == "2026-12-05 16:59:59"
    assert ghn.parse_time("soon") is None and ghn.parse_time(None) is None


def test_the_ghn_places_command(app, ghn_server):  # noqa: F811
    result = app.test_cli_runner().invoke(args=["ghn-places", "--province", "24"])
    assert result.exit_code == 0 and "2 communes mapped" in result.output, result.output
    app.config["GHN_TOKEN"] = ""
    result = app.test_cli_runner().invoke(args=["ghn-places"])
    assert result.exit_code != 0 and "GHN_TOKEN" in result.output


def test_phone_numbers_are_given_to_ghn_in_the_local_form():
    assert ghn.local_phone("+84 912 345 678") == ghn.local_phone("0912.345.678") == "0912345678"
