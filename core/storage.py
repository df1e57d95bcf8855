"""Where product photo files live.

Code talks to the small ``PhotoStorage`` interface so production can switch from the local folder
(the default, ``UPLOAD_FOLDER``) to S3-compatible object storage (``S3_BUCKET``, see core/storage_s3.py)
without touching the routes. Keys are opaque, random and unguessable, e.g. ``"3f/3f9c...e1.webp"``; both
stores use the same keys, and refuse with ValueError any key that ``save`` would not have made.
"""

from __future__ import annotations

import os
import tempfile

from flask import Flask

from core.storage_keys import (  # noqa: F401
    CACHE_CONTROL,
    PhotoStorage,
    StorageUnavailable,
    check_key,
    new_key,
)

EXTENSION_KEY = "photo_storage"


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
        from core.storage_s3 import (
            S3PhotoStorage,  # boto3 is imported only when it is used
        )

        storage = S3PhotoStorage.from_config(app.config)
    else:
        storage = LocalPhotoStorage(app.config.get("UPLOAD_FOLDER") or os.path.join(app.instance_path, "uploads"))
    app.extensions[EXTENSION_KEY] = storage
    return storage


def get_storage(app: Flask) -> PhotoStorage:
    storage: PhotoStorage = app.extensions[EXTENSION_KEY]
    return storage
