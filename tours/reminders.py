"""``flask send-visit-reminders``: the day before a visit, each visitor is reminded of the time, the meeting point
and the ticket (kind ``visit_reminder``, a topic the visitor may turn off: core/preferences.py).

A ticket is reminded when its visit starts between 12 and 36 hours from now (the kep-send-visit-reminders timer
runs it every hour, so each visit is reminded once, about a day before); a booking made later than that gets its
ticket at payment and no reminder. Each ticket is claimed with a conditional UPDATE of ``reminded_at`` in the
transaction that queues its message, so two runs at once remind it once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select, update

from core.extensions import db
from core.messages import Recipient, notify
from core.time import utcnow
from shop.order_models import OrderLine
from tours.models import Ticket, TourSlot
from tours.tickets import ticket_url

EARLIEST, LATEST = timedelta(hours=12), timedelta(hours=36)


def due(now: datetime) -> list[int]:
    """The tickets to remind now: valid, not yet reminded, their open slot starting 12 to 36 hours from now."""
    return list(db.session.scalars(
        select(Ticket.id).join(OrderLine, OrderLine.id == Ticket.order_line_id)
        .join(TourSlot, TourSlot.id == OrderLine.slot_id)
        .where(Ticket.status == "valid", Ticket.reminded_at.is_(None), TourSlot.status == "open",
               TourSlot.starts_at >= now + EARLIEST, TourSlot.starts_at <= now + LATEST)
        .order_by(Ticket.id)))


def send_reminders(now: datetime) -> int:
    """Queue the reminders that are due, one short transaction each; how many were queued."""
    sent = 0
    for ticket_id in due(now):
        claimed = db.session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.reminded_at.is_(None))
                                     .values(reminded_at=now).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            ticket = db.session.get(Ticket, ticket_id)
            line = ticket.line
            order = line.farm_order.order
            notify("visit_reminder", Recipient.buyer_of(order), order=order, line=line, slot=line.slot,
                   tour=line.slot.tour, ticket=ticket, link=ticket_url(ticket, order))
            sent += 1
        db.session.commit()
    return sent


@click.command("send-visit-reminders")
@with_appcontext
def send_visit_reminders() -> None:
    """Remind visitors of tomorrow's visits (time, meeting point, ticket)."""
    click.echo(f"Queued {send_reminders(utcnow())} visit reminder(s).")
