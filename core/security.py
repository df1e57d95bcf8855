"""Security headers on every response."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(config) -> str:
    stripe_js = _origin(config.get("STRIPE_JS_URL", "")) if config.get("STRIPE_PUBLISHABLE_KEY") else ""
    stripe_api = _origin(config.get("STRIPE_API_BASE", "")) if stripe_js else ""
    scripts = " ".join(filter(None, ["'self'", stripe_js]))
    # Real Stripe shows 3-D Secure challenges in a frame from hooks.stripe.com.
    hooks = "https://hooks.stripe.com" if stripe_js == "https://js.stripe.com" else ""
    frames = " ".join(filter(None, [stripe_js, hooks])) or "'none'"
    connect = " ".join(filter(None, ["'self'", stripe_api or ("https://api.stripe.com" if stripe_js else "")]))
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src {connect}; frame-src {frames}; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def add_security_headers(response):
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(config))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), camera=(self), payment=(self)")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if config.get("APP_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
