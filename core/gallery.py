"""Photos of a listing (a product, a visit): uploads checked and shrunk, stored, ordered and removed.

The owner's rows (``ProductPhoto``, ``TourPhoto``) share one shape — ``position``, ``large_key``,
``small_key``, ``width``, ``height`` — and these functions work on any of them. What the farmer is told
when a photo is refused names the listing ("A product can have…", "A visit can have…"), so the caller
passes its own messages and error class."""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the name the phone gave it (for messages only) and its bytes."""
    filename: str
    stream: IO[bytes]
