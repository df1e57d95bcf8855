"""Commune staff pages."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from accounts.models import User
from core.auth import admin_required
from core.extensions import db
from farmers import services as farm_services
from farmers.forms import RejectForm
from farmers.models import Farm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


@bp.route("/")
def overview():
    counts = dict(db.session.execute(select(Farm.status, func.count()).group_by(Farm.status)).all())
    users = db.session.scalar(select(func.count()).select_from(User))
    return render_template("admin/overview.html", farm_counts=counts, user_count=users)


@bp.route("/applications")
def applications():
    return render_template("admin/applications.html", farms=farm_services.pending_applications())


def _farm_or_404(farm_id: int) -> Farm:
    farm = db.session.get(Farm, farm_id)
    if farm is None:
        abort(404)
    return farm


@bp.route("/applications/<int:farm_id>")
def application(farm_id: int):
    return render_template("admin/application.html", farm=_farm_or_404(farm_id), reject_form=RejectForm())


@bp.route("/applications/<int:farm_id>/approve", methods=["POST"])
def approve(farm_id: int):
    farm = _farm_or_404(farm_id)
    try:
        farm_services.approve(farm, current_user)
    except farm_services.FarmError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.application", farm_id=farm_id))
    db.session.commit()
    flash(_l("%(farm)s is approved and can now sell.", farm=farm.name), "success")
    return redirect(url_for("admin.applications"))


@bp.route("/applications/<int:farm_id>/reject", methods=["POST"])
def reject(farm_id: int):
    farm = _farm_or_404(farm_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return render_template("admin/application.html", farm=farm, reject_form=form), 400
    try:
        farm_services.reject(farm, current_user, form.reason.data)
    except farm_services.FarmError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.application", farm_id=farm_id))
    db.session.commit()
    flash(_l("The application of %(farm)s is rejected.", farm=farm.name), "info")
    return redirect(url_for("admin.applications"))
