"""Cards, through Stripe (shop/stripe.py is the client): a PaymentIntent per attempt, confirmed by the webhook
or the return page after re-reading the intent from Stripe (never from a payload), refunds sent by Stripe.

Stripe is never called while a lock is held: the intent is re-read before anything is written, and refunds
are booked in the request and sent after its commit by ``flask send-refunds``."""
from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import audit
from core.extensions import csrf, db, limiter
from core.time import utcnow
from core.transactions import fail, no_retry
from shop import notices
from shop import stripe as stripe_api
from shop.order_models import Order
from shop.payment_models import PAYMENT_MOVES, Payment, StripeEvent
from shop.payments import registry
from shop.payments.confirm import confirm_payment
from shop.payments.outcome import Outcome, PaymentError
from shop.payments.providers.base import Provider, ProviderUnavailable
from shop.payments.web import bp, deliver_after_commit, key_args, no_store, order_for_viewer, webhook_limit

CODE = "card"


class StripeProvider(Provider):
    code = CODE
    label = _l("Card")
    checkout_label = _l("International card (Visa, Mastercard)")
    unavailable_note = _l("Card payment is not available right now; pay by bank transfer (VietQR).")
    pay_template = "payments/providers/card.html"
    refund_wording = {
        "before_cancelling": _l("The money goes back to the buyer's card."),
        "farm_order_cancelled": _l("The order is cancelled. %(amount)s goes back to the buyer's card."),
        "booking_cancelled": _l("Your booking is cancelled. %(amount)s goes back to your card; banks may take a "
                                "few days to show it.")}
    sends_refunds = True

    def enabled(self) -> bool:
        return stripe_api.enabled()

    def send_refund(self, payment: Payment, refund) -> str:
        try:
            return stripe_api.refund(payment.provider_ref, refund.amount_vnd, f"refund-{refund.id}")
        except stripe_api.StripeUnavailable as error:
            raise ProviderUnavailable(str(error)) from error


registry.register(StripeProvider())


class DuplicateEvent(Exception):
    """A Stripe event that a concurrent request has just taken in; this request must keep nothing."""


# -- rules ---------------------------------------------------------------------------------------------

def start_card_payment(order: Order, now: datetime) -> Payment:
    """A new PaymentIntent for this order (one per attempt); the Stripe call happens before any write."""
    if order.status != "pending_payment" or order.is_overdue(now):
        raise PaymentError(_l("This order can no longer be paid."))
    attempt = db.session.scalar(select(db.func.count()).select_from(Payment)
                                .where(Payment.order_id == order.id, Payment.provider == CODE)) + 1
    intent = stripe_api.create_payment_intent(amount_vnd=order.total_vnd, order_reference=order.reference,
                                              attempt=attempt, email=order.buyer_email)
    payment = Payment(order_id=order.id, provider=CODE, provider_ref=intent.id, amount_vnd=order.total_vnd)
    db.session.add(payment)
    db.session.flush()
    payment.client_secret = intent.client_secret
    return payment


def payment_of_intent(intent_id: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.provider == CODE, Payment.provider_ref == intent_id))


def sync_card_payment(intent_id: str, *, actor_label: str, now: datetime) -> Outcome:
    """Re-read a PaymentIntent from Stripe and act on what Stripe says, never on a payload.

    Confirms only when the intent succeeded with the payment's amount in VND."""
    payment = payment_of_intent(intent_id)
    if payment is None:
        return Outcome.UNKNOWN
    intent = stripe_api.retrieve_payment_intent(intent_id)
    if intent.status == "succeeded":
        if intent.amount != payment.amount_vnd or intent.currency != stripe_api.CURRENCY:
            audit.record("payment.mismatch", "payment", payment.id, actor_label=actor_label,
                         details={"amount": intent.amount, "currency": intent.currency})
            notices.staff_alert(payment.order, "amount_mismatch")
            return Outcome.MISMATCH
        return confirm_payment(payment, actor_label=actor_label, now=now)
    if intent.status in ("requires_payment_method", "canceled"):
        if PAYMENT_MOVES.move(payment.id, "pending", "failed", failure_message=intent.failure_message):
            db.session.refresh(payment)
            audit.record("payment.failed", "payment", payment.id, actor_label=actor_label,
                         details={"message": intent.failure_message})
        return Outcome.FAILED
    return Outcome.PENDING


def handle_stripe_event(event: dict, now: datetime) -> Outcome:
    """Act on an event once; a replay is a no-op.

    Stripe is asked (the PaymentIntent re-read) before anything is written, so no lock is held during
    the call; the event row is written with the outcome, and a concurrent duplicate rolls back on the
    UNIQUE event id."""
    if db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event["id"])):
        return Outcome.DUPLICATE
    obj = event.get("data", {}).get("object", {})
    if event["type"] in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        outcome = sync_card_payment(obj.get("id", ""), actor_label="webhook:stripe", now=now)
    elif event["type"] == "charge.refunded":
        audit.record("stripe.charge_refunded", "payment", None, actor_label="webhook:stripe",
                     details={"payment_intent": obj.get("payment_intent"),
                              "amount_refunded": obj.get("amount_refunded")})
        outcome = Outcome.RECORDED
    else:
        outcome = Outcome.IGNORED
    db.session.add(StripeEvent(event_id=event["id"], type=event["type"], received_at=now))
    try:
        db.session.flush()
    except IntegrityError:  # the same event, taken in meanwhile by a concurrent request: undo all of this one
        raise DuplicateEvent(event["id"]) from None
    return outcome


# -- pages and webhook ---------------------------------------------------------------------------------

def _card_result(outcome: Outcome, order: Order, payment: Payment) -> str:
    if outcome.paid:
        return "paid"
    if outcome.refunded:
        return "refunded"
    if outcome is Outcome.ALREADY:  # confirmed before (by the webhook): say what came of it
        if payment.refunded_vnd >= payment.amount_vnd:
            return "refunded"
        return "paid" if order.status == "paid" else "processing"
    if outcome is Outcome.FAILED:
        return "failed"
    if outcome is Outcome.MISMATCH:
        return "mismatch"
    return "processing"


@bp.route("/orders/<public_id>/pay/card")
@no_retry  # calls Stripe before it commits
def card(public_id: str):
    order = order_for_viewer(public_id)
    keys = key_args(order)
    if not stripe_api.enabled():
        return render_template("payments/card_unavailable.html", order=order, key_args=keys,
                               reason="not_configured")
    now = utcnow()
    if order.display_status(now) != "pending_payment":
        return redirect(url_for("payments.pay", public_id=order.public_id, **keys))
    try:
        payment = start_card_payment(order, now)
    except PaymentError as error:
        fail()
        flash(error.message, "error")
        return redirect(url_for("payments.pay", public_id=order.public_id, **keys))
    except stripe_api.StripeUnavailable:
        current_app.logger.warning("Stripe unreachable when starting a card payment", exc_info=True)
        return render_template("payments/card_unavailable.html", order=order, key_args=keys,
                               reason="unreachable"), 503
    config = current_app.config
    return no_store(render_template(
        "payments/card.html", order=order, key_args=keys, stripe_js_url=config["STRIPE_JS_URL"],
        publishable_key=config["STRIPE_PUBLISHABLE_KEY"], client_secret=payment.client_secret,
        return_url=url_for("payments.card_return", public_id=order.public_id, payment_intent=payment.provider_ref,
                           **keys)))


@bp.route("/orders/<public_id>/pay/card/return")
@no_retry  # calls Stripe before it commits
def card_return(public_id: str):
    order = order_for_viewer(public_id)
    payment = payment_of_intent(request.args.get("payment_intent", ""))
    if payment is None or payment.order_id != order.id:
        abort(404)
    now = utcnow()
    try:
        outcome = sync_card_payment(payment.provider_ref, actor_label="return:stripe", now=now)
    except stripe_api.StripeUnavailable:
        current_app.logger.warning("Stripe unreachable on the card return page", exc_info=True)
        return no_store((render_template("payments/card_result.html", order=order, key_args=key_args(order),
                                         result="unavailable"), 503))
    deliver_after_commit()
    result = _card_result(outcome, order, payment)
    return no_store(render_template("payments/card_result.html", order=order, key_args=key_args(order),
                                    result=result, message=payment.failure_message if result == "failed" else None))


@bp.route("/payments/stripe/webhook", methods=["POST"])
@csrf.exempt
@limiter.limit(webhook_limit)
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
    try:
        outcome = handle_stripe_event(event, utcnow())
    except DuplicateEvent:
        fail()
        return {"status": Outcome.DUPLICATE}
    except stripe_api.StripeUnavailable:
        current_app.logger.warning("Stripe unreachable while handling event %s", event.get("id"))
        return {"error": "Stripe could not be reached; please retry"}, 503
    deliver_after_commit()
    return {"status": outcome}
