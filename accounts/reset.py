"""Password reset by e-mail: a signed link that works once, for an hour.

The token is an itsdangerous ``URLSafeTimedSerializer`` payload (HMAC with the app's secret key and
its own salt) holding the user's id and a fingerprint of the current password hash and session
token. Setting a new password renews both (``User.set_password``), so a used link stops working,
as does any other link sent before, and every other session of the account is logged out.

Time is a parameter (``now``, naive UTC) so tests can move the clock.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeTimedSerializer,
)

from accounts import sessions
from accounts.models import User
from accounts.services import find_by_email
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify
from core.urls import public_url

SALT = "kep.accounts.password-reset"
DEFAULT_MAX_AGE = 3600  # seconds: the link works for one hour


class ResetError(DomainError):
    """The link cannot be used; ``message`` is for the user, ``reason`` says why."""

    reason = "invalid"


class LinkExpired(ResetError):
    reason = "expired"


class _ClockSigner(TimestampSigner):
    """A TimestampSigner that reads the time it is given instead of the system clock."""

    def __init__(self, *args, now: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now


def _serializer(now: datetime) -> URLSafeTimedSerializer:
    seconds = int(now.replace(tzinfo=UTC).timestamp())
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_ClockSigner,
                                  signer_kwargs={"now": seconds, "digest_method": hashlib.sha256})


def max_age() -> int:
    return int(current_app.config.get("PASSWORD_RESET_MAX_AGE", DEFAULT_MAX_AGE))


def fingerprint(user: User) -> str:
    """Changes whenever the password does; reveals nothing of the hash (keyed with the secret)."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{user.id}:{user.password_hash}:{user.session_token}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def make_token(user: User, *, now: datetime) -> str:
    return _serializer(now).dumps({"u": user.id, "f": fingerprint(user)})


def request_reset(email: str, *, now: datetime, locale: str = "vi") -> bool:
    """Queue a reset link to ``email`` if an active account has it. The caller answers the same
    either way (whether an account exists is not told). Returns True when a message was queued."""
    user = find_by_email(email)
    if user is None or not user.active:
        return False
    link = public_url("accounts.reset_password", token=make_token(user, now=now))
    notify("password_reset", Recipient.of_user(user, locale), user=user, link=link, minutes=max_age() // 60)
    return True


def user_for_token(token: str, *, now: datetime) -> User:
    """The account a link is for, while the link is still good; else ResetError."""
    try:
        data = _serializer(now).loads(token, max_age=max_age())
    except SignatureExpired:
        raise LinkExpired(_l("This link has expired: links work for one hour. Ask for a new one below.")) from None
    except BadSignature:
        data = None
    user = db.session.get(User, data["u"]) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.active or not hmac.compare_digest(str(data.get("f", "")), fingerprint(user)):
        raise ResetError(_l("This link does not work any more: it was already used, or it is not complete. "
                            "Ask for a new one below."))
    return user


def reset_password(token: str, new_password: str, *, now: datetime) -> User:
    """Set the new password; the link, older links and every session of the account stop working."""
    user = user_for_token(token, now=now)
    user.set_password(new_password)
    audit.record("user.password_reset", "user", user.id, actor=user)
    sessions.end_sessions(user, actor=user, reason="password_reset")
    db.session.flush()
    return user
