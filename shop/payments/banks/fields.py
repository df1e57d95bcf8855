"""Reading the fields every bank-notification service sends, the same way for all of them, and what to keep of
a request's headers.

Amounts (``read_amount``): an integer, a float with nothing after the point (``56000.0``) or a string of ASCII
digits (``"56000"``, a leading ``-`` allowed) is taken. Anything else is not guessed: ``"56.000"`` is fifty-six
thousand in Vietnamese writing and fifty-six in English, ``1500.5`` is not whole dong. Such a notification is
kept for staff (``unmatched``), never answered with an error and lost.

Times (``read_time``): ISO 8601 or ``YYYY-MM-DD HH:MM[:SS]`` (what SePay and Casso send), or
``dd/mm/yyyy hh:mm[:ss]``; without an offset the bank's time is Vietnam time. A time that cannot be read is
noted and left out (the time of a transfer decides nothing)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import request

from core.time import local_to_utc

MAX_AMOUNT_VND = 10**13 - 1  # VietQR's 13-digit limit
MAX_BODY_BYTES = 64 * 1024  # a notification is a few hundred bytes
_WHOLE = re.compile(r"-?[0-9]{1,18}")
_DAY_FIRST = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M")


def read_amount(value, name: str) -> tuple[int | None, str | None]:
    """``value`` as whole dong (negative allowed: some services send money out so), and a note when it cannot
    be read as such."""
    if isinstance(value, bool) or value is None:
        return None, f"{name} is missing"
    if isinstance(value, float):
        if not value.is_integer():
            return None, f"{name} {value!r} is not a whole number of dong"
        value = int(value)
    elif isinstance(value, str):
        if not _WHOLE.fullmatch(value.strip()):
            return None, f"{name} {value[:40]!r} is not a plain number of dong (separators are not guessed)"
        value = int(value.strip())
    elif not isinstance(value, int):
        return None, f"{name} is not a number"
    if abs(value) > MAX_AMOUNT_VND:
        return None, f"{name} {value} is more than VietQR can carry"
    return value, None


def read_time(value, name: str) -> tuple[datetime | None, str | None]:
    """The bank's time of the transfer as naive UTC, and a note when it cannot be read."""
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, f"{name} {value!r} is not a time"
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
        for layout in _DAY_FIRST:
            try:
                parsed = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
    if parsed is None:
        return None, f"{name} {text[:40]!r} is not a time this app reads"
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC).replace(tzinfo=None), None
    return local_to_utc(parsed), None


def read_text(value) -> str:
    """A text field: strings as they are, numbers written out, anything else (null) empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def read_id(value) -> str | None:
    """A service's transaction id: a whole number (or its digits as a string), at most 40 characters."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if isinstance(value, str) and 0 < len(value.strip()) <= 40:
        return value.strip()
    return None


def kept_headers(*names: str) -> dict:
    """The headers worth keeping with a notification (never a secret one) and the sender's address."""
    kept = {name: request.headers[name] for name in ("Content-Type", "User-Agent", *names) if name in request.headers}
    kept["remote_addr"] = request.remote_addr or ""
    return kept
