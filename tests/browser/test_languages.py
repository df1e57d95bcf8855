"""The comparison behind journey 5 (tests/browser/languages.py) can fail, and does not fail on data.

No browser needed: these feed it the texts a page would give."""
from __future__ import annotations

from shop.payments.reference import reference_for
from tests.browser.languages import compare, data_strings, interface_part

DATA = data_strings({"Vườn dứa Đồi Thông", "Dứa Queen Đồi Thông loại 1", "Emma Clarke"})


def test_a_sentence_left_in_english_is_found():
    finding = compare("page", ["Your cart", "Forgot your password?"], ["Giỏ hàng", "Forgot your password?"], DATA)
    assert finding.untranslated == ["Forgot your password?"] and not finding.clean


def test_a_message_with_data_in_it_is_compared_without_the_data():
    english = ["From Vườn dứa Đồi Thông", "Cart (3)", "Checked in: Emma Clarke, 2 people. Welcome them!"]
    assert compare("page", english, ["Từ Vườn dứa Đồi Thông", "Giỏ hàng (3)",
                                     "Đã đón: Emma Clarke, 2 người. Chào mừng họ!"], DATA).clean
    left = compare("page", english, ["Từ Vườn dứa Đồi Thông", "Cart (3)", "Đã đón: Emma Clarke, 2 người."], DATA)
    assert left.untranslated == ["Cart (3)"]


def test_data_names_numbers_codes_and_brands_are_not_interface_text():
    same = ["Dứa Queen Đồi Thông loại 1", "447.000 ₫", reference_for(1), "3FFG-X3CH", "Kép 3 · Agribank",
            "emma.clarke@example.com", "22/11/26 15:53", "Chợ Dứa Kép", "VietQR", "Tiếng Việt", "English"]
    finding = compare("page", same, same, DATA)
    assert finding.clean and finding.compared == 0


def test_english_words_in_a_vietnamese_text_are_found_even_when_the_english_page_differs():
    finding = compare("page", ["Pay now"], ["Thanh toán (please pay within 30 minutes)"], DATA)
    assert finding.english_words == ["Thanh toán (please pay within 30 minutes)"]
    assert compare("page", ["Pay now"], ["Thanh toán ngay trong 30 phút"], DATA).clean


def test_data_is_taken_out_as_whole_words_only():
    # "Ca" is a village of Kep: it must not eat the start of "Cart" or "Cancel".
    assert interface_part("Cart (2) · Ca", DATA) == "Cart"
    finding = compare("page", ["Cancel this booking"], ["Cancel this booking"], DATA)
    assert finding.untranslated == ["Cancel this booking"]


def test_interface_part_keeps_the_words_only():
    assert interface_part(f"Tổng cộng: 447.000 ₫ ({reference_for(1)})", DATA) == "Tổng cộng"
    assert interface_part("Vườn dứa Đồi Thông · Kép 10", DATA) == ""
