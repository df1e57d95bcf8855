"""core/inputs.py: strict numbers, bounded ids, request values without control characters, bounded JSON;
and WTForms' own messages (with their %(max)s...) translated without a crash."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core import inputs
from core.extensions import db
from tests.helpers import login_as

EVIL_NUMBERS = ["²", "١٢", "1e9", "-1", "+1", "1.5", "0x10", "1_000", "", " ", "1" * 100000, str(2**63), None, [],
                True, 1.0]


@pytest.mark.parametrize("text", EVIL_NUMBERS, ids=repr)
def test_parse_int_refuses_anything_but_ascii_digits(text):
    assert inputs.parse_int(text) is None


def test_parse_int_reads_digits_within_bounds():
    assert inputs.parse_int(" 42 ") == 42
    assert inputs.parse_int("007") == 7
    assert inputs.parse_int(12) == 12
    assert inputs.parse_int("5", low=1, high=5) == 5
    assert inputs.parse_int("6", low=1, high=5) is None
    assert inputs.parse_int("0", low=1) is None
    assert inputs.parse_int("1234567", max_digits=6) is None
    assert inputs.parse_int("9" * 18) == 10**18 - 1
    assert inputs.parse_int("1" * 19) is None


def test_ids_are_within_the_postgresql_integer_range():
    assert inputs.parse_id("1") == 1
    assert inputs.parse_id(str(2**31 - 1)) == 2**31 - 1
    for text in ("0", str(2**31), str(2**63), str(10**30), "-5", "²"):
        assert inputs.parse_id(text) is None, text


def test_parse_page():
    assert inputs.parse_page("3") == 3
    assert [inputs.parse_page(text) for text in (None, "", "0", "-1", "²", "1" * 100000, "10001")] == [1] * 7
    assert inputs.parse_page("10001", high=99_999) == 10001


def test_clean_text_removes_control_characters_but_keeps_line_breaks_and_tabs():
    assert inputs.clean_text("a\x00b\x01c\x1fd\x7fe\tf\ng\r\nh") == "abcde\tf\ng\r\nh"
    assert inputs.clean_text("Dứa ngọt ²") == "Dứa ngọt ²"


def test_load_json_cleans_strings_and_keys():
    data = inputs.load_json(json.dumps({"content\x00": "KEP\x0000000001", "list": ["a\x00", {"b": "c\x07"}],
                                        "n": 5}).encode())
    assert data == {"content": "KEP00000001", "list": ["a", {"b": "c"}], "n": 5}


@pytest.mark.parametrize("raw", [b"[" * 100000 + b"]" * 100000, b"[" * 100000, b'{"a":' * 50000 + b"1" + b"}" * 50000,
                                 b"\xff\xfe", b"not json", b'{"n": ' + b"1" * 5000 + b"}", b" " * 300000],
                         ids=["deep array", "unclosed", "deep object", "not utf-8", "not json", "huge number",
                              "too large"])
def test_load_json_refuses_what_it_cannot_take_with_bad_json_only(raw):
    with pytest.raises(inputs.BadJSON):
        inputs.load_json(raw)


def test_load_json_depth_limit():
    assert inputs.load_json(b"[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(inputs.BadJSON):
        inputs.load_json(b"[[[[1]]]]", max_depth=3)


# -- through the app --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ident", ["0", str(2**31), str(2**63), str(10**30), "1" * 5000])
def test_ids_out_of_range_in_the_url_are_not_found(client, make_user, ident):
    admin = make_user(role="admin")
    login_as(client, admin)
    for path in (f"/admin/applications/{ident}", f"/admin/payouts/{ident}", f"/admin/farms/{ident}/assist"):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_the_int_converter_still_builds_and_matches_ordinary_ids(app):
    from flask import url_for

    with app.test_request_context():
        assert url_for("admin.application", farm_id=2**31 - 1) == f"/admin/applications/{2**31 - 1}"
    adapter = app.url_map.bind("localhost")
    assert adapter.match("/admin/applications/12") == ("admin.application", {"farm_id": 12})


def test_control_characters_in_a_url_path_are_not_found(client):
    for path in ("/products/dua%00queen", "/farms/a%01b", "/tours/x%7f", "/media/a%00.webp"):
        assert client.get(path).status_code == 404, path


def test_staff_with_an_impossible_farm_id_get_not_found(client, make_user):
    login_as(client, make_user(role="admin"))
    for value in (str(2**31), str(2**63), "²", "abc", "-1"):
        assert client.get("/farmer/products", query_string={"farm": value}).status_code == 404, value


def test_nul_bytes_are_removed_from_form_values_before_they_are_saved(client):
    from accounts.models import User
    from tests.helpers import registration_link

    response = client.post("/register", data={"email": "lan\x00@example.vn", "full_name": "Nguyễn\x00 Thị\x07 Lan",
                                              "phone": "0912345678", "password": "dua-ngot-2026\x00",
                                              "confirm": "dua-ngot-2026"})
    assert response.status_code == 302
    assert client.post(registration_link("lan@example.vn"), data={}).status_code == 302
    user = db.session.scalar(select(User))
    assert (user.email, user.full_name) == ("lan@example.vn", "Nguyễn Thị Lan")
    assert user.check_password("dua-ngot-2026")


def test_query_values_are_cleaned_too(app):
    with app.test_request_context("/products?q=d%00ua&k%00ey=v%01"):
        from flask import request

        assert request.args["q"] == "dua" and request.args["key"] == "v"


@pytest.mark.parametrize("page", ["²", "1" * 100000, str(2**63), "-1", "1e9"])
def test_page_numbers_that_are_not_numbers_show_the_first_page(client, make_user, page):
    buyer = make_user()
    login_as(client, buyer)
    assert client.get("/orders", query_string={"page": page}).status_code == 200


@pytest.mark.parametrize("quantity,message", [("²", "số nguyên"), ("1" * 100000, "quá lớn"), ("1e9", "số nguyên")])
def test_a_quantity_that_is_not_a_number_is_refused_with_a_message(client, make_product, quantity, message):
    product = make_product()
    response = client.post("/cart/add", data={"product_id": str(product.id), "quantity": quantity},
                           follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_over_long_login_input_gets_wtforms_message_in_vietnamese(client):
    response = client.post("/login", data={"email": "a" * 300 + "@example.vn", "password": "x" * 200})
    assert response.status_code == 200, "the form again, with the messages"
    html = response.get_data(as_text=True)
    assert "Ô này dài tối đa 254 ký tự." in html and "Ô này dài tối đa 128 ký tự." in html


def test_over_long_login_input_in_english_too(client):
    response = client.post("/login?lang=en", data={"email": "a" * 300 + "@example.vn", "password": "x"})
    assert "Field cannot be longer than 254 characters." in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["091234567²", "٠٩١٢٣٤٥٦٧٨", "+44 7700 90012³", "+٤٤٧٧٠٠٩٠٠١٢٣"])
def test_phone_numbers_with_digits_that_are_not_ascii_are_refused(raw):
    from core.validators import normalize_any_mobile, normalize_vn_mobile

    assert normalize_vn_mobile(raw) is None and normalize_any_mobile(raw) is None
