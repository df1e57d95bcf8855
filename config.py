"""Settings from the environment and one settings file, with safe development defaults.

The settings file (``KEP_SETTINGS_FILE``, default ``/etc/kep/kep.env`` when it exists, else ``.env`` beside this
file) holds ``NAME=value`` lines; the app, gunicorn (deploy/gunicorn.conf.py) and every ``flask`` command read
the same one, so a job run from a timer or cron uses the production database like the web server does. A
variable set in the environment wins over the file. ``KEP_SETTINGS_FILE=`` (empty) reads no file.

Every setting can be overridden by the mapping passed to ``create_app(config)``;
tests use that. In production (``APP_ENV=production``) unsafe settings stop the
app with a one-line explanation instead of running insecurely.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "development", "test"}
DEFAULT_SETTINGS_FILE = "/etc/kep/kep.env"
# The demo receiving account: fine for development, never for real money.
DEMO_BANK = {"BANK_BIN": "970405", "BANK_NAME": "Agribank", "BANK_ACCOUNT_NUMBER": "2500205123456",
             "BANK_ACCOUNT_NAME": "HTX DUA KEP"}


class UnsafeConfiguration(RuntimeError):
    """Raised when production settings are not safe to run with."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def settings_file() -> Path | None:
    """The settings file to read, or None (see the module's notes)."""
    named = os.environ.get("KEP_SETTINGS_FILE")
    if named is not None:
        return Path(named) if named.strip() else None
    for candidate in (Path(DEFAULT_SETTINGS_FILE), Path(__file__).resolve().parent / ".env"):
        if candidate.is_file():
            return candidate
    return None


def environment() -> dict[str, str]:
    """The settings file's values under the process environment (the environment wins)."""
    path = settings_file()
    values: dict[str, str] = {}
    if path is not None:
        if not path.is_file():
            raise UnsafeConfiguration(f"KEP_SETTINGS_FILE={path} does not exist.")
        values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    values.update(os.environ)
    return values


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise UnsafeConfiguration(f"{name} must be a whole number, not {raw!r}.") from None


def _list(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def trusted_hosts(public_base_url: str, extra: list[str], production: bool) -> list[str]:
    """The host names requests may carry: the public address's, the listed extras, and in development the
    loopback names. Any other Host header is answered 400 before a view runs (Flask's TRUSTED_HOSTS)."""
    hosts = [urlsplit(public_base_url).hostname or ""] + extra
    if not production:
        hosts += ["localhost", "127.0.0.1"]
    return sorted({host.lower() for host in hosts if host})


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


def load(instance_path: str, env: dict[str, str] | None = None) -> dict:
    """Read the settings from the environment and the settings file (``env``: both, already read)."""
    env = environment() if env is None else env
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app_env = env.get("APP_ENV", "development").strip().lower()
    production = app_env == "production"
    secret = env.get("SECRET_KEY", "")
    if not secret and not production:
        secret = _development_secret(instance)
    default_db = f"sqlite:///{instance / 'kep.sqlite3'}"
    bank_defaults = {} if production else DEMO_BANK
    public_base_url = env.get("PUBLIC_BASE_URL", "" if production else "http://127.0.0.1:5000").rstrip("/")
    return {
        "APP_ENV": app_env,
        "DEBUG": _bool(env.get("FLASK_DEBUG")),
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL") or default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # A database that hangs gives the friendly 503 in seconds, well inside gunicorn's worker timeout:
        # connecting, one statement and one lock wait are each bounded (see engine_options).
        "DB_CONNECT_TIMEOUT_SECONDS": _int(env, "DB_CONNECT_TIMEOUT_SECONDS", 5),
        "DB_STATEMENT_TIMEOUT_SECONDS": _int(env, "DB_STATEMENT_TIMEOUT_SECONDS", 15),
        "DB_LOCK_TIMEOUT_SECONDS": _int(env, "DB_LOCK_TIMEOUT_SECONDS", 5),
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
        "SESSION_IDLE_MINUTES": _int(env, "SESSION_IDLE_MINUTES", 360),
        "SESSION_REMEMBER_DAYS": _int(env, "SESSION_REMEMBER_DAYS", 30),
        "SESSION_GUEST_DAYS": _int(env, "SESSION_GUEST_DAYS", 7),
        "SESSION_TOUCH_MINUTES": _int(env, "SESSION_TOUCH_MINUTES", 5),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": 6 * 3600,
        # Uploads: one request carries at most a few phone photos.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 50 * 1024 * 1024),
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or str(instance / "uploads"),
        # Product photos in S3-compatible object storage instead of UPLOAD_FOLDER when S3_BUCKET is set.
        # Without keys boto3 looks in its usual places (AWS_* variables, an instance role). With
        # S3_PUBLIC_BASE_URL pages link photos straight to the bucket or CDN; without it /media serves them.
        "S3_BUCKET": env.get("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL", ""),
        "S3_REGION": env.get("S3_REGION", ""),
        "S3_ACCESS_KEY_ID": env.get("S3_ACCESS_KEY_ID", ""),
        "S3_SECRET_ACCESS_KEY": env.get("S3_SECRET_ACCESS_KEY", ""),
        "S3_PUBLIC_BASE_URL": env.get("S3_PUBLIC_BASE_URL", ""),
        # Wrong passwords allowed when a staff member changes the receiving bank account (per staff account).
        "BANK_CHANGE_PASSWORD_LIMIT": env.get("BANK_CHANGE_PASSWORD_LIMIT", "5 per 15 minutes"),
        # Languages and time
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        # Rate limits (memory by default; redis://127.0.0.1:6379 in production)
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        # Prefix of the limiter's keys in the shared store (several sites, or tests, on one Redis).
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "kep"),
        # How many proxies in front of the app set X-Forwarded-For/-Proto/-Host/-Port (0: trust none of them).
        "TRUSTED_PROXY_COUNT": _int(env, "TRUSTED_PROXY_COUNT", 0),
        # Failed logins from one address, whatever the account (see accounts/throttle.py for the rest).
        "LOGIN_LIMIT_PER_IP": env.get("LOGIN_LIMIT_PER_IP", "20 per 15 minutes"),
        # One account from one address: this many wrong passwords are free, then waits of 1, 2, 4... minutes.
        "LOGIN_FREE_FAILURES": _int(env, "LOGIN_FREE_FAILURES", 5),
        "LOGIN_MAX_WAIT_MINUTES": _int(env, "LOGIN_MAX_WAIT_MINUTES", 15),
        # Staff are told (once an hour) when one account gets this many wrong passwords in an hour.
        "LOGIN_ALERT_FAILURES": _int(env, "LOGIN_ALERT_FAILURES", 20),
        "REGISTER_LIMIT_PER_IP": env.get("REGISTER_LIMIT_PER_IP", "10 per hour"),
        "REGISTER_LIMIT_PER_EMAIL": env.get("REGISTER_LIMIT_PER_EMAIL", "3 per hour"),
        # How long the link that finishes a registration works, in seconds.
        "REGISTER_LINK_MAX_AGE": _int(env, "REGISTER_LINK_MAX_AGE", 24 * 3600),
        # Password reset by e-mail: requests per address and per email; how long a link works (seconds).
        "RESET_LIMIT_PER_IP": env.get("RESET_LIMIT_PER_IP", "10 per hour"),
        "RESET_LIMIT_PER_EMAIL": env.get("RESET_LIMIT_PER_EMAIL", "3 per hour"),
        "PASSWORD_RESET_MAX_AGE": _int(env, "PASSWORD_RESET_MAX_AGE", 3600),
        "WEBHOOK_LIMIT_PER_IP": env.get("WEBHOOK_LIMIT_PER_IP", "120 per minute"),
        # Orders and visits
        "ORDER_HOLD_MINUTES": _int(env, "ORDER_HOLD_MINUTES", 30),
        "BOOKING_CUTOFF_HOURS": _int(env, "BOOKING_CUTOFF_HOURS", 2),
        # How long a waiting-list offer holds its places (tours/waitlist.py).
        "WAITLIST_OFFER_MINUTES": _int(env, "WAITLIST_OFFER_MINUTES", 120),
        # Orders waiting for payment hold stock and seats: how many may be open at once from one client address
        # (generous: mobile carriers put many phones behind one address), one buyer phone, one browser
        # session. 0 turns a limit off.
        "UNPAID_ORDERS_PER_ADDRESS": _int(env, "UNPAID_ORDERS_PER_ADDRESS", 5),
        "UNPAID_ORDERS_PER_PHONE": _int(env, "UNPAID_ORDERS_PER_PHONE", 2),
        "UNPAID_ORDERS_PER_SESSION": _int(env, "UNPAID_ORDERS_PER_SESSION", 1),
        # The payment providers offered, in the order buyers see them (shop/payments/providers/; "card" is Stripe).
        "PAYMENT_PROVIDERS": _list(env.get("PAYMENT_PROVIDERS")) or ["vietqr", "card"],
        # Stripe (card payments); card payment is hidden when the keys are missing.
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "STRIPE_JS_URL": env.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        # How long to wait for Stripe's answer before telling the buyer card payment is unavailable. A call is
        # tried twice at most (shop/stripe.py), so a request waits at most about 2 x this plus a second.
        "STRIPE_TIMEOUT_SECONDS": _int(env, "STRIPE_TIMEOUT_SECONDS", 8),
        # The cooperative's bank account that receives VietQR transfers
        # (the demo account in development only; production refuses to start without a real one)
        **{name: env.get(name, bank_defaults.get(name, "")) for name in DEMO_BANK},
        # The bank-notification services that report transfers into that account (shop/payments/banks/); each
        # endpoint answers 503 while its secret is unset. The generic signed webhook, POST /payments/bank/notify:
        # the HMAC-SHA256 key shared with the sender.
        "BANK_WEBHOOK_SECRET": env.get("BANK_WEBHOOK_SECRET", ""),
        # SePay, POST /payments/sepay/notify: the "API Key" entered in the SePay webhook's Security step (SePay
        # sends "Authorization: Apikey <key>").
        "SEPAY_API_KEY": env.get("SEPAY_API_KEY", ""),
        # Casso Webhook V2, POST /payments/casso/notify: the integration's security key ("Key bảo mật"), which
        # signs X-Casso-Signature; and how far its timestamp may be from our clock, in seconds (a replayed or
        # long-delayed delivery is refused).
        "CASSO_WEBHOOK_SECRET": env.get("CASSO_WEBHOOK_SECRET", ""),
        "CASSO_SIGNATURE_TOLERANCE_SECONDS": _int(env, "CASSO_SIGNATURE_TOLERANCE_SECONDS", 300),
        # payOS (payos.vn), off while any of the three keys is unset: the bank-transfer pay page then shows payOS's
        # own QR code and checkout link for the amount due (shop/payments/providers/payos.py), and payOS reports
        # each payment to POST /payments/payos/notify, signed with the checksum key. The three keys of the payment
        # channel (my.payos.vn: Kênh thanh toán); the API's address (a local stand-in in tests); how long to wait.
        "PAYOS_CLIENT_ID": env.get("PAYOS_CLIENT_ID", ""),
        "PAYOS_API_KEY": env.get("PAYOS_API_KEY", ""),
        "PAYOS_CHECKSUM_KEY": env.get("PAYOS_CHECKSUM_KEY", ""),
        "PAYOS_API_BASE": env.get("PAYOS_API_BASE", "https://api-merchant.payos.vn"),
        "PAYOS_TIMEOUT_SECONDS": _int(env, "PAYOS_TIMEOUT_SECONDS", 5),
        # GHN (Giao Hàng Nhanh) prices and carries parcels while GHN_TOKEN and GHN_SHOP_ID are set (shop/carriers/
        # ghn.py; README "Connecting GHN"): the API token and shop id (khachhang.ghn.vn), the API's address (dev:
        # https://dev-online-gateway.ghn.vn/shiip/public-api; a local stand-in in tests), how long to wait, the
        # secret in the status webhook's URL (POST /shipping/ghn/webhook?token=...), and the pickup address at
        # the cooperative (farms have no address of their own yet), by GHN's names, for the orders booked.
        "GHN_TOKEN": env.get("GHN_TOKEN", ""),
        "GHN_SHOP_ID": env.get("GHN_SHOP_ID", ""),
        "GHN_API_BASE": env.get("GHN_API_BASE", "https://online-gateway.ghn.vn/shiip/public-api"),
        "GHN_TIMEOUT_SECONDS": _int(env, "GHN_TIMEOUT_SECONDS", 4),
        "GHN_WEBHOOK_TOKEN": env.get("GHN_WEBHOOK_TOKEN", ""),
        "GHN_FROM_NAME": env.get("GHN_FROM_NAME", "HTX Dứa Kép"),
        "GHN_FROM_PHONE": env.get("GHN_FROM_PHONE", ""),
        "GHN_FROM_ADDRESS": env.get("GHN_FROM_ADDRESS", "Trụ sở UBND xã Kép"),
        "GHN_FROM_WARD_NAME": env.get("GHN_FROM_WARD_NAME", "Xã Kép"),
        "GHN_FROM_DISTRICT_NAME": env.get("GHN_FROM_DISTRICT_NAME", "Huyện Lạng Giang"),
        "GHN_FROM_PROVINCE_NAME": env.get("GHN_FROM_PROVINCE_NAME", "Bắc Giang"),
        # The channels messages go out by (core/channels/<name>.py), comma-separated. Unset: e-mail only in
        # production; e-mail and the log-only phone channel (one-time codes in the log) elsewhere (core/channels).
        "MESSAGE_CHANNELS": _list(env.get("MESSAGE_CHANNELS")) or None,
        # True where `flask worker` runs (deploy/systemd/kep-worker.service): it sends the outbox within seconds,
        # so requests no longer send it themselves after their commit.
        "OUTBOX_WORKER": _bool(env.get("OUTBOX_WORKER"), False),
        # Zalo ZNS through the cooperative's Official Account (core/channels/zalo.py; README "Connecting Zalo"):
        # the app's id and secret, the first refresh token (then kept in the database), the OA's secret key for
        # its webhook's signature, and the approved template of each kind of message ("order_paid=231234,...").
        "ZALO_APP_ID": env.get("ZALO_APP_ID", ""),
        "ZALO_APP_SECRET": env.get("ZALO_APP_SECRET", ""),
        "ZALO_REFRESH_TOKEN": env.get("ZALO_REFRESH_TOKEN", ""),
        "ZALO_OA_SECRET_KEY": env.get("ZALO_OA_SECRET_KEY", ""),
        "ZALO_TEMPLATES": env.get("ZALO_TEMPLATES", ""),
        "ZALO_ZNS_URL": env.get("ZALO_ZNS_URL", "https://business.openapi.zalo.me/message/template"),
        "ZALO_OAUTH_URL": env.get("ZALO_OAUTH_URL", "https://oauth.zaloapp.com/v4/oa/access_token"),
        "ZALO_TIMEOUT_SECONDS": _int(env, "ZALO_TIMEOUT_SECONDS", 10),
        # SMS through eSMS (core/channels/sms.py): the account's keys, the registered brand name, and whether the
        # text keeps its diacritics (ESMS_UNICODE=1 costs more: 70 characters a part instead of 160).
        "ESMS_API_KEY": env.get("ESMS_API_KEY", ""),
        "ESMS_SECRET_KEY": env.get("ESMS_SECRET_KEY", ""),
        "ESMS_BRANDNAME": env.get("ESMS_BRANDNAME", ""),
        "ESMS_UNICODE": _bool(env.get("ESMS_UNICODE"), False),
        "ESMS_SANDBOX": _bool(env.get("ESMS_SANDBOX"), False),
        "ESMS_URL": env.get("ESMS_URL", "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"),
        "ESMS_TIMEOUT_SECONDS": _int(env, "ESMS_TIMEOUT_SECONDS", 10),
        # Outgoing mail; without MAIL_SERVER messages wait in the outbox for staff.
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env, "MAIL_PORT", 587),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_FROM": env.get("MAIL_FROM", "Chợ Dứa Kép <no-reply@localhost>"),
        # How long to wait for the mail server (mail is also sent at the end of payment requests).
        "MAIL_TIMEOUT_SECONDS": _int(env, "MAIL_TIMEOUT_SECONDS", 5),
        # Where alerts for commune staff go (late or unmatched payments, refunds to make).
        "STAFF_EMAIL": env.get("STAFF_EMAIL", "" if production else "canbo@duakep.vn"),
        # Static files: cache for a year in production (names carry a content hash).
        "STATIC_MAX_AGE": 365 * 24 * 3600 if production else 0,
        # Public pages seen by anonymous visitors are kept this many seconds (0: off; see core/pagecache.py).
        "PAGE_CACHE_SECONDS": _int(env, "PAGE_CACHE_SECONDS", 20 if production else 0),
        # The site's one canonical address: every absolute link (messages, reset links, tickets, Open Graph)
        # is built from it, never from the request's Host header; requests for other hosts are refused.
        "PUBLIC_BASE_URL": public_base_url,
        "TRUSTED_HOSTS": trusted_hosts(public_base_url, _list(env.get("TRUSTED_HOSTS")), production),
    }


def engine_options(config) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS with the database timeouts added (kept when a test or deployment sets its
    own options): PostgreSQL gets ``connect_timeout`` and, per session, ``statement_timeout`` and
    ``lock_timeout`` (a statement past it fails with 57014, a lock wait with 55P03, which is retried);
    a pool that is exhausted gives up after the connect timeout too. SQLite's busy timeout is set from
    the lock timeout in ``core.extensions.configure_sqlite``. 0 turns a timeout off."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if url.startswith("postgresql"):
        connect = int(config.get("DB_CONNECT_TIMEOUT_SECONDS", 5))
        statement = int(config.get("DB_STATEMENT_TIMEOUT_SECONDS", 15))
        lock = int(config.get("DB_LOCK_TIMEOUT_SECONDS", 5))
        connect_args = dict(options.get("connect_args") or {})
        if connect:
            connect_args.setdefault("connect_timeout", connect)
            options.setdefault("pool_timeout", connect)
        session_settings = f"-c statement_timeout={statement * 1000} -c lock_timeout={lock * 1000}"
        connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), session_settings]))
        options["connect_args"] = connect_args
    return options


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
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.scheme != "https" or not base.hostname or base.path not in ("", "/"):
        raise UnsafeConfiguration("APP_ENV=production needs PUBLIC_BASE_URL, the site's https address "
                                  "(for example https://duakep.vn), for every link the market sends.")
    if len(config.get("BANK_WEBHOOK_SECRET") or "") < 32:
        raise UnsafeConfiguration("APP_ENV=production needs BANK_WEBHOOK_SECRET (32+ random characters) to check "
                                  "bank notifications.")
    if "@" not in (config.get("STAFF_EMAIL") or ""):
        raise UnsafeConfiguration("APP_ENV=production needs STAFF_EMAIL, where alerts for commune staff go.")
    channels = Path(__file__).resolve().parent / "core" / "channels"
    for name in config.get("MESSAGE_CHANNELS") or ():
        if name == "phone":
            raise UnsafeConfiguration("MESSAGE_CHANNELS lists 'phone', the development channel that only writes "
                                      "text messages to the log: nobody would receive them.")
        if not name.isidentifier() or not (channels / f"{name}.py").is_file():
            raise UnsafeConfiguration(f"MESSAGE_CHANNELS lists {name!r}, but there is no core/channels/{name}.py.")
    photos = config.get("S3_PUBLIC_BASE_URL") or ""
    if photos and urlsplit(photos).scheme != "https":
        raise UnsafeConfiguration("APP_ENV=production needs S3_PUBLIC_BASE_URL to be an https address (pages are "
                                  "served over https; photos over http would be blocked).")


def local_production_settings(base_url: str = "https://127.0.0.1") -> dict[str, str]:
    """Production settings for serving the demo on this machine (the benchmark, the audit, the deployment
    tests): a random secret and webhook secret and a test receiving account. Never for a real site."""
    return {"APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "PUBLIC_BASE_URL": base_url,
            "TRUSTED_HOSTS": "127.0.0.1,localhost",  # the addresses local clients and test clients use
            "BANK_WEBHOOK_SECRET": secrets.token_urlsafe(32), "STAFF_EMAIL": "canbo@duakep.vn",
            "BANK_BIN": "970405", "BANK_ACCOUNT_NUMBER": "2500205000001", "BANK_ACCOUNT_NAME": "HTX DUA KEP THU NGHIEM"}


def bank_problem(config: dict, staff_set: dict[str, str]) -> str | None:
    """Why production may not take buyers' money into this receiving account, or None.

    ``staff_set`` holds what staff saved on the Settings page (it wins over BANK_*). The demo account, or none,
    is refused: buyers would send real money to a placeholder."""
    if config.get("APP_ENV") != "production":
        return None
    number = staff_set.get("bank_account_number") or config.get("BANK_ACCOUNT_NUMBER") or ""
    bank_bin = staff_set.get("bank_bin") or config.get("BANK_BIN") or ""
    name = staff_set.get("bank_account_name") or config.get("BANK_ACCOUNT_NAME") or ""
    if not (number and bank_bin and name) or number == DEMO_BANK["BANK_ACCOUNT_NUMBER"]:
        return ("APP_ENV=production needs the cooperative's real receiving account: set BANK_BIN, "
                "BANK_ACCOUNT_NUMBER and BANK_ACCOUNT_NAME (or save it on the staff Settings page).")
    return None
