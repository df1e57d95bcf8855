"""The visitor's side of waiting lists: joining a full time's list, and the offer link that books the places
held for them (the rules are in tours/waitlist.py)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import transactions
from core.extensions import db
from core.forms import ActionForm
from core.time import utcnow
from shop import cart as carts
from tours import visit_lines, waitlist
from tours.forms import WaitlistForm
from tours.labels import visit_when
from tours.models import Tour, TourSlot
from tours.views import _cart_url, bp


def _slot_or_404(slot_id: int) -> TourSlot:
    slot = db.session.scalar(select(TourSlot).where(TourSlot.id == slot_id)
                             .options(joinedload(TourSlot.tour).joinedload(Tour.farm)))
    if slot is None or slot.tour.status != "active" or slot.tour.farm.status != "approved":
        abort(404)
    return slot


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


@bp.route("/tours/slots/<int:slot_id>/waitlist", methods=["GET", "POST"])
def waitlist_join(slot_id: int):
    slot = _slot_or_404(slot_id)
    now = utcnow()
    user = _user()
    form = WaitlistForm(data={"name": user.full_name or "", "phone": user.phone or "", "email": user.email or ""}
                        if user is not None and not form_posted() else None)
    status = 200
    if form_posted():
        if form.validate_on_submit():
            try:
                entry = waitlist.join(slot, name=form.name.data, phone=form.phone.data, email=form.email.data or "",
                                      adults=form.adults.data, children=form.children.data or 0, user=user,
                                      locale=str(get_locale() or "vi"), now=now)
            except waitlist.WaitlistError as error:
                transactions.fail()
                flash(str(error.message), "error")
                status = 400
            else:
                flash(_("You are on the waiting list, number %(num)d in line. We will send you a message when "
                        "places free up.", num=waitlist.place_in_line(entry)), "success")
                return redirect(url_for(".detail", slug=slot.tour.slug, _anchor=f"slot-{slot.id}"))
        else:
            status = 400
    return render_template("tours/waitlist_join.html", slot=slot, tour=slot.tour, form=form,
                           open=waitlist.can_join(slot, now)), status


def form_posted() -> bool:
    return request.method == "POST"


def _offer_or_404(token: str):
    entry = waitlist.find_offer(token)
    if entry is None or not waitlist.may_use(entry, current_user):
        abort(404)  # someone else's offer does not exist for this visitor
    return entry


@bp.route("/waitlist/offer/<token>", methods=["GET", "POST"])
def waitlist_offer(token: str):
    entry = _offer_or_404(token)
    now = utcnow()
    if form_posted():
        if not ActionForm().validate_on_submit():
            abort(400)
        store = carts.store_for(current_user, session)
        try:
            visit_lines.add_offer(store, entry, token, now)
        except carts.CartError as error:
            transactions.fail()
            flash(str(error.message), "error")
        else:
            flash(_("The places held for you are in your cart. Place the order before %(until)s.",
                    until=visit_when(entry.offer_expires_at)), "success")
            return redirect(_cart_url(url_for(".detail", slug=entry.slot.tour.slug)))
    return render_template("tours/waitlist_offer.html", entry=entry, slot=entry.slot, tour=entry.slot.tour,
                           live=waitlist.live(entry, now), form=ActionForm())
