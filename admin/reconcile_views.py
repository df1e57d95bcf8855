"""Commune staff reconcile the bank money in one place: split an unmatched credit across orders, import the
bank's statement and hold it against the market's credits, and the daily balance of the money received."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from admin.payment_views import bp as payments_bp
from admin.reconcile_forms import SplitTransferForm, StatementUploadForm
from core import inputs
from core.auth import admin_required
from core.extensions import db
from core.formatting import vnd
from core.time import to_local, utcnow
from core.transactions import fail, on_domain_error
from shop.order_models import Order
from shop.payment_forms import ConfirmForm
from shop.payment_models import BankTransfer
from shop.payments import daybook, reconcile
from shop.payments.split import split_transfer
from shop.payments.transfers import left_vnd
from shop.payments.web import deliver_after_commit
from shop.statement_models import StatementImport, StatementLine

bp = Blueprint("admin_reconcile", __name__, url_prefix="/admin")

BALANCE_DAYS = 14
PER_PAGE = 30


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


def _today():
    return to_local(utcnow()).date()


def money_balance() -> dict:
    """For the money pages: the daily balance of the last two weeks, and whether a day does not balance."""
    days = daybook.recent_days(_today(), BALANCE_DAYS)
    return {"balance_days": days, "balance_off": any(not day.balanced for day in days)}


@bp.context_processor
def _balance_context():
    return money_balance()


payments_bp.context_processor(_balance_context)


# -- split -------------------------------------------------------------------------------------------------

def _credit(transfer_id: int) -> BankTransfer:
    transfer = db.session.get(BankTransfer, transfer_id) or abort(404)
    if transfer.parent_id is not None:
        abort(404)
    return transfer


def _split_page(transfer: BankTransfer, form: SplitTransferForm, status: int = 200):
    parts = db.session.scalars(select(BankTransfer).where(BankTransfer.parent_id == transfer.id)
                               .order_by(BankTransfer.id)).all()
    orders = {o.id: o for o in db.session.scalars(select(Order).where(
        Order.id.in_([p.order_id for p in parts if p.order_id])))} if parts else {}
    return render_template("admin/money_split.html", transfer=transfer, form=form, parts=parts, orders=orders,
                           left=left_vnd(transfer)), status


@bp.route("/transfers/<int:transfer_id>/split")
def split(transfer_id: int):
    return _split_page(_credit(transfer_id), SplitTransferForm(formdata=None))


@bp.route("/transfers/<int:transfer_id>/split", methods=["POST"])
@on_domain_error(lambda transfer_id: redirect(url_for("admin_reconcile.split", transfer_id=transfer_id)))
def split_post(transfer_id: int):
    transfer = _credit(transfer_id)
    form = SplitTransferForm()
    if not form.validate_on_submit():
        return _split_page(transfer, form, 400)
    filled = form.filled_parts()
    orders = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_([i for i, _a in filled])))}
    missing = [entry.form.reference for entry in form.parts
               if getattr(entry.form.reference, "order_id", None) and entry.form.reference.order_id not in orders]
    if missing:
        for field in missing:
            field.errors.append(_("No order has the reference %(reference)s.", reference=field.data))
        return _split_page(transfer, form, 400)
    made = split_transfer(transfer, [(orders[order_id], amount) for order_id, amount in filled],
                          refund_rest=form.rest.data == "refund", note=form.note.data or "", staff=current_user,
                          now=utcnow())
    for part in made:
        order = orders[part.order_id]
        if part.status in ("matched", "overpaid"):
            flash(_("%(amount)s went to order %(reference)s: it is paid.", amount=vnd(part.amount_vnd),
                    reference=order.reference), "success")
        elif part.status == "underpaid":
            flash(_("%(amount)s went to order %(reference)s: it waits for the rest of its total.",
                    amount=vnd(part.amount_vnd), reference=order.reference), "info")
        else:
            flash(_("%(amount)s went to order %(reference)s, which could not take it: it is on the refunds page.",
                    amount=vnd(part.amount_vnd), reference=order.reference), "error")
    deliver_after_commit()
    return redirect(url_for("admin_reconcile.split", transfer_id=transfer.id))


# -- statements --------------------------------------------------------------------------------------------

def _statements_page(form: StatementUploadForm, status: int = 200):
    page = db.paginate(select(StatementImport).order_by(StatementImport.imported_at.desc(),
                                                         StatementImport.id.desc()),
                       page=inputs.parse_page(request.args.get("page")), per_page=PER_PAGE, error_out=False)
    return render_template("admin/money_statements.html", form=form, page=page,
                           layouts=reconcile.LAYOUTS), status


@bp.route("/statements")
def statements():
    return _statements_page(StatementUploadForm(formdata=None))


@bp.route("/statements", methods=["POST"])
def import_statement():
    form = StatementUploadForm()
    if not form.validate_on_submit():
        return _statements_page(form, 400)
    upload = form.statement.data
    try:
        entry, new = reconcile.import_statement(upload.read(), upload.filename, current_user, utcnow())
    except reconcile.StatementError as error:
        fail()
        form.statement.errors.append(str(error.message))
        return _statements_page(form, 400)
    if new:
        flash(_("Statement read: %(num)d new credits.", num=entry.credits), "success")
    else:
        flash(_("This file was imported before: nothing was added."), "info")
    return redirect(url_for("admin_reconcile.statement", import_id=entry.id))


@bp.route("/statements/<int:import_id>")
def statement(import_id: int):
    entry = db.session.get(StatementImport, import_id) or abort(404)
    return render_template("admin/money_statement.html", rec=reconcile.statement(entry), layouts=reconcile.LAYOUTS)


@bp.route("/statements/lines/<int:line_id>/record", methods=["POST"])
@on_domain_error(lambda line_id: redirect(url_for("admin_reconcile.statements")))
def record_line(line_id: int):
    line = db.session.get(StatementLine, line_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    transfer = reconcile.record_line(line, current_user, utcnow())
    order = db.session.get(Order, transfer.order_id) if transfer.order_id else None
    if order is not None and transfer.status in ("matched", "overpaid"):
        flash(_("Recorded: order %(reference)s is paid.", reference=order.reference), "success")
    elif order is not None:
        flash(_("Recorded for order %(reference)s; see its state on the transfers page.",
                reference=order.reference), "info")
    else:
        flash(_("Recorded as a transfer. No order reference was found in its content: give it its order on the "
                "transfers page."), "info")
    deliver_after_commit()
    return redirect(url_for("admin_reconcile.statement", import_id=line.import_id))


# -- the daily balance -------------------------------------------------------------------------------------

@bp.route("/balance")
def balance():
    today = _today()
    days = daybook.daily_balance(today - timedelta(days=89), today)
    return render_template("admin/money_balance.html", days=days)
