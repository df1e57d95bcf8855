"""A farm's income figures, read from the append-only ledger (shop/ledger.py) with SQL aggregates.

Nothing here looks at today's prices: every amount is a SUM over ledger entries. A page makes a fixed number of
queries whatever the number of entries: the period's sums by local day, source and kind (from which the headline
figures, the chart and the statement's months are all folded in Python, so they cannot disagree); the sums by
product and tour; the all-time balance together with the next tour slots; and for the CSV the period's lines.

Signs in the ledger: sale +, fee -, refund -, fee_refund +, payout -. Here every figure is shown positive:
platform fees are the fees charged less the fees given back on refunds, so that
``sales - fees - refunds == net`` holds exactly.

The balance splits what was not paid out yet into pending (orders not delivered yet) and available, and shows a
debt to the market plainly (shop/balances.py): ``pending + available + paid_out == earned``.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, case, cast, func, select, true

from core.extensions import db
from core.time import LOCAL_TZ, utcnow
from farmers.periods import Period
from shop import balances as money
from shop import referrals
from shop.ledger import LedgerEntry
from shop.models import Product
from shop.order_models import FarmOrder, OrderLine
from shop.payout_models import Payout
from tours import reports
from tours.models import Tour

# Vietnam has kept UTC+7 without summer time since 1975, so a local day is a fixed shift of the stored UTC.
LOCAL_OFFSET = LOCAL_TZ.utcoffset(datetime(2026, 1, 1))
INCOME_KINDS = ("sale", "fee", "refund", "fee_refund")


def _local_day(column):
    """The local calendar day of a naive-UTC column, in SQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        hours = int(LOCAL_OFFSET.total_seconds() // 3600)
        return func.date(column, f"{hours:+d} hours")
    return cast(column + LOCAL_OFFSET, Date)


def _local_minute(column):
    """A naive-UTC column as local "YYYY-MM-DD HH:MM" text, in SQL (for the CSV: no per-row work in Python)."""
    if db.session.get_bind().dialect.name == "sqlite":
        hours = int(LOCAL_OFFSET.total_seconds() // 3600)
        return func.strftime("%Y-%m-%d %H:%M", column, f"{hours:+d} hours")
    return func.to_char(column + LOCAL_OFFSET, "YYYY-MM-DD HH24:MI")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _in_period(farm_id: int, period: Period):
    return and_(LedgerEntry.farm_id == farm_id, LedgerEntry.occurred_at >= period.start_utc,
                LedgerEntry.occurred_at < period.end_utc)


@dataclass
class Totals:
    """Sales, fees, refunds and payouts of some entries, every figure positive."""
    sales: int = 0
    fees: int = 0
    refunds: int = 0
    payouts: int = 0
    quantity: int = 0   # units (or seats) sold less those refunded

    @property
    def net(self) -> int:
        return self.sales - self.fees - self.refunds

    def add(self, kind: str, amount: int, quantity: int) -> None:
        if kind == "sale":
            self.sales += amount
        elif kind in ("fee", "fee_refund"):
            self.fees -= amount
        elif kind == "refund":
            self.refunds -= amount
        elif kind == "payout":
            self.payouts -= amount
        if kind in ("sale", "refund"):
            self.quantity += quantity


def group_of(source: str) -> str:
    """Produce (with its delivery fees) or tours: the two lines of the chart."""
    return "tours" if source == "tour" else "produce"


@dataclass(frozen=True)
class DayRow:
    day: date
    source: str
    kind: str
    amount: int
    quantity: int
    fee_bp: int | None = None   # the platform fee rate of these entries (None: not kept, or a delivery fee)


def day_rows(farm_id: int, period: Period) -> list[DayRow]:
    """The period's sums by local day, source, kind and fee rate: one query, at most days x 8 rows per rate."""
    day = _local_day(LedgerEntry.occurred_at).label("day")
    rows = db.session.execute(
        select(day, LedgerEntry.source, LedgerEntry.kind, func.sum(LedgerEntry.amount_vnd),
               func.sum(LedgerEntry.quantity), LedgerEntry.fee_bp)
        .where(_in_period(farm_id, period))
        .group_by(day, LedgerEntry.source, LedgerEntry.kind, LedgerEntry.fee_bp)).all()
    return [DayRow(_as_date(d), source, kind, int(amount or 0), int(quantity or 0), fee_bp)
            for d, source, kind, amount, quantity, fee_bp in rows]


@dataclass
class FeeRate:
    """The sales of the period charged at one platform fee rate, and the fees (less those given back)."""
    fee_bp: int | None
    sales: int = 0
    fees: int = 0

    @property
    def percent(self):
        return None if self.fee_bp is None else self.fee_bp / 100


def fee_rates(rows: list[DayRow]) -> list[FeeRate]:
    """The period's sales and fees by the fee rate that applied to them, lowest rate first (delivery fees, which
    carry no fee, and entries from before rates were kept are left out)."""
    rates: dict[int, FeeRate] = {}
    for row in rows:
        if row.fee_bp is None or row.kind not in ("sale", "fee", "fee_refund"):
            continue
        rate = rates.setdefault(row.fee_bp, FeeRate(row.fee_bp))
        if row.kind == "sale":
            rate.sales += row.amount
        else:
            rate.fees -= row.amount
    return [rates[key] for key in sorted(rates)]


@dataclass
class Summary:
    """The period's headline figures, overall and for produce and tours apart."""
    total: Totals = field(default_factory=Totals)
    produce: Totals = field(default_factory=Totals)
    tours: Totals = field(default_factory=Totals)


def summarise(rows: list[DayRow]) -> Summary:
    summary = Summary()
    for row in rows:
        summary.total.add(row.kind, row.amount, 0)
        if row.kind != "payout":
            getattr(summary, group_of(row.source)).add(row.kind, row.amount, row.quantity)
    summary.total.quantity = summary.produce.quantity + summary.tours.quantity
    return summary


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, bucket: str) -> date:
    if bucket == "day":
        return start + timedelta(days=1)
    if bucket == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass
class Bucket:
    start: date
    end: date         # last day, included (clipped to the period)
    produce: Totals = field(default_factory=Totals)
    tours: Totals = field(default_factory=Totals)
    payouts: int = 0

    @property
    def net(self) -> int:
        return self.produce.net + self.tours.net

    @property
    def total(self) -> Totals:
        totals = Totals(payouts=self.payouts)
        for part in (self.produce, self.tours):
            totals.sales += part.sales
            totals.fees += part.fees
            totals.refunds += part.refunds
            totals.quantity += part.quantity
        return totals


def buckets(rows: list[DayRow], period: Period, step: str | None = None) -> list[Bucket]:
    """Every day, week or month of the period (empty ones too), with its sums."""
    step = step or period.bucket
    result: dict[date, Bucket] = {}
    start = bucket_start(period.start, step)
    while start <= period.end:
        following = _next_bucket(start, step)
        result[start] = Bucket(max(start, period.start), min(following - timedelta(days=1), period.end))
        start = following
    for row in rows:
        target = result[bucket_start(row.day, step)]
        if row.kind == "payout":
            target.payouts -= row.amount
        else:
            getattr(target, group_of(row.source)).add(row.kind, row.amount, row.quantity)
    return list(result.values())


@dataclass(frozen=True)
class ItemRow:
    """One product, tour or the delivery fees, over the period."""
    source: str
    name: str | None
    unit: str | None
    quantity: int
    sales: int
    net: int
    share_percent: int | None   # of the period's net income, rounded


def by_item(farm_id: int, period: Period, total_net: int) -> list[ItemRow]:
    """Sums by product and by tour (and delivery fees): one query, summing first and joining names to the sums."""
    sums = (select(LedgerEntry.source, LedgerEntry.product_id, LedgerEntry.tour_id,
                   func.sum(case((LedgerEntry.kind.in_(("sale", "refund")), LedgerEntry.quantity), else_=0))
                   .label("quantity"),
                   func.sum(case((LedgerEntry.kind == "sale", LedgerEntry.amount_vnd), else_=0)).label("sales"),
                   func.sum(LedgerEntry.amount_vnd).label("net"))
            .where(_in_period(farm_id, period), LedgerEntry.kind.in_(INCOME_KINDS))
            .group_by(LedgerEntry.source, LedgerEntry.product_id, LedgerEntry.tour_id).subquery())
    rows = db.session.execute(
        select(sums.c.source, Product.name, Product.unit, Tour.title, sums.c.quantity, sums.c.sales, sums.c.net)
        .outerjoin(Product, Product.id == sums.c.product_id)
        .outerjoin(Tour, Tour.id == sums.c.tour_id)).all()
    items = []
    for source, product_name, unit, tour_title, quantity, sales, net in rows:
        net = int(net or 0)
        share = (200 * net + total_net) // (2 * total_net) if total_net > 0 else None
        items.append(ItemRow(source, tour_title if source == "tour" else product_name,
                             unit if source == "produce" else None, int(quantity or 0), int(sales or 0), net, share))
    order = {"produce": 0, "tour": 1, "delivery": 2}
    return sorted(items, key=lambda i: (order.get(i.source, 3), -i.net, i.name or ""))


def units_sold(items: list[ItemRow]) -> list[tuple[str, int]]:
    """Produce sold in the period by unit, kilograms first: [("kg", 120), ("bag", 14)]."""
    per_unit: dict[str, int] = defaultdict(int)
    for item in items:
        if item.source == "produce" and item.unit:
            per_unit[item.unit] += item.quantity
    return sorted(per_unit.items(), key=lambda pair: (pair[0] != "kg", pair[0]))


@dataclass(frozen=True)
class Balance(money.Figures):
    """All-time figures (shop/balances.py gives ``owed``, ``available``, ``payable`` and ``debt``)."""
    earned: int               # net income of all time
    paid_out: int
    last_payout_on: date | None
    orders_to_prepare: int    # paid farm orders waiting for the farmer
    checked_in: int           # visitors checked in during the period (0 until tours record check-ins)
    pending: int = 0          # of the net income, what waits for its orders to be delivered
    share_visits: int = 0     # during the period: arrivals through the farm's shared links (shop/referrals.py),
    share_orders: int = 0     # the paid farm orders that came from them,
    share_vnd: int = 0        # and what they sold (produce and visits, less refunds)


def _balance_select(farm_id: int, period: Period | None, now: datetime):
    """All-time balance, pending, last payout, orders to prepare and visitors checked in, as one row.

    The sums read only farm_id, kind and amount_vnd, which the index ix_ledger_entries_farm_kind_amount holds, so
    the database never visits the table rows; the pending sum reads only the farm's open farm orders."""
    payouts = (select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0))
               .where(LedgerEntry.farm_id == farm_id, LedgerEntry.kind == "payout").scalar_subquery())
    last_payout = select(func.max(Payout.paid_on)).where(Payout.farm_id == farm_id).scalar_subquery()
    orders = (select(func.count()).select_from(FarmOrder)
              .where(FarmOrder.farm_id == farm_id, FarmOrder.status == "paid").scalar_subquery())
    shares = ([value.label(name) for name, value in referrals.figures(
        farm_id, period.start, period.end, period.start_utc, period.end_utc).items()] if period is not None else [])
    return (select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0).label("owed"), payouts.label("payouts"),
                   last_payout.label("last_payout_on"), orders.label("orders_to_prepare"),
                   reports.checked_in(farm_id, period).label("checked_in"),
                   money.pending_of(farm_id, now).label("pending"), *shares)
            .where(LedgerEntry.farm_id == farm_id))


def _balance_of(row) -> Balance:
    last = row.last_payout_on
    last = date.fromisoformat(last) if isinstance(last, str) else last  # SQLite may give MAX() of a DATE as text
    shares = row._mapping
    return Balance(int(row.owed) - int(row.payouts), -int(row.payouts), last, int(row.orders_to_prepare or 0),
                   int(row.checked_in or 0), int(row.pending or 0), int(shares.get("share_visits") or 0),
                   int(shares.get("share_orders") or 0), int(shares.get("share_vnd") or 0))


def balance(farm_id: int, period: Period | None = None, now: datetime | None = None) -> Balance:
    """The farm's balance at ``now`` (default: this moment), and orders to prepare, visitors checked in during
    ``period``: one query."""
    return _balance_of(db.session.execute(_balance_select(farm_id, period, now or utcnow())).one())


def next_slots(farm_id: int, now: datetime, limit: int = 5) -> list[reports.SlotRow]:
    return reports.next_slots(farm_id, now, limit)


def balance_and_slots(farm_id: int, period: Period, now: datetime,
                      limit: int = 5) -> tuple[Balance, list[reports.SlotRow]]:
    """``balance`` and ``next_slots`` in one query, for the dashboard's budget of queries: the single balance row
    left-joined to each next slot comes back once per slot, or once with empty slot columns when none is planned."""
    totals = _balance_select(farm_id, period, now).subquery("totals")
    slots = reports.slots_select(farm_id, now, limit).subquery("slots")
    rows = db.session.execute(select(totals, slots).select_from(totals.outerjoin(slots, true()))
                              .order_by(slots.c.starts_at, slots.c.slot_id)).all()
    return _balance_of(rows[0]), [reports.slot_of(row) for row in rows if row.slot_id is not None]


def ledger_lines(farm_id: int, period: Period):
    """The period's entries, oldest first: rows with local_time (text), kind, source, name (as it was on the
    order), quantity, amount, order_id, payout_reference and fee_bp. One query."""
    name = func.coalesce(OrderLine.name, Product.name, Tour.title).label("name")
    return db.session.execute(
        select(_local_minute(LedgerEntry.occurred_at).label("local_time"), LedgerEntry.kind, LedgerEntry.source,
               name, LedgerEntry.quantity, LedgerEntry.amount_vnd.label("amount"), LedgerEntry.order_id,
               Payout.bank_reference.label("payout_reference"), LedgerEntry.fee_bp)
        .outerjoin(OrderLine, OrderLine.id == LedgerEntry.order_line_id)
        .outerjoin(Product, Product.id == LedgerEntry.product_id)
        .outerjoin(Tour, Tour.id == LedgerEntry.tour_id)
        .outerjoin(Payout, Payout.id == LedgerEntry.payout_id)
        .where(_in_period(farm_id, period))
        .order_by(LedgerEntry.occurred_at, LedgerEntry.id)).all()


def payouts_in(farm_id: int, period: Period) -> list[Payout]:
    """The payouts whose ledger entry falls in the period (for the statement): one query."""
    return list(db.session.scalars(
        select(Payout).join(LedgerEntry, and_(LedgerEntry.payout_id == Payout.id, LedgerEntry.kind == "payout"))
        .where(_in_period(farm_id, period), Payout.farm_id == farm_id)
        .order_by(LedgerEntry.occurred_at, Payout.id)))
