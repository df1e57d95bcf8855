"""What happens to an order, as blinker signals (named as pretix's ``base/signals.py`` names its own).

The shop sends them inside the transaction that made the change; receivers (the ledger, visit tickets,
product popularity, messages to buyers and farms) do their part in that same transaction, so a rollback
undoes all of it. A receiver that calls another service (Stripe, a message sent at once) queues that call
with ``core.transactions.after_commit``. Receivers connect in their package's ``events.connect()``,
called once from ``app.create_app``; the shop never imports them.

- ``order_paid(order, payment=..., now=..., actor=..., actor_label=..., from_state=...)``: the order has just
  become paid (its farm orders too).
- ``order_expired(order, now=...)``: an unpaid order's hold ran out and its lines were released.
- ``order_cancelled(order, now=...)``: an unpaid order was cancelled (by its buyer, staff, or with its visit).
- ``lines_released(lines, now=...)``: order lines gave back what they held (stock, seats) — an order expired
  or was cancelled, or one line was refunded."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

order_paid = _signals.signal("order-paid")
order_expired = _signals.signal("order-expired")
order_cancelled = _signals.signal("order-cancelled")
lines_released = _signals.signal("lines-released")
