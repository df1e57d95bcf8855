"""Commune staff pay farms out: each farm's balance (pending, available, or owed to the market), a VietQR code
paying what is available, and recording the transfer."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from accounts.farms import Farm
from admin.payout_forms import PayoutForm
from core.auth import admin_required
from core.extensions import db
from core.formatting import vnd
from core.forms import NumberNotUnderstood, parse_whole_number
from core.qr import qr_svg
from core.time import to_local, utcnow
from shop import payouts as payout_service

bp = Blueprint("admin_payouts", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


@bp.route("/payouts")
def payouts():
    balances = payout_service.balances(utcnow())
    return render_template("admin/payouts.html", balances=balances,
                           total_payable=sum(b.payable for b in balances),
                           total_pending=sum(b.pending for b in balances),
                           total_debt=sum(b.debt for b in balances))


def _farm_or_404(farm_id: int) -> Farm:
    farm = db.session.get(Farm, farm_id)
    if farm is None:
        abort(404)
    return farm


def _page(farm: Farm, form: PayoutForm, qr_amount: int | None, status: int = 200):
    """The farm's payout page; the VietQR code pays ``qr_amount`` if it is a possible payout, else all that is
    available. A refused amount above what is available is replaced in the form by the available amount."""
    figures = payout_service.balance(farm, utcnow())
    payable = figures.payable
    if qr_amount is None or not 0 < qr_amount <= payable:
        qr_amount = payable if payable > 0 else None
    if request.method == "GET" or (form.amount_vnd.data or 0) > payable:
        form.amount_vnd.data = qr_amount
        form.amount_vnd.raw_data = None
    payload = payout_service.qr_payload(farm, qr_amount) if qr_amount else None
    qr = qr_svg(payload, scale=5, title=str(_l("VietQR code: transfer %(amount)s to %(farm)s",
                                               amount=vnd(qr_amount), farm=farm.name))) if payload else None
    return render_template("admin/payouts_farm.html", farm=farm, figures=figures, form=form, qr=qr,
                           qr_amount=qr_amount,
                           transfer_reference=payout_service.transfer_reference(farm),
                           history=payout_service.history(farm.id)), status


def _amount_arg() -> int | None:
    """``?amount=`` as staff type it ("500.000" too); None if it is not a whole number."""
    try:
        return parse_whole_number(request.args.get("amount", ""))
    except NumberNotUnderstood:
        return None


@bp.route("/payouts/<int:farm_id>")
def farm(farm_id: int):
    farm = _farm_or_404(farm_id)
    form = PayoutForm(formdata=None, form_token=secrets.token_urlsafe(24), paid_on=to_local(utcnow()).date())
    return _page(farm, form, _amount_arg())


@bp.route("/payouts/<int:farm_id>", methods=["POST"])
def record(farm_id: int):
    farm = _farm_or_404(farm_id)
    form = PayoutForm()
    if not form.validate_on_submit():
        return _page(farm, form, form.amount_vnd.data, 400)
    try:
        payout, created = payout_service.record_payout(
            farm, amount_vnd=form.amount_vnd.data, paid_on=form.paid_on.data, bank_reference=form.bank_reference.data,
            form_token=form.form_token.data, staff=current_user._get_current_object(), now=utcnow())
    except payout_service.PayoutError as error:  # the page again, with the message (a 400: nothing is kept)
        flash(error.message, "error")
        return _page(farm, form, form.amount_vnd.data, 400)
    if created:
        flash(_l("Payout of %(amount)s to %(farm)s recorded.", amount=vnd(payout.amount_vnd), farm=farm.name),
              "success")
    else:
        flash(_l("This payout was already recorded; it was not recorded twice."), "info")
    return redirect(url_for("admin_payouts.farm", farm_id=farm.id))
