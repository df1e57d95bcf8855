"""What of a farm's money is pending, available to pay out, paid out, or owed back to the market.

Derived at read time from the append-only ledger (shop/ledger.py) joined to the state of each entry's farm order;
no entry is ever rewritten and no existing figure changes meaning:

    earned (net: sales − fees − refunds)  ==  pending + available + paid out

- **Pending**: the entries (sale, fee, refund, fee_refund) of a farm order that is not fulfilled yet. A farm order
  is fulfilled when it is completed (picked up or delivered; the farmer's last step), or when every one of its
  lines is a visit that has taken place. A visit line has taken place when its ticket is checked in, or when its
  slot's start time has passed (the slot not cancelled): a farmer who forgets to check a group in is not kept
  waiting, and a missed visit is refunded by staff like damaged fruit. An entry of a visit line that has taken
  place is available even while its farm order waits for other lines. What "taken place" means for a kind of line
  is the kind's own rule (``delivered(line, now)`` in shop/lines.py), so the shop never reads the tours' tables.
- A cancelled farm order is closed: its refunds undo its sales, so it adds nothing to either side.
- Entries with no farm order (none are written by the shop today) are available.
- **Available** is the rest: earned less paid out less pending. A refund made after a payout can make it negative;
  that is a **debt** the farm owes the market, settled by its next sales as they become available. Screens show
  ``payable`` (never below 0) and ``debt``, never a negative balance.

Only open farm orders (not completed, not cancelled) are read for the pending sum, through the indexes
ix_farm_orders_farm_status and ix_ledger_entries_farm_order, so the sum stays small however long a farm has sold.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, func, not_, or_, select
from sqlalchemy.orm import aliased

from shop import lines
from shop.ledger import LedgerEntry
from shop.order_models import FARM_ORDER_STATUSES, FarmOrder, OrderLine

CLOSED_STATUSES = ("completed", "cancelled")
# Listed rather than NOT IN, so that the index on (farm_id, status) is used.
OPEN_STATUSES = tuple(status for status in FARM_ORDER_STATUSES if status not in CLOSED_STATUSES)


class Figures:
    """Pending, available, payable and debt from ``earned``, ``paid_out`` and ``pending`` (mixed into the
    dashboard's and the payouts' balance rows)."""
    earned: int
    paid_out: int
    pending: int

    @property
    def owed(self) -> int:
        """Net income not paid out yet, pending and available together (the figure the ledger always gave)."""
        return self.earned - self.paid_out

    @property
    def available(self) -> int:
        """What the farm's fulfilled orders left after payouts; negative when the farm owes the market."""
        return self.earned - self.paid_out - self.pending

    @property
    def payable(self) -> int:
        """What may be paid out now."""
        return max(self.available, 0)

    @property
    def debt(self) -> int:
        """What the farm owes the market (a refund after a payout), taken from its next sales."""
        return max(-self.available, 0)


def delivered(line, now: datetime):
    """SQL: the order line (``OrderLine`` or an alias of it) has been delivered by its own kind's rule."""
    clauses = [kind.delivered(line, now) for kind in lines.kinds() if hasattr(kind, "delivered")]
    return or_(*clauses) if clauses else false()


def _pending(now: datetime, *columns):
    own = aliased(OrderLine)
    other = aliased(OrderLine)
    waiting = select(other.id).where(other.farm_order_id == FarmOrder.id, not_(delivered(other, now))).exists()
    return (select(*columns, func.coalesce(func.sum(LedgerEntry.amount_vnd), 0).label("pending"))
            .select_from(FarmOrder)
            .join(LedgerEntry, LedgerEntry.farm_order_id == FarmOrder.id)
            .outerjoin(own, own.id == LedgerEntry.order_line_id)
            .where(FarmOrder.status.in_(OPEN_STATUSES), waiting, not_(delivered(own, now))))


def pending_of(farm_id: int, now: datetime):
    """The farm's pending sum, as a scalar SQL expression to fold into a page's one balance query."""
    return _pending(now).where(FarmOrder.farm_id == farm_id).scalar_subquery()


def pending_by_farm(now: datetime, farm_id: int | None = None):
    """Every farm's pending sum (or one farm's): a subquery of (farm_id, pending)."""
    query = _pending(now, FarmOrder.farm_id).group_by(FarmOrder.farm_id)
    if farm_id is not None:
        query = query.where(FarmOrder.farm_id == farm_id)
    return query.subquery("pending")
