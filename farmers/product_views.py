"""The farmer's "My products" screens: list, create, edit, pause, resume, delete, photos.

Commune staff use the same screens for a farm with ``?farm=<farm id>``; ``url_for`` carries it on every link and
form of this blueprint. Views parse the form, call one service in shop.services, and map its errors to messages.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.farms import Farm
from core import transactions
from core.extensions import db
from core.forms import ActionForm, AddPhotosForm, MovePhotoForm, uploads
from core.time import utcnow
from farmers import acting
from farmers.product_forms import NewProductForm, ProductForm
from shop import services
from shop.models import MAX_PHOTOS, Product

bp = Blueprint("farmer_products", __name__, url_prefix="/farmer/products")

STATUS_LABELS = {"active": _l("On sale"), "paused": _l("Paused"), "archived": _l("Archived")}


@bp.before_request
@login_required
def load_farm():
    """Whose products: the farmer's own farm, or for staff the farm named by ``?farm=``."""
    return acting.enter(("approved",), "farmers/products_unavailable.html",
                        choose=_choose_farm if request.endpoint == "farmer_products.index" else None)


acting.keep_farm_parameter(bp)


@bp.context_processor
def template_helpers() -> dict:
    return {"status_label": lambda status: STATUS_LABELS.get(status, status), "max_photos": MAX_PHOTOS}


def _choose_farm():
    farms = db.session.scalars(select(Farm).where(Farm.status == "approved").order_by(Farm.name)).all()
    return render_template("farmers/products_farms.html", farms=farms)


def _product(product_id: int) -> Product:
    """The product if it belongs to the farm in hand; 404 otherwise (another farm's products do not exist here)."""
    product = db.session.scalar(select(Product).where(Product.id == product_id, Product.farm_id == g.farm.id))
    if product is None:
        abort(404)
    return product


def _actor():
    return current_user._get_current_object()


def _fail(error: services.ProductError, form=None) -> None:
    """Undo the attempt and show why: under the form field it is about, or as a message."""
    transactions.fail()
    if isinstance(error, services.PhotoNotFound):
        abort(404)
    # str(): a lazy string counts as safe HTML in templates and in the session, and messages may quote a file name.
    message = str(error.message)
    if form is not None and error.field in form:
        form[error.field].errors = [*form[error.field].errors, message]
    else:
        flash(message, "error")


def _edit_url(product_id: int, anchor: str | None = None) -> str:
    return url_for(".edit", product_id=product_id, _anchor=anchor)


@bp.route("", strict_slashes=False)
def index():
    return render_template("farmers/products.html", farm=g.farm, products=services.farm_products(g.farm),
                           action_form=ActionForm())


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewProductForm()
    if form.validate_on_submit():
        try:
            product = services.create_product(_actor(), g.farm, form.product_data(), uploads(form.photos.data),
                                              now=utcnow())
        except services.ProductError as error:
            _fail(error, form)
        else:
            flash(_("“%(name)s” is now on sale.", name=product.name), "success")
            return redirect(url_for(".index"))
    return render_template("farmers/products_new.html", form=form, farm=g.farm)


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
def edit(product_id: int):
    product = _product(product_id)
    if product.status == "archived":
        flash(_("This product is archived and can no longer be changed."), "info")
        return redirect(url_for(".index"))
    form = ProductForm(obj=product)
    if form.validate_on_submit():
        try:
            changed = services.update_product(_actor(), g.farm, product, form.product_data(), now=utcnow())
        except services.ProductError as error:
            _fail(error, form)
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for(".index"))
    return render_template("farmers/products_edit.html", form=form, product=product, farm=g.farm,
                           photos_form=AddPhotosForm(), action_form=ActionForm(),
                           was_ordered=services.product_was_ordered(product))


def _status_change(product_id: int, change, done_message):
    product = _product(product_id)
    if ActionForm().validate_on_submit():
        try:
            change(_actor(), g.farm, product, now=utcnow())
        except services.ProductError as error:
            _fail(error)
        else:
            flash(done_message(product), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:product_id>/pause", methods=["POST"])
def pause(product_id: int):
    return _status_change(product_id, services.pause_product,
                          lambda p: _("“%(name)s” is paused: buyers cannot order it until you resume it.",
                                      name=p.name))


@bp.route("/<int:product_id>/resume", methods=["POST"])
def resume(product_id: int):
    return _status_change(product_id, services.resume_product,
                          lambda p: _("“%(name)s” is on sale again.", name=p.name))


@bp.route("/<int:product_id>/delete", methods=["GET", "POST"])
def delete(product_id: int):
    product = _product(product_id)
    form = ActionForm()
    if form.validate_on_submit():
        name = product.name
        try:
            outcome = services.delete_product(_actor(), g.farm, product, now=utcnow())
        except services.ProductError as error:
            _fail(error)
        else:
            if outcome == "deleted":
                flash(_("“%(name)s” is deleted.", name=name), "success")
            else:
                flash(_("“%(name)s” has orders, so it is archived: buyers no longer see it, and your records "
                         "keep it.", name=name), "success")
        return redirect(url_for(".index"))
    return render_template("farmers/products_delete.html", product=product, form=form, farm=g.farm,
                           was_ordered=services.product_was_ordered(product))


@bp.route("/<int:product_id>/photos", methods=["POST"])
def add_photos(product_id: int):
    product = _product(product_id)
    form = AddPhotosForm()
    if form.validate_on_submit():
        try:
            added = services.add_photos(_actor(), g.farm, product, uploads(form.photos.data))
        except services.ProductError as error:
            _fail(error)
        else:
            flash(ngettext("%(num)d photo added.", "%(num)d photos added.", len(added)), "success")
    return redirect(_edit_url(product_id, "product-photos"))


@bp.route("/<int:product_id>/photos/<int:photo_id>/delete", methods=["POST"])
def remove_photo(product_id: int, photo_id: int):
    product = _product(product_id)
    if ActionForm().validate_on_submit():
        try:
            services.remove_photo(_actor(), g.farm, product, photo_id)
        except services.ProductError as error:
            _fail(error)
        else:
            flash(_("The photo is removed."), "success")
    return redirect(_edit_url(product_id, "product-photos"))


@bp.route("/<int:product_id>/photos/<int:photo_id>/move", methods=["POST"])
def move_photo(product_id: int, photo_id: int):
    product = _product(product_id)
    form = MovePhotoForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.move_photo(_actor(), g.farm, product, photo_id, form.to.data)
    except services.ProductError as error:
        _fail(error)
    return redirect(_edit_url(product_id, "product-photos"))
