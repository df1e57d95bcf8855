"""``flask expire-orders``: release the stock of unpaid orders past their hold (run it from cron)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.extensions import db
from core.time import utcnow
from shop import checkout


@click.command("expire-orders")
@with_appcontext
def expire_orders() -> None:
    """Expire unpaid orders whose hold has ended and give their stock and seats back.

    Safe to run twice at once: each order moves from pending_payment with a conditional UPDATE.
    """
    count = checkout.expire_orders(utcnow())
    db.session.commit()
    click.echo(f"Expired {count} unpaid order(s).")
