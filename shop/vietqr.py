"""NAPAS VietQR payloads (EMVCo merchant-presented QR) for bank transfers.

Every field is ``ID`` (2 digits) + ``length`` (2 digits, characters in the
value) + ``value``. A payload built here has, in this order::

    00 "01"                       payload format indicator
    01 "12" | "11"                dynamic (with amount) | static (no amount)
    38 merchant account info      nested: 00 "A000000727" (NAPAS GUID),
                                          01 beneficiary, nested:
                                             00 bank BIN (6 digits),
                                             01 account number,
                                          02 "QRIBFTTA" (transfer to account)
    53 "704"                      currency, VND
    54 amount                     whole dong, digits only (omitted if none)
    58 "VN"                       country
    62 additional data            nested: 08 purpose / payment reference
                                  (omitted if none)
    63 CRC                        CRC-16/CCITT-FALSE over everything before
                                  it, including the literal "6304"; 4
                                  upper-case hex digits

The payment reference in field 62/08 is the order's (``KEPNSPC6RZ``), made and
read by shop/payments/reference.py; here it is any 1-25 ASCII letters, digits
or spaces.
"""

from __future__ import annotations

import re
from typing import Union

NAPAS_GUID = "A000000727"
SERVICE_TRANSFER_TO_ACCOUNT = "QRIBFTTA"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"

#: A parsed payload: field ID -> value, or a nested dict for template fields.
Fields = dict[str, Union[str, "Fields"]]

_BIN_RE = re.compile(r"[0-9]{6}")
_ACCOUNT_RE = re.compile(r"[A-Za-z0-9]{1,19}")
_REFERENCE_RE = re.compile(r"[A-Za-z0-9 ]{1,25}")
_HEX4_RE = re.compile(r"[0-9A-Fa-f]{4}")

# Template fields whose value is itself TLV, with their own nested templates.
_TEMPLATES: dict[str, dict] = {"38": {"01": {}}, "62": {}}


class VietQRError(ValueError):
    """Invalid VietQR input or payload."""


# --- CRC ---------------------------------------------------------------------


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0)
    of the UTF-8 bytes of ``data``, as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return f"{crc:04X}"


# --- Validation ----------------------------------------------------------------


def validate_bank_bin(bank_bin: str) -> str:
    if not isinstance(bank_bin, str) or not _BIN_RE.fullmatch(bank_bin):
        raise VietQRError(f"bank BIN must be exactly 6 ASCII digits, got {bank_bin!r}")
    return bank_bin


def validate_account_number(account_number: str) -> str:
    if not isinstance(account_number, str) or not _ACCOUNT_RE.fullmatch(account_number):
        raise VietQRError(
            f"account number must be 1-19 ASCII letters/digits, got {account_number!r}"
        )
    return account_number


def validate_amount(amount_vnd: int) -> int:
    # bool is a subclass of int: reject it explicitly.
    if type(amount_vnd) is not int:
        raise VietQRError(
            f"amount must be an int of whole dong, got {type(amount_vnd).__name__}"
        )
    if not 0 < amount_vnd < 10**13:
        raise VietQRError(f"amount must be between 1 and 13 digits, got {amount_vnd}")
    return amount_vnd


def validate_reference(reference: str) -> str:
    if not isinstance(reference, str) or not _REFERENCE_RE.fullmatch(reference):
        raise VietQRError(
            "reference must be 1-25 ASCII letters, digits or spaces, "
            f"got {reference!r}"
        )
    return reference


# --- Building -------------------------------------------------------------------


def _tlv(field_id: str, value: str) -> str:
    if len(value) > 99:
        raise VietQRError(f"field {field_id} is longer than 99 characters")
    return f"{field_id}{len(value):02d}{value}"


def build_payload(
    bank_bin: str,
    account_number: str,
    amount_vnd: int | None,
    reference: str | None,
) -> str:
    """VietQR transfer-to-account payload; static ("11") when ``amount_vnd``
    is None, dynamic ("12") otherwise. ``reference`` None omits field 62."""
    beneficiary = _tlv("00", validate_bank_bin(bank_bin)) + _tlv(
        "01", validate_account_number(account_number)
    )
    merchant = (
        _tlv("00", NAPAS_GUID)
        + _tlv("01", beneficiary)
        + _tlv("02", SERVICE_TRANSFER_TO_ACCOUNT)
    )
    parts = [
        _tlv("00", "01"),
        _tlv("01", "11" if amount_vnd is None else "12"),
        _tlv("38", merchant),
        _tlv("53", CURRENCY_VND),
    ]
    if amount_vnd is not None:
        parts.append(_tlv("54", str(validate_amount(amount_vnd))))
    parts.append(_tlv("58", COUNTRY_VN))
    if reference is not None:
        parts.append(_tlv("62", _tlv("08", validate_reference(reference))))
    body = "".join(parts) + "6304"
    return body + crc16_ccitt_false(body)


# --- Parsing --------------------------------------------------------------------


def _parse_tlv(data: str, templates: dict[str, dict], where: str) -> Fields:
    fields: Fields = {}
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 4]
        if len(header) < 4 or not header.isascii() or not header.isdigit():
            raise VietQRError(f"{where}: bad field header {header!r} at offset {pos}")
        field_id, length = header[:2], int(header[2:])
        value = data[pos + 4 : pos + 4 + length]
        if length == 0:
            raise VietQRError(f"{where}: field {field_id} has length 00")
        if len(value) != length:
            raise VietQRError(
                f"{where}: field {field_id} declares length {length}, "
                f"{len(value)} characters available"
            )
        if field_id in fields:
            raise VietQRError(f"{where}: duplicate field {field_id}")
        if field_id in templates:
            fields[field_id] = _parse_tlv(
                value, templates[field_id], f"{where}/{field_id}"
            )
        else:
            fields[field_id] = value
        pos += 4 + length
    return fields


def parse_payload(payload: str) -> Fields:
    """Parse and CRC-check a payload into a nested dict of fields (templates
    38, 38/01 and 62 become dicts); the CRC's hex digits may be in either
    case. Raises VietQRError if the payload is malformed."""
    if not isinstance(payload, str):
        raise VietQRError(f"payload must be a str, got {type(payload).__name__}")
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("payload must end with the CRC field 63 (6304XXXX)")
    fields = _parse_tlv(payload, _TEMPLATES, "payload")
    # Field 63 parsed from the tail must be the last one and the only CRC.
    if list(fields)[-1] != "63" or not _HEX4_RE.fullmatch(str(fields["63"])):
        raise VietQRError("payload must end with the CRC field 63 (6304XXXX)")
    if fields.get("00") != "01" or next(iter(fields)) != "00":
        raise VietQRError("payload must start with format indicator 000201")
    expected = crc16_ccitt_false(payload[:-4])
    if payload[-4:].upper() != expected:
        raise VietQRError(
            f"CRC mismatch: payload has {payload[-4:]}, computed {expected}"
        )
    return fields
