"""Registration by e-mail link: the register page never tells whether an address already has an account.

Sending the register form always ends the same way: one message to the typed address, then the page
"look in your e-mail". Which message depends on the address, and only its owner reads it:

- no account has it: a link that finishes the registration. The link is an itsdangerous payload signed
  with the app's secret key and its own salt (so a reset link is no registration link and the other way
  round), holding the details typed in and the scrypt hash of the chosen password (never the password);
  it works for REGISTER_LINK_MAX_AGE seconds. Opening it and pressing the button creates the account
  and logs in. Nothing is written to the database before that, so nobody can hold an address they do
  not read.
- an active account has it: a note "someone tried to register with your address: log in, or choose a
  new password", with both links. A suspended account gets nothing.

Both ways hash the password once (scrypt) and render one message, so they also take the same time.
Time is a parameter (``now``, naive UTC) so tests can move the clock.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from accounts.models import User
from accounts.reset import _ClockSigner
from accounts.services import find_by_email, hash_password, normalize_email
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify
from core.urls import public_url

SALT = "kep.accounts.register"
DEFAULT_MAX_AGE = 24 * 3600


class SignupError(DomainError):
    """The link cannot be used; ``message`` is for the user, ``reason`` says why."""

    reason = "invalid"


class LinkExpired(SignupError):
    reason = "expired"


class AlreadyRegistered(SignupError):
    """The link's address has an account by now."""

    reason = "exists"


def max_age() -> int:
    return int(current_app.config.get("REGISTER_LINK_MAX_AGE", DEFAULT_MAX_AGE))


def _serializer(now: datetime) -> URLSafeTimedSerializer:
    seconds = int(now.replace(tzinfo=UTC).timestamp())
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT, signer=_ClockSigner,
                                  signer_kwargs={"now": seconds, "digest_method": hashlib.sha256})


def start(*, email: str, full_name: str, phone: str, password: str, now: datetime, locale: str = "vi",
          next_url: str | None = None) -> None:
    """Queue the one message for ``email`` (see the module's docstring); the caller answers the same way
    whatever happened here."""
    email = normalize_email(email)
    password_hash = hash_password(password)  # hashed either way, so both ways take as long
    user = find_by_email(email)
    if user is None:
        token = _serializer(now).dumps({"e": email, "n": full_name.strip(), "p": phone, "h": password_hash,
                                        "l": locale, "x": next_url or ""})
        notify("register_confirm", Recipient.by_email(email, locale), name=full_name.strip(),
               hours=max(1, max_age() // 3600), link=public_url("accounts.register_confirm", token=token))
    elif user.active:
        notify("register_existing", Recipient.of_user(user, locale), name=user.full_name,
               login_link=public_url("accounts.login"), reset_link=public_url("accounts.forgot_password"))


def details(token: str, *, now: datetime) -> dict:
    """What the link holds (``email``, ``full_name``, ``phone``, ``next``), while it works; else SignupError."""
    try:
        data = _serializer(now).loads(token, max_age=max_age())
    except SignatureExpired:
        raise LinkExpired(_l("This link has expired. Fill in the form again and we will send a new one.")) from None
    except BadSignature:
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "enphlx"):
        raise SignupError(_l("This link does not work: it is not complete. Open it again from the e-mail, "
                             "or fill in the form again."))
    return {"email": data["e"], "full_name": data["n"], "phone": data["p"], "password_hash": data["h"],
            "locale": data["l"], "next": data["x"]}


def finish(token: str, *, now: datetime) -> tuple[User, str]:
    """Create the account the link is for; returns it and where to go next. A link whose address has an
    account by now (it was used already, or registered another way) raises AlreadyRegistered."""
    data = details(token, now=now)
    if find_by_email(data["email"]) is not None:
        raise AlreadyRegistered(_l("This account is already created. Log in with its email and password."))
    user = User(email=data["email"], full_name=data["full_name"], phone=data["phone"], role="buyer",
                password_hash=data["password_hash"], session_token=secrets.token_hex(16),
                locale=data["locale"] or None)
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:  # the same link opened twice at once: the other one made the account
        raise AlreadyRegistered(_l("This account is already created. Log in with its email and password.")) from None
    audit.record("user.registered", "user", user.id, actor=user, to_state="buyer")
    return user, data["next"]
