"""Which passwords are refused: the most common ones, and one's own e-mail, phone or name.

The list is ``accounts/data/common-passwords.txt`` (where it comes from is written at its top), read once.
Comparison ignores case and the spaces around the password. Used by the register, password-change and
password-reset forms, so the rule is the same wherever a password is chosen.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

LIST = Path(__file__).parent / "data" / "common-passwords.txt"

TOO_COMMON = _l("This password is one of the most used ones, so it is guessed first. Choose another: for "
                "example three or four words you will remember.")
TOO_PERSONAL = _l("The password must not be your email, phone number or name. Choose another.")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with LIST.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _plain(text: str) -> str:
    """Lower case, NFC, surrounding spaces dropped."""
    return unicodedata.normalize("NFC", (text or "").strip().lower())


def _personal_forms(email: str | None, phone: str | None, name: str | None) -> set[str]:
    forms: set[str] = set()
    email = _plain(email or "")
    if email:
        forms.update({email, email.partition("@")[0]})
    digits = re.sub(r"\D", "", phone or "")
    if digits:
        forms.update({digits, "0" + digits[2:] if digits.startswith("84") else digits, "+" + digits})
    name = _plain(name or "")
    if name:
        forms.update({name, re.sub(r"\s+", "", name)})
    return {form for form in forms if form}


def problem(password: str, *, email: str | None = None, phone: str | None = None,
            name: str | None = None):
    """The message saying why ``password`` is refused, or None when it may be used."""
    plain = _plain(password)
    if plain in common_passwords():
        return TOO_COMMON
    squeezed = re.sub(r"\s+", "", plain)
    personal = _personal_forms(email, phone, name)
    if plain in personal or squeezed in personal:
        return TOO_PERSONAL
    return None
