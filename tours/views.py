"""The tourist's side: the tour list, a tour with its 60-day calendar and the booking form,
and the ticket page (with its QR code) where a booking can be cancelled in time."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from core import transactions
from core.pagecache import cached_page
from core.qr import qr_svg
from core.time import utcnow
from shop import cart as carts
from shop import lines, payments, reviews
from tours import calendar_feed, services, tickets, visit_lines
from tours.cancellations import BookingError, cancel_booking, policy_text
from tours.forms import LANGUAGE_NAMES, BookForm, KeyForm
from tours.labels import register_globals
from tours.models import TourSlot

bp = Blueprint("tours", __name__)
register_globals(bp)


@bp.route("/tours")
@cached_page
def index():
    return render_template("tours/index.html", cards=services.public_tours(utcnow()))


@bp.route("/tours/<slug>")
def detail(slug: str):
    tour = services.public_tour(slug)
    if tour is None:
        abort(404)
    return _detail_page(tour, BookForm())


def _detail_page(tour, form, status: int = 200):
    now = utcnow()
    slot_ids = select(TourSlot.id).where(TourSlot.tour_id == tour.id)
    rating = reviews.slots_rating(slot_ids)
    return render_template("tours/detail.html", tour=tour, form=form, calendar=services.calendar(tour, now),
                           chosen=form.slot.data, language_names=LANGUAGE_NAMES, rating=rating,
                           reviews=reviews.slots_reviews(slot_ids, rating)), status


def _cart_url(fallback: str) -> str:
    try:
        return url_for("orders.cart")
    except BuildError:  # the cart page is not there (yet)
        return fallback


@bp.route("/tours/<slug>/book", methods=["POST"])
def book(slug: str):
    tour = services.public_tour(slug)
    if tour is None:
        abort(404)
    form = BookForm()
    if not form.validate_on_submit():
        return _detail_page(tour, form, 400)
    store = carts.store_for(current_user, session)
    try:
        slot = visit_lines.add_visit(store, form.slot.data, form.adults.data, form.children.data, now=utcnow(),
                               tour_id=tour.id)
    except carts.CartError as error:
        transactions.fail()
        flash(str(error.message), "error")
        return _detail_page(tour, form, 400)
    party = store.items().get(lines.key(visit_lines.VISITS, slot.id), {})
    seats = int(party.get("a", 0)) + int(party.get("c", 0))
    flash(_("The visit is in your cart: %(count)d people. The places are held for you when you place the order.",
            count=seats), "success")
    return redirect(_cart_url(url_for(".detail", slug=tour.slug, _anchor=f"slot-{slot.id}")))


@bp.route("/calendar/<token>.ics")
def calendar_ics(token: str):
    """The farm's private calendar feed: the token in the address is the only key (no login: phones fetch it)."""
    feed = calendar_feed.feed_by_token(token)
    if feed is None:
        abort(404)
    response = Response(calendar_feed.render(calendar_feed.farm_of(feed), utcnow()), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- tickets ----------------------------------------------------------------------------------------

def _ticket_or_404(code: str, key: str | None):
    ticket = services.find_ticket(tickets.normalize_code(code))
    if ticket is None or not tickets.may_view(ticket, current_user, key):
        abort(404)  # no hint whether a code exists
    return ticket


@bp.route("/tickets/<code>")
def ticket(code: str):
    key = request.args.get("key")
    item = _ticket_or_404(code, key)
    return _ticket_page(item, key)


def _ticket_page(item, key, status: int = 200):
    now = utcnow()
    order = item.line.farm_order.order
    state = tickets.booking_state(item)
    qr = qr_svg(tickets.checkin_url(item), scale=5, title=_("Ticket %(code)s", code=item.display_code)) \
        if state in ("valid", "checked_in") else None
    return render_template("tours/ticket.html", ticket=item, order=order, line=item.line, slot=item.line.slot,
                           tour=item.line.slot.tour, state=state, qr=qr, can_cancel=tickets.can_cancel(item, now),
                           deadline=tickets.cancel_deadline(item), policy=policy_text(item),
                           form=KeyForm(key=key), key=key), status


@bp.route("/tickets/<code>/cancel", methods=["POST"])
def cancel(code: str):
    form = KeyForm()
    key = form.key.data or None
    item = _ticket_or_404(code, key)
    if not form.validate_on_submit():
        abort(400)
    now = utcnow()
    actor = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        refund = cancel_booking(item, actor, now)
    except BookingError as error:
        transactions.fail()
        flash(str(error.message), "error")
        item = _ticket_or_404(code, key)
        return _ticket_page(item, key, 409)
    if refund is None:
        flash(_("Your booking is cancelled."), "success")
    else:
        flash(payments.registry.refund_message(refund, "booking_cancelled"), "success")
    return redirect(url_for(".ticket", code=item.code, key=key))
