"""The shop's own receivers of its events (shop/events.py): the ledger's sale entries, the products'
popularity and each product line's harvest batch when an order is paid; money already received for an order
that expires or is cancelled goes back, and its payOS links are cancelled."""
from __future__ import annotations

from shop import batches, events, ledger, popularity
from shop.payments import transfers
from shop.payments.providers import payos


def connect() -> None:
    events.order_paid.connect(ledger.on_order_paid)
    events.order_paid.connect(popularity.on_order_paid)
    events.order_paid.connect(batches.on_order_paid)
    events.order_expired.connect(transfers.on_order_closed)
    events.order_cancelled.connect(transfers.on_order_closed)
    events.order_expired.connect(payos.on_order_closed)
    events.order_cancelled.connect(payos.on_order_closed)
