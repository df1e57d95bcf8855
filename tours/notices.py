"""Messages about visits, written to the outbox in the same transaction as the change,
each in its reader's language (templates/messages/, core/messages.py)."""
from __future__ import annotations

from core.messages import Recipient, notify
from core.urls import public_url
from tours.tickets import ticket_url


def slot_cancelled(order, line, slot, refund, suggestions, paid: bool) -> None:
    """Tell the buyer the farm cancelled the visit, what happens to the money, and other times to book."""
    notify("visit_slot_cancelled", Recipient.buyer_of(order), order=order, line=line, slot=slot, tour=slot.tour,
           refund=refund, paid=paid, suggestions=suggestions,
           tour_link=public_url("tours.detail", slug=slot.tour.slug),
           order_link=public_url("orders.detail", public_id=order.public_id, key=order.secret))


def booking_cancelled(ticket, refund) -> None:
    """Confirm the cancellation to the buyer, and tell the farmer the places are free again."""
    line = ticket.line
    order = line.farm_order.order
    slot = line.slot
    notify("visit_cancelled", Recipient.buyer_of(order), order=order, line=line, slot=slot, tour=slot.tour,
           refund=refund, ticket=ticket, link=ticket_url(ticket, order))
    notify("farm_visit_cancelled", Recipient.of_user(slot.tour.farm.owner), order=order, line=line, slot=slot,
           tour=slot.tour, link=public_url("farmer_tours.manifest", slot_id=slot.id))


def booking_moved(ticket, from_slot, refund, *, by_farm: bool) -> None:
    """Confirm the new date to the visitor (with any refund of a lower price), and tell the farmer, whose manifest
    of each time has changed."""
    line = ticket.line
    order = line.farm_order.order
    slot = line.slot
    notify("visit_rebooked", Recipient.buyer_of(order), order=order, line=line, slot=slot, from_slot=from_slot,
           tour=slot.tour, refund=refund, by_farm=by_farm, ticket=ticket, link=ticket_url(ticket, order))
    notify("farm_visit_rebooked", Recipient.of_user(slot.tour.farm.owner), order=order, line=line, slot=slot,
           from_slot=from_slot, tour=slot.tour, link=public_url("farmer_tours.manifest", slot_id=slot.id))
