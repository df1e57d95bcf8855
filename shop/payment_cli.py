"""``flask send-notifications``, ``flask send-refunds``, ``flask process-bank-notifications`` and ``flask
check-payos-links``: retry what waits after a commit, and ask for what may have been missed (for cron)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from core import outbox, transactions
from core.extensions import db
from core.time import utcnow
from shop import payments
from shop.payments import notifications
from shop.payments.providers import payos


@click.command("send-notifications")
@click.option("--limit", default=500, show_default=True, help="At most this many messages in one run.")
@with_appcontext
def send_notifications(limit: int) -> None:
    """Send the messages waiting in the outbox (by SMTP); failures stay queued and are retried."""
    if not current_app.config.get("MAIL_SERVER"):
        click.echo("MAIL_SERVER is not set: nothing sent; staff read the messages on /admin/outbox.")
        return
    counts = outbox.send_pending(limit=limit)
    waiting = db.session.scalar(select(func.count()).select_from(outbox.Notification)
                                .where(outbox.Notification.status == "pending"))
    click.echo(f"sent {counts['sent']}, failed {counts['failed']}, skipped {counts['skipped']}, "
               f"still waiting {waiting}")


@click.command("send-refunds")
@with_appcontext
def send_refunds() -> None:
    """Send the refunds waiting for their provider (Stripe's card refunds); those that fail stay pending for the
    next run."""
    sent = payments.send_pending_refunds(utcnow())
    waiting = db.session.scalar(payments.refunds.pending_sent_by_providers().with_only_columns(func.count()))
    click.echo(f"card refunds sent {sent}, still waiting {waiting}")


@click.command("process-bank-notifications")
@click.option("--limit", default=500, show_default=True, help="At most this many notifications in one run.")
@with_appcontext
def process_bank_notifications(limit: int) -> None:
    """Process the bank notifications that were stored but could not be processed when they came (a deadlock, a
    database hiccup); each is taken in once, whoever processes it. Safe to run twice at once."""
    counts = notifications.process_waiting(utcnow(), limit=limit)
    done = ", ".join(f"{counts[status]} {status}" for status in sorted(counts)) or "none"
    click.echo(f"bank notifications: {done}; still waiting {notifications.still_waiting()}")


@click.command("check-payos-links")
@click.option("--limit", default=200, show_default=True, help="At most this many orders in one run.")
@with_appcontext
def check_payos_links(limit: int) -> None:
    """Ask payOS for the status of its open payment links (made in the last two days) and take in the payments a
    missed webhook did not bring; each is taken in once, whoever brings it. Safe to run twice at once."""
    if not payos.configured():
        click.echo("payOS is not configured (PAYOS_CLIENT_ID, PAYOS_API_KEY, PAYOS_CHECKSUM_KEY): nothing checked.")
        return
    now = utcnow()
    orders = payos.open_link_orders(now, limit=limit)
    db.session.commit()
    new = 0
    for order_id in orders:
        new += transactions.run(lambda order_id=order_id: _check_and_commit(order_id, now),
                                what=f"checking the payOS links of order {order_id}")
    click.echo(f"payOS links: {len(orders)} orders checked, {new} payments taken in")


def _check_and_commit(order_id: int, now) -> int:
    new = payos.check_order(order_id, now)
    db.session.commit()
    return new
