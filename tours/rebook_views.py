"""The visitor changing the date of a booking from the ticket page: the tour's other times with room for the
party, then one confirming POST (the rules are in tours/rebooking.py). Only the buyer (logged in as the order's
owner) or the holder of the order's key may do it."""
from __future__ import annotations

import hmac

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import HiddenField, StringField

from core import inputs, transactions
from core.extensions import db
from core.formatting import vnd
from core.time import utcnow
from tours import rebooking, services, tickets
from tours.forms import KeyForm
from tours.labels import visit_when
from tours.models import Tour, TourSlot
from tours.views import bp


class RebookForm(KeyForm):
    """The new time chosen, and the refund of a lower price the visitor was shown (refused if it changed)."""
    slot = StringField()  # drawn as the radio buttons of the times offered
    refund = HiddenField()


def may_rebook(ticket, user, key: str | None) -> bool:
    """The buyer: logged in as the order's owner, or holding the order's secret key (staff see tickets, but do
    not move them for the visitor)."""
    order = ticket.line.farm_order.order
    if user is not None and user.is_authenticated and order.user_id and order.user_id == user.id:
        return True
    return bool(key) and hmac.compare_digest(str(key).encode(), order.secret.encode())


def _ticket_or_404(code: str, key: str | None):
    ticket = services.find_ticket(tickets.normalize_code(code))
    if ticket is None or not may_rebook(ticket, current_user, key):
        abort(404)  # no hint whether a code exists
    return ticket


def _refusal(ticket, now):
    """Why the visitor cannot change this booking's date online now (None when they can)."""
    state = tickets.booking_state(ticket)
    farm_phone = ticket.line.slot.tour.farm.owner.phone
    if state == "cancelled":
        return _l("This booking is cancelled, so its date can no longer be changed.")
    if state == "checked_in":
        return _l("This group has already been checked in; the date can no longer be changed.")
    if state != "valid":
        return _l("This booking is not paid, so its date cannot be changed here.")
    if not rebooking.can_rebook(ticket, now):
        return _l("Sorry, it is too late to change the date online. Please call the farm: %(phone)s.",
                  phone=farm_phone)
    if rebooking.difference(ticket) > 0:
        return _l("The price of this visit has gone up since you booked, so the date cannot be changed online. "
                  "Please call the farm: %(phone)s.", phone=farm_phone)
    return None


def _page(ticket, key, form=None, status: int = 200):
    now = utcnow()
    refusal = _refusal(ticket, now)
    change = rebooking.difference(ticket)
    return render_template(
        "tours/rebook.html", ticket=ticket, line=ticket.line, slot=ticket.line.slot, tour=ticket.line.slot.tour,
        refusal=refusal, choices=[] if refusal else rebooking.choices(ticket, now), difference=change,
        deadline=tickets.cancel_deadline(ticket), key=key,
        form=form or RebookForm(key=key, refund=str(max(0, -change)))), status


@bp.route("/tickets/<code>/rebook", methods=["GET", "POST"])
def rebook(code: str):
    if request.method == "GET":
        key = request.args.get("key")
        return _page(_ticket_or_404(code, key), key)
    form = RebookForm()
    key = form.key.data or None
    ticket = _ticket_or_404(code, key)
    if not form.validate_on_submit():
        abort(400)
    shown_refund = inputs.parse_int(form.refund.data or "", max_digits=12)
    if shown_refund is None:
        abort(400)  # the page always sends it
    slot_id = inputs.parse_id(form.slot.data)
    to_slot = db.session.scalar(select(TourSlot).where(TourSlot.id == slot_id)
                                .options(joinedload(TourSlot.tour).joinedload(Tour.farm))) if slot_id else None
    if to_slot is None:
        flash(_("Choose the new date and time from the list."), "error")
        return _page(ticket, key, status=400)
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        moved = rebooking.move_booking(ticket, to_slot, actor, utcnow(), expect_difference_vnd=-shown_refund)
    except rebooking.RebookError as error:
        transactions.fail()
        flash(str(error.message), "error")
        return _page(_ticket_or_404(code, key), key, status=409)
    flash(_("Your visit is now on %(when)s. Your ticket stays the same; we have sent you a message.",
            when=visit_when(moved.to_slot.starts_at)), "success")
    if moved.refund is not None:
        flash(_("The visit costs less now: %(amount)s will be refunded the way you paid.",
                amount=vnd(moved.refund.amount_vnd)), "success")
    return redirect(url_for(".ticket", code=ticket.code, key=key))
