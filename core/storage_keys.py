"""What every photo store shares: the ``PhotoStorage`` interface, its keys and its one error (used by the
local store in core/storage.py and the S3 store in core/storage_s3.py)."""
from __future__ import annotations

import re
import secrets
from typing import Protocol

# Keys are random and never reused, so a stored photo may be cached for a year by browsers and CDNs.
CACHE_CONTROL = "public, max-age=31536000, immutable"

_EXT_RE = re.compile(r"[a-z0-9]{1,10}")
_KEY_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}\.[a-z0-9]{1,10}")


class StorageUnavailable(OSError):
    """The store could not be reached, or did not answer in time (not: the key does not exist)."""


class PhotoStorage(Protocol):
    def save(self, data: bytes, ext: str = "webp") -> str:
        """Store ``data`` and return a new opaque key."""
        ...

    def open(self, key: str) -> bytes:
        """Return the stored bytes. Raises FileNotFoundError for unknown keys."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; deleting a missing key is not an error."""
        ...

    def url_path(self, key: str) -> str:
        """Path relative to the uploads URL, e.g. ``"3f/3f9c...e1.webp"``."""
        ...

    def public_url(self, key: str) -> str | None:
        """The address browsers load the photo from directly, or None when our /media route serves it."""
        ...


def new_key(ext: str) -> str:
    """A fresh random key with extension ``ext`` (ValueError for anything but 1-10 letters or digits)."""
    ext = ext.lower().lstrip(".")
    if not _EXT_RE.fullmatch(ext):
        raise ValueError(f"invalid file extension: {ext!r}")
    name = secrets.token_hex(16)
    return f"{name[:2]}/{name}.{ext}"


def check_key(key: str) -> str:
    """``key`` itself when ``new_key`` could have made it; ValueError otherwise."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise ValueError(f"invalid photo key: {key!r}")
    return key
