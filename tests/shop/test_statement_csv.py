"""Reading bank statement exports: the layouts, the encodings, the ways amounts and dates are written, and files
that are refused with a clear reason."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

from shop.payments.statement_csv import StatementError, parse_statement, read_amount

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statements"
VOWEL_MARKS = {"\u0302", "\u0306", "\u031b"}


def fixture(name: str, **values) -> str:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in {"day": "02/12/2026", "iso": "2026-12-02", "ref": "KEPNSPC6RZ", **values}.items():
        text = text.replace("{" + key + "}", value)
    return text


def to_cp1258(text: str) -> bytes:
    """Text as Windows-1258 writes it: the vowels â ê ô ă ơ ư precomposed, the tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in VOWEL_MARKS))
        out.append(head.encode("cp1258") + "".join(m for m in marks if m not in VOWEL_MARKS).encode("cp1258"))
    return b"".join(out)


def test_vietcombank_with_bom_its_title_lines_and_totals():
    statement = parse_statement(fixture("vietcombank.csv").encode("utf-8-sig"))
    assert statement.layout == "vcb" and statement.debits == 1
    [credit] = statement.credits
    assert (credit.booked_on, credit.booked_at, credit.amount_vnd, credit.reference) == (
        date(2026, 12, 2), None, 150000, "5243.65937")
    assert credit.content == "MBVCB.123.KEPNSPC6RZ thanh toan"


def test_mb_bank_in_windows_1258_with_semicolons_and_dotted_thousands():
    statement = parse_statement(to_cp1258(fixture("mbbank.csv")))
    assert statement.layout == "mb" and statement.debits == 1
    [credit] = statement.credits
    assert credit.amount_vnd == 1234567 and credit.reference == "FT26336001"
    assert credit.booked_at == datetime(2026, 12, 2, 2, 15), "09:15 in Vietnam is 02:15 UTC"
    assert credit.content == "KEPNSPC6RZ chuyển tiền mua dứa", "read back as NFC text"


def test_the_sepay_transaction_list():
    statement = parse_statement(fixture("sepay.csv").encode())
    [credit] = statement.credits
    assert (statement.layout, credit.amount_vnd, credit.reference) == ("sepay", 2277000, "MBVCB.3278907687")


def test_the_generic_layout_with_a_signed_amount_and_utf16():
    text = "date\tamount\tcontent\treference\n01-12-2026\t-50000\tout\t\n01-12-2026\t\"1,234,567.00\"\tKEP X\tR1\n"
    statement = parse_statement(text.encode("utf-16"))
    assert statement.layout == "generic" and statement.debits == 1
    assert [(c.amount_vnd, c.reference) for c in statement.credits] == [(1234567, "R1")]


@pytest.mark.parametrize("written, amount", [
    ("1.234.567", 1234567), ("1,234,567", 1234567), ("1 234 567 đ", 1234567), ("1234567", 1234567),
    ("1,234,567.00", 1234567), ("1.234.567,00", 1234567), ("150,000 VND", 150000), ("-500.000", -500000),
    ("(20,000)", -20000), ("", None), ("0", 0),
])
def test_amounts_as_banks_write_them(written, amount):
    assert read_amount(written) == amount


@pytest.mark.parametrize("written", ["12.5", "1.234,5", "1,2345", "1.234,567.00", "abc", "10.000.000.000.000"])
def test_amounts_that_are_not_whole_dong_are_not_guessed(written):
    with pytest.raises(ValueError):
        read_amount(written)


@pytest.mark.parametrize("raw, message", [
    (b"", "empty"),
    (b"hello,world\n1,2\n", "No header row"),
    (b"date,amount\n32/13/2026,5\n", "Line 2: the date"),
    (b"date,amount\n01/12/2026,12.5\n", "Line 2: the amount"),
    (b"PK\x03\x04rest-of-an-xlsx", "Excel file"),
    (b"date,amount\n", "No transaction"),
])
def test_a_bad_file_says_why(raw, message):
    with pytest.raises(StatementError) as refused:
        parse_statement(raw)
    assert message in str(refused.value)
