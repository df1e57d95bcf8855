"""Settings from the environment, with safe development defaults.

Every setting can be overridden by the mapping passed to ``create_app(config)``;
tests use that. In production (``APP_ENV=production``) unsafe settings stop the
app with a one-line explanation instead of running insecurely.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development", "test"}


class UnsafeConfiguration(RuntimeError):
    """Raised when production settings are not safe to run with."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def database_url(raw: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _development_secret(instance_path: Path) -> str:
    """A random secret generated once and kept in ``instance/`` for development."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load(instance_path: str) -> dict:
    """Read the settings from the environment."""
    env = os.environ
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app_env = env.get("APP_ENV", "development").strip().lower()
    production = app_env == "production"
    secret = env.get("SECRET_KEY", "")
    if not secret and not production:
        secret = _development_secret(instance)
    default_db = f"sqlite:///{instance / 'kep.sqlite3'}"
    return {
        "APP_ENV": app_env,
        "DEBUG": _bool(env.get("FLASK_DEBUG")),
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL") or default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        # Server-side sessions (accounts/session_store.py): how long a session lasts after its last use,
        # logged in without "remember me" (minutes), with it (days), a guest's cart or language (days);
        # and how often its "last used" time is written (minutes).
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 360),
        "SESSION_REMEMBER_DAYS": _int("SESSION_REMEMBER_DAYS", 30),
        "SESSION_GUEST_DAYS": _int("SESSION_GUEST_DAYS", 7),
        "SESSION_TOUCH_MINUTES": _int("SESSION_TOUCH_MINUTES", 5),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": 6 * 3600,
        # Uploads: one request carries at most a few phone photos.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 50 * 1024 * 1024),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        # Languages and time
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        # Rate limits (memory by default; redis://127.0.0.1:6379 in production)
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "LOGIN_LIMIT_PER_IP": env.get("LOGIN_LIMIT_PER_IP", "20 per 15 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "REGISTER_LIMIT_PER_IP": env.get("REGISTER_LIMIT_PER_IP", "10 per hour"),
        # Password reset by e-mail: requests per address and per email; how long a link works (seconds).
        "RESET_LIMIT_PER_IP": env.get("RESET_LIMIT_PER_IP", "10 per hour"),
        "RESET_LIMIT_PER_EMAIL": env.get("RESET_LIMIT_PER_EMAIL", "3 per hour"),
        "PASSWORD_RESET_MAX_AGE": _int("PASSWORD_RESET_MAX_AGE", 3600),
        "WEBHOOK_LIMIT_PER_IP": env.get("WEBHOOK_LIMIT_PER_IP", "120 per minute"),
        # Orders and visits
        "ORDER_HOLD_MINUTES": _int("ORDER_HOLD_MINUTES", 30),
        "BOOKING_CUTOFF_HOURS": _int("BOOKING_CUTOFF_HOURS", 2),
        # Stripe (card payments); card payment is hidden when the keys are missing.
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": env.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        # How long to wait for Stripe's answer before telling the buyer card payment is unavailable.
        "STRIPE_TIMEOUT_SECONDS": _int("STRIPE_TIMEOUT_SECONDS", 15),
        # The cooperative's bank account that receives VietQR transfers
        "BANK_BIN": env.get("BANK_BIN", "970405"),
        "BANK_NAME": env.get("BANK_NAME", "Agribank"),
        "BANK_ACCOUNT_NUMBER": env.get("BANK_ACCOUNT_NUMBER", "2500205123456"),
        "BANK_ACCOUNT_NAME": env.get("BANK_ACCOUNT_NAME", "HTX DUA KEP"),
        "BANK_WEBHOOK_SECRET": env.get("BANK_WEBHOOK_SECRET", ""),
        # Outgoing mail; without MAIL_SERVER messages wait in the outbox for staff.
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_FROM": env.get("MAIL_FROM", "Chợ Dứa Kép <no-reply@localhost>"),
        # How long to wait for the mail server (mail is also sent at the end of payment requests).
        "MAIL_TIMEOUT_SECONDS": _int("MAIL_TIMEOUT_SECONDS", 10),
        # Where alerts for commune staff go (late or unmatched payments, refunds to make).
        "STAFF_EMAIL": env.get("STAFF_EMAIL", "canbo@duakep.vn"),
        # Static files: cache for a year in production (names carry a content hash).
        "STATIC_MAX_AGE": 365 * 24 * 3600 if production else 0,
        # Public pages seen by anonymous visitors are kept this many seconds (0: off; see core/pagecache.py).
        "PAGE_CACHE_SECONDS": _int("PAGE_CACHE_SECONDS", 20 if production else 0),
        # The address of the site, for links in messages sent outside a request.
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
    }


def check_production(config: dict) -> None:
    """Refuse to start production with settings that are not safe."""
    if config.get("APP_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret.strip().lower() in WEAK_SECRETS or len(secret) < 32:
        raise UnsafeConfiguration(
            "APP_ENV=production needs SECRET_KEY set to a random value of at least 32 characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if config.get("DEBUG"):
        raise UnsafeConfiguration("APP_ENV=production refuses to run with debug on: unset FLASK_DEBUG.")
