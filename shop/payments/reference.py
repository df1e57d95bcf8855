"""Order payment references: the one place they are made and read.

A buyer pays an order by bank transfer and types (or the VietQR code fills in) the order's reference in the
transfer content; the bank notification brings the content back and the reference in it says which order
is paid. A slip of one character must then match nothing, never a stranger's order.

The form: ``KEP`` + 6 body characters + 1 check character, for example ``KEPNSPC6RZ`` (order 123).

- Alphabet (31 characters): ``23456789ABCDEFGHJKMNPQRSTUVWXYZ``, the digits and the capital letters without
  the look-alikes 0/O, 1/I/L. Its size, 31, is a prime; the check below relies on that.
- Body: the order id scrambled within the 31^6 = 887,503,681 body values by a fixed bijection, the affine map
  ``(A * id + B) mod 31^6``, written in base 31 (most significant first). Its multiplier A has every base-31
  digit between 1 and 29, so adding A changes every digit (by A's digit, or one more when a carry comes in,
  never by 0 or 31): the bodies of two consecutive orders differ in all 6 characters. The ids that exist are
  a sliver of the space, so a reference garbled beyond what the check catches almost always decodes to an
  id no order has. The map is fixed, not keyed: references never change with the configuration.
- Capacity: order ids 1 to 887,503,680 (31^6 - 1; the body of id 0 is never an order). ``reference_for``
  refuses a larger id with a ValueError rather than wrap round onto another order's reference.
- Check character: a weighted sum modulo the prime 31, as ISBN-10 does modulo 11. With the characters'
  values v1..v7 (their positions in the alphabet; v7 is the check), ``1*v1 + 2*v2 + ... + 7*v7 ≡ 0 (mod 31)``.
  Changing the character at position i changes the sum by i*d, where i is 1 to 7 and d, the change of value,
  is -30 to 30 and not 0: the prime 31 divides neither, so not their product, and every single substitution
  is caught. Swapping the characters at positions i and j changes it by (i - j)(vj - vi), caught the same way
  whenever the two differ: every adjacent transposition (and every other swap of two characters) is caught.
  An added or dropped character, when more letters follow, passes the check once in 31 times, and then almost
  always names no order (above).

Legacy references: before these, a reference was ``KEP`` + the order id in 8 digits (``KEP00000042``). The
buyers of orders placed before the change may still type one, so it is still read. It has no check digit: a
slip in one (KEP00000043 for KEP00000042) pays another order. So it is only a fallback, counted when a
content has no valid reference of the new form (``preferred``; record_bank_transfer: none naming an order),
and never shown: every order, old ones too, shows the new form.

Reading a transfer's content (``find_references``): the text is made upper case and its diacritics removed
("Kép" is KEP, "đ" is D); ``KEP`` may be glued to the word before it, up to 3 spaces, dots, dashes or
underscores may follow it, and up to 2 of them may sit between any two characters of the reference
(``kep nspc 6rz``); the reference may be glued to the words after it. A candidate whose check fails is
ignored. The legacy form is matched as it always was: ``KEP``, up to 3 separators, exactly 8 digits.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PREFIX = "KEP"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)  # 31, a prime
BODY_LENGTH = 6
SPACE = BASE**BODY_LENGTH  # 887,503,681 bodies
MAX_ORDER_ID = SPACE - 1
LEGACY_DIGITS = 8

_MULTIPLIER = 245_389_554  # base-31 digits (most significant first) 8, 17, 22, 1, 4, 2: all from 1 to 29
_OFFSET = 558_010_440
_INVERSE = pow(_MULTIPLIER, -1, SPACE)
_WEIGHT_INVERSE = pow(BODY_LENGTH + 1, -1, BASE)  # of the check character's weight, 7
_VALUE = {character: value for value, character in enumerate(ALPHABET)}

_SEPARATOR = r"[\s._\-]"
_CHARACTER = f"[{ALPHABET}]"
# What follows a "KEP": the 7 characters of a reference, separators allowed around and inside.
_NEW_RE = re.compile(rf"{PREFIX}{_SEPARATOR}{{0,3}}((?:{_CHARACTER}{_SEPARATOR}{{0,2}}){{{BODY_LENGTH}}}{_CHARACTER})")
# The same shape with any letters and digits: a reference typed with a mistake (or with an O for a Q).
_SHAPE_RE = re.compile(rf"{PREFIX}{_SEPARATOR}{{0,3}}((?:[A-Z0-9]{_SEPARATOR}{{0,2}}){{{BODY_LENGTH}}}[A-Z0-9])")
_LEGACY_RE = re.compile(rf"{PREFIX}{_SEPARATOR}{{0,3}}([0-9]{{{LEGACY_DIGITS}}})(?![0-9])")
_SEPARATORS_RE = re.compile(_SEPARATOR)


@dataclass(frozen=True)
class Found:
    """A reference read in a text: the order it names, and the reference as written for people."""
    order_id: int
    reference: str
    legacy: bool = False


def _check_character(body: str) -> str:
    total = sum(weight * _VALUE[character] for weight, character in enumerate(body, start=1))
    return ALPHABET[-total * _WEIGHT_INVERSE % BASE]


def _checks(code: str) -> bool:
    """True if the 7 characters ``code`` (body + check) satisfy the check."""
    return sum(weight * _VALUE[character] for weight, character in enumerate(code, start=1)) % BASE == 0


def reference_for(order_id: int) -> str:
    """The reference of an order: KEP + its scrambled id in 6 characters + the check character."""
    if type(order_id) is not int or not 1 <= order_id <= MAX_ORDER_ID:
        raise ValueError(f"an order reference exists for ids 1 to {MAX_ORDER_ID:,} only, not {order_id!r}: "
                         "beyond that, references need a longer body")
    value = (_MULTIPLIER * order_id + _OFFSET) % SPACE
    body = ""
    for _ in range(BODY_LENGTH):
        value, digit = divmod(value, BASE)
        body = ALPHABET[digit] + body
    return PREFIX + body + _check_character(body)


def legacy_reference(order_id: int) -> str:
    """An order's reference before the check character: KEP + its id in 8 digits. Read, never shown."""
    if type(order_id) is not int or not 1 <= order_id < 10**LEGACY_DIGITS:
        raise ValueError(f"a legacy reference exists for ids 1 to {10**LEGACY_DIGITS - 1:,} only, not {order_id!r}")
    return f"{PREFIX}{order_id:0{LEGACY_DIGITS}d}"


def _order_id(code: str) -> int | None:
    """The order id of 7 alphabet characters, or None if the check fails or the body names no id."""
    if not _checks(code):
        return None
    value = 0
    for character in code[:BODY_LENGTH]:
        value = value * BASE + _VALUE[character]
    order_id = (value - _OFFSET) * _INVERSE % SPACE
    return order_id or None


def _legacy_id(digits: str) -> Found | None:
    order_id = int(digits)
    return Found(order_id, legacy_reference(order_id), legacy=True) if order_id else None


def normalise(text: str) -> str:
    """Upper case, without diacritics ("Kép" -> "KEP", "đ" -> "D"). Only canonical decomposition: a
    full-width digit stays what it is, not an ASCII digit."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(character for character in decomposed if not unicodedata.combining(character)).upper()


def _starts(text: str) -> list[int]:
    """Every place a "KEP" starts, overlapping ones too ("KEPKEP...")."""
    return [match.start() for match in re.finditer(f"(?={PREFIX})", text)]


def find_references(content: str) -> list[Found]:
    """The valid references in a bank transfer's content, each order once, in the order they appear, the
    legacy ones too (see ``preferred``)."""
    text = normalise(content)
    found: dict[int, Found] = {}
    for start in _starts(text):
        match = _NEW_RE.match(text, start)
        if match and (order_id := _order_id(_SEPARATORS_RE.sub("", match.group(1)))):
            found.setdefault(order_id, Found(order_id, reference_for(order_id)))
        legacy = _LEGACY_RE.match(text, start)
        if legacy and (old := _legacy_id(legacy.group(1))):
            found.setdefault(old.order_id, old)
    return list(found.values())


def preferred(found: list[Found]) -> list[Found]:
    """The references to go by: those of the new form; the legacy ones, unchecked, only if there is none."""
    return [entry for entry in found if not entry.legacy] or found


def find_reference(content: str) -> int | None:
    """The order id of the one reference in a bank transfer's content (a legacy one only if there is no
    other); None if there is none, or if the content names two different orders (which one was paid is then
    for staff to find out)."""
    found = preferred(find_references(content))
    return found[0].order_id if len(found) == 1 else None


def parse_reference(text: str) -> int | None:
    """The order id of a reference given alone ("KEPNSPC6RZ", "kep nspc-6rz", or legacy "KEP00000123"),
    check verified; None for anything else, other words around it included."""
    compact = _SEPARATORS_RE.sub("", normalise(text))
    if not compact.startswith(PREFIX):
        return None
    rest = compact[len(PREFIX):]
    if len(rest) == BODY_LENGTH + 1 and all(character in _VALUE for character in rest):
        return _order_id(rest)
    if len(rest) == LEGACY_DIGITS and rest.isascii() and rest.isdigit():
        return int(rest) or None
    return None


def has_mistyped_reference(content: str) -> bool:
    """True if the content has KEP + 7 letters or digits that are not a valid reference: a reference with a
    typing mistake (the check fails, or it has a character the alphabet leaves out, such as O or 1)."""
    text = normalise(content)
    for start in _starts(text):
        match = _SHAPE_RE.match(text, start)
        if match and parse_reference(match.group(0)) is None and not _LEGACY_RE.match(text, start):
            return True
    return False
