"""Where product photo files live.

Code talks to the small ``PhotoStorage`` interface so production can switch from the local folder
(the default, ``UPLOAD_FOLDER``) to S3-compatible object storage (``S3_BUCKET``, see core/storage_s3.py)
without touching the routes. Keys are opaque, random and unguessable, e.g. ``"3f/3f9c...e1.webp"``; both
stores use the same keys, and refuse with ValueError any key that ``save`` would not have made.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from typing import Protocol

from flask import Flask

EXTENSION_KEY = "photo_storage"
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


class LocalPhotoStorage:
    """Stores files under ``root`` in two-character shard folders."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def save(self, data: bytes, ext: str = "webp") -> str:
        key = new_key(ext)
        path = self._path(key)
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; the web server may run as another user
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        return key

    def open(self, key: str) -> bytes:
        with open(self._path(key), "rb") as f:
            return f.read()

    def delete(self, key: str) -> None:
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def url_path(self, key: str) -> str:
        self._path(key)  # validate
        return key

    def public_url(self, key: str) -> str | None:
        self._path(key)  # validate
        return None

    def _path(self, key: str) -> str:
        """Absolute file path for ``key``; ValueError for anything not made by ``save``."""
        path = os.path.abspath(os.path.join(self.root, check_key(key)))
        if os.path.commonpath([self.root, path]) != self.root:  # belt and braces
            raise ValueError(f"invalid photo key: {key!r}")
        return path


def init_storage(app: Flask) -> PhotoStorage:
    """The S3 bucket when ``S3_BUCKET`` is set, else the folder ``UPLOAD_FOLDER`` (instance/uploads)."""
    storage: PhotoStorage
    if app.config.get("S3_BUCKET"):
        from core.storage_s3 import S3PhotoStorage  # boto3 is imported only when it is used

        storage = S3PhotoStorage.from_config(app.config)
    else:
        storage = LocalPhotoStorage(app.config.get("UPLOAD_FOLDER") or os.path.join(app.instance_path, "uploads"))
    app.extensions[EXTENSION_KEY] = storage
    return storage


def get_storage(app: Flask) -> PhotoStorage:
    storage: PhotoStorage = app.extensions[EXTENSION_KEY]
    return storage
