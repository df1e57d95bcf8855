"""Paying farms out: what the market owes each farm, and recording a bank transfer to one.

A payout is at most what is available to the farm at that moment: its money from fulfilled orders less what was
paid out (shop/balances.py). Money of orders not delivered yet is pending and cannot be paid out; a farm that owes
the market (a refund after a payout) is paid nothing until its next sales have settled the debt.

A payout's ledger entry is dated when it is recorded, whatever transfer date staff type: a payout recorded late
with an earlier bank date never changes a statement or period already issued. The bank's date stays on the
payout (``paid_on``) and is shown as the transfer date. Two staff members paying the same farm at once cannot
overdraw it: the farm's row is locked (SELECT ... FOR UPDATE on PostgreSQL) before the balance is read, and the
balance is read inside the same transaction that writes the payout. A form submitted twice carries the same
form token (UNIQUE), so it records one payout.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from accounts.farms import Farm
from core import audit
from core.domain import DomainError
from core.extensions import db
from core.formatting import vnd
from core.time import to_local
from shop import balances as money
from shop import ledger, notices, vietqr
from shop.ledger import LedgerEntry
from shop.payout_models import Payout

MAX_REFERENCE = 60


class PayoutError(DomainError):
    """A rule of the payouts was broken; ``message`` is for the user."""


@dataclass(frozen=True)
class FarmBalance(money.Figures):
    """A farm's figures (shop/balances.py): earned, paid out, pending; available, payable and debt follow."""
    farm_id: int
    name: str
    village: str
    status: str
    earned: int
    paid_out: int
    pending: int
    last_payout_on: date | None


def _last_payout():
    return select(Payout.farm_id, func.max(Payout.paid_on).label("paid_on")).group_by(Payout.farm_id).subquery()


def _sums():
    """Each farm's net plus payouts ("owed") and payouts, from the index ix_ledger_entries_farm_kind_amount."""
    return (select(LedgerEntry.farm_id, func.sum(LedgerEntry.amount_vnd).label("owed"),
                   func.sum(case((LedgerEntry.kind == "payout", -LedgerEntry.amount_vnd), else_=0)).label("paid_out"))
            .group_by(LedgerEntry.farm_id))


def _balances(now: datetime, farm_id: int | None = None) -> list[FarmBalance]:
    sums = (_sums() if farm_id is None else _sums().where(LedgerEntry.farm_id == farm_id)).subquery()
    last = _last_payout()
    pending = money.pending_by_farm(now, farm_id)
    rows = db.session.execute(
        select(Farm.id, Farm.name, Farm.village, Farm.status, sums.c.owed, sums.c.paid_out, pending.c.pending,
               last.c.paid_on)
        .join(sums, sums.c.farm_id == Farm.id)
        .outerjoin(pending, pending.c.farm_id == Farm.id)
        .outerjoin(last, last.c.farm_id == Farm.id)).all()
    return [FarmBalance(farm_id, name, village, status, int(owed or 0) + int(paid or 0), int(paid or 0),
                        int(waiting or 0), date.fromisoformat(last_on) if isinstance(last_on, str) else last_on)
            for farm_id, name, village, status, owed, paid, waiting, last_on in rows]


def balances(now: datetime) -> list[FarmBalance]:
    """Every farm with ledger entries, with what it earned, was paid, is pending and available, most available
    first (then those owing the market): one query."""
    return sorted(_balances(now), key=lambda b: (-b.available, b.name))


def balance(farm: Farm, now: datetime) -> FarmBalance:
    """One farm's figures (all 0 when it has no ledger entry): one query."""
    found = _balances(now, farm.id)
    return found[0] if found else FarmBalance(farm.id, farm.name, farm.village, farm.status, 0, 0, 0, None)


def owed(farm_id: int) -> int:
    """The farm's net income not paid out yet, pending and available together: the sum of all its ledger
    entries, payouts included."""
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
                                 .where(LedgerEntry.farm_id == farm_id)))


def available(farm_id: int, now: datetime) -> int:
    """What the farm's fulfilled orders left after payouts (negative: the farm owes the market): one query."""
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)
                                        - money.pending_of(farm_id, now))
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


def refusal(figures: FarmBalance):
    """Why a payout above what is available is refused, saying what can be paid."""
    if figures.debt:
        return _l("This farm owes the market %(debt)s (a refund made after its last payout); it is taken from its "
                  "next sales. Nothing can be paid out now.", debt=vnd(figures.debt))
    if figures.payable <= 0 and figures.pending > 0:
        return _l("Nothing is available to pay out yet: %(pending)s is pending until its orders are delivered.",
                  pending=vnd(figures.pending))
    if figures.payable <= 0:
        return _l("The market owes this farm nothing at the moment.")
    return _l("Only %(available)s is available to pay out now (money of orders not delivered yet stays pending). "
              "Pay at most %(available)s.", available=vnd(figures.payable))


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
    figures = balance(farm, now)
    if amount_vnd > figures.payable:
        raise PayoutError(refusal(figures))

    payout = Payout(farm_id=farm.id, amount_vnd=amount_vnd, paid_on=paid_on, bank_reference=bank_reference,
                    recorded_by_id=staff.id, created_at=now, form_token=form_token)
    db.session.add(payout)
    db.session.flush()
    ledger.record_payout(payout, now)  # dated when recorded: a past statement never changes
    audit.record("payout.recorded", "payout", payout.id, actor=staff,
                 details={"farm_id": farm.id, "amount_vnd": amount_vnd, "paid_on": paid_on.isoformat(),
                          "bank_reference": bank_reference, "owed_before_vnd": figures.owed,
                          "available_before_vnd": figures.available, "pending_vnd": figures.pending})
    db.session.flush()
    notices.payout_sent(payout)
    return payout, True
