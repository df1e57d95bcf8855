"""The pay page of an order (each offered provider's part, the chosen one first) and cancelling an unpaid
order from it. The providers' own routes are in shop/payments/providers/."""
from __future__ import annotations

from datetime import UTC

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.extensions import db
from core.formatting import vnd
from core.time import utcnow
from core.transactions import on_domain_error
from shop import cart as carts
from shop import checkout
from shop.payment_forms import RefundDetailsForm
from shop.payments import refunds, registry
from shop.payments.providers import payos
from shop.payments.refunds import refund_reason_label
from shop.payments.transfers import waiting_parts
from shop.payments.web import bp, key_args, no_store, order_for_viewer


@bp.app_context_processor
def payment_labels():
    return {"payment_method_label": registry.label,
            "refund_reason_label": refund_reason_label}


@bp.route("/orders/<public_id>/pay")
def pay(public_id: str):
    order = order_for_viewer(public_id)
    now = utcnow()
    checked = request.args.get("checked") == "1"
    if checked and order.status == "pending_payment":
        payos.check_order(order.id, now)  # "check again": payOS's status of its links, in case a webhook was missed
        db.session.refresh(order)
    state = order.display_status(now)
    context = dict(order=order, state=state, key_args=key_args(order), checked=checked,
                   received=sum(part.amount_vnd for part in waiting_parts(order.id)))
    if state == "pending_payment":
        offered = sorted(registry.offered(), key=lambda provider: provider.code != order.payment_method)
        context.update(
            providers=[(provider, provider.pay_context(order, now) if provider.enabled() else {})
                       for provider in offered],
            minutes_left=max(0, int((order.expires_at - now).total_seconds() // 60)),
            expires_iso=order.expires_at.replace(tzinfo=UTC).isoformat())
    return no_store(render_template("payments/pay.html", **context))


@bp.route("/orders/<public_id>/pay/status")
def status(public_id: str):
    """What the pay page's script asks every few seconds: the order's state and what has been received."""
    order = order_for_viewer(public_id)
    received = sum(part.amount_vnd for part in waiting_parts(order.id))
    return no_store({"state": order.display_status(utcnow()), "received_vnd": received})


def _back_to_pay(public_id: str):
    order = order_for_viewer(public_id)
    return redirect(url_for("payments.pay", public_id=order.public_id, **key_args(order)))


@bp.route("/orders/<public_id>/pay/cancel", methods=["GET", "POST"])
@on_domain_error(_back_to_pay)
def cancel(public_id: str):
    """Cancel an unpaid order from its pay page, after a confirmation page: its stock and seats go back at
    once. With ``then=change`` its lines go back into the cart, so the buyer can change them and order again."""
    order = order_for_viewer(public_id)
    keys = key_args(order)
    now = utcnow()
    if order.display_status(now) != "pending_payment":
        return redirect(url_for("payments.pay", public_id=order.public_id, **keys))
    if request.method == "GET":
        return no_store(render_template("payments/cancel.html", order=order, key_args=keys))
    change = request.form.get("then") == "change"
    checkout.cancel_unpaid(order, current_user if current_user.is_authenticated else None, now)
    if change:
        carts.put_back(carts.store_for(current_user, session), checkout.all_lines(order))
        flash(_("Order %(reference)s is cancelled and its goods are back in your cart: change what you like and "
                "order again.", reference=order.reference), "success")
        return redirect(url_for("orders.cart"))
    flash(_("Order %(reference)s is cancelled. Nothing will be charged.", reference=order.reference), "success")
    return redirect(url_for("payments.pay", public_id=order.public_id, **keys))


@bp.route("/refunds/<token>", methods=["GET", "POST"])
def refund_details(token: str):
    """The buyer says which bank account a refund made by hand goes to (the link comes in the message about the
    refund and on the order page). The token is the secret: no account is needed."""
    refund = refunds.refund_for_details(token) or abort(404)
    form = RefundDetailsForm(obj=None)
    if form.validate_on_submit():
        refunds.give_bank_details(refund, bank_bin=form.bank_bin.data, account_number=form.account_number.data,
                                  account_name=form.account_name.data, now=utcnow())
        flash(_("Thank you: commune staff will send %(amount)s to this account.", amount=vnd(refund.amount_vnd)),
              "success")
        return redirect(url_for("payments.refund_details", token=token))
    if request.method == "GET" and refund.details_given_at:
        form.bank_bin.data = refund.buyer_bank_bin
        form.account_number.data = refund.buyer_account_number
        form.account_name.data = refund.buyer_account_name
    return no_store((render_template("payments/refund_details.html", refund=refund, form=form),
                     400 if form.errors else 200))
