"""The shop's own receivers of its events (shop/events.py): the ledger's sale entries and the products'
popularity when an order is paid."""
from __future__ import annotations

from shop import events, ledger, popularity


def connect() -> None:
    events.order_paid.connect(ledger.on_order_paid)
    events.order_paid.connect(popularity.on_order_paid)
