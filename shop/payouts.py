"""Paying farms out: what the market owes each farm, and recording a bank transfer to one.

A payout is at most what the farm is owed at that moment. Two staff members paying the same farm at once cannot
overdraw it: the farm's row is locked (SELECT ... FOR UPDATE on PostgreSQL) before the balance is read, and the
balance is read inside the same transaction that writes the payout. A form submitted twice carries the same
form token (UNIQUE), so it records one payout.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from accounts.farms import Farm
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.formatting import vnd
from core.time import local_to_utc, to_local
from shop import ledger, vietqr
from shop.ledger import LedgerEntry
from shop.payout_models import Payout

MAX_REFERENCE = 60


class PayoutError(DomainError):
    """A rule of the payouts was broken; ``message`` is for the user."""


@dataclass(frozen=True)
class FarmBalance:
    farm_id: int
    name: str
    village: str
    status: str
    earned: int
    paid_out: int
    last_payout_on: date | None

    @property
    def owed(self) -> int:
        return self.earned - self.paid_out


def balances() -> list[FarmBalance]:
    """Every farm with ledger entries, with what it earned, was paid and is owed, most owed first: one query.

    The sums read farm_id, kind and amount_vnd only, all in the index ix_ledger_entries_farm_kind_amount."""
    sums = (select(LedgerEntry.farm_id, func.sum(LedgerEntry.amount_vnd).label("owed"),
                   func.sum(case((LedgerEntry.kind == "payout", -LedgerEntry.amount_vnd), else_=0)).label("paid_out"))
            .group_by(LedgerEntry.farm_id).subquery())
    last = select(Payout.farm_id, func.max(Payout.paid_on).label("paid_on")).group_by(Payout.farm_id).subquery()
    rows = db.session.execute(
        select(Farm.id, Farm.name, Farm.village, Farm.status, sums.c.owed, sums.c.paid_out, last.c.paid_on)
        .join(sums, sums.c.farm_id == Farm.id)
        .outerjoin(last, last.c.farm_id == Farm.id)).all()
    result = [FarmBalance(farm_id, name, village, status, int(owed or 0) + int(paid or 0), int(paid or 0),
                          date.fromisoformat(last_on) if isinstance(last_on, str) else last_on)
              for farm_id, name, village, status, owed, paid, last_on in rows]
    return sorted(result, key=lambda b: (-b.owed, b.name))


def owed(farm_id: int) -> int:
    """What the market owes the farm now: the sum of all its ledger entries, payouts included."""
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
                                 .where(LedgerEntry.farm_id == farm_id)))


def history(farm_id: int, limit: int = 20) -> list[Payout]:
    """The farm's latest payouts, newest first, with who recorded them: one query."""
    return list(db.session.scalars(
        select(Payout).options(joinedload(Payout.recorded_by)).where(Payout.farm_id == farm_id)
        .order_by(Payout.paid_on.desc(), Payout.id.desc()).limit(limit)))


def transfer_reference(farm: Farm) -> str:
    """The transfer content staff send with a payout: ASCII, at most 25 characters (VietQR's limit)."""
    return f"KEP PAYOUT {farm.id}"


def qr_payload(farm: Farm, amount_vnd: int) -> str | None:
    """A VietQR payload paying ``amount_vnd`` into the farm's own account, or None if its details cannot make one."""
    try:
        return vietqr.build_payload(farm.bank_bin, farm.bank_account_number, amount_vnd, transfer_reference(farm))
    except vietqr.VietQRError:
        return None


def record_payout(farm: Farm, *, amount_vnd: int | None, paid_on: date | None, bank_reference: str,
                  form_token: str, staff, now: datetime) -> tuple[Payout, bool]:
    """Record a transfer made to the farm; returns the payout and whether it is new (False: the same form again).

    Appends the payout entry to the ledger and an audit entry; flushes, the caller commits."""
    bank_reference = (bank_reference or "").strip()
    form_token = (form_token or "").strip()
    if not form_token or len(form_token) > 64:
        raise PayoutError(_l("This form has expired. Please open the payout page again."))
    if amount_vnd is None or amount_vnd <= 0:
        raise PayoutError(_l("Enter an amount above 0 đồng."))
    today = to_local(now).date()
    if paid_on is None or paid_on > today:
        raise PayoutError(_l("The transfer date cannot be in the future."))
    if paid_on.year < 2000:
        raise PayoutError(_l("Check the transfer date."))
    if not bank_reference:
        raise PayoutError(_l("Enter the bank transfer's reference, so the farmer can find it in their account."))
    if len(bank_reference) > MAX_REFERENCE:
        raise PayoutError(_l("The bank reference is too long (at most %(max)s characters).", max=MAX_REFERENCE))

    # Lock the farm: a second payout to it waits here until this one is committed, then sees its entry.
    db.session.execute(select(Farm.id).where(Farm.id == farm.id).with_for_update())
    existing = db.session.scalar(select(Payout).where(Payout.form_token == form_token))
    if existing is not None:
        if existing.farm_id != farm.id:
            raise PayoutError(_l("This form has expired. Please open the payout page again."))
        return existing, False
    balance = owed(farm.id)
    if amount_vnd > balance:
        if balance <= 0:
            raise PayoutError(_l("The market owes this farm nothing at the moment."))
        raise PayoutError(_l("The market owes this farm %(owed)s; a payout cannot be more than that.",
                             owed=vnd(balance)))

    payout = Payout(farm_id=farm.id, amount_vnd=amount_vnd, paid_on=paid_on, bank_reference=bank_reference,
                    recorded_by_id=staff.id, created_at=now, form_token=form_token)
    db.session.add(payout)
    db.session.flush()
    occurred_at = now if paid_on == today else local_to_utc(datetime.combine(paid_on, time(12)))
    ledger.record_payout(payout, occurred_at)
    audit.record("payout.recorded", "payout", payout.id, actor=staff,
                 details={"farm_id": farm.id, "amount_vnd": amount_vnd, "paid_on": paid_on.isoformat(),
                          "bank_reference": bank_reference, "owed_before_vnd": balance})
    db.session.flush()
    return payout, True
