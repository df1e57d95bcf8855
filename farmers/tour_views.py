"""The farmer's visit screens: tours, their photos, times, manifests and check-in.

Whose farm: the farmer's own, or for commune staff the farm named by ``?farm=<id>``
(as on the product screens, farmers.product_views); ``url_for`` carries it on every
link and form of this blueprint, and the services audit-log staff changes on behalf of
the owner. Slot, manifest and check-in routes are in tours/slot_views.py.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.farms import Farm
from core import transactions
from core.extensions import db
from core.forms import ActionForm, AddPhotosForm, uploads
from core.time import utcnow
from core.urls import public_url
from farmers import acting
from shop.models import MAX_PHOTOS
from tours import calendar_feed, manage
from tours.forms import LANGUAGE_NAMES, NewTourForm, TourForm
from tours.models import Tour

bp = Blueprint("farmer_tours", __name__)

# An admin opening a ticket's QR address has no ?farm=: the ticket names the farm.
_FARM_FROM_TICKET = {"farmer_tours.checkin_scan"}


@bp.before_request
@login_required
def load_farm():
    if current_user.is_admin and request.endpoint in _FARM_FROM_TICKET and request.args.get("farm") is None:
        g.farm, g.acting_for_farm = None, None  # the ticket names the farm (see slot_views.checkin_scan)
        return None
    return acting.enter(("approved",), "tours/farmer_unavailable.html",
                        choose=_choose_farm if request.endpoint == "farmer_tours.index" else None)


def _choose_farm():
    farms = db.session.scalars(select(Farm).where(Farm.status == "approved").order_by(Farm.name)).all()
    return render_template("tours/farmer_farms.html", farms=farms)


acting.keep_farm_parameter(bp)


@bp.context_processor
def template_helpers() -> dict:
    return {"max_photos": MAX_PHOTOS, "language_names": LANGUAGE_NAMES}


def actor():
    return current_user._get_current_object()


def tour_or_404(tour_id: int) -> Tour:
    tour = db.session.scalar(select(Tour).where(Tour.id == tour_id, Tour.farm_id == g.farm.id))
    if tour is None:
        abort(404)
    return tour


def fail(error: manage.TourError, form=None) -> None:
    """Undo the attempt and show why: under its form field, or as a message."""
    transactions.fail()
    message = str(error.message)
    if form is not None and error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, message]
    else:
        flash(message, "error")


@bp.route("/farmer/tours")
def index():
    feed = calendar_feed.feed_of(g.farm)
    feed_url = public_url("tours.calendar_ics", token=feed.token) if feed else None
    return render_template("tours/farmer_tours.html", farm=g.farm, tours=manage.farm_tours(g.farm, utcnow()),
                           action_form=ActionForm(), feed_url=feed_url)


@bp.route("/farmer/tours/calendar", methods=["POST"])
def calendar_token():
    """A new private calendar address for the farm; the old one stops working."""
    if not ActionForm().validate_on_submit():
        abort(400)
    had = calendar_feed.feed_of(g.farm) is not None
    calendar_feed.new_token(g.farm, utcnow())
    manage.record("calendar_feed.renewed" if had else "calendar_feed.created", "farm", g.farm.id, actor(), g.farm)
    flash(_("Your new calendar address is ready. The old one no longer works.") if had
          else _("Your calendar address is ready."), "success")
    return redirect(url_for(".index", _anchor="calendar"))


@bp.route("/farmer/tours/new", methods=["GET", "POST"])
def new():
    form = NewTourForm()
    if form.validate_on_submit():
        try:
            tour = manage.create_tour(actor(), g.farm, form.tour_data(), uploads(form.photos.data))
        except manage.TourError as error:
            fail(error, form)
        else:
            flash(_("“%(title)s” is ready. Now add the days and times visitors can book.", title=tour.title),
                  "success")
            return redirect(url_for(".slots", tour_id=tour.id))
    return render_template("tours/farmer_tour_new.html", form=form, farm=g.farm)


@bp.route("/farmer/tours/<int:tour_id>/edit", methods=["GET", "POST"])
def edit(tour_id: int):
    tour = tour_or_404(tour_id)
    form = TourForm(obj=manage.data_of(tour) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changed = manage.update_tour(actor(), g.farm, tour, form.tour_data())
        except manage.TourError as error:
            fail(error, form)
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for(".index"))
    return render_template("tours/farmer_tour_edit.html", form=form, tour=tour, farm=g.farm,
                           photos_form=AddPhotosForm(), action_form=ActionForm())


def _status(tour_id: int, action: str, message: str):
    tour = tour_or_404(tour_id)
    if ActionForm().validate_on_submit():
        try:
            manage.set_status(actor(), g.farm, tour, action)
        except manage.TourError as error:
            fail(error)
        else:
            flash(message % {"title": tour.title}, "success")
    return redirect(url_for(".index"))


@bp.route("/farmer/tours/<int:tour_id>/pause", methods=["POST"])
def pause(tour_id: int):
    return _status(tour_id, "pause", _("“%(title)s” is paused: nobody can book it until you offer it again. "
                                       "Groups already booked still come."))


@bp.route("/farmer/tours/<int:tour_id>/resume", methods=["POST"])
def resume(tour_id: int):
    return _status(tour_id, "resume", _("“%(title)s” can be booked again."))


@bp.route("/farmer/tours/<int:tour_id>/photos", methods=["POST"])
def add_photos(tour_id: int):
    tour = tour_or_404(tour_id)
    form = AddPhotosForm()
    if form.validate_on_submit():
        try:
            added = manage.add_photos(actor(), g.farm, tour, uploads(form.photos.data))
        except manage.TourError as error:
            fail(error)
        else:
            flash(ngettext("%(num)d photo added.", "%(num)d photos added.", len(added)), "success")
    return redirect(url_for(".edit", tour_id=tour.id, _anchor="tour-photos"))


@bp.route("/farmer/tours/<int:tour_id>/photos/<int:photo_id>/delete", methods=["POST"])
def remove_photo(tour_id: int, photo_id: int):
    tour = tour_or_404(tour_id)
    if ActionForm().validate_on_submit():
        try:
            manage.remove_photo(actor(), g.farm, tour, photo_id)
        except manage.TourError as error:
            fail(error)
        else:
            flash(_("The photo is removed."), "success")
    return redirect(url_for(".edit", tour_id=tour.id, _anchor="tour-photos"))


@bp.route("/farmer/tours/<int:tour_id>/photos/<int:photo_id>/first", methods=["POST"])
def photo_first(tour_id: int, photo_id: int):
    tour = tour_or_404(tour_id)
    if ActionForm().validate_on_submit():
        try:
            manage.photo_first(actor(), g.farm, tour, photo_id)
        except manage.TourError as error:
            fail(error)
    return redirect(url_for(".edit", tour_id=tour.id, _anchor="tour-photos"))

