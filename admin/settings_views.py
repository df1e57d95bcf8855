"""Staff pages: platform fee, the receiving bank account, the audit log."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin import services
from admin.forms import AuditFilterForm, BankAccountForm, FeeForm
from core import inputs, settings_store
from core.auth import admin_required
from core.extensions import db
from shop.payments import receiving_account

bp = Blueprint("admin_settings", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


def _fee_percent() -> str:
    basis_points = int(settings_store.get("platform_fee_bp", "0") or 0)
    return f"{basis_points / 100:g}"


@bp.route("/settings", methods=["GET"])
def settings():
    account = receiving_account()
    fee_form = FeeForm(data={"percent": _fee_percent()})
    bank_form = BankAccountForm(data={"bank_bin": account.bank_bin, "account_number": account.account_number,
                                      "account_name": account.account_name})
    return render_template("admin/settings.html", fee_form=fee_form, bank_form=bank_form, account=account)


@bp.route("/settings/fee", methods=["POST"])
def set_fee():
    form = FeeForm()
    if form.validate_on_submit():
        services.set_platform_fee(form.percent.basis_points, current_user)
        db.session.commit()
        flash(_l("The platform fee is now %(percent)s %% of each sale (for payments from now on).",
                 percent=_fee_percent()), "success")
        return redirect(url_for("admin_settings.settings"))
    account = receiving_account()
    bank_form = BankAccountForm(formdata=None, data={"bank_bin": account.bank_bin,
                                                     "account_number": account.account_number,
                                                     "account_name": account.account_name})
    return render_template("admin/settings.html", fee_form=form, bank_form=bank_form, account=account), 400


@bp.route("/settings/bank", methods=["POST"])
def set_bank():
    form = BankAccountForm()
    if form.validate_on_submit():
        services.set_receiving_account(form.bank_bin.data, form.account_number.data, form.account_name.data,
                                       current_user)
        db.session.commit()
        flash(_l("New orders will be paid to this account."), "success")
        return redirect(url_for("admin_settings.settings"))
    fee_form = FeeForm(formdata=None, data={"percent": _fee_percent()})
    return render_template("admin/settings.html", fee_form=fee_form, bank_form=form,
                           account=receiving_account()), 400


@bp.route("/audit")
def audit_log():
    form = AuditFilterForm(request.args, entities=services.audit_entity_types())
    page = inputs.parse_page(request.args.get("page"), high=99_999)
    filters = {}
    if form.validate():
        filters = dict(action=form.action.data or "", entity=form.entity.data or "",
                       actor_email=form.actor.data or "", date_from=form.date_from.data, date_to=form.date_to.data)
    rows, total = services.audit_entries(page=page, **filters)
    pages = max(1, -(-total // services.AUDIT_PAGE_SIZE))
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template("admin/audit.html", form=form, rows=rows, total=total, page=page, pages=pages,
                           args=args)
