"""Vietnamese-aware text helpers: diacritic folding for search, and slugs."""
from __future__ import annotations

import re
import unicodedata

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def unaccent(text: str) -> str:
    """Without diacritics, "đ" as "d", case kept: "Dứa Queen KÉP" -> "Dua Queen KEP"."""
    text = (text or "").replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn"))


def fold(text: str) -> str:
    """Lower-case, without diacritics, "đ" as "d": "Dứa Queen KÉP" -> "dua queen kep"."""
    return " ".join(unaccent(text).lower().split())


def slugify(text: str, max_length: int = 120) -> str:
    """A URL slug from a Vietnamese name: "Dứa Queen Kép" -> "dua-queen-kep"."""
    slug = _NON_SLUG.sub("-", fold(text)).strip("-")
    return slug[:max_length].rstrip("-") or "item"
