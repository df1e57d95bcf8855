"""Order references (shop/payments/reference.py): made from the order id, read back from what banks send,
and a one-character slip never reads as another order."""
from __future__ import annotations

import re
import string

import pytest

from shop.payments.reference import (
    ALPHABET,
    MAX_ORDER_ID,
    find_reference,
    find_references,
    has_mistyped_reference,
    legacy_reference,
    parse_reference,
    reference_for,
)
from shop.vietqr import build_payload, parse_payload

SHAPE = re.compile(r"KEP[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{7}")
# Ids of all sizes: the first orders, and a spread up to the last id there is a reference for.
SPREAD = [*range(1, 301), *range(1000, MAX_ORDER_ID, 2_958_345), MAX_ORDER_ID - 1, MAX_ORDER_ID]


# --- Making them --------------------------------------------------------------------------------------

def test_the_alphabet_has_no_look_alikes():
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("0O1IL") & set(ALPHABET)
    assert set(ALPHABET) <= set(string.digits + string.ascii_uppercase)


def test_references_are_kep_six_characters_and_a_check_character():
    for order_id in SPREAD:
        assert SHAPE.fullmatch(reference_for(order_id)), order_id


def test_references_never_change():
    # Buyers have them in their banking apps: a new release must read the references it made before.
    assert [reference_for(n) for n in (1, 2, 3, 42, 123, MAX_ORDER_ID)] == [
        "KEPX3XW6VG", "KEP7NNXAX4", "KEPG8CYEZE", "KEP9H4DJHE", "KEPNSPC6RZ", "KEPCXHTWRE"]


def test_every_id_has_its_own_reference_and_reads_back():
    ids = [*range(1, 20_001), *SPREAD]
    references = [reference_for(n) for n in ids]
    assert len(set(references)) == len(set(ids))
    assert [parse_reference(reference) for reference in references] == ids


def test_consecutive_orders_differ_in_all_six_characters():
    for order_id in [*range(1, 20_001), *range(MAX_ORDER_ID - 1000, MAX_ORDER_ID)]:
        this, following = reference_for(order_id)[3:9], reference_for(order_id + 1)[3:9]
        assert all(a != b for a, b in zip(this, following)), (order_id, this, following)


def test_beyond_the_capacity_is_refused_not_wrapped():
    assert MAX_ORDER_ID == 31**6 - 1 == 887_503_680
    with pytest.raises(ValueError, match="887,503,680"):
        reference_for(MAX_ORDER_ID + 1)


@pytest.mark.parametrize("number", [0, -5, MAX_ORDER_ID + 1, True, 1.0, "123", None])
def test_reference_for_refuses_what_is_not_an_order_id(number):
    with pytest.raises(ValueError):
        reference_for(number)


def test_references_fit_the_vietqr_code():
    for order_id in SPREAD[::10]:
        payload = build_payload("970436", "0011001234567", 1000, reference_for(order_id))
        assert parse_payload(payload)["62"] == {"08": reference_for(order_id)}


# --- The check character -----------------------------------------------------------------------------

def _substitutions(reference: str):
    """Every change of one character after KEP, to any other letter or digit (look-alikes too)."""
    for position in range(3, len(reference)):
        for character in string.digits + string.ascii_uppercase:
            if character != reference[position]:
                yield reference[:position] + character + reference[position + 1:]


def _swaps(reference: str):
    """Every swap of two neighbouring, different characters after KEP (and of P with the first)."""
    for position in range(2, len(reference) - 1):
        a, b = reference[position], reference[position + 1]
        if a != b:
            yield reference[:position] + b + a + reference[position + 2:]


def test_every_single_substitution_and_adjacent_swap_of_many_references_reads_as_nothing():
    checked = 0
    for order_id in SPREAD:
        reference = reference_for(order_id)
        for typo in [*_substitutions(reference), *_swaps(reference)]:
            assert parse_reference(typo) is None, (reference, typo)
            assert find_reference(f"MBVCB.3278612345.{typo}.thanh toan") is None, (reference, typo)
            checked += 1
    assert checked > 150_000


def test_every_substitution_and_swap_of_every_pair_of_characters_in_every_place_is_caught():
    """Whatever the characters: each (place, character, other character) occurs in some reference."""
    substituted, swapped = set(), set()
    for order_id in range(1, 60_001):
        code = reference_for(order_id)[3:]
        for place, character in enumerate(code):
            for other in ALPHABET:
                if other != character and (place, character, other) not in substituted:
                    assert parse_reference("KEP" + code[:place] + other + code[place + 1:]) is None
                    substituted.add((place, character, other))
        for place in range(6):
            a, b = code[place], code[place + 1]
            if a != b and (place, a, b) not in swapped:
                assert parse_reference("KEP" + code[:place] + b + a + code[place + 2:]) is None
                swapped.add((place, a, b))
    assert len(substituted) == 7 * 31 * 30 and len(swapped) == 6 * 31 * 30


# --- Reading them --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["KEPNSPC6RZ", "kepnspc6rz", " KEP NSPC 6RZ ", "kep-nspc-6rz", "Kép nspc.6rz"])
def test_parse_reference(text):
    assert parse_reference(text) == 123


@pytest.mark.parametrize("text", ["", "KEP", "KEPNSPC6R", "KEPNSPC6RZZ", "KEPNSPC6RA", "KEPNSPO6RZ",
                                  "NSPC6RZ", "REFNSPC6RZ", "thanh toan KEPNSPC6RZ", "KEP00000000", "KEP0000012",
                                  "KEP 000001２3"])
def test_parse_reference_refuses(text):
    assert parse_reference(text) is None


@pytest.mark.parametrize("content", [
    "MBVCB.3278612345.{ref}.thanh toan",
    "MBVCB.3278612345.{ref}.CT tu 0011001234567 NGUYEN VAN A toi 1903",
    "{spaced}",  # kep nspc 6rz
    "NGUYEN VAN A chuyen tien {spaced} mua dua",
    "Thanh toán đơn hàng {ref} – cảm ơn chị",
    "Kép {body}",  # the phone's keyboard made KEP the market's name
    "Chuyển tiền mua dứa, mã {lower}",
    "THANHTOAN{ref}",  # the bank stripped the spaces
    "THANHTOAN{ref}MUADUA",  # glued on both sides
    "IBFT {ref} {ref}",  # twice
    "{ref}-Ma GD ACSP/ xy123456",
    "KEP - {body} FT26152123456789",
    "{lower}\n",
    "KEP NS PC 6R Z",  # spaces between any characters
])
def test_find_reference_in_bank_contents(content):
    reference = reference_for(123)
    body = reference[3:]
    text = content.format(ref=reference, lower=reference.lower(), body=body,
                          spaced=f"kep {body[:4].lower()} {body[4:].lower()}")
    assert find_reference(text) == 123


@pytest.mark.parametrize("content", [
    "",
    "NGUYEN VAN A chuyen tien",
    "KEP",
    "MBVCB.3278612345.KEPNSPC6R.thanh toan",  # a character missing, nothing glued after it
    "KEPNSPC6RA thanh toan",  # the check character mistyped
    "KEPNSCP6RZ thanh toan",  # two characters swapped
    "KEPNSPO6RZ",  # an O for a C: no reference has one
    "KEP....NSPC6RZ",  # too many separators
    "KEPNSPC6RZ KEP9H4DJHE",  # two different orders: ambiguous
])
def test_find_reference_finds_nothing(content):
    assert find_reference(content) is None


def test_a_kep_before_the_reference_can_look_like_one_and_both_are_reported():
    # "Dua Kep KEP4XEUKJ6": the first KEP reads "KEP4XEU", which passes the check for order 452,348,305.
    # The pure reading cannot tell them apart; record_bank_transfer keeps the one that is an order.
    found = find_references("Cho Dua Kep " + reference_for(27))
    assert [entry.order_id for entry in found] == [452_348_305, 27]
    assert find_reference("Cho Dua Kep " + reference_for(27)) is None
    assert find_reference("Cho Dua Kep " + reference_for(123)) == 123


def test_the_legacy_form_is_only_a_fallback():
    # Unchecked, it counts only when the content has no reference of the new form.
    assert find_reference("KEPNSPC6RZ KEP00000042") == 123
    assert find_reference("KEP00000042 KEPNSPC6RA") == 42  # the new one is mistyped: nothing of the new form
    assert [found.legacy for found in find_references("KEPNSPC6RZ KEP00000042")] == [False, True]


def test_the_same_order_named_both_ways_is_one_order():
    assert find_reference(f"{reference_for(42)} KEP00000042") == 42
    assert [found.reference for found in find_references(f"{reference_for(42)} KEP00000042")] == ["KEP9H4DJHE"]


def test_mistyped_references_are_told_apart_from_no_reference():
    assert has_mistyped_reference("KEPNSPC6RA")
    assert has_mistyped_reference("chuyen tien kep nspo 6rz")
    assert not has_mistyped_reference("KEPNSPC6RZ")
    assert not has_mistyped_reference("KEP00000123")
    assert not has_mistyped_reference("12345") and not has_mistyped_reference("KEP NSPC")


# --- Legacy references: KEP + the id in 8 digits, read as before -----------------------------------------

def test_legacy_reference():
    assert legacy_reference(123) == "KEP00000123"
    assert legacy_reference(1) == "KEP00000001"
    assert legacy_reference(99_999_999) == "KEP99999999"
    # Fits the QR's reference field.
    build_payload("970436", "0011001234567", 1000, legacy_reference(123))


@pytest.mark.parametrize("number", [0, -5, 100_000_000, True, 1.0, "123"])
def test_legacy_reference_rejects_bad_numbers(number):
    with pytest.raises(ValueError):
        legacy_reference(number)


@pytest.mark.parametrize(
    "text",
    [
        "KEP00000123",
        "kep00000123",
        "Kep 00000123",
        "KEP-00000123",
        "KEP - 00000123",
        "KEP_00000123",
        "MBVCB.3278614422.KEP 00000123.CT tu 0011001234567 NGUYEN VAN A toi 190",
        "NGUYEN VAN A chuyen tien KEP00000123 FT24123456789",
        "THANHTOANKEP00000123",  # bank stripped the spaces
        "KEP00000123-Ma GD ACSP/ xy123456",
        "IBFT KEP00000123 KEP00000123",  # same reference twice
        "kep00000123\n",
        "Kép 00000123",
    ],
)
def test_find_legacy_reference(text):
    assert find_reference(text) == 123
    assert [found.reference for found in find_references(text)] == ["KEP00000123"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "NGUYEN VAN A chuyen tien",
        "KEP",
        "KEP 1234567",  # 7 digits
        "KEP123456789",  # 9 digits: not exactly 8
        "KEP 0000012 3",  # digits split
        "KEPT 00000123",  # letter in between
        "KE P00000123",
        "KEP....00000123",  # too many separators
        "KEP 000001２3",  # full-width digit
        "REF 00000123",
        "00000123",
        "KEP00000123 KEP00000456",  # two different references: ambiguous
    ],
)
def test_find_legacy_reference_no_match(text):
    assert find_reference(text) is None


def test_find_reference_round_trips_the_legacy_form():
    ref = legacy_reference(4567)
    assert find_reference(f"MBVCB.1.{ref.lower()}.CT tu 123") == 4567
