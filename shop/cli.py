"""``flask expire-orders``: release the stock of unpaid orders past their hold (run it from cron)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.time import utcnow
from shop import checkout


@click.command("expire-orders")
@with_appcontext
def expire_orders() -> None:
    """Expire unpaid orders whose hold has ended and give their stock and seats back.

    Safe to run twice at once, and next to payments and checkouts: each order is expired in its own short
    transaction (picked with FOR UPDATE SKIP LOCKED, moved from pending_payment with a conditional UPDATE),
    and a deadlock on one order is retried (see shop.checkout.expire_orders).
    """
    count = checkout.expire_orders(utcnow())
    click.echo(f"Expired {count} unpaid order(s).")
