"""Commune staff's money pages: bank transfers, refunds to make, and the outbox."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from core import inputs
from core.auth import admin_required
from core.extensions import db
from core.formatting import vnd
from core.forms import show_error
from core.outbox import Notification
from core.time import utcnow
from core.transactions import fail, on_domain_error
from shop import payments
from shop.order_models import Order
from shop.payment_forms import (
    AssignTransferForm,
    BankRefundDoneForm,
    ConfirmForm,
    ManualTransferForm,
    ResolveTransferForm,
    StaffRefundForm,
)
from shop.payment_models import BankTransfer, Payment, Refund
from shop.payments.refunds import pending_sent_by_providers
from shop.payments.transfers import waiting_parts
from shop.payments.web import deliver_after_commit

bp = Blueprint("admin_payments", __name__, url_prefix="/admin")

PER_PAGE = 30
# The staff button sends refunds for at most this long (each Stripe call takes up to ~17 s), so the page
# comes back well inside the worker timeout; the rest wait for `flask send-refunds`.
REFUND_BUDGET_SECONDS = 15
ATTENTION = ("unmatched", "underpaid", "late", "overpaid")
RESOLVABLE = ("unmatched", "underpaid", "late")
OUTBOX_STATUSES = ("pending", "sent", "failed")


@bp.before_request
@admin_required
def staff_only():
    """Every page of this blueprint is for commune staff only."""


def _page() -> int:
    return inputs.parse_page(request.args.get("page"))


# -- transfers -----------------------------------------------------------------------------------

def _transfers_page(form: ManualTransferForm, status: int = 200):
    attention_first = case((BankTransfer.status.in_(ATTENTION), 0), else_=1)
    # One row per credit of the statement; the parts of a split credit are shown under it.
    query = (select(BankTransfer).where(BankTransfer.parent_id.is_(None)).options(selectinload(BankTransfer.order))
             .order_by(attention_first, BankTransfer.received_at.desc(), BankTransfer.id.desc()))
    page = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False, count=True)
    parts: dict[int, list[BankTransfer]] = {}
    for part in db.session.scalars(select(BankTransfer).options(selectinload(BankTransfer.order)).where(
            BankTransfer.parent_id.in_([t.id for t in page.items])).order_by(BankTransfer.id)) if page.items else ():
        parts.setdefault(part.parent_id, []).append(part)
    resolve_forms = {t.id: ResolveTransferForm(prefix=f"t{t.id}", formdata=None)
                     for t in page.items if t.status in RESOLVABLE}
    unmatched = [t for t in page.items if t.status == "unmatched" and t.order_id is None]
    assign_forms = {t.id: AssignTransferForm(prefix=f"a{t.id}", formdata=None) for t in unmatched
                    if t.id not in parts}
    refund_forms = {t.id: ResolveTransferForm(prefix=f"r{t.id}", formdata=None) for t in unmatched}
    return render_template("admin/money_transfers.html", page=page, form=form, resolve_forms=resolve_forms,
                           assign_forms=assign_forms, refund_forms=refund_forms, parts=parts,
                           attention=ATTENTION), status


@bp.route("/transfers")
def transfers():
    return _transfers_page(ManualTransferForm(formdata=None))


_RECORDED = {
    "matched": (_l("Transfer recorded: order %(reference)s is paid."), "success"),
    "overpaid": (_l("Transfer recorded: order %(reference)s is paid. The extra %(extra)s is on the refunds page, "
                    "to send back to the buyer."), "success"),
    "underpaid": (_l("Transfer recorded, but it is %(missing)s less than the total: order %(reference)s still "
                     "waits for payment."), "error"),
    "late": (_l("Transfer recorded, but order %(reference)s could not take it (it had expired or was paid "
                "already): the money is on the refunds page, to send back."), "error"),
}


def _order_for(field) -> Order | None:
    """The order of a validated reference field (its ``order_id``, set by the form)."""
    return db.session.get(Order, field.order_id)


@bp.route("/transfers", methods=["POST"])
def record_transfer():
    form = ManualTransferForm()
    if not form.validate_on_submit():
        return _transfers_page(form, 400)
    order = _order_for(form.reference)
    if order is None:
        form.reference.errors.append(_("No order has the reference %(reference)s.", reference=form.reference.data))
        return _transfers_page(form, 400)
    now = utcnow()
    try:
        transfer = payments.record_bank_transfer(
            transaction_id=form.transaction_id.data, amount_vnd=form.amount_vnd.amount,
            content=(form.content.data or "").strip() or form.reference.data, transferred_at=None,
            source="staff", now=now, actor=current_user, order=order)
    except payments.DuplicateTransfer:
        fail()
        form.transaction_id.errors.append(_("This bank transaction is already recorded; nothing was changed."))
        return _transfers_page(form, 400)
    _flash_recorded(transfer, order)
    deliver_after_commit()
    return redirect(url_for("admin_payments.transfers"))


def _flash_recorded(transfer: BankTransfer, order: Order) -> None:
    """What the transfer did to its order, in staff's words."""
    message, category = _RECORDED[transfer.status]
    amount, total = transfer.amount_vnd, order.total_vnd  # with the parts received before it, for this order:
    if transfer.payment_id:
        amount = db.session.get(Payment, transfer.payment_id).amount_vnd
    elif transfer.status == "underpaid":
        amount += sum(part.amount_vnd for part in waiting_parts(order.id, but=transfer.id))
    flash(str(message) % {"reference": order.reference, "extra": vnd(amount - total), "missing": vnd(total - amount)},
          category)


@bp.route("/transfers/<int:transfer_id>/assign", methods=["POST"])
@on_domain_error(lambda transfer_id: redirect(url_for("admin_payments.transfers")))
def assign_transfer(transfer_id: int):
    """An unmatched credit gets its order in one action: the same bank credit, nothing typed again."""
    transfer = db.session.get(BankTransfer, transfer_id) or abort(404)
    form = AssignTransferForm(prefix=f"a{transfer.id}")
    order = _order_for(form.reference) if form.validate_on_submit() else None
    if order is None:
        errors = form.reference.errors or [_("No order has the reference %(reference)s.",
                                               reference=form.reference.data)]
        flash(" ".join(str(e) for e in errors), "error")
        return redirect(url_for("admin_payments.transfers"))
    _flash_recorded(payments.assign_transfer(transfer, order, current_user, utcnow()), order)
    deliver_after_commit()
    return redirect(url_for("admin_payments.transfers"))


@bp.route("/transfers/<int:transfer_id>/refund", methods=["POST"])
@on_domain_error(lambda transfer_id: redirect(url_for("admin_payments.transfers")))
def refund_transfer(transfer_id: int):
    """An unmatched credit that is no order's goes back to whoever sent it: a refund task."""
    transfer = db.session.get(BankTransfer, transfer_id) or abort(404)
    form = ResolveTransferForm(prefix=f"r{transfer.id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.note.errors), "error")
        return redirect(url_for("admin_payments.transfers"))
    payments.refund_unmatched(transfer, current_user, form.note.data, utcnow())
    flash(_("Transfer %(transaction)s is on the refunds page, to send back.", transaction=transfer.transaction_id),
          "success")
    return redirect(url_for("admin_payments.refunds"))


@bp.route("/transfers/<int:transfer_id>/resolve", methods=["POST"])
@on_domain_error(lambda transfer_id: redirect(url_for("admin_payments.transfers")))
def resolve_transfer(transfer_id: int):
    transfer = db.session.get(BankTransfer, transfer_id) or abort(404)
    form = ResolveTransferForm(prefix=f"t{transfer.id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.note.errors), "error")
        return redirect(url_for("admin_payments.transfers"))
    payments.resolve_transfer(transfer, current_user, form.note.data)
    flash(_("Transfer %(transaction)s is marked resolved.", transaction=transfer.transaction_id), "success")
    return redirect(url_for("admin_payments.transfers"))


# -- refunds -------------------------------------------------------------------------------------

def _refund_page(order: Order, forms: dict | None = None, status: int = 200):
    farm_orders = [fo for fo in order.farm_orders if fo.status in ("paid", "ready", "completed")]
    forms = forms or {}
    forms = {fo.id: forms.get(fo.id) or StaffRefundForm(prefix=f"f{fo.id}", formdata=None) for fo in farm_orders}
    return render_template("admin/order_refund.html", order=order, farm_orders=farm_orders, forms=forms), status


@bp.route("/orders/<public_id>/refund")
def order_refund(public_id: str):
    """Refund all or part of a paid farm order, in any state after payment (damaged fruit, a missed visit)."""
    order = db.session.scalar(select(Order).where(Order.public_id == public_id)) or abort(404)
    return _refund_page(order)


@bp.route("/orders/<public_id>/refund/<int:farm_order_id>", methods=["POST"])
def refund_farm_order(public_id: str, farm_order_id: int):
    order = db.session.scalar(select(Order).where(Order.public_id == public_id)) or abort(404)
    farm_order = next((fo for fo in order.farm_orders if fo.id == farm_order_id), None) or abort(404)
    form = StaffRefundForm(prefix=f"f{farm_order.id}")
    if not form.validate_on_submit():
        return _refund_page(order, {farm_order.id: form}, 400)
    try:
        refund = payments.refund_farm_order(farm_order, form.amount_vnd.amount, current_user, utcnow(),
                                            note=form.note.data)
    except payments.PaymentError as error:
        show_error(form, error)
        return _refund_page(order, {farm_order.id: form}, 400)
    flash(_("%(amount)s of order %(reference)s is booked for refund: %(how)s.", amount=vnd(refund.amount_vnd),
            reference=order.reference, how=payments.registry.label(refund.provider)), "success")
    deliver_after_commit()
    return redirect(url_for("admin_payments.refunds"))


@bp.route("/refunds")
def refunds():
    base = (select(Refund, Payment).outerjoin(Payment, Payment.id == Refund.payment_id)
            .options(joinedload(Refund.order)))
    pending = db.session.execute(base.where(Refund.status == "pending")
                                 .order_by(Refund.created_at, Refund.id)).all()
    recent = db.session.execute(base.where(Refund.status != "pending")
                                .order_by(Refund.done_at.desc(), Refund.id.desc()).limit(PER_PAGE)).all()
    sent_by_provider = payments.registry.sending_refunds()
    done_forms = {refund.id: BankRefundDoneForm(prefix=f"r{refund.id}", formdata=None)
                  for refund, _payment in pending if refund.provider not in sent_by_provider}
    return render_template("admin/money_refunds.html", pending=pending, recent=recent, done_forms=done_forms,
                           send_form=ConfirmForm(formdata=None),
                           card_pending=any(refund.provider in sent_by_provider for refund, _payment in pending))


@bp.route("/refunds/<int:refund_id>/done", methods=["POST"])
@on_domain_error(lambda refund_id: redirect(url_for("admin_payments.refunds")))
def refund_done(refund_id: int):
    refund = db.session.get(Refund, refund_id) or abort(404)
    form = BankRefundDoneForm(prefix=f"r{refund.id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for e in form.bank_reference.errors), "error")
        return redirect(url_for("admin_payments.refunds"))
    payments.mark_refund_done(refund, current_user, form.bank_reference.data, utcnow())
    what = refund.order.reference if refund.order else refund.bank_transfer.transaction_id  # a credit no order's
    flash(_("The refund of %(amount)s for order %(reference)s is marked done.", amount=vnd(refund.amount_vnd),
            reference=what), "success")
    return redirect(url_for("admin_payments.refunds"))


@bp.route("/refunds/send-card", methods=["POST"])
def send_card_refunds():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    sent = payments.send_pending_refunds(utcnow(), time_budget_seconds=REFUND_BUDGET_SECONDS)
    waiting = db.session.scalar(pending_sent_by_providers().with_only_columns(func.count()))
    flash(ngettext("%(num)d card refund sent.", "%(num)d card refunds sent.", sent), "success" if sent else "info")
    if waiting:
        flash(ngettext("%(num)d card refund could not be sent yet; try again later.",
                       "%(num)d card refunds could not be sent yet; try again later.", waiting), "error")
    return redirect(url_for("admin_payments.refunds"))


# -- outbox ------------------------------------------------------------------------------------------

@bp.route("/outbox")
def outbox():
    status = request.args.get("status")
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
    if status in OUTBOX_STATUSES:
        query = query.where(Notification.status == status)
    else:
        status = None
    page = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False, count=True)
    return render_template("admin/money_outbox.html", page=page, status=status, statuses=OUTBOX_STATUSES,
                           mail_configured=bool(current_app.config.get("MAIL_SERVER")))
