"""Paying an order (VietQR page, card page and its return page) and the two payment webhooks."""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core import inputs, outbox
from core.extensions import csrf, db, limiter
from core.transactions import no_retry
from core.qr import qr_svg
from core.time import local_to_utc, utcnow
from shop import cart as carts
from shop import checkout, payments
from shop import stripe as stripe_api
from shop.order_models import Order
from shop.payment_models import BankTransfer, Payment
from shop.vietqr import VietQRError, build_payload

bp = Blueprint("payments", __name__)

# What a card payment attempt came to, as the return page shows it.
PAID_OUTCOMES = {"paid", "late_paid"}
REFUNDED_OUTCOMES = {"late_refunded", "duplicate_refunded"}
FAILED_OUTCOMES = {"failed", "requires_payment_method", "canceled"}
MAX_WEBHOOK_AMOUNT_VND = 10**13 - 1  # VietQR's 13-digit limit
MAX_NOTIFICATION_BYTES = 64 * 1024  # a notification is a few hundred bytes


def _webhook_limit() -> str:
    return current_app.config["WEBHOOK_LIMIT_PER_IP"]


# -- shared helpers ---------------------------------------------------------------------------

def order_for_viewer(public_id: str) -> Order:
    """The order, if the viewer may see it: its buyer, commune staff, or whoever has its secret
    link (``?key=``, compared in constant time). Anyone else gets 404, as if it did not exist."""
    order = db.session.scalar(select(Order).where(Order.public_id == public_id))
    if order is None:
        abort(404)
    if current_user.is_authenticated and (current_user.is_admin or order.user_id == current_user.id):
        return order
    if _key_matches(order):
        return order
    abort(404)


def _key_matches(order: Order) -> bool:
    key = request.args.get("key", "")
    return bool(key) and hmac.compare_digest(key.encode(), order.secret.encode())


def _key_args(order: Order) -> dict:
    """Carry the secret link key on to the next page, when the viewer came with it."""
    return {"key": order.secret} if _key_matches(order) else {}


MAIL_BUDGET_SECONDS = 10  # mail sent at the end of a request stops starting new messages after this


def deliver_after_commit(now: datetime, *, refunds_booked: bool = False) -> None:
    """After a commit that moved money: send the outbox when mail is configured, within a time budget.
    Card refunds it booked (``refunds_booked``) are not sent from the request: ``flask send-refunds``
    sends them, so a slow Stripe never holds the page. What is not sent stays queued for
    ``flask send-refunds`` / ``flask send-notifications``."""
    try:
        if current_app.config.get("MAIL_SERVER"):
            outbox.send_pending(limit=20, time_budget_seconds=MAIL_BUDGET_SECONDS)
    except Exception:  # noqa: BLE001 - the payment is committed; delivery is retried later
        current_app.logger.exception("Delivery after a payment failed; it stays queued")
        db.session.rollback()


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# -- VietQR page ------------------------------------------------------------------------------

@bp.route("/orders/<public_id>/pay")
def pay(public_id: str):
    order = order_for_viewer(public_id)
    now = utcnow()
    state = order.display_status(now)
    context = dict(order=order, state=state, key_args=_key_args(order), card_enabled=stripe_api.enabled())
    if state == "pending_payment":
        account = payments.receiving_account()
        try:
            payload = build_payload(account.bank_bin, account.account_number, order.total_vnd, order.reference)
        except VietQRError:
            current_app.logger.exception("The receiving bank account cannot make a VietQR code")
            payload = None
        context.update(
            account=account, payload=payload,
            qr=Markup(qr_svg(payload, scale=6, title=_("VietQR code for order %(reference)s",
                                                       reference=order.reference))) if payload else None,
            minutes_left=max(0, int((order.expires_at - now).total_seconds() // 60)),
            expires_iso=order.expires_at.replace(tzinfo=UTC).isoformat(),
            underpaid=db.session.scalars(select(BankTransfer).where(BankTransfer.order_id == order.id,
                                                                    BankTransfer.status == "underpaid")).all())
    return _no_store(current_app.make_response(render_template("payments/pay.html", **context)))


@bp.route("/orders/<public_id>/pay/cancel", methods=["GET", "POST"])
def cancel(public_id: str):
    """Cancel an unpaid order from its pay page, after a confirmation page: its stock and seats go back at
    once. With ``then=change`` its lines go back into the cart, so the buyer can change them and order again."""
    order = order_for_viewer(public_id)
    key_args = _key_args(order)
    now = utcnow()
    if order.display_status(now) != "pending_payment":
        return redirect(url_for("payments.pay", public_id=order.public_id, **key_args))
    if request.method == "GET":
        return _no_store(current_app.make_response(render_template("payments/cancel.html", order=order,
                                                                   key_args=key_args)))
    change = request.form.get("then") == "change"
    try:
        checkout.cancel_unpaid(order, current_user if current_user.is_authenticated else None, now)
        if change:
            carts.put_back(carts.store_for(current_user, session), checkout.all_lines(order))
    except checkout.CheckoutError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("payments.pay", public_id=order.public_id, **key_args))
    reference = order.reference
    db.session.commit()
    if change:
        flash(_("Order %(reference)s is cancelled and its goods are back in your cart: change what you like and "
                "order again.", reference=reference), "success")
        return redirect(url_for("orders.cart"))
    flash(_("Order %(reference)s is cancelled. Nothing will be charged.", reference=reference), "success")
    return redirect(url_for("payments.pay", public_id=order.public_id, **key_args))


# -- card -------------------------------------------------------------------------------------------

@bp.route("/orders/<public_id>/pay/card")
@no_retry  # calls Stripe before it commits
def card(public_id: str):
    order = order_for_viewer(public_id)
    key_args = _key_args(order)
    if not stripe_api.enabled():
        return render_template("payments/card_unavailable.html", order=order, key_args=key_args,
                               reason="not_configured")
    now = utcnow()
    if order.display_status(now) != "pending_payment":
        return redirect(url_for("payments.pay", public_id=order.public_id, **key_args))
    try:
        payment = payments.start_card_payment(order, now)
    except payments.PaymentError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("payments.pay", public_id=order.public_id, **key_args))
    except stripe_api.StripeUnavailable:
        db.session.rollback()
        current_app.logger.warning("Stripe unreachable when starting a card payment", exc_info=True)
        return render_template("payments/card_unavailable.html", order=order, key_args=key_args,
                               reason="unreachable"), 503
    client_secret, intent_id = payment.client_secret, payment.stripe_payment_intent_id
    db.session.commit()
    config = current_app.config
    response = current_app.make_response(render_template(
        "payments/card.html", order=order, key_args=key_args, stripe_js_url=config["STRIPE_JS_URL"],
        publishable_key=config["STRIPE_PUBLISHABLE_KEY"], client_secret=client_secret,
        return_url=url_for("payments.card_return", public_id=order.public_id, payment_intent=intent_id,
                           **key_args)))
    return _no_store(response)


def _card_result(outcome: str, order: Order, payment: Payment) -> str:
    if outcome in PAID_OUTCOMES:
        return "paid"
    if outcome in REFUNDED_OUTCOMES:
        return "refunded"
    if outcome == "already":  # confirmed before (by the webhook): say what came of it
        if payment.refunded_vnd >= payment.amount_vnd:
            return "refunded"
        return "paid" if order.status == "paid" else "processing"
    if outcome in FAILED_OUTCOMES:
        return "failed"
    if outcome == "mismatch":
        return "mismatch"
    return "processing"


@bp.route("/orders/<public_id>/pay/card/return")
@no_retry  # calls Stripe before it commits
def card_return(public_id: str):
    order = order_for_viewer(public_id)
    intent_id = request.args.get("payment_intent", "")
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id,
                                                      Payment.order_id == order.id))
    if payment is None:
        abort(404)
    now = utcnow()
    try:
        outcome = payments.sync_card_payment(intent_id, actor_label="return:stripe", now=now)
    except stripe_api.StripeUnavailable:
        db.session.rollback()
        current_app.logger.warning("Stripe unreachable on the card return page", exc_info=True)
        return _no_store(current_app.make_response((render_template(
            "payments/card_result.html", order=order, key_args=_key_args(order), result="unavailable"), 503)))
    db.session.commit()
    deliver_after_commit(now, refunds_booked=outcome in REFUNDED_OUTCOMES)
    result = _card_result(outcome, order, payment)
    return _no_store(current_app.make_response(render_template(
        "payments/card_result.html", order=order, key_args=_key_args(order), result=result,
        message=payment.failure_message if result == "failed" else None)))


# -- webhooks -----------------------------------------------------------------------------------

class BadNotification(ValueError):
    pass


def _parse_time(raw) -> datetime | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise BadNotification("time must be an ISO 8601 string")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadNotification("time is not ISO 8601") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return local_to_utc(value)  # no offset: the bank's local time, Asia/Ho_Chi_Minh


def parse_bank_notification(raw: bytes) -> dict:
    """The fields of a bank notification, checked; raises BadNotification. Control characters (a NUL) are
    removed from its strings, so that such a notification is still recorded (and not retried for ever)."""
    try:
        data = inputs.load_json(raw, max_bytes=MAX_NOTIFICATION_BYTES, max_depth=8)
    except inputs.BadJSON as error:
        raise BadNotification(str(error)) from None
    if not isinstance(data, dict):
        raise BadNotification("body must be a JSON object")
    transaction_id = data.get("transaction_id")
    if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
        transaction_id = str(transaction_id)
    if not isinstance(transaction_id, str) or not transaction_id.strip() or len(transaction_id.strip()) > 100:
        raise BadNotification("transaction_id must be a non-empty string of at most 100 characters")
    amount = data.get("amount")
    if isinstance(amount, str):
        amount = inputs.parse_int(amount)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_WEBHOOK_AMOUNT_VND:
        raise BadNotification("amount must be a positive whole number of dong")
    content = data.get("content")
    if not isinstance(content, str):
        raise BadNotification("content must be a string")
    return {"transaction_id": transaction_id.strip(), "amount_vnd": amount, "content": content,
            "transferred_at": _parse_time(data.get("time"))}


@bp.route("/payments/bank/notify", methods=["POST"])
@csrf.exempt
@limiter.limit(_webhook_limit)
def bank_notify():
    """A transfer into the cooperative's account, reported by the bank-notification service.

    Body (JSON, UTF-8)::

        {"transaction_id": "FT26152123456789",   # the bank's id of the transfer, unique
         "amount": 150000,                       # whole dong, a number or a string of digits
         "content": "MBVCB.123.KEP00000042.thanh toan",   # the transfer content, as typed
         "time": "2026-06-01T10:02:37+07:00"}    # optional ISO 8601; no offset = Vietnam time

    Header ``X-Signature``: hex HMAC-SHA256 of the raw body with BANK_WEBHOOK_SECRET.

    Answers (JSON): 200 ``{"status": "matched"|"overpaid"|"underpaid"|"late"|"unmatched"}``,
    200 ``{"status": "duplicate"}`` for a transaction already taken in (retries are safe),
    400 malformed body, 401 bad or missing signature, 503 no secret configured.
    """
    secret = current_app.config.get("BANK_WEBHOOK_SECRET")
    if not secret:
        return {"error": "bank notifications are not configured"}, 503
    raw = request.get_data()
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Signature", "").strip().lower()
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        return {"error": "invalid signature"}, 401
    try:
        fields = parse_bank_notification(raw)
    except BadNotification as error:
        return {"error": str(error)}, 400
    now = utcnow()
    try:
        transfer = payments.record_bank_transfer(source="webhook", now=now, **fields)
    except payments.DuplicateTransfer:
        db.session.rollback()
        return {"status": "duplicate"}
    status, order_id = transfer.status, transfer.order_id
    db.session.commit()
    deliver_after_commit(now)
    reference = f"KEP{order_id:08d}" if order_id else None
    return {"status": status, "order": reference}


@bp.route("/payments/stripe/webhook", methods=["POST"])
@csrf.exempt
@limiter.limit(_webhook_limit)
@no_retry  # calls Stripe before it commits
def stripe_webhook():
    """Stripe events, signature checked; each event acted on once, after re-reading the
    PaymentIntent from Stripe. 503 while Stripe cannot be reached, so that Stripe retries."""
    if not current_app.config.get("STRIPE_WEBHOOK_SECRET"):
        return {"error": "Stripe webhooks are not configured"}, 503
    try:
        event = stripe_api.parse_event(request.get_data(), request.headers.get("Stripe-Signature"))
    except stripe_api.InvalidSignature:
        return {"error": "invalid signature"}, 400
    except stripe_api.BadPayload as error:
        return {"error": str(error)}, 400
    now = utcnow()
    try:
        outcome = payments.handle_stripe_event(event, now)
    except stripe_api.StripeUnavailable:
        db.session.rollback()
        current_app.logger.warning("Stripe unreachable while handling event %s", event.get("id"))
        return {"error": "Stripe could not be reached; please retry"}, 503
    db.session.commit()
    deliver_after_commit(now, refunds_booked=outcome in REFUNDED_OUTCOMES)
    return {"status": outcome}

