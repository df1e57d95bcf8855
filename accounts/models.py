"""Users and their roles."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from core.extensions import db
from core.time import utcnow

ROLES = ("buyer", "farmer", "admin")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('buyer', 'farmer', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
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

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
