"""Messages about visits, written to the outbox in the same transaction as the change,
each in its reader's language (templates/tours/emails/)."""
from __future__ import annotations

from flask import render_template
from flask_babel import force_locale

from core import outbox
from core.urls import public_url
from tours.tickets import ticket_url


def _queue(kind: str, to: str, locale: str | None, template: str, order_id: int | None, **context) -> None:
    if not to:
        return
    with force_locale(locale or "vi"):
        subject = render_template(f"tours/emails/{template}.subject.txt", **context).strip()
        body = render_template(f"tours/emails/{template}.txt", **context)
    outbox.queue(kind, to, subject, body, order_id)


def slot_cancelled(order, line, slot, refund, suggestions, paid: bool) -> None:
    """Tell the buyer the farm cancelled the visit, what happens to the money, and other times to book."""
    _queue("visit_slot_cancelled", order.buyer_email, order.locale, "slot_cancelled", order.id, order=order,
           line=line, slot=slot, tour=slot.tour, refund=refund, paid=paid,
           suggestions=suggestions, tour_link=public_url("tours.detail", slug=slot.tour.slug),
           order_link=public_url("orders.detail", public_id=order.public_id, key=order.secret))


def booking_cancelled(ticket, refund) -> None:
    """Confirm the cancellation to the buyer, and tell the farmer the places are free again."""
    line = ticket.line
    order = line.farm_order.order
    slot = line.slot
    _queue("visit_cancelled", order.buyer_email, order.locale, "booking_cancelled", order.id, order=order,
           line=line, slot=slot, tour=slot.tour, refund=refund, ticket=ticket, link=ticket_url(ticket, order))
    owner = slot.tour.farm.owner
    _queue("farm_visit_cancelled", owner.email, owner.locale, "farm_booking_cancelled", order.id, order=order,
           line=line, slot=slot, tour=slot.tour,
           link=public_url("farmer_tours.manifest", slot_id=slot.id))
