"""Staff rules: the market overview, farm suspension, platform settings, the audit log."""
from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from accounts.farms import Farm
from accounts.models import User
from core import audit, settings_store
from core.audit import AuditEntry
from core.domain import DomainError
from core.extensions import db
from core.time import local_to_utc, to_local
from shop.models import Product
from shop.order_models import FarmOrder, Order, OrderLine
from shop.payment_models import BankTransfer, Refund
from tours.models import TourSlot


class AdminError(DomainError):
    """A staff rule was broken; ``message`` is for the user."""


def overview(now: datetime, days: int = 14) -> dict:
    """The figures of the staff home page, in a fixed number of queries."""
    today = to_local(now).date()
    first_day = today - timedelta(days=days - 1)
    since = local_to_utc(datetime.combine(first_day, time()))
    per_day: OrderedDict[date, list[int]] = OrderedDict((first_day + timedelta(days=i), [0, 0]) for i in range(days))
    for paid_at, total in db.session.execute(select(Order.paid_at, Order.total_vnd)
                                             .where(Order.paid_at >= since, Order.status == "paid")):
        bucket = per_day.get(to_local(paid_at).date())
        if bucket is not None:
            bucket[0] += 1
            bucket[1] += total
    farm_counts = dict(db.session.execute(select(Farm.status, func.count()).group_by(Farm.status)).all())
    return {
        "per_day": per_day,
        "farm_counts": farm_counts,
        "active_products": db.session.scalar(
            select(func.count()).select_from(Product).join(Farm, Product.farm_id == Farm.id)
            .where(Product.status == "active", Farm.status == "approved")),
        "upcoming_seats": db.session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(FarmOrder, OrderLine.farm_order_id == FarmOrder.id)
            .join(TourSlot, OrderLine.slot_id == TourSlot.id)
            .where(FarmOrder.status.in_(("paid", "ready", "completed")), TourSlot.starts_at >= now,
                   TourSlot.status != "cancelled")),
        "transfers_to_check": db.session.scalar(
            select(func.count()).select_from(BankTransfer)
            .where(BankTransfer.status.in_(("unmatched", "underpaid", "late")))),
        "refunds_to_do": db.session.scalar(select(func.count()).select_from(Refund).where(Refund.status == "pending")),
        "expired_orders": db.session.scalar(
            select(func.count()).select_from(Order).where(Order.status == "expired",
                                                          Order.created_at >= now - timedelta(days=7))),
    }


def suspend_farm(farm: Farm, staff: User, reason: str) -> None:
    changed = db.session.execute(update(Farm).where(Farm.id == farm.id, Farm.status == "approved")
                                 .values(status="suspended", rejection_reason=reason.strip())
                                 .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise AdminError(_l("Only an approved farm can be suspended."))
    db.session.refresh(farm)
    audit.record("farm.suspended", "farm", farm.id, actor=staff, from_state="approved", to_state="suspended",
                 details={"reason": reason.strip()})


def reinstate_farm(farm: Farm, staff: User) -> None:
    changed = db.session.execute(update(Farm).where(Farm.id == farm.id, Farm.status == "suspended")
                                 .values(status="approved", rejection_reason=None)
                                 .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise AdminError(_l("This farm is not suspended."))
    db.session.refresh(farm)
    audit.record("farm.reinstated", "farm", farm.id, actor=staff, from_state="suspended", to_state="approved")


def set_platform_fee(basis_points: int, staff: User) -> None:
    previous = settings_store.get("platform_fee_bp", "0")
    settings_store.put("platform_fee_bp", str(basis_points))
    audit.record("settings.platform_fee", "settings", None, actor=staff, from_state=previous,
                 to_state=str(basis_points))


def set_share_fee(basis_points: int | None, staff: User) -> None:
    """The fee for sales from a farm's own shares (shop/referrals.py); None turns it off."""
    previous = settings_store.get("share_fee_bp", "")
    value = "" if basis_points is None else str(basis_points)
    settings_store.put("share_fee_bp", value)
    audit.record("settings.share_fee", "settings", None, actor=staff, from_state=previous or "off",
                 to_state=value or "off")


AUDIT_PAGE_SIZE = 50


def audit_entries(*, action: str = "", entity: str = "", actor_email: str = "", date_from: date | None = None,
                  date_to: date | None = None, page: int = 1) -> tuple[list, int]:
    """One page of the audit log, newest first, with actor names (two queries)."""
    actor, behalf = aliased(User), aliased(User)
    query = (select(AuditEntry, actor.email, actor.full_name, behalf.full_name)
             .outerjoin(actor, AuditEntry.actor_id == actor.id)
             .outerjoin(behalf, AuditEntry.on_behalf_of_id == behalf.id))
    if action:
        query = query.where(AuditEntry.action.startswith(action.strip(), autoescape=True))
    if entity:
        query = query.where(AuditEntry.entity_type == entity)
    if actor_email:
        query = query.where(func.lower(actor.email) == actor_email.strip().lower())
    if date_from:
        query = query.where(AuditEntry.at >= local_to_utc(datetime.combine(date_from, time())))
    if date_to:
        query = query.where(AuditEntry.at < local_to_utc(datetime.combine(date_to + timedelta(days=1), time())))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(query.order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE_SIZE)
                              .offset((page - 1) * AUDIT_PAGE_SIZE)).all()
    return rows, total


def audit_entity_types() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.entity_type).distinct().order_by(AuditEntry.entity_type)))
