"""Addresses as Vietnam writes them since 1 July 2025, read from the vietnam-provinces package; the picker's
commune list; the buyer's saved addresses."""
from __future__ import annotations

import vietnam_provinces

from core import places
from core.extensions import db
from shop.delivery_models import Address
from tests.helpers import count, login_as
from tests.shop.test_cart_views import page


def test_the_package_is_the_pinned_post_reform_list():
    assert vietnam_provinces.__version__ == "2025.10.1"
    assert len(places.provinces()) == 34
    assert places.provinces()[0].name == "Bắc Ninh"
    assert sum(len(places.communes(p.code)) for p in places.provinces()) == 3321


def test_bac_ninh_holds_the_communes_of_the_former_bac_giang_and_kep_among_them():
    names = {c.name for c in places.communes(24)}
    assert len(names) == 99
    assert "Xã Kép" in names
    # Former Bắc Giang province: its city and districts are now wards and communes of Bắc Ninh.
    assert {"Phường Bắc Giang", "Xã Lạng Giang", "Xã Lục Ngạn", "Xã Yên Thế"} <= names
    # Former Bắc Ninh province's own.
    assert {"Phường Kinh Bắc", "Phường Từ Sơn"} <= names
    assert places.province(24).name == "Bắc Ninh" and places.commune(7399).name == "Xã Kép"
    assert places.commune_in(24, 7399) is not None and places.commune_in(1, 7399) is None


def test_no_province_is_outside_a_region_and_lookups_refuse_rubbish():
    assert {places.region(p.code) for p in places.provinces()} == set(places.REGION_CODES)
    assert (places.region(24), places.region(1), places.region(48), places.region(79)) == (
        "bac_ninh", "north", "centre", "south")
    for rubbish in ("", "abc", None, "-1", "99999999"):
        assert places.province(rubbish) is None and places.commune(rubbish) is None
        assert places.communes(rubbish) == []


def test_old_district_style_addresses_are_mapped_where_they_can_be():
    province, commune = places.guess("thôn Kép 2, xã Kép, huyện Lạng Giang, tỉnh Bắc Giang")
    assert (province.name, commune.name) == ("Bắc Ninh", "Xã Kép")
    province, commune = places.guess("Phường Hoàn Kiếm, Hà Nội")
    assert (province.code, commune.code) == (1, 70)
    assert places.guess("somewhere else") == (None, None)


def test_communes_json_lists_a_province_and_refuses_an_unknown_one(client):
    response = client.get("/places/24/communes.json")
    assert response.status_code == 200
    communes = response.get_json()["communes"]
    assert len(communes) == 99 and {"code": 7399, "name": "Xã Kép"} in communes
    assert client.get("/places/3/communes.json").status_code == 404


def test_saved_addresses_without_javascript(client, make_user):
    buyer = make_user(full_name="Lê Văn Tuấn", phone="0912345678")
    login_as(client, buyer)
    assert "Chọn tỉnh/thành phố" in page(client.get("/account/addresses"))
    # The province first: the page comes back with its communes to choose from.
    picked = page(client.post("/account/addresses", data={"province": "24", "pick": "1"}))
    assert 'value="7399"' in picked and count(Address) == 0
    response = client.post("/account/addresses", data={
        "recipient_name": "Lê Văn Tuấn", "phone": "0912 345 678", "province": "24", "commune": "7399",
        "street": "Số 12, thôn Kép 2"})
    assert response.status_code == 302
    saved = Address.query.one()
    assert (saved.user_id, saved.phone, saved.province_code, saved.commune_code) == (buyer.id, "0912345678", 24,
                                                                                      7399)
    assert "Số 12, thôn Kép 2" in page(client.get("/account/addresses"))


def test_a_bad_address_is_refused_with_a_message_and_nothing_is_saved(client, make_user):
    login_as(client, make_user())
    for bad in ({"province": "24", "commune": "70"}, {"province": "0", "commune": "7399"}, {"province": "24"}):
        response = client.post("/account/addresses?lang=en", data={
            "recipient_name": "Mai", "phone": "0987654321", "street": "Số 1", **bad})
        assert response.status_code == 400
        assert "Choose the" in page(response)
    response = client.post("/account/addresses?lang=en", data={
        "recipient_name": "Mai", "phone": "0987654321", "province": "24", "commune": "7399", "street": " "})
    assert response.status_code == 400 and "Enter the street and house number." in page(response)
    assert count(Address) == 0


def test_nobody_removes_someone_elses_address(client, make_user):
    owner, other = make_user(), make_user()
    address = Address(user_id=owner.id, recipient_name="A", phone="0987654321", province_code=24,
                      commune_code=7399, street="Số 1")
    db.session.add(address)
    db.session.commit()
    login_as(client, other)
    assert client.post(f"/account/addresses/{address.id}/delete").status_code == 404
    assert count(Address) == 1
    login_as(client, owner)
    assert client.post(f"/account/addresses/{address.id}/delete").status_code == 302
    assert count(Address) == 0


def test_an_old_style_address_pre_chooses_the_new_province_and_commune(client, make_user):
    login_as(client, make_user())
    text = page(client.post("/account/addresses", data={
        "old_address": "thôn Kép 2, xã Kép, huyện Lạng Giang, tỉnh Bắc Giang", "pick": "1"}))
    assert '<option selected value="24">' in text and '<option selected value="7399">' in text
    assert count(Address) == 0
