"""Static files through WhiteNoise, under names that carry a content hash.

At start-up every file of ``static/`` is copied once to ``<instance>/static-build``
as ``name.<hash>.ext`` with gzip siblings; ``static_url('css/site.css')`` gives
the hashed address, which is cached for a year in production.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from whitenoise import WhiteNoise

from core.security import static_headers_function

COMPRESSIBLE = {".css", ".js", ".svg", ".txt", ".json", ".xml", ".ico"}


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _build(source: Path, target: Path) -> dict[str, str]:
    manifest: dict[str, str] = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = path.relative_to(source)
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:12]
        hashed = rel.with_name(f"{rel.stem}.{digest}{rel.suffix}")
        out = target / hashed
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            if rel.suffix in COMPRESSIBLE:
                _write_atomic(out.with_name(out.name + ".gz"), gzip.compress(data, compresslevel=9, mtime=0))
            _write_atomic(out, data)
        manifest[rel.as_posix()] = hashed.as_posix()
    return manifest


def init_assets(app) -> None:
    source = Path(app.root_path) / "static"
    target = Path(app.instance_path) / "static-build"
    target.mkdir(parents=True, exist_ok=True)
    manifest = _build(source, target)
    max_age = app.config["STATIC_MAX_AGE"]

    def static_url(filename: str) -> str:
        return f"/static/{manifest.get(filename, filename)}"

    app.jinja_env.globals["static_url"] = static_url
    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=str(target), prefix="static/", max_age=max_age,
        immutable_file_test=lambda path, url: max_age > 0,
        add_headers_function=static_headers_function(app.config),
    )
