"""Certificate pages: the farm's farmer uploads and follows them (/farmer/certificates), staff check them
(/admin/certificates). A refused upload is shown again with its message and nothing is stored."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from core.auth import admin_required
from core.extensions import db
from shop import certificates
from shop.certificate_models import MAX_NUMBER, MAX_REASON, Certificate
from shop.models import Product

bp = Blueprint("certificates", __name__)


def _own_farm():
    farm = getattr(current_user, "farm", None) if current_user.role == "farmer" else None
    if farm is None or farm.status != "approved":
        abort(403)
    return farm


@bp.route("/farmer/certificates", methods=["GET", "POST"])
@login_required
def farmer_list():
    farm = _own_farm()
    error = field = None
    status = 200
    if request.method == "POST":
        form = request.form
        upload = request.files.get("scan")
        try:
            certificates.submit(farm, current_user, kind=form.get("kind"), number=form.get("number"),
                                issuer=form.get("issuer"), expires_on=form.get("expires_on"),
                                stars=form.get("stars"), product_id=form.get("product_id"),
                                scan=upload.stream if upload is not None and upload.filename else None)
        except certificates.CertificateError as refused:
            db.session.rollback()
            error, field, status = refused.message, refused.field, 400
        else:
            db.session.commit()
            flash(_l("Thank you: commune staff will check the certificate; the badge shows once it is verified."),
                  "success")
            return redirect(url_for(".farmer_list"))
    products = db.session.scalars(select(Product).where(Product.farm_id == farm.id, Product.status != "deleted")
                                  .order_by(Product.name)).all()
    return render_template("shop/certificates_farmer.html", farm=farm, certificates=certificates.of_farm(farm.id),
                           products=products, today=certificates.today(), error=error, field=field,
                           entered=request.form, max_number=MAX_NUMBER), status


@bp.route("/admin/certificates")
@admin_required
def admin_list():
    return render_template("shop/certificates_admin.html", certificates=certificates.waiting(),
                           max_reason=MAX_REASON)


def _decide(certificate_id: int, decide, done):
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    try:
        decide(certificate)
    except certificates.CertificateError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(done, "success")
    return redirect(url_for(".admin_list"))


@bp.route("/admin/certificates/<int:certificate_id>/verify", methods=["POST"])
@admin_required
def admin_verify(certificate_id: int):
    return _decide(certificate_id, lambda c: certificates.verify(c, current_user),
                   _l("Verified: the badge shows until the certificate expires."))


@bp.route("/admin/certificates/<int:certificate_id>/reject", methods=["POST"])
@admin_required
def admin_reject(certificate_id: int):
    return _decide(certificate_id, lambda c: certificates.reject(c, current_user, request.form.get("reason")),
                   _l("Rejected: the farmer is told why."))
