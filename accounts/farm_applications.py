"""Farm applications and their decision by commune staff."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from accounts.farms import Farm
from accounts.models import User
from core import audit
from core.audit import AuditEntry
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify
from core.text import slugify
from core.urls import public_url


class FarmError(DomainError):
    """A rule of the farms was broken; ``message`` is for the user."""


def unique_slug(model, base: str, exclude_id: int | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is free in ``model``'s table."""
    slug, n = base, 1
    while True:
        query = select(model.id).where(model.slug == slug)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if db.session.scalar(query) is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


def apply(user: User, *, now: datetime, **fields) -> Farm:
    """Apply to sell, or apply again after a rejection, at ``now``. The farm waits for staff."""
    farm = user.farm
    if farm is not None and farm.status in ("pending", "approved", "suspended"):
        raise FarmError(_l("You have already applied. Commune staff will look at your application."))
    if farm is None:
        farm = Farm(owner=user, slug=unique_slug(Farm, slugify(fields["name"])))
        db.session.add(farm)
    previous = farm.status if farm.id else None
    for key, value in fields.items():
        setattr(farm, key, value)
    farm.status = "pending"
    farm.rejection_reason = None
    farm.decided_by_id = None
    farm.decided_at = None
    farm.applied_at = now
    db.session.flush()
    audit.record("farm.applied", "farm", farm.id, actor=user, from_state=previous, to_state="pending")
    return farm


def pending_applications() -> list[Farm]:
    return list(db.session.scalars(select(Farm).where(Farm.status == "pending").order_by(Farm.applied_at)))


def _decide(farm: Farm, staff: User, to_state: str, now: datetime, reason: str | None = None) -> None:
    result = db.session.execute(
        update(Farm).where(Farm.id == farm.id, Farm.status == "pending")
        .values(status=to_state, rejection_reason=reason, decided_by_id=staff.id, decided_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise FarmError(_l("This application has already been decided."))
    db.session.refresh(farm)
    audit.record(f"farm.{to_state}", "farm", farm.id, actor=staff, from_state="pending", to_state=to_state,
                 details={"reason": reason} if reason else None)


def approve(farm: Farm, staff: User, *, now: datetime) -> None:
    _decide(farm, staff, "approved", now)
    owner = farm.owner
    if owner.role == "buyer":
        owner.role = "farmer"
        audit.record("user.role_changed", "user", owner.id, actor=staff, from_state="buyer", to_state="farmer")
    _tell_applicant(farm)


def reject(farm: Farm, staff: User, reason: str, *, now: datetime) -> None:
    _decide(farm, staff, "rejected", now, reason.strip())
    _tell_applicant(farm)


def _tell_applicant(farm: Farm) -> None:
    notify("farm_application_decided", Recipient.of_user(farm.owner), farm=farm,
           link=public_url("farmers.sell"))


def actions_on_behalf_of(user: User, limit: int = 100) -> list[tuple[AuditEntry, str]]:
    """What staff did for this user in assisted mode, newest first, with the staff member's name."""
    staff = aliased(User)
    return list(db.session.execute(
        select(AuditEntry, staff.full_name).join(staff, AuditEntry.actor_id == staff.id)
        .where(AuditEntry.on_behalf_of_id == user.id, AuditEntry.actor_id != user.id)
        .order_by(AuditEntry.id.desc()).limit(limit)).all())
