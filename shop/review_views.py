"""Review pages: the buyer writes one (goods of a farm order, or a visit), the farm's farmer answers, staff hide.

Who may see what: the review forms are the order's own buyer's (anyone else: 404, as if the order did not exist);
/farmer/reviews is a farmer's own farm's; /admin/reviews is staff's. A refused review is shown again with its
message and nothing is stored (the service checks everything before it writes)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core.auth import admin_required
from core.extensions import db
from core.time import utcnow
from shop import reviews
from shop.order_models import FarmOrder, Order, OrderLine
from shop.review_models import MAX_REASON, MAX_REPLY, MAX_TEXT, Review

bp = Blueprint("reviews", __name__)


def _own_farm_order(public_id: str, farm_order_id: int) -> FarmOrder:
    farm_order = db.session.scalar(
        select(FarmOrder).join(Order).where(FarmOrder.id == farm_order_id, Order.public_id == public_id)
        .options(joinedload(FarmOrder.order), joinedload(FarmOrder.farm), selectinload(FarmOrder.lines)))
    if farm_order is None or farm_order.order.user_id != current_user.id:
        abort(404)
    return farm_order


def _photo_upload():
    upload = request.files.get("photo")
    return upload.stream if upload is not None and upload.filename else None


def _review_page(*, farm_order: FarmOrder, line: OrderLine | None, refusal, action: str):
    order = farm_order.order
    error = field = None
    status = 200
    if request.method == "POST" and refusal is None:
        try:
            reviews.write(current_user, stars=request.form.get("stars"), text=request.form.get("text"),
                          photo=_photo_upload(), farm_order=None if line else farm_order, line=line, now=utcnow())
        except reviews.ReviewError as refused:
            error, field, status = refused.message, refused.field, 400
        else:
            flash(_l("Thank you: your review is published."), "success")
            return redirect(url_for("orders.detail", public_id=order.public_id))
    elif request.method == "POST":
        status = 409
    return render_template("shop/review_form.html", farm_order=farm_order, order=order, line=line,
                           refusal=refusal, error=error, field=field, action=action, max_text=MAX_TEXT,
                           entered=request.form), status


@bp.route("/orders/<public_id>/farms/<int:farm_order_id>/review", methods=["GET", "POST"])
@login_required
def goods(public_id: str, farm_order_id: int):
    farm_order = _own_farm_order(public_id, farm_order_id)
    return _review_page(farm_order=farm_order, line=None, refusal=reviews.goods_refusal(farm_order, current_user),
                        action=url_for(".goods", public_id=public_id, farm_order_id=farm_order_id))


@bp.route("/orders/<public_id>/visits/<int:line_id>/review", methods=["GET", "POST"])
@login_required
def visit(public_id: str, line_id: int):
    line = db.session.get(OrderLine, line_id)
    if line is None or line.slot_id is None:
        abort(404)
    farm_order = _own_farm_order(public_id, line.farm_order_id)
    return _review_page(farm_order=farm_order, line=line,
                        refusal=reviews.visit_refusal(line, current_user, utcnow()),
                        action=url_for(".visit", public_id=public_id, line_id=line_id))


# -- the farmer ---------------------------------------------------------------------------------------------------

def _own_farm():
    farm = getattr(current_user, "farm", None) if current_user.role == "farmer" else None
    if farm is None or farm.status != "approved":
        abort(403)
    return farm


@bp.route("/farmer/reviews")
@login_required
def farmer_list():
    farm = _own_farm()
    return render_template("shop/reviews_farmer.html", farm=farm, reviews=reviews.farm_reviews(farm.id),
                           rating=reviews.farm_rating(farm.id), max_reply=MAX_REPLY)


@bp.route("/farmer/reviews/<int:review_id>/reply", methods=["POST"])
@login_required
def farmer_reply(review_id: int):
    farm = _own_farm()
    review = db.session.get(Review, review_id)
    if review is None or review.farm_id != farm.id:
        abort(404)
    try:
        reviews.reply(review, current_user, request.form.get("reply"), now=utcnow())
    except reviews.ReviewError as refused:
        flash(refused.message, "error")
        return redirect(url_for(".farmer_list", _anchor=f"review-{review.id}"))
    flash(_l("Your answer is published under the review."), "success")
    return redirect(url_for(".farmer_list", _anchor=f"review-{review.id}"))


# -- staff ----------------------------------------------------------------------------------------------------------

@bp.route("/admin/reviews")
@admin_required
def admin_list():
    return render_template("shop/reviews_admin.html", reviews=reviews.all_reviews(), max_reason=MAX_REASON)


@bp.route("/admin/reviews/<int:review_id>/hide", methods=["POST"])
@admin_required
def admin_hide(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None:
        abort(404)
    try:
        reviews.hide(review, current_user, request.form.get("reason"), now=utcnow())
    except reviews.ReviewError as refused:
        flash(refused.message, "error")
    else:
        flash(_l("The review is hidden; it no longer counts in the ratings."), "success")
    return redirect(url_for(".admin_list", _anchor=f"review-{review.id}"))


@bp.app_template_global()
def order_reviews(order):
    """The buyer's reviews and what they may review now, for the order page (nothing for anyone else)."""
    return reviews.order_reviews(order, current_user, utcnow())


@bp.app_template_global()
def visit_review_link(line) -> str | None:
    """The ticket page's link to review the visit, once the visitor may."""
    if reviews.visit_refusal(line, current_user, utcnow()) is not None:
        return None
    return url_for("reviews.visit", public_id=line.farm_order.order.public_id, line_id=line.id)
