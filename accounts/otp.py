"""One-time codes sent to a phone: proving a number (``verify_phone``), logging in (``login``) and choosing a
new password (``reset``).

The rules:

- A code is 6 random digits (``secrets``). Only its HMAC-SHA256, keyed with the app's secret key and bound to
  the purpose and the phone number, is stored (``one_time_codes.code_hash``); the code itself lives only in
  the message that carries it.
- It works for OTP_MINUTES minutes (10), once (``used_at`` is set by a conditional UPDATE, so two requests
  cannot both use it), and only the newest code of a (purpose, phone) pair works (of a (purpose, phone,
  account) triple where the caller names the account): asking for a new one retires the old.
  OTP_MAX_TRIES wrong tries (5) kill it; each wrong try is counted by a conditional UPDATE (``tries < max``),
  and the comparison is ``hmac.compare_digest``.
- Sending is limited in the database (so every app instance sees the same counts, and it holds in tests):
  one code per phone every OTP_RESEND_SECONDS (60), OTP_MAX_PER_PHONE_PER_HOUR (5) per phone and
  OTP_MAX_PER_CLIENT_PER_HOUR (20) per client address (kept as a keyed hash) within an hour. The counts
  are read before the insert, without a lock: two requests at the same instant may both pass, which lets
  one extra code out at worst.
- ``issue(..., user=None)`` still writes a row, with a hash no code matches, and sends nothing: a reset asked
  for a number no account has is answered and limited exactly like one for a real account.

Codes go out through core/messages.py (kind ``code_<purpose>``, templates/messages/code_<purpose>.sms.txt,
which the development phone log writes too) on the channels that reach phones; with only e-mail enabled nobody
can receive them. Time is a parameter (``now``, naive UTC).
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, func, select, update

from accounts.models import OTP_PURPOSES, OneTimeCode, User
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify

DIGITS = 6


class CodeError(DomainError):
    """The code cannot be used; ``message`` is for the user, ``reason`` says why."""

    reason = "wrong"

    def __init__(self, message, field: str | None = "code"):
        super().__init__(message, field=field)


class WrongCode(CodeError):
    reason = "wrong"


class CodeExpired(CodeError):
    reason = "expired"


class CodeDead(CodeError):
    """Used already, retired by a newer code, killed by wrong tries, or never sent."""

    reason = "dead"


class SendLimited(DomainError):
    """No new code now; ``seconds`` until one may be asked for again."""

    def __init__(self, message, seconds: int):
        super().__init__(message, field=None)
        self.seconds = seconds


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def minutes() -> int:
    return _setting("OTP_MINUTES", 10)


def max_tries() -> int:
    return _setting("OTP_MAX_TRIES", 5)


def resend_seconds() -> int:
    return _setting("OTP_RESEND_SECONDS", 60)


def _hash(purpose: str, phone: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"otp:{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def client_key(address: str | None) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"otp-client:{address or '-'}".encode(), hashlib.sha256).hexdigest()[:32]


def new_code() -> str:
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def _check_limits(phone: str, client: str, *, now: datetime) -> None:
    hour_ago = now - timedelta(hours=1)
    last = db.session.scalar(select(func.max(OneTimeCode.created_at)).where(OneTimeCode.phone == phone))
    if last is not None and (left := resend_seconds() - (now - last).total_seconds()) > 0:
        seconds = math.ceil(left)
        raise SendLimited(ngettext("A code was just sent. You can ask for a new one in %(num)d second.",
                                   "A code was just sent. You can ask for a new one in %(num)d seconds.",
                                   seconds), seconds)
    per_phone = db.session.scalar(select(func.count()).select_from(OneTimeCode).where(
        OneTimeCode.phone == phone, OneTimeCode.created_at > hour_ago))
    per_client = db.session.scalar(select(func.count()).select_from(OneTimeCode).where(
        OneTimeCode.client_key == client, OneTimeCode.created_at > hour_ago))
    if per_phone >= _setting("OTP_MAX_PER_PHONE_PER_HOUR", 5) or \
            per_client >= _setting("OTP_MAX_PER_CLIENT_PER_HOUR", 20):
        raise SendLimited(_l("Too many codes were asked for. Please wait an hour and try again."), 3600)


def issue(purpose: str, phone: str, *, user: User | None, now: datetime, address: str | None = None,
          locale: str | None = None) -> OneTimeCode:
    """Write a new code for (``purpose``, ``phone``) and queue it to the phone; SendLimited when the limits
    say no (nothing is written then). ``user`` None: a row that no code matches, and no message."""
    if purpose not in OTP_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    client = client_key(address)
    _check_limits(phone, client, now=now)
    code = new_code()
    row = OneTimeCode(purpose=purpose, phone=phone, user_id=user.id if user is not None else None,
                      code_hash=_hash(purpose, phone, code if user is not None else secrets.token_hex(16)),
                      client_key=client, tries=0, created_at=now, expires_at=now + timedelta(minutes=minutes()))
    db.session.add(row)
    db.session.flush()
    if user is not None:
        recipient = Recipient(phone=phone, locale=(locale if locale is not None else user.locale))
        notify(f"code_{purpose}", recipient, code=code, minutes=minutes())
    return row


def can_send() -> bool:
    """Whether an enabled channel reaches phones (without one, say e-mail only, nobody would get a code)."""
    from core import channels

    probe = Recipient(phone="0900000000")
    return any(channel.can_reach(probe) for channel in channels.enabled())


ANYONE = object()  # ``use(..., user_id=ANYONE)``: whichever account the newest code is for


def latest(purpose: str, phone: str, user_id=ANYONE) -> OneTimeCode | None:
    query = select(OneTimeCode).where(OneTimeCode.purpose == purpose, OneTimeCode.phone == phone)
    if user_id is not ANYONE:
        query = query.where(OneTimeCode.user_id.is_(None) if user_id is None else OneTimeCode.user_id == user_id)
    return db.session.scalar(query.order_by(OneTimeCode.id.desc()).limit(1))


def _dead():
    return CodeDead(_l("This code no longer works. Ask for a new one."))


def use(purpose: str, phone: str, code: str, *, now: datetime, user_id=ANYONE) -> OneTimeCode:
    """Use the code typed for (``purpose``, ``phone``): the row, now used, when it is the newest code, still
    good and right; else a CodeError (a wrong try is counted and stays counted: the caller commits).
    ``user_id``: only codes for that account (None: for nobody) count, so that codes sent for two accounts
    that both typed the number (two unconfirmed registrations) never prove one for the other."""
    row = latest(purpose, phone, user_id)
    if row is None or row.used_at is not None or row.tries >= max_tries():
        raise _dead()
    if now > row.expires_at:
        raise CodeExpired(ngettext("This code has expired: codes work for %(num)d minute. Ask for a new one.",
                                   "This code has expired: codes work for %(num)d minutes. Ask for a new one.",
                                   minutes()))
    typed = "".join((code or "").split())
    if not hmac.compare_digest(_hash(purpose, phone, typed), row.code_hash):
        counted = db.session.execute(update(OneTimeCode).where(OneTimeCode.id == row.id,
                                                               OneTimeCode.tries < max_tries())
                                     .values(tries=OneTimeCode.tries + 1)).rowcount
        db.session.refresh(row)
        left = max_tries() - row.tries
        if not counted or left <= 0:
            raise CodeDead(_l("Too many wrong codes: this one no longer works. Ask for a new one."))
        raise WrongCode(ngettext("This code is not right. You can try %(num)d more time.",
                                 "This code is not right. You can try %(num)d more times.", left))
    used = db.session.execute(update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None),
                                                        OneTimeCode.tries < max_tries())
                              .values(used_at=now)).rowcount
    if not used:  # another request used it at the same moment
        raise _dead()
    db.session.refresh(row)
    return row


def purge(now: datetime) -> int:
    """Delete codes older than a day (dead by then, and past every sending limit); safe to run twice at once."""
    return db.session.execute(delete(OneTimeCode).where(OneTimeCode.created_at < now - timedelta(days=1))).rowcount
