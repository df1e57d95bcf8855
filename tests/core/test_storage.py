from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from core.storage import LocalPhotoStorage, PhotoStorage, get_storage, init_storage


@pytest.fixture
def storage(tmp_path: Path) -> LocalPhotoStorage:
    return LocalPhotoStorage(str(tmp_path / "uploads"))


def test_save_open_delete_round_trip(storage: LocalPhotoStorage, tmp_path: Path) -> None:
    key = storage.save(b"RIFF....WEBP")
    assert storage.open(key) == b"RIFF....WEBP"
    assert storage.url_path(key) == key

    path = tmp_path / "uploads" / key
    assert path.is_file()
    assert path.parent.name == key[:2]  # sharded into a two-character folder
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind

    storage.delete(key)
    assert not path.exists()
    with pytest.raises(FileNotFoundError):
        storage.open(key)
    storage.delete(key)  # deleting twice is harmless


def test_keys_are_random_and_distinct(storage: LocalPhotoStorage) -> None:
    keys = {storage.save(b"x") for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        shard, name = key.split("/")
        stem, ext = name.split(".")
        assert ext == "webp"
        assert len(stem) == 32 and int(stem, 16) >= 0  # 128 random bits
        assert shard == stem[:2]


def test_extension(storage: LocalPhotoStorage) -> None:
    assert storage.save(b"x", ext=".JPG").endswith(".jpg")
    for bad in ("", "we/bp", "../x", "webp\n", "a" * 11):
        with pytest.raises(ValueError):
            storage.save(b"x", ext=bad)


@pytest.mark.parametrize(
    "key",
    [
        "../secret.webp",
        "ab/../../secret.webp",
        "/etc/passwd",
        "ab\\" + "a" * 32 + ".webp",
        "..\\..\\secret.webp",
        "ab/" + "a" * 32 + ".webp/../../x",
        "ab/" + "a" * 32 + ".webp\n",
        "",
        "ab/cd.webp",
    ],
)
def test_traversal_and_malformed_keys_are_refused(storage: LocalPhotoStorage, key: str) -> None:
    for call in (storage.open, storage.delete, storage.url_path):
        with pytest.raises(ValueError):
            call(key)


def test_init_and_get_storage(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    storage = init_storage(app)
    assert get_storage(app) is storage
    assert storage.root == os.path.join(str(tmp_path / "instance"), "uploads")

    app.config["UPLOAD_FOLDER"] = str(tmp_path / "elsewhere")
    init_storage(app)
    chosen: PhotoStorage = get_storage(app)
    key = chosen.save(b"data")
    assert (tmp_path / "elsewhere" / key).read_bytes() == b"data"
