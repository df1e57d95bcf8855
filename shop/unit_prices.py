"""The price per kg of a product, so that a buyer can compare a bag, a jar, a box and a kilo.

Products have a unit (shop/models.UNITS) but no net weight column. A product sold by the kg is its price. A
box, bag or jar has a weight when the farmer wrote it with the container, as people do: "thùng 10 kg", "túi
200 g", "hũ 300 g", or in English "200 g bag" — in the product's name first, else its description. Nothing
else is guessed: a fruit ("quả từ 1,2 kg trở lên" is a least, not a weight), a bottle (millilitres) or a plant
has no price per kg, and neither has a box whose weight is not written.

(The shipping weight that farms set for parcel fees is a packed weight with a default, not the net weight a
price per kg needs, so it is not used here.)

>>> weight_g("box", "Dứa Queen thùng 10 kg", "")
10000
>>> weight_g("bag", "Dứa sấy dẻo", "Không đường, túi 200 g.")
200
>>> weight_g("jar", "Pineapple jam", "Cooked by hand, 1,5 kg jar.")
1500
>>> weight_g("fruit", "Dứa Queen loại 1", "Quả từ 1,2 kg trở lên.") is None
True
>>> weight_g("bag", "Dứa sấy túi 1.000 g", ""), weight_g("box", "Thùng dứa", "Hộp 2.5kg")
(1000, 2500)
>>> per_kg(65000, 200)
325000
"""
from __future__ import annotations

import re

from core.text import fold

# The container words (folded) that name each unit, in Vietnamese and English.
CONTAINERS = {
    "box": ("thung", "hop", "khay", "box", "carton", "crate"),
    "bag": ("tui", "goi", "bao", "bag", "pack", "packet"),
    "jar": ("hu", "jar"),
}
MIN_G, MAX_G = 10, 100_000
_NUMBER = r"(\d{1,6}(?:[.,]\d{1,3})?)\s?(kg|kilo|g|gr|gram|gam)\b"


def _patterns(unit: str) -> tuple[re.Pattern, re.Pattern] | None:
    words = CONTAINERS.get(unit)
    if not words:
        return None
    names = "|".join(words)
    return (re.compile(rf"\b(?:{names})\s+(?:loai\s+)?{_NUMBER}"),      # "thùng 10 kg", "túi loại 500 g"
            re.compile(rf"\b{_NUMBER}\s+(?:{names})\b"))                  # "200 g bag"


_PATTERNS = {unit: _patterns(unit) for unit in CONTAINERS}


def _grams(number: str, unit: str) -> int | None:
    """Vietnamese writes "1,5 kg" and "1.000 g": a dot before three digits separates thousands, a comma is the
    decimal mark (and a dot before one or two digits too, as in English "1.5 kg")."""
    if re.fullmatch(r"\d{1,3}\.\d{3}", number):
        number = number.replace(".", "")
    value = float(number.replace(",", "."))
    grams = round(value * 1000) if unit.startswith("k") else round(value)
    return grams if MIN_G <= grams <= MAX_G else None


def weight_g(unit: str, name: str, description: str) -> int | None:
    """The net weight of one ``unit`` in grams, when the product says it (1000 for "kg"); else None."""
    if unit == "kg":
        return 1000
    patterns = _PATTERNS.get(unit)
    if patterns is None:
        return None
    for text in (fold(name), fold(description)):
        for pattern in patterns:
            found = pattern.search(text)
            if found:
                return _grams(found.group(1), found.group(2))
    return None


def per_kg(price_vnd: int, grams: int) -> int:
    """Whole dong per kg, rounded half up (integer arithmetic: money is never a float here)."""
    return (price_vnd * 2000 + grams) // (2 * grams)


def price_per_kg(product) -> int | None:
    """The product's price per kg, or None when its unit's weight is not known."""
    grams = weight_g(product.unit, product.name or "", product.description or "")
    return per_kg(product.price_vnd, grams) if grams else None
