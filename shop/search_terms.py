"""Search as people say it: the words that mean the same thing, and which products a search is about.

``SYNONYMS`` is the one table of words that find the same products: in the south a pineapple is "thơm" or
"khóm", in the north "dứa" (and English visitors type "pineapple"). Words are compared folded (core.text.fold:
lower case, no diacritics, "đ" as "d"), as the search always was, so "thom", "Thơm" and "THƠM" are one word.
A search word that is in a group matches any word of its group; every group (or single word) of the search must
still appear somewhere in the product's text (shop/catalogue.py).

Relevance (for the default order of a search): a word found in the product's own name counts most, then in its
own description, and a word found only in the farm's name or village counts nothing. So "mứt" lists the jams
before the fresh pineapples of a farm called "Mứt dứa Thu Lý", and newest first among equals.
"""
from __future__ import annotations

from sqlalchemy import case, func, literal, or_

from accounts.farms import Farm
from core.text import fold
from shop.models import Product

# Each line: words that mean the same product. Written as people write them; folded when the module loads.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("dứa", "thơm", "khóm", "pineapple"),
)

_GROUP_OF: dict[str, tuple[str, ...]] = {}
for _line in SYNONYMS:
    _group = tuple(dict.fromkeys(fold(word) for word in _line))
    for _word in _group:
        _GROUP_OF[_word] = _group

NAME_WEIGHT, OWN_TEXT_WEIGHT = 2, 1


def groups(words: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The search's folded words as groups of alternatives, each group once ("dứa thơm" is one group)."""
    return tuple(dict.fromkeys(_GROUP_OF.get(word, (word,)) for word in words))


def like_pattern(word: str) -> str:
    """``%word%`` with LIKE's wildcards in ``word`` matched literally (escape character ``\\``)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches(column, group: tuple[str, ...]):
    """SQL: ``column`` contains a word of ``group``."""
    return or_(*(column.like(like_pattern(word), escape="\\") for word in group))


def relevance(word_groups: tuple[tuple[str, ...], ...]):
    """SQL: how much a product is about the search. Per group, NAME_WEIGHT when a word of it is in the product's
    name, else OWN_TEXT_WEIGHT when in the rest of its own text (description, English texts), else 0 (found only
    in the farm's name or village).

    ``search_text`` is fold(name, description, English name and description, farm name, village) in that order
    (shop/services.py), so its first ``length(name)`` characters are the name and its last ``length(farm name) +
    length(village) + 1`` the farm's. Folding keeps the length of text typed in NFC, as forms send it; where it
    does not (or the farm was renamed since), only the order of the list shifts a little, never what it finds."""
    text = Product.search_text
    name_part = func.substr(text, 1, func.length(Product.name))
    own_length = func.length(text) - func.length(Farm.name) - func.length(Farm.village) - 1
    own_part = func.substr(text, 1, case((own_length > 0, own_length), else_=0))  # PostgreSQL refuses a length < 0
    terms = [case((matches(name_part, group), NAME_WEIGHT), (matches(own_part, group), OWN_TEXT_WEIGHT), else_=0)
             for group in word_groups]
    return sum(terms[1:], terms[0]) if terms else literal(0)
