"""Staff pages: platform fee, the receiving bank account, the audit log."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from admin import bank_account, services
from admin.forms import AuditFilterForm, BankAccountForm, FeeForm, ShareFeeForm
from core import inputs, settings_store
from core.auth import admin_required
from core.extensions import limiter
from core.forms import show_error
from core.time import utcnow
from shop.payments import receiving_account

bp = Blueprint("admin_settings", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


def _fee_percent() -> str:
    basis_points = int(settings_store.get("platform_fee_bp", "0") or 0)
    return f"{basis_points / 100:g}"


def _share_percent() -> str:
    raw = (settings_store.get("share_fee_bp", "") or "").strip()
    return f"{int(raw) / 100:g}" if raw else ""


@bp.context_processor
def _share_fee_form() -> dict:
    """The share-fee form on every settings page (each POST below re-renders the page with its own forms)."""
    return {"share_fee_form": g.get("share_fee_form") or ShareFeeForm(formdata=None,
                                                                      data={"share_percent": _share_percent()})}


@bp.route("/settings", methods=["GET"])
def settings():
    account = receiving_account()
    fee_form = FeeForm(data={"percent": _fee_percent()})
    bank_form = BankAccountForm(data={"bank_bin": account.bank_bin, "account_number": account.account_number,
                                      "account_name": account.account_name})
    return render_template("admin/settings.html", fee_form=fee_form, bank_form=bank_form, account=account)


@bp.route("/settings/share-fee", methods=["POST"])
def set_share_fee():
    form = ShareFeeForm()
    if form.validate_on_submit():
        services.set_share_fee(form.share_percent.basis_points, current_user)
        flash(_l("Sales from the farmers' own shares now pay %(percent)s %% (never more than the normal fee).",
                 percent=_share_percent()) if form.share_percent.basis_points is not None
              else _l("Sales from the farmers' own shares pay the normal fee."), "success")
        return redirect(url_for("admin_settings.settings"))
    g.share_fee_form = form
    account = receiving_account()
    fee_form = FeeForm(formdata=None, data={"percent": _fee_percent()})
    bank_form = BankAccountForm(formdata=None, data={"bank_bin": account.bank_bin,
                                                     "account_number": account.account_number,
                                                     "account_name": account.account_name})
    return render_template("admin/settings.html", fee_form=fee_form, bank_form=bank_form, account=account), 400


@bp.route("/settings/fee", methods=["POST"])
def set_fee():
    form = FeeForm()
    if form.validate_on_submit():
        services.set_platform_fee(form.percent.basis_points, current_user)
        flash(_l("The platform fee is now %(percent)s %% of each sale (for payments from now on).",
                 percent=_fee_percent()), "success")
        return redirect(url_for("admin_settings.settings"))
    account = receiving_account()
    bank_form = BankAccountForm(formdata=None, data={"bank_bin": account.bank_bin,
                                                     "account_number": account.account_number,
                                                     "account_name": account.account_name})
    return render_template("admin/settings.html", fee_form=form, bank_form=bank_form, account=account), 400


def _bank_limit_key() -> str:
    return f"bank-password:{getattr(current_user, 'id', None)}"


def _password_was_wrong(response) -> bool:
    return bool(g.get("bank_password_wrong"))


@bp.route("/settings/bank", methods=["POST"])
@limiter.limit(lambda: current_app.config["BANK_CHANGE_PASSWORD_LIMIT"], key_func=_bank_limit_key,
               deduct_when=_password_was_wrong)
def set_bank():
    """Needs the staff member's password (admin.bank_account). Wrong passwords are limited per staff account
    (BANK_CHANGE_PASSWORD_LIMIT), so a session left open cannot be used to guess the password here."""
    form = BankAccountForm()
    if form.validate_on_submit():
        try:
            changed = bank_account.change_receiving_account(
                current_user, form.password.data, form.bank_bin.data, form.account_number.data,
                form.account_name.data, now=utcnow())
        except bank_account.WrongPassword as error:
            g.bank_password_wrong = True
            show_error(form, error)
        else:
            flash(_l("New orders will be paid to this account. Every staff member has been told.") if changed
                  else _l("This is already the account that receives the transfers; nothing was changed."),
                  "success")
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
