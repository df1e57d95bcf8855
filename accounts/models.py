"""Users and their roles."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from core.extensions import db
from core.time import utcnow

ROLES = ("buyer", "farmer", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('buyer', 'farmer', 'admin')", name="role"),
        # Buyers and farmers may have only a phone number; commune staff always have an e-mail.
        CheckConstraint("role <> 'admin' OR email IS NOT NULL", name="staff_email"),
        # A phone number signs in to one account at most: the one that proved it. Unproved numbers may repeat
        # (a number typed at registration and never confirmed, or an old account's contact number).
        Index("uq_users_verified_phone", "phone", unique=True,
              sqlite_where=text("phone_verified_at IS NOT NULL"),
              postgresql_where=text("phone_verified_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optional for buyers and farmers (phone-first accounts), unique when given, stored lower-case.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    # A Vietnamese mobile number as 0xxxxxxxxx (core/validators.normalize_vn_mobile).
    phone: Mapped[str] = mapped_column(String(20))
    # When the account holder last proved, by a one-time code, that the phone number is theirs (None: never).
    phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Message choices (core/preferences.py): the channels chosen ("email,zalo"; None: never chosen, the defaults),
    # the topics turned off, and when marketing was consented to (None: no marketing).
    message_channels: Mapped[str | None] = mapped_column(String(40))
    muted_topics: Mapped[str] = mapped_column(String(200), default="")
    marketing_consent_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="buyer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Changes whenever the password does, so remember-me cookies of old passwords stop working.
    session_token: Mapped[str] = mapped_column(String(64))

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_farmer(self) -> bool:
        return self.role == "farmer"

    @property
    def login_name(self) -> str:
        """What the account signs in with, as shown to people: the e-mail, else the phone number."""
        return self.email or self.phone

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email or self.phone} {self.role}>"


OTP_PURPOSES = ("verify_phone", "login", "reset")


class OneTimeCode(db.Model):
    """A 6-digit code sent to a phone (accounts/otp.py): only its keyed hash is kept; it works until
    ``expires_at``, once (``used_at``), and dies after OTP_MAX_TRIES wrong tries (``tries``)."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        CheckConstraint("purpose IN ('verify_phone', 'login', 'reset')", name="purpose"),
        CheckConstraint("tries >= 0", name="tries"),
        Index("ix_one_time_codes_phone_created", "phone", "created_at"),
        Index("ix_one_time_codes_client_created", "client_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(20))
    # The account the code is for; None when nobody has the number (a reset asked for an unknown phone: the
    # row exists so that the answers and limits are the same, but no message is sent and no code works).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    # A keyed hash of the client's network address, for the per-client sending limit.
    client_key: Mapped[str] = mapped_column(String(32))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
