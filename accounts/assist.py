"""Assisted mode: commune staff act for a farmer who asked for help, with that consent on record.

Staff may use a farmer's screens (``?farm=<id>``) only while a consent is active. Every change
they make there is audit-logged with both names (actor = staff, on behalf of = the farmer), and
the farmer sees the consents and those changes on their assistance page, where they can end it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.farms import Farm
from core import audit
from core.domain import DomainError
from core.extensions import db

CONSENT_WAYS = ("in_person", "phone", "written")
MAX_DAYS = 90


class AssistConsent(db.Model):
    __tablename__ = "assist_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    farm_id: Mapped[int] = mapped_column(ForeignKey("farms.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    way: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    ended_by = relationship("User", foreign_keys=[ended_by_id])

    def is_active(self, now: datetime) -> bool:
        return self.ended_at is None and self.granted_at <= now < self.expires_at


class AssistError(DomainError):
    """A rule of the assisted mode was broken; ``message`` is for the user."""


def active_consent(farm: Farm, now: datetime) -> AssistConsent | None:
    return db.session.scalar(select(AssistConsent).where(
        AssistConsent.farm_id == farm.id, AssistConsent.ended_at.is_(None), AssistConsent.granted_at <= now,
        AssistConsent.expires_at > now).order_by(AssistConsent.expires_at.desc()).limit(1))


def record_consent(farm: Farm, staff, *, way: str, note: str, days: int, now: datetime) -> AssistConsent:
    if way not in CONSENT_WAYS:
        raise AssistError(_l("Choose how the farmer gave consent."))
    if not 1 <= days <= MAX_DAYS:
        raise AssistError(_l("Consent lasts from 1 to %(max)d days.", max=MAX_DAYS))
    if farm.status not in ("approved", "suspended"):
        raise AssistError(_l("Only an approved farm can be helped in assisted mode."))
    consent = AssistConsent(farm_id=farm.id, recorded_by_id=staff.id, way=way, note=note.strip(),
                            granted_at=now, expires_at=now + timedelta(days=days))
    db.session.add(consent)
    db.session.flush()
    audit.record("assist.consent_recorded", "farm", farm.id, actor=staff, on_behalf_of=farm.owner,
                 to_state="active", details={"consent_id": consent.id, "way": way, "days": days})
    return consent


def end_consent(consent: AssistConsent, user, now: datetime) -> None:
    """The farmer (or staff) ends assisted mode now."""
    ended = db.session.execute(
        update(AssistConsent).where(AssistConsent.id == consent.id, AssistConsent.ended_at.is_(None))
        .values(ended_at=now, ended_by_id=user.id).execution_options(synchronize_session=False))
    if ended.rowcount != 1:
        raise AssistError(_l("This consent has already ended."))
    db.session.refresh(consent)
    audit.record("assist.consent_ended", "farm", consent.farm_id, actor=user, from_state="active",
                 to_state="ended", details={"consent_id": consent.id})


def consents(farm: Farm) -> list[AssistConsent]:
    return list(db.session.scalars(select(AssistConsent).where(AssistConsent.farm_id == farm.id)
                                   .order_by(AssistConsent.granted_at.desc()).limit(50)))
