"""The verification token printed (as a QR code) on an income statement PDF, so a bank can check the figures.

Choice: a **signed token, no stored row**. The token is the statement's own figures — farm id, period, the moment
of issue and the period's totals (sales, platform fees, refunds, payouts; the net follows from them) — as compact
JSON signed with the app's SECRET_KEY (itsdangerous, HMAC, salt ``income-statement``). Nobody can make one
without the key, and changing a single digit breaks the signature, so a tampered or invented token is a 404.

The verify page shows the figures *as issued* (they come from the signed token, not from today's ledger) and says
whether the ledger still gives the same totals for that period today (``still_matches``): a refund recorded later
inside the period, for instance, makes an old statement stop matching, and the page says so instead of showing a
figure the farmer never had on paper. Nothing else is in the token: no bank account, no buyers, no products.

Rotating SECRET_KEY makes the QR codes of statements issued before stop verifying (the farmer downloads a new one).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from itsdangerous import BadSignature, URLSafeSerializer

from accounts.farms import Farm
from core.extensions import db
from farmers import dashboard
from farmers.periods import Period

SALT = "income-statement"
VERSION = 1


@dataclass(frozen=True)
class Figures:
    """The period's totals as the statement prints them (every figure positive)."""
    sales: int
    fees: int
    refunds: int
    payouts: int

    @property
    def net(self) -> int:
        return self.sales - self.fees - self.refunds

    @classmethod
    def of(cls, totals: dashboard.Totals) -> Figures:
        return cls(totals.sales, totals.fees, totals.refunds, totals.payouts)


@dataclass(frozen=True)
class Issued:
    """What a token says: whose statement, for which days, when it was issued and its figures."""
    farm_id: int
    period: Period
    issued_at: datetime  # naive UTC, to the second
    figures: Figures


def _serializer(secret_key: str) -> URLSafeSerializer:
    # Compact JSON keeps the token (and so the QR code) small.
    return URLSafeSerializer(secret_key, salt=SALT,
                             serializer_kwargs={"separators": (",", ":")}, serializer=json)


def issue(secret_key: str, farm_id: int, period: Period, totals: dashboard.Totals, issued_at: datetime) -> str:
    """The token for a statement of ``farm_id`` over ``period`` with these totals, issued at ``issued_at``."""
    figures = Figures.of(totals)
    stamp = int(issued_at.replace(tzinfo=UTC).timestamp())
    return _serializer(secret_key).dumps(
        [VERSION, farm_id, period.start.isoformat(), period.end.isoformat(), stamp,
         figures.sales, figures.fees, figures.refunds, figures.payouts])


def read(secret_key: str, token: str) -> Issued | None:
    """The statement a token names, or None when it is not one the market signed (tampered, made up, old key)."""
    try:
        data = _serializer(secret_key).loads(token)
        version, farm_id, start, end, stamp, sales, fees, refunds, payouts = data
        if version != VERSION or not all(isinstance(n, int) for n in (farm_id, stamp, sales, fees, refunds,
                                                                         payouts)):
            return None
        period = Period("custom", date.fromisoformat(start), date.fromisoformat(end))
        issued_at = datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
    except (BadSignature, ValueError, TypeError):
        return None
    return Issued(farm_id, period, issued_at, Figures(sales, fees, refunds, payouts))


def figures_today(issued: Issued) -> Figures:
    """The same period's totals from today's ledger, by the same functions the statement page uses."""
    return Figures.of(dashboard.summarise(dashboard.day_rows(issued.farm_id, issued.period)).total)


def farm_of(issued: Issued) -> Farm | None:
    return db.session.get(Farm, issued.farm_id)
