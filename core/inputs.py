"""The one place where what a request sends is normalised before any code (or the database) sees it.

* Text: every value and key of ``request.args`` and ``request.form`` (and so of every form) has NUL and the other
  C0 control characters (and DEL) removed, tab, newline and carriage return kept. PostgreSQL refuses a NUL in
  text, and no one types the others. URL path parts with such characters match no route (404).
* Numbers: ``parse_int`` takes ASCII digits only (``"²"``, ``"١"``, ``"1e9"``, ``" 1"`` and signs are not
  numbers here), at most ``MAX_DIGITS`` of them, within the bounds given; anything else is ``None``.
* Ids: one rule, ``1 .. MAX_ID`` (PostgreSQL's INTEGER). ``parse_id`` for query and form values, and the ``int``
  URL converter replaced by one bounded the same way, so ``/x/99999999999999999999`` is a 404 before any query.
* JSON (webhooks): ``load_json`` with a size and a nesting limit, strings cleaned as above; anything else raises
  ``BadJSON`` (never ``RecursionError``).
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import BaseConverter, ValidationError
from werkzeug.routing.converters import PathConverter, UnicodeConverter

MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; BIGINT ids stay within it too (one rule)
MAX_DIGITS = 18  # below 2**63: a number that passes parse_int fits any integer column
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]+")


def clean_text(value: str) -> str:
    """``value`` without NUL and the other control characters (tab, newline and carriage return stay)."""
    return _CONTROL.sub("", value)


def _clean(value):
    return clean_text(value) if isinstance(value, str) else value


def parse_int(text, *, low: int | None = None, high: int | None = None, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as a whole number if it is 1 to ``max_digits`` ASCII digits (surrounding spaces allowed) and
    within ``low .. high``; else None. Never raises, whatever ``text`` is.

    >>> parse_int("42", low=1, high=100), parse_int("²"), parse_int("1e9"), parse_int("-1"), parse_int("1" * 99)
    (42, None, None, None, None)
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        return None
    text = str(text).strip()
    if not 0 < len(text) <= max_digits or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        return None
    return value


def parse_id(text) -> int | None:
    """A row id from a query or form value: ``1 .. MAX_ID``, else None."""
    return parse_int(text, low=1, high=MAX_ID, max_digits=len(str(MAX_ID)))


def parse_page(text, *, high: int = 10_000) -> int:
    """``?page=``: a whole number from 1 to ``high``; anything else is page 1."""
    return parse_int(text, low=1, high=high, max_digits=len(str(high))) or 1


# -- requests -----------------------------------------------------------------------------------------------

def _pairs(mapping) -> list:
    if isinstance(mapping, MultiDict):
        items = mapping.items(multi=True)
    elif isinstance(mapping, dict):
        items = ((key, item) for key, value in mapping.items()
                 for item in (value if isinstance(value, (list, tuple)) else [value]))
    else:
        items = mapping
    return [(_clean(key), _clean(value)) for key, value in items]


class CleanMultiDict(ImmutableMultiDict):
    """``request.args`` / ``request.form``: the values (and keys) as sent, control characters removed."""

    def __init__(self, mapping=None):
        super().__init__(_pairs(mapping) if mapping is not None else None)


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict


class IdConverter(BaseConverter):
    """``<int:...>`` in a route: ASCII digits naming an id in ``1 .. MAX_ID``; anything else does not match."""
    regex = r"[0-9]+"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        ident = parse_id(value)
        if ident is None:
            raise ValidationError()
        return ident

    def to_url(self, value) -> str:
        return str(int(value))


class _NoControl:
    def to_python(self, value: str):
        if _CONTROL.search(value):
            raise ValidationError()
        return super().to_python(value)


class TextConverter(_NoControl, UnicodeConverter):
    """``<name>`` / ``<string:name>``: as Flask's, but a part with a control character matches nothing."""


class SafePathConverter(_NoControl, PathConverter):
    """``<path:name>``: as Flask's, but a path with a control character matches nothing."""


def init_app(app: Flask) -> None:
    """Before any blueprint is registered (a rule binds its converters when it is added)."""
    app.request_class = CleanRequest
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter,
                                  path=SafePathConverter)


# -- JSON ---------------------------------------------------------------------------------------------------

class BadJSON(ValueError):
    """The body is not JSON this app takes (not UTF-8, not JSON, too large or too deeply nested)."""


def load_json(raw: bytes, *, max_bytes: int = 256 * 1024, max_depth: int = 32) -> Any:
    """Parse a JSON body: at most ``max_bytes``, arrays and objects nested at most ``max_depth`` deep, every
    string (keys too) cleaned by ``clean_text``. Raises BadJSON, never anything else."""
    if len(raw) > max_bytes:
        raise BadJSON(f"body is larger than {max_bytes} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadJSON("body is not JSON") from None
    return _cleaned(data, max_depth)


def _cleaned(data, max_depth: int):
    """A copy of ``data`` with strings cleaned, built without recursion (depth is checked on the way)."""
    root = [data]
    stack = [(root, 0, data, 0)]  # (container, index or key, value, depth)
    while stack:
        container, slot, value, depth = stack.pop()
        if isinstance(value, str):
            container[slot] = clean_text(value)
        elif isinstance(value, (dict, list)):
            if depth >= max_depth:
                raise BadJSON(f"JSON nested more than {max_depth} deep")
            if isinstance(value, dict):
                copy = {clean_text(key): item for key, item in value.items()}
                stack.extend((copy, key, item, depth + 1) for key, item in copy.items())
            else:
                copy = list(value)
                stack.extend((copy, index, item, depth + 1) for index, item in enumerate(copy))
            container[slot] = copy
    return root[0]
