import pytest

from shop.payments.reference import reference_for
from shop.vietqr import (
    VietQRError,
    build_payload,
    crc16_ccitt_false,
    parse_payload,
)

# Published payloads from open-source VietQR libraries (CRCs verified below):
# - github.com/subiz/vietqr, README.md: Generate(120000, "970415",
#   "0011001932418", "ủng hộ lũ lụt") (content is de-accented by that library)
SUBIZ_README = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
    "530370454061200005802VN62170813ung ho lu lut6304C15C"
)
# - github.com/sunary/vietqr, vietqr_test.go: validQRCodeWithAmount (ACB
#   970416, account 13579, 120000), validQRCodeBasic (CAKE 546034, static),
#   validQRCodeWithMessage (Techcombank 970407, static, content with "/").
SUNARY_WITH_AMOUNT = (
    "00020101021238490010A000000727011900069704160105135790208QRIBFTTA"
    "530370454061200005802VN63049A71"
)
SUNARY_BASIC = (
    "00020101021138540010A00000072701240006546034011009055559990208QRIBFTTA"
    "53037045802VN6304B2A0"
)
SUNARY_WITH_MESSAGE = (
    "00020101021138510010A00000072701210006970407010797968680208QRIBFTTA"
    "53037045802VN62240820gen by sunary/vietqr6304BE74"
)


# --- CRC -------------------------------------------------------------------


def test_crc_check_value():
    assert crc16_ccitt_false("123456789") == "29B1"


def test_crc_is_zero_padded_upper_hex():
    assert crc16_ccitt_false("") == "FFFF"
    crc = crc16_ccitt_false("6304")
    assert len(crc) == 4 and crc == crc.upper()


@pytest.mark.parametrize(
    "payload", [SUBIZ_README, SUNARY_WITH_AMOUNT, SUNARY_BASIC, SUNARY_WITH_MESSAGE]
)
def test_published_examples_crc(payload):
    assert crc16_ccitt_false(payload[:-4]) == payload[-4:]


# --- Published examples: we build the same bytes and parse them ----------------


@pytest.mark.parametrize(
    "args, expected",
    [
        (("970415", "0011001932418", 120000, "ung ho lu lut"), SUBIZ_README),
        (("970416", "13579", 120000, None), SUNARY_WITH_AMOUNT),
        (("546034", "0905555999", None, None), SUNARY_BASIC),
    ],
)
def test_build_matches_published_examples(args, expected):
    assert build_payload(*args) == expected


def test_parse_published_example():
    assert parse_payload(SUBIZ_README) == {
        "00": "01",
        "01": "12",
        "38": {
            "00": "A000000727",
            "01": {"00": "970415", "01": "0011001932418"},
            "02": "QRIBFTTA",
        },
        "53": "704",
        "54": "120000",
        "58": "VN",
        "62": {"08": "ung ho lu lut"},
        "63": "C15C",
    }


def test_parse_published_static_example_with_punctuation():
    fields = parse_payload(SUNARY_WITH_MESSAGE)
    assert fields["01"] == "11"
    assert "54" not in fields
    assert fields["38"]["01"] == {"00": "970407", "01": "9796868"}
    assert fields["62"] == {"08": "gen by sunary/vietqr"}


# --- Round trips ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bank_bin, account, amount, reference",
    [
        ("970436", "0011001234567", 250000, "KEP00000123"),
        ("970436", "0011001234567", 250000, reference_for(123)),
        ("970436", "0011001234567", 250000, reference_for(887_503_680)),
        ("970422", "1", 1, "A"),
        ("970418", "A1B2C3D4E5F6G7H8I9J", 9_999_999_999_999, "x" * 25),
        ("970405", "1111111111", None, "Thanh toan don hang 42"),
        ("970407", "9796868", 1_500_000, None),
        ("970403", "2222222222", None, None),
    ],
)
def test_round_trip(bank_bin, account, amount, reference):
    payload = build_payload(bank_bin, account, amount, reference)
    fields = parse_payload(payload)
    assert fields["00"] == "01"
    assert fields["01"] == ("11" if amount is None else "12")
    assert fields["38"] == {
        "00": "A000000727",
        "01": {"00": bank_bin, "01": account},
        "02": "QRIBFTTA",
    }
    assert fields["53"] == "704"
    assert fields["58"] == "VN"
    assert fields.get("54") == (None if amount is None else str(amount))
    assert fields.get("62") == (None if reference is None else {"08": reference})
    assert fields["63"] == payload[-4:] == crc16_ccitt_false(payload[:-4])
    assert list(fields) == [
        k for k in ["00", "01", "38", "53", "54", "58", "62", "63"] if k in fields
    ]


def test_parse_accepts_lower_case_crc():
    payload = build_payload("970436", "0011001234567", 250000, "KEP00000123")
    crc = payload[-4:]
    assert crc.lower() != crc, "the CRC has hex letters (or this test would not try lower case)"
    fields = parse_payload(payload[:-4] + crc.lower())
    assert fields == {**parse_payload(payload), "63": crc.lower()}


# --- Parse rejects bad payloads ---------------------------------------------------

GOOD = build_payload("970436", "0011001234567", 250000, "KEP00000123")


def test_parse_rejects_changed_amount_with_old_crc():
    tampered = GOOD.replace("5406250000", "5406950000")
    assert tampered != GOOD
    with pytest.raises(VietQRError, match="CRC mismatch"):
        parse_payload(tampered)


def test_parse_rejects_changed_account_with_old_crc():
    with pytest.raises(VietQRError, match="CRC mismatch"):
        parse_payload(GOOD.replace("0011001234567", "0011001234568"))


def test_parse_rejects_wrong_crc():
    bad_crc = "0000" if GOOD[-4:] != "0000" else "1111"
    with pytest.raises(VietQRError, match="CRC mismatch"):
        parse_payload(GOOD[:-4] + bad_crc)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "6304",
        GOOD[:-1],  # truncated CRC
        GOOD[:-4],  # CRC value missing
        GOOD[:-8],  # whole CRC field missing
        GOOD[:40],  # cut in the middle of field 38
        GOOD[4:],  # format indicator missing
        GOOD + "00",  # trailing garbage
        "not a qr code",
    ],
)
def test_parse_rejects_truncated_or_garbage(payload):
    with pytest.raises(VietQRError):
        parse_payload(payload)


def _with_crc(body: str) -> str:
    body += "6304"
    return body + crc16_ccitt_false(body)


@pytest.mark.parametrize(
    "body",
    [
        # length says 03, value "01" then "0102..." misaligns everything
        "000301010212" "5303704" "5802VN",
        # 38 declares 58 characters but holds 57
        "000201010212"
        "38580010A00000072701270006970415011300110019324180208QRIBFTTA"
        "5303704",
        # nested beneficiary (38/01) length too long for its template
        "000201010212"
        "38570010A00000072701280006970415011300110019324180208QRIBFTTA"
        "5303704",
        # non-digit length
        "000201010212" "53O3704",
        # zero length field
        "000201010212" "5300" "5802VN",
        # duplicate field
        "000201010212" "5303704" "5303704",
        # format indicator not first
        "010212000201" "5303704",
        # wrong format indicator
        "000202010212" "5303704",
    ],
)
def test_parse_rejects_bad_lengths_and_structure(body):
    with pytest.raises(VietQRError):
        parse_payload(_with_crc(body))


def test_parse_rejects_non_string():
    with pytest.raises(VietQRError):
        parse_payload(GOOD.encode())  # type: ignore[arg-type]


# --- Build rejects bad input ------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [0, -1, -250000, 1.0, 250000.0, 2.5, True, False, "250000", 10**13],
)
def test_build_rejects_bad_amount(amount):
    with pytest.raises(VietQRError, match="amount"):
        build_payload("970436", "0011001234567", amount, None)


@pytest.mark.parametrize(
    "bank_bin", ["97043", "9704366", "97O436", "970 436", "", "٩٧٠٤٣٦", 970436]
)
def test_build_rejects_bad_bin(bank_bin):
    with pytest.raises(VietQRError, match="BIN"):
        build_payload(bank_bin, "0011001234567", 1000, None)


@pytest.mark.parametrize(
    "account", ["", "1" * 20, "0011-001234", "0011 001234", "tài khoản", None]
)
def test_build_rejects_bad_account(account):
    with pytest.raises(VietQRError, match="account number"):
        build_payload("970436", account, 1000, None)


@pytest.mark.parametrize(
    "reference",
    ["", "x" * 26, "Thanh toán", "KEP-00000123", "don hang #1", "a\tb", "a\nb", 123],
)
def test_build_rejects_bad_reference(reference):
    with pytest.raises(VietQRError, match="reference"):
        build_payload("970436", "0011001234567", 1000, reference)


def test_error_is_value_error():
    assert issubclass(VietQRError, ValueError)
