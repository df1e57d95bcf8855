"""Account rules: registration, authentication, passwords, roles."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from accounts.models import User
from core import audit, inputs
from core.extensions import db


class AccountError(Exception):
    """A rule was broken; ``message`` is for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def register(*, email: str, full_name: str, phone: str, password: str, role: str = "buyer") -> User:
    if find_by_email(email) is not None:
        raise AccountError(_l("An account with this email already exists. Log in, or use another email."))
    user = User(email=normalize_email(email), full_name=full_name.strip(), phone=phone, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.registered", "user", user.id, actor=user, to_state=role)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same answer for either mistake)."""
    user = find_by_email(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current):
        raise AccountError(_l("The current password is not right."))
    user.set_password(new)
    audit.record("user.password_changed", "user", user.id, actor=user)


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the id carries a token that a password change renews."""
    ident, _, token = (user_id or "").partition(":")
    ident = inputs.parse_id(ident)
    if ident is None:
        return None
    user = db.session.get(User, ident)
    if user is None or user.session_token != token or not user.active:
        return None
    return user


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
