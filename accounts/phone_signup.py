"""Registration and password reset by phone number, with one-time codes (accounts/otp.py).

Registration: the account is created at once with the name, number and password, and no e-mail; it is
unconfirmed (``phone_verified_at`` None) and can do nothing until the code sent to the number is typed in
(logging in with its password only sends a new code). The right code sets ``phone_verified_at``.

Who holds a number. A number signs in to one account at most, the one that proved it (the partial unique
index ``uq_users_verified_phone``). Unproved duplicates are allowed and harmless: an unconfirmed
registration, a number typed by someone who never got the code, an older account's contact number. They
never sign in by phone. When an account proves a number, it becomes the number's; other accounts keep it
only as a contact number. Registering a number that an account has proved creates nothing: the owner gets
a text "someone tried to register with your number" and the page asks for a code as usual (a code that
nobody can know), so the register page does not tell whether the number has an account.

Reset: "forgot password" with a number sends a code only when an active account proved the number, but
writes a code row and answers the same either way (see ``otp.issue``); the code page takes the code and the
new password together.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from accounts import otp, sessions
from accounts.models import User
from accounts.services import AccountError, find_by_phone, hash_password
from core import audit
from core.extensions import db
from core.messages import Recipient, notify
from core.urls import public_url


def start(*, full_name: str, phone: str, password: str, now: datetime, locale: str = "vi",
          address: str | None = None) -> User | None:
    """Register ``phone`` (normalized) and send the code; the new, unconfirmed account, or None when an
    account has proved the number already (its owner is told; nothing is created). Raises
    otp.SendLimited when no code may be sent now (the caller rolls back)."""
    owner = find_by_phone(phone)
    if owner is not None:
        otp.issue("verify_phone", phone, user=None, now=now, address=address)
        if owner.active:
            notify("register_existing", Recipient(phone=phone, locale=owner.locale or locale),
                   name=owner.full_name, login_link=public_url("accounts.login"),
                   reset_link=public_url("accounts.forgot_password"))
        return None
    user = User(email=None, full_name=full_name.strip(), phone=phone, role="buyer",
                password_hash=hash_password(password), session_token=secrets.token_hex(16), locale=locale or None)
    db.session.add(user)
    db.session.flush()
    otp.issue("verify_phone", phone, user=user, now=now, address=address, locale=locale)
    audit.record("user.registered", "user", user.id, actor=user, to_state="buyer", details={"by": "phone"})
    return user


def send_again(phone: str, user_id: int | None, *, now: datetime, address: str | None = None) -> None:
    """A new code for the registration waiting on this page (SendLimited during the cool-down)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is not None and (user.phone != phone or user.phone_verified_at is not None):
        user = None
    otp.issue("verify_phone", phone, user=user, now=now, address=address)


def confirm(phone: str, code: str, user_id: int | None, *, now: datetime) -> User:
    """Account ``user_id`` (the one this browser registered or logged in as), now that the right code proves
    its number; otp.CodeError, or AccountError when another account proved the number in the meantime.
    Only a code sent for that account counts: someone else's unconfirmed registration with the same number
    gets codes too, and none of them confirms this one (nor this one's code theirs)."""
    row = otp.use("verify_phone", phone, code, now=now, user_id=user_id)
    user = db.session.get(User, row.user_id) if row.user_id is not None else None
    if user is None or user.phone != phone or not user.active:
        raise otp.CodeDead(_l("This code no longer works. Ask for a new one."))
    try:
        with db.session.begin_nested():
            changed = db.session.execute(update(User).where(User.id == user.id, User.phone_verified_at.is_(None))
                                         .values(phone_verified_at=now)
                                         .execution_options(synchronize_session=False)).rowcount
    except IntegrityError:
        raise AccountError(_l("Another account has confirmed this phone number. Log in with it, or choose a "
                              "new password for it."), field="code") from None
    db.session.refresh(user)
    if changed:
        audit.record("user.phone_verified", "user", user.id, actor=user, details={"phone": phone})
    return user


def request_reset(phone: str, *, now: datetime, address: str | None = None, locale: str = "vi") -> None:
    """A reset code to ``phone`` if an active account proved it; the same row and limits either way."""
    user = find_by_phone(phone)
    otp.issue("reset", phone, user=user if user is not None and user.active else None, now=now,
              address=address, locale=locale if user is None or not user.locale else user.locale)


def reset_password(phone: str, code: str, new_password: str, *, now: datetime) -> User:
    """Set the new password when the code is right; every session of the account ends."""
    row = otp.use("reset", phone, code, now=now)
    user = db.session.get(User, row.user_id) if row.user_id is not None else None
    if user is None or not user.active or user.phone != phone:
        raise otp.CodeDead(_l("This code no longer works. Ask for a new one."))
    user.set_password(new_password)
    audit.record("user.password_reset", "user", user.id, actor=user, details={"by": "phone"})
    sessions.end_sessions(user, actor=user, reason="password_reset")
    db.session.flush()
    return user
