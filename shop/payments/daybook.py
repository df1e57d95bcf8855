"""The daily balance of the bank money: for each local day (Asia/Ho_Chi_Minh), what came in and where it is.

    credits received = payments applied + waiting as parts + refunded + unmatched + resolved by staff

Read from the database as it is now, per credit of the statement (a ``bank_transfers`` row without a parent),
on the day of the bank's time (the time it was recorded when the bank gave none):

- applied: parts (or whole credits) that are in a succeeded payment of their order (status matched, or
  overpaid less the "overpaid" refund of that payment);
- waiting as parts: parts still waiting for the rest of their order ("underpaid");
- refunded: booked back, sent or not: parts an order could not take ("late"), what was over ("overpaid"), and
  the refunds of unmatched credits (reason "unmatched", whole or what was left after a split);
- unmatched: what of an unmatched credit no order took and nothing booked back;
- resolved: what staff marked resolved outside the market (a waiting or late part they settled, a credit
  that was not for the market); a late part resolved after its refund was booked reads as resolved.

Each amount comes from its own rows (the parts, the payments, the refunds), so a day balances only when they
agree; a day that does not (parts beyond their credit, a "matched" part with no payment, a split credit whose
money went nowhere) is shown with its difference, for staff to look at. Refunds of a paid order made later
(after delivery) are not part of this: that money had been applied."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from core.extensions import db
from core.time import local_to_utc, to_local
from shop.payment_models import BankTransfer, Refund

BUCKETS = ("applied", "waiting", "refunded", "unmatched", "resolved")


@dataclass
class Day:
    day: date
    credits: int = 0  # how many credits
    received: int = 0
    amounts: dict = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def accounted(self) -> int:
        return sum(self.amounts.values())

    @property
    def difference(self) -> int:
        return self.received - self.accounted

    @property
    def balanced(self) -> bool:
        return self.difference == 0

    def __getattr__(self, name):
        if name in BUCKETS:
            return self.amounts[name]
        raise AttributeError(name)


def credit_time():
    return func.coalesce(BankTransfer.transferred_at, BankTransfer.received_at)


def daily_balance(first: date, last: date) -> list[Day]:
    """One ``Day`` per local day from ``first`` to ``last`` that had credits, newest first. Four queries."""
    start, end = local_to_utc(datetime.combine(first, time())), local_to_utc(datetime.combine(last, time()))
    end += timedelta(days=1)
    credits = db.session.scalars(select(BankTransfer).where(BankTransfer.parent_id.is_(None), credit_time() >= start,
                                                            credit_time() < end)).all()
    ids = [credit.id for credit in credits]
    parts: dict[int, list[BankTransfer]] = defaultdict(list)
    for part in db.session.scalars(select(BankTransfer).where(BankTransfer.parent_id.in_(ids))) if ids else ():
        parts[part.parent_id].append(part)
    sent_back: dict[int, int] = defaultdict(int)
    for transfer_id, amount in db.session.execute(
            select(Refund.bank_transfer_id, Refund.amount_vnd).where(Refund.bank_transfer_id.in_(ids),
                                                                     Refund.reason == "unmatched")) if ids else ():
        sent_back[transfer_id] += amount
    payments = {row.payment_id for rows in ([c] + parts[c.id] for c in credits) for row in rows
                if row.status == "overpaid" and row.payment_id}
    over: dict[int, int] = defaultdict(int)
    for payment_id, amount in db.session.execute(
            select(Refund.payment_id, Refund.amount_vnd).where(Refund.payment_id.in_(payments),
                                                               Refund.reason == "overpaid")) if payments else ():
        over[payment_id] += amount
    days: dict[date, Day] = {}
    for credit in credits:
        day = to_local(credit.transferred_at or credit.received_at).date()
        entry = days.setdefault(day, Day(day))
        entry.credits += 1
        entry.received += credit.amount_vnd
        _account(entry.amounts, credit, parts[credit.id], sent_back[credit.id], over)
    return sorted(days.values(), key=lambda entry: entry.day, reverse=True)


def _account(amounts: dict, credit: BankTransfer, parts: list[BankTransfer], sent_back: int, over: dict) -> None:
    amounts["refunded"] += sent_back
    leaves = parts or ([credit] if credit.status in ("matched", "overpaid", "underpaid", "late") else [])
    for leaf in leaves:
        _account_part(amounts, leaf, over)
    if parts or not leaves:  # what of the credit itself no part took
        rest = max(credit.amount_vnd - sum(part.amount_vnd for part in parts) - sent_back, 0)
        if credit.status == "unmatched":
            amounts["unmatched"] += rest
        elif credit.status == "resolved":
            amounts["resolved"] += rest
        # "split": nothing may be left; if something is, the day does not balance


def _account_part(amounts: dict, part: BankTransfer, over: dict) -> None:
    if part.status in ("matched", "overpaid") and part.payment_id:
        extra = over[part.payment_id] if part.status == "overpaid" else 0
        amounts["applied"] += part.amount_vnd - extra
        amounts["refunded"] += extra
    elif part.status == "underpaid":
        amounts["waiting"] += part.amount_vnd
    elif part.status == "late":
        amounts["refunded"] += part.amount_vnd
    elif part.status == "resolved":
        amounts["resolved"] += part.amount_vnd


def recent_days(today: date, days: int = 14) -> list[Day]:
    return daily_balance(today - timedelta(days=days - 1), today)
