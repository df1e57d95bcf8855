"""The farmer's visit times, the manifest of each time, and check-in (routes of farmer_tours)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from core import inputs, transactions
from core.forms import ActionForm
from core.time import to_local, utcnow
from farmers.tour_views import actor, bp, fail, tour_or_404
from tours import cancellations, rebooking, resources, slots, tickets, waitlist
from tours.forms import CancelSlotForm, CapacityForm, CheckinCodeForm, GenerateForm, MoveBookingForm, SlotForm
from tours.labels import visit_when
from tours.manage import TourError
from tours.services import find_ticket


def _slot_or_404(slot_id: int):
    slot = slots.slot_of(g.farm, slot_id)
    if slot is None:
        abort(404)
    return slot


def _slots_page(tour, slot_form=None, generate_form=None, status: int = 200):
    now = utcnow()
    today = to_local(now).date()
    slot_form = slot_form or SlotForm(day=today, capacity=tour.default_capacity)
    generate_form = generate_form or GenerateForm(first=today, capacity=tour.default_capacity)
    return render_template("tours/farmer_slots.html", tour=tour, farm=g.farm, slots=slots.upcoming_slots(tour, now),
                           recent=slots.recent_slots(tour, now), slot_form=slot_form, generate_form=generate_form,
                           now=now), status


@bp.route("/farmer/tours/<int:tour_id>/slots", endpoint="slots")
def slot_list(tour_id: int):
    return _slots_page(tour_or_404(tour_id))


@bp.route("/farmer/tours/<int:tour_id>/slots/add", methods=["POST"])
def add_slot(tour_id: int):
    tour = tour_or_404(tour_id)
    form = SlotForm()
    if form.validate_on_submit():
        try:
            slot = slots.add_slot(actor(), g.farm, tour, form.day.data, form.start.data, form.capacity.data, utcnow())
        except TourError as error:
            fail(error, form)
        else:
            flash(_("Added: %(when)s.", when=visit_when(slot.starts_at)), "success")
            return redirect(url_for(".slots", tour_id=tour.id))
    return _slots_page(tour, slot_form=form, status=400)


@bp.route("/farmer/tours/<int:tour_id>/slots/generate", methods=["POST"])
def generate(tour_id: int):
    tour = tour_or_404(tour_id)
    form = GenerateForm()
    if form.validate_on_submit():
        try:
            made = slots.generate_slots(actor(), g.farm, tour, form.first.data, form.last.data,
                                        set(form.weekdays.data or ()), form.times.data or [], form.capacity.data,
                                        utcnow())
        except TourError as error:
            fail(error, form)
        else:
            message = ngettext("%(num)d time added.", "%(num)d times added.", len(made.created))
            if made.existing:
                message += " " + ngettext("%(num)d already existed and was kept as it was.",
                                          "%(num)d already existed and were kept as they were.", made.existing)
            if made.past:
                message += " " + ngettext("%(num)d was in the past and was skipped.",
                                          "%(num)d were in the past and were skipped.", made.past)
            flash(message, "success")
            return redirect(url_for(".slots", tour_id=tour.id))
    return _slots_page(tour, generate_form=form, status=400)


@bp.route("/farmer/slots/<int:slot_id>")
def slot(slot_id: int):
    item = _slot_or_404(slot_id)
    return _slot_page(item, CapacityForm(capacity=item.capacity))


def _slot_page(item, capacity_form, status: int = 200):
    return render_template("tours/farmer_slot.html", slot=item, tour=item.tour, farm=g.farm, now=utcnow(),
                           capacity_form=capacity_form, action_form=ActionForm(),
                           waiting=waitlist.line_of(item), limit=resources.limit_of(item)), status


@bp.route("/farmer/slots/<int:slot_id>/capacity", methods=["POST"])
def capacity(slot_id: int):
    item = _slot_or_404(slot_id)
    form = CapacityForm()
    if form.validate_on_submit():
        try:
            slots.change_capacity(actor(), g.farm, item, form.capacity.data)
        except TourError as error:
            fail(error, form)
            item = _slot_or_404(slot_id)
        else:
            flash(_("This time now takes %(num)d people.", num=item.capacity), "success")
            return redirect(url_for(".slot", slot_id=item.id))
    return _slot_page(item, form, 400)


def _move(slot_id: int, change, message: str):
    item = _slot_or_404(slot_id)
    if ActionForm().validate_on_submit():
        try:
            change(item)
        except TourError as error:
            fail(error)
        else:
            flash(message, "success")
    return redirect(url_for(".slot", slot_id=slot_id))


@bp.route("/farmer/slots/<int:slot_id>/close", methods=["POST"])
def close(slot_id: int):
    return _move(slot_id, lambda s: slots.close_slot(actor(), g.farm, s),
                 _("Closed: nobody can book this time any more. The groups already booked still come."))


@bp.route("/farmer/slots/<int:slot_id>/reopen", methods=["POST"])
def reopen(slot_id: int):
    return _move(slot_id, lambda s: slots.reopen_slot(actor(), g.farm, s, utcnow()),
                 _("Open again: visitors can book this time."))


@bp.route("/farmer/slots/<int:slot_id>/cancel", methods=["GET", "POST"])
def cancel(slot_id: int):
    item = _slot_or_404(slot_id)
    form = CancelSlotForm()
    if form.validate_on_submit():
        now = utcnow()
        try:
            result = cancellations.cancel_slot(actor(), g.farm, item, form.reason.data, form.note.data or "", now)
        except TourError as error:
            fail(error, form)
            item = _slot_or_404(slot_id)
        else:  # its card refunds are sent by `flask send-refunds` after the commit, not while the farmer waits
            flash(_("The visit is cancelled. %(paid)d paid bookings are being refunded and %(unpaid)d unpaid orders "
                    "were cancelled; every buyer is told.", paid=result.paid_bookings, unpaid=result.unpaid_orders),
                  "success")
            return redirect(url_for(".slot", slot_id=item.id))
    return render_template("tours/farmer_slot_cancel.html", slot=item, tour=item.tour, farm=g.farm, form=form,
                           manifest=slots.manifest(item)), 400 if form.errors else 200


@bp.route("/farmer/slots/<int:slot_id>/manifest")
def manifest(slot_id: int):
    item = _slot_or_404(slot_id)
    return render_template("tours/manifest.html", slot=item, tour=item.tour, farm=g.farm,
                           manifest=slots.manifest(item))


# -- moving one booking (the visitor called: "can we come on Sunday instead?") --------------------------------

def _move_page(ticket, form, status: int = 200):
    now = utcnow()
    return render_template("tours/farmer_move_booking.html", farm=g.farm, ticket=ticket, line=ticket.line,
                           slot=ticket.line.slot, form=form, state=tickets.booking_state(ticket),
                           choices=rebooking.choices(ticket, now)), status


@bp.route("/farmer/tickets/<code>/move", methods=["GET", "POST"])
def move_booking(code: str):
    """The farm moves a paid booking to another time of the same tour at the price paid (``by_farm``: no
    deadline; a lower price now is refunded, a higher one is the farm's). The visitor is told."""
    ticket = find_ticket(tickets.normalize_code(code))
    if not _is_this_farms(ticket):
        abort(404)
    form = MoveBookingForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _move_page(ticket, form, 200 if request.method == "GET" else 400)
    to_slot = slots.slot_of(g.farm, inputs.parse_id(form.slot.data) or 0)
    if to_slot is None:
        flash(_("Choose the new date and time from the list."), "error")
        return _move_page(ticket, form, 400)
    try:
        moved = rebooking.move_booking(ticket, to_slot, actor(), utcnow(), by_farm=True)
    except rebooking.RebookError as error:
        transactions.fail()
        flash(str(error.message), "error")
        return _move_page(find_ticket(ticket.code), form, 409)
    flash(_("Moved: %(name)s now comes on %(when)s. They have been sent a message.",
            name=ticket.line.farm_order.order.buyer_name, when=visit_when(moved.to_slot.starts_at)), "success")
    return redirect(url_for(".manifest", slot_id=moved.to_slot.id))


# -- check-in ------------------------------------------------------------------------------------------------

def _checkin_page(ticket, form, *, token: str | None = None, error=None, status: int = 200):
    problem = tickets.checkin_problem(g.farm, ticket) if ticket is not None else None
    if problem is not None and status == 200:
        status = 409
    return render_template("tours/checkin.html", farm=g.farm, form=form, ticket=ticket, token=token,
                           problem=problem, error=error, action_form=ActionForm(), now=utcnow()), status


def _not_this_farms(form, error):
    """The one answer for a ticket that does not exist and for another farm's ticket: same status, message
    and page, so that trying codes tells a farmer nothing about other farms' bookings."""
    return _checkin_page(None, form, error=error, status=404)


def _is_this_farms(ticket) -> bool:
    return ticket is not None and g.farm is not None and ticket.line.slot.tour.farm_id == g.farm.id


@bp.route("/farmer/checkin", methods=["GET", "POST"])
def checkin():
    form = CheckinCodeForm() if request.method == "POST" else CheckinCodeForm(request.args)
    raw = form.code.data
    if not raw:
        return _checkin_page(None, form)
    ticket = find_ticket(tickets.normalize_code(raw))
    if not _is_this_farms(ticket):
        return _not_this_farms(form, _("No ticket for a visit of this farm has the code %(code)s. Check the letters "
                                       "and try again.", code=raw.strip()[:12]))
    if request.method == "POST" and form.validate_on_submit():
        return _do_checkin(ticket, form, url_for(".checkin", code=ticket.code))
    return _checkin_page(ticket, form)


@bp.route("/checkin/<token>", methods=["GET", "POST"])
def checkin_scan(token: str):
    code = tickets.code_from_token(token)
    form = CheckinCodeForm()
    if code is None:
        return _checkin_page(None, form, error=_("This QR code is not a valid ticket of Chợ Dứa Kép. Do not let the "
                                                 "group in on it; ask them for the ticket code."), status=400)
    ticket = find_ticket(code)
    if ticket is not None and g.farm is None:  # commune staff scanning a ticket: act for the ticket's farm
        g.farm = _admin_farm(ticket.line.slot.tour.farm)
        g.acting_for_farm = g.farm.id
    if not _is_this_farms(ticket):
        return _not_this_farms(form, _("This ticket is not for a visit of this farm, or no longer exists. Do not "
                                       "let the group in on it."))
    if request.method == "POST" and ActionForm().validate_on_submit():
        return _do_checkin(ticket, form, url_for(".checkin_scan", token=token))
    return _checkin_page(ticket, form, token=token)


def _admin_farm(farm):
    if farm is None or not farm.is_approved:
        abort(404)
    return farm


def _do_checkin(ticket, form, back: str):
    try:
        done = tickets.check_in(actor(), g.farm, ticket, utcnow())
    except tickets.CheckinError:
        transactions.fail()
        return _checkin_page(ticket, form)
    if done:
        flash(_("Checked in: %(name)s, %(num)d people. Welcome them!", name=ticket.line.farm_order.order.buyer_name,
                num=ticket.line.quantity), "success")
    else:
        flash(_("This ticket was already checked in at %(when)s.",
                when=visit_when(ticket.checked_in_at)), "info")
    return redirect(back)
