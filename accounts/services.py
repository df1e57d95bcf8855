"""Account rules: registration, authentication, passwords, roles."""
from __future__ import annotations

import secrets
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import throttle
from accounts.models import User
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.validators import normalize_vn_mobile


class AccountError(DomainError):
    """A rule was broken; ``message`` is for the user."""


_NOBODY = object()  # ``authenticate(user=_NOBODY)``: looked up already, and nobody has it


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def register(*, email: str, full_name: str, phone: str, password: str, role: str = "buyer") -> User:
    if role == "admin" and not normalize_email(email):
        raise AccountError(_l("Commune staff accounts need an email address."), field="email")
    if find_by_email(email) is not None:
        raise AccountError(_l("An account with this email already exists. Log in, or use another email."),
                           field="email")
    user = User(email=normalize_email(email), full_name=full_name.strip(), phone=phone, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.registered", "user", user.id, actor=user, to_state=role)
    return user


def hash_password(password: str) -> str:
    """The stored form of a password (the same as ``User.set_password`` makes)."""
    return generate_password_hash(password, method="scrypt")


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password, made like real ones, that nothing matches: checked instead when there is
    no usable account, so that an unknown or suspended e-mail takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(24))


def authenticate(email: str, password: str, user: User | None = None) -> User | None:
    """The active user with this email and password, or None: the same answer, in the same time, whether
    the account is missing, suspended or the password wrong (one scrypt check every time).
    ``user``: the account already looked up for ``email``, if the caller has it."""
    user = user if user is not None else find_by_email(email)
    user = None if user is _NOBODY else user
    usable = user is not None and user.active
    matches = check_password_hash(user.password_hash if usable else dummy_hash(), password)
    return user if usable and matches else None


class PhoneNotVerified(AccountError):
    """The right password for an account registered by phone that has not confirmed its number yet."""

    def __init__(self, user: User):
        super().__init__(_l("Confirm your phone number first: enter the code we send to it."))
        self.user = user


def login_phone(identifier: str) -> str | None:
    """The phone number typed at login (0912 345 678, +84912345678, 84912345678 → 0912345678), or None
    when ``identifier`` is an e-mail (or nothing one can log in with)."""
    if "@" in (identifier or ""):
        return None
    return normalize_vn_mobile(identifier)


def find_by_phone(phone: str) -> User | None:
    """The account that proved this (normalized) number; unproved numbers sign in to nothing."""
    return db.session.scalar(select(User).where(User.phone == phone, User.phone_verified_at.is_not(None)))


def pending_by_phone(phone: str) -> User | None:
    """The newest account registered by phone with this number and not confirmed yet (no e-mail either)."""
    return db.session.scalar(select(User).where(User.phone == phone, User.phone_verified_at.is_(None),
                                                User.email.is_(None))
                             .order_by(User.id.desc()).limit(1))


def log_in(identifier: str, password: str, *, address: str | None, now) -> User:
    """The account, when the password is right and this (account, address) pair is not made to wait.
    ``identifier`` is an e-mail or a Vietnamese mobile number, in any of its spellings.

    Raises ``throttle.Throttled`` (before the password is even checked) while the pair waits, and
    AccountError for a wrong password or an unknown or suspended account (one message for all three).
    A phone signs in to the account that proved it; when none has, the right password of the newest
    account registered with it and still unconfirmed raises PhoneNotVerified (the caller sends a code).
    Failures and successes are counted in accounts/throttle.py."""
    phone = login_phone(identifier)
    key = phone or normalize_email(identifier)
    throttle.check(key, address)
    if phone is not None:
        user = find_by_phone(phone)
        pending = pending_by_phone(phone) if user is None else None
        found = authenticate(key, password, user=user or pending or _NOBODY)
        wrong = _l("The phone number or the password is not right.")
    else:
        user = find_by_email(key)
        pending = None
        found = authenticate(key, password, user=user)
        wrong = _l("The email or the password is not right.")
    if found is None:
        throttle.failed(key, address, user=user or pending, now=now)
        raise AccountError(wrong)
    throttle.succeeded(key, address)
    if found is pending:
        raise PhoneNotVerified(found)
    return found


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_l("The current password is not right."), field="current")
    user.set_password(new)
    audit.record("user.password_changed", "user", user.id, actor=user)


def suspend(user: User, staff: User, reason: str) -> None:
    """Staff suspend an account: it cannot log in (the login page says what it says for a wrong password)
    and every one of its sessions ends now. Staff cannot suspend themselves."""
    from accounts import sessions

    if user.id == staff.id:
        raise AccountError(_l("You cannot suspend your own account."))
    changed = db.session.execute(update(User).where(User.id == user.id, User.active.is_(True))
                                 .values(active=False).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise AccountError(_l("This account is already suspended."))
    db.session.refresh(user)
    audit.record("user.suspended", "user", user.id, actor=staff, from_state="active", to_state="suspended",
                 details={"reason": reason.strip()})
    sessions.end_sessions(user, actor=staff, reason="suspended")


def reinstate(user: User, staff: User) -> None:
    changed = db.session.execute(update(User).where(User.id == user.id, User.active.is_(False))
                                 .values(active=True).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise AccountError(_l("This account is not suspended."))
    db.session.refresh(user)
    audit.record("user.reinstated", "user", user.id, actor=staff, from_state="suspended", to_state="active")


def search(text: str, limit: int = 50) -> list[User]:
    """Accounts whose email, name or phone holds ``text`` (all, newest first, when it is empty)."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc()).limit(limit)
    text = (text or "").strip()[:100]
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(User.email).like(pattern, escape="\\"),
                                func.lower(User.full_name).like(pattern, escape="\\"),
                                User.phone.like(pattern, escape="\\")))
    return list(db.session.scalars(query))


def create_admin(email: str, password: str, full_name: str = "Commune staff", phone: str = "0900000000") -> User:
    """Make (or promote) a commune-staff account."""
    user = find_by_email(email)
    if user is None:
        user = register(email=email, full_name=full_name, phone=phone, password=password, role="admin")
    else:
        previous = user.role
        user.role = "admin"
        user.set_password(password)
        audit.record("user.role_changed", "user", user.id, actor_label="cli:create-admin",
                     from_state=previous, to_state="admin")
    return user
