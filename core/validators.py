"""Validators shared by several forms."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

_PHONE_PREFIXES = ("03", "05", "07", "08", "09")
_ASCII_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() also takes "²" and "٣"


def normalize_vn_mobile(raw: str) -> str | None:
    """A Vietnamese mobile number as ``0xxxxxxxxx`` (10 digits), or None if it is not one.

    Accepts spaces, dots and dashes, and the +84 / 84 country prefix.
    """
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 10 and _ASCII_DIGITS.fullmatch(digits) and digits.startswith(_PHONE_PREFIXES):
        return digits
    return None


class VietnameseMobile:
    """WTForms validator that also normalizes the field's data."""

    def __call__(self, form, field):
        normalized = normalize_vn_mobile(field.data or "")
        if normalized is None:
            raise ValidationError(_l("Enter a Vietnamese mobile number, for example 0912 345 678."))
        field.data = normalized


def normalize_any_mobile(raw: str) -> str | None:
    """A Vietnamese mobile (``0xxxxxxxxx``) or, for visitors from abroad, ``+`` and 8 to 15 digits."""
    vietnamese = normalize_vn_mobile(raw)
    if vietnamese is not None:
        return vietnamese
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+") and _ASCII_DIGITS.fullmatch(digits[1:]) and 8 <= len(digits) - 1 <= 15 \
            and digits[1] != "0":
        return digits
    return None


class MobileNumber:
    """A Vietnamese mobile number, or an international one with its country code (tourists)."""

    def __call__(self, form, field):
        normalized = normalize_any_mobile(field.data or "")
        if normalized is None:
            raise ValidationError(_l("Enter a mobile number, for example 0912 345 678, or with the country code "
                                     "if it is not Vietnamese, for example +44 7700 900123."))
        field.data = normalized
