"""Safe redirects and the site's absolute addresses."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def public_url(endpoint: str, **values) -> str:
    """An absolute address on the site's one canonical address (PUBLIC_BASE_URL), in a request or outside one
    (CLI, jobs). Never built from the request's Host header: a password-reset link asked for with
    ``Host: evil.example`` must still point at the real site."""
    from flask import current_app, has_request_context, url_for

    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)
