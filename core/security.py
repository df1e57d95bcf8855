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
    photos = _origin(config.get("S3_PUBLIC_BASE_URL") or "") if config.get("S3_BUCKET") else ""  # bucket or CDN
    images = " ".join(filter(None, ["'self'", "data:", photos]))
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self'; img-src {images}; "
        f"font-src 'self'; connect-src {connect}; frame-src {frames}; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def security_headers(config) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(config),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "geolocation=(), microphone=(), camera=(self), payment=(self)",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if config.get("APP_ENV") == "production":
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def add_security_headers(response):
    for name, value in security_headers(current_app.config).items():
        response.headers.setdefault(name, value)
    return response


def static_headers_function(config):
    """For WhiteNoise, which answers static files before Flask (so ``after_request`` never sees them)."""
    headers = security_headers(config)

    def add(response_headers, _path: str, _url: str) -> None:
        for name, value in headers.items():
            response_headers.setdefault(name, value)
    return add
