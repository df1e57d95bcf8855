"""Commune staff pages."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from accounts import farm_applications as farm_services
from accounts import services as accounts
from accounts.farms import FARM_STATUSES, Farm
from accounts.models import User
from admin import services
from admin.forms import RejectForm, SuspendAccountForm, SuspendForm
from core.auth import admin_required
from core.extensions import db
from core.time import utcnow
from core.transactions import on_domain_error

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


@bp.route("/")
def overview():
    return render_template("admin/overview.html", stats=services.overview(utcnow()))


@bp.route("/farms")
def farms():
    status = request.args.get("status", "")
    query = select(Farm).options(joinedload(Farm.owner)).order_by(Farm.name)
    if status in FARM_STATUSES:
        query = query.where(Farm.status == status)
    return render_template("admin/farms.html", farms=db.session.scalars(query).all(), status=status,
                           statuses=FARM_STATUSES, suspend_form=SuspendForm())


def _back_to_farms(**_view_args):
    return redirect(url_for("admin.farms"))


@bp.route("/farms/<int:farm_id>/suspend", methods=["POST"])
@on_domain_error(_back_to_farms)
def suspend(farm_id: int):
    farm = _farm_or_404(farm_id)
    form = SuspendForm()
    if not form.validate_on_submit():
        flash(form.reason.errors[0] if form.reason.errors else _l("Please try again."), "error")
        return redirect(url_for("admin.farms"))
    services.suspend_farm(farm, current_user, form.reason.data)
    flash(_l("%(farm)s is suspended: its products and visits are hidden.", farm=farm.name), "info")
    return redirect(url_for("admin.farms"))


@bp.route("/farms/<int:farm_id>/reinstate", methods=["POST"])
@on_domain_error(_back_to_farms)
def reinstate(farm_id: int):
    farm = _farm_or_404(farm_id)
    services.reinstate_farm(farm, current_user)
    flash(_l("%(farm)s can sell again.", farm=farm.name), "success")
    return redirect(url_for("admin.farms"))


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


def _back_to_application(farm_id: int):
    return redirect(url_for("admin.application", farm_id=farm_id))


@bp.route("/applications/<int:farm_id>/approve", methods=["POST"])
@on_domain_error(_back_to_application)
def approve(farm_id: int):
    farm = _farm_or_404(farm_id)
    farm_services.approve(farm, current_user, now=utcnow())
    flash(_l("%(farm)s is approved and can now sell.", farm=farm.name), "success")
    return redirect(url_for("admin.applications"))


@bp.route("/applications/<int:farm_id>/reject", methods=["POST"])
@on_domain_error(_back_to_application)
def reject(farm_id: int):
    farm = _farm_or_404(farm_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return render_template("admin/application.html", farm=farm, reject_form=form), 400
    farm_services.reject(farm, current_user, form.reason.data, now=utcnow())
    flash(_l("The application of %(farm)s is rejected.", farm=farm.name), "info")
    return redirect(url_for("admin.applications"))


# -- accounts: suspend and reinstate (a suspended account cannot log in; its sessions end) ------------------

@bp.route("/users")
def users():
    query = request.args.get("q", "")
    return render_template("admin/users.html", users=accounts.search(query), q=query[:100],
                           suspend_form=SuspendAccountForm())


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _back_to_user(user_id: int):
    """The accounts list showing this account (read again: the failed request was rolled back)."""
    return redirect(url_for("admin.users", q=_user_or_404(user_id).login_name))


@bp.route("/users/<int:user_id>/suspend", methods=["POST"])
@on_domain_error(_back_to_user)
def suspend_user(user_id: int):
    user = _user_or_404(user_id)
    form = SuspendAccountForm()
    if not form.validate_on_submit():
        flash(form.reason.errors[0] if form.reason.errors else _l("Please try again."), "error")
        return redirect(url_for("admin.users", q=user.login_name))
    accounts.suspend(user, current_user._get_current_object(), form.reason.data)
    flash(_l("The account %(email)s is suspended and logged out everywhere.", email=user.login_name), "info")
    return redirect(url_for("admin.users", q=user.login_name))


@bp.route("/users/<int:user_id>/reinstate", methods=["POST"])
@on_domain_error(_back_to_user)
def reinstate_user(user_id: int):
    user = _user_or_404(user_id)
    accounts.reinstate(user, current_user._get_current_object())
    flash(_l("The account %(email)s can log in again.", email=user.login_name), "success")
    return redirect(url_for("admin.users", q=user.login_name))
