"""The farmer's harvest batches: record one, print its label sheet (a PDF of QR stickers), and see who bought it
(for a recall, also as CSV). A farm's own farmer only; another farm's batch does not exist here (404)."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from core.extensions import db
from core.qr import qr_png_data_uri
from core.urls import public_url
from farmers import statement_pdf
from farmers.dashboard_views import _safe_cell
from shop import batches
from shop.batch_models import MAX_PLOT, HarvestBatch
from shop.models import Product

bp = Blueprint("farmer_batches", __name__, url_prefix="/farmer/batches")


def _own_farm():
    farm = getattr(current_user, "farm", None) if current_user.role == "farmer" else None
    if farm is None or farm.status != "approved":
        abort(403)
    return farm


def _own_batch(batch_id: int) -> HarvestBatch:
    farm = _own_farm()
    batch = db.session.get(HarvestBatch, batch_id)
    if batch is None or batch.farm_id != farm.id:
        abort(404)
    return batch


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    farm = _own_farm()
    error = field = None
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            batches.record(farm, current_user, product_id=form.get("product_id"),
                           harvested_on=form.get("harvested_on"), plot=form.get("plot"),
                           quantity=form.get("quantity"), vietgap_number=form.get("vietgap_number"))
        except batches.BatchError as refused:
            db.session.rollback()
            error, field, status = refused.message, refused.field, 400
        else:
            db.session.commit()
            flash(_l("The batch is recorded. Print its labels and stick one on each box."), "success")
            return redirect(url_for(".index"))
    products = db.session.scalars(select(Product).where(Product.farm_id == farm.id, Product.status != "deleted")
                                  .order_by(Product.name)).all()
    return render_template("farmers/batches.html", farm=farm, batches=batches.of_farm(farm.id), products=products,
                           error=error, field=field, entered=request.form, max_plot=MAX_PLOT), status


@bp.route("/<int:batch_id>/labels.pdf")
@login_required
def labels(batch_id: int):
    batch = _own_batch(batch_id)
    url = public_url("batches.batch", code=batch.code)
    html = render_template("farmers/batch_labels.html", batch=batch, url=url, qr=qr_png_data_uri(url),
                           stickers=range(batches.STICKERS))
    return Response(statement_pdf.render(html), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="nhan-lo-{batch.code}.pdf"',
                             "Cache-Control": "private, no-store"})


@bp.route("/<int:batch_id>/buyers")
@login_required
def buyers(batch_id: int):
    batch = _own_batch(batch_id)
    found = batches.buyers(batch)
    if request.args.get("format") == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["order", "buyer", "phone", "quantity", "status"])
        for buyer in found:
            writer.writerow([buyer.reference, _safe_cell(buyer.name), _safe_cell(buyer.phone), buyer.quantity,
                             buyer.status])
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="nguoi-mua-lo-{batch.code}.csv"',
                                 "Cache-Control": "private, no-store"})
    return render_template("farmers/batch_buyers.html", batch=batch, buyers=found)


@bp.route("/lines/<int:line_id>", methods=["POST"])
@login_required
def line_batch(line_id: int):
    """Correct the batch an order line's goods came from; back to the farm order's page."""
    farm = _own_farm()
    line = batches.own_line(farm, line_id)
    if line is None:
        abort(404)
    back = redirect(url_for("farmer_orders.detail", farm_order_id=line.farm_order_id))
    try:
        batches.set_line_batch(farm, current_user, line, request.form.get("batch_id"))
    except batches.BatchError as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return back
    batch = db.session.get(HarvestBatch, line.batch_id)
    flash(_l("Saved: this line's goods came from batch %(code)s.", code=batch.code), "success")
    return back
