"""Stripe, card payments in VND. The only module that imports ``stripe``.

VND is a zero-decimal currency: amounts go to Stripe as whole dong. The API base
comes from configuration, so tests point it at a local emulator.

Time: every call is tried at most twice (``MAX_NETWORK_RETRIES``), each try waiting at most
STRIPE_TIMEOUT_SECONDS (8), so one call takes at most about 2 x 8 s plus the client's back-off
(under 2 s): well inside gunicorn's worker timeout (60 s, deploy/gunicorn.conf.py). Only calls whose
answer the page needs are made during a request (starting a card payment, re-reading a PaymentIntent);
refunds are sent by ``flask send-refunds`` (``shop.payments.refunds.send_pending_refunds``), never from a request.
"""
from __future__ import annotations

from dataclasses import dataclass

import stripe
from flask import current_app

from core import inputs

CURRENCY = "vnd"
MAX_NETWORK_RETRIES = 1
DEFAULT_TIMEOUT_SECONDS = 8
MAX_EVENT_BYTES = 1024 * 1024  # events are a few kilobytes


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the call; nothing was charged by us."""


class InvalidSignature(Exception):
    pass


class BadPayload(ValueError):
    """A correctly signed body that is not an event this app reads (not JSON, too large, too deeply nested)."""


@dataclass
class IntentState:
    id: str
    status: str
    amount: int
    currency: str
    order_reference: str | None
    client_secret: str | None
    failure_message: str | None


def enabled() -> bool:
    config = current_app.config
    return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))


def _client() -> stripe.StripeClient:
    config = current_app.config
    bases = {}
    if config.get("STRIPE_API_BASE"):
        bases = {"api": config["STRIPE_API_BASE"]}
    timeout = config.get("STRIPE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    return stripe.StripeClient(config["STRIPE_SECRET_KEY"], base_addresses=bases,
                               max_network_retries=MAX_NETWORK_RETRIES,
                               http_client=stripe.RequestsClient(timeout=timeout))


def _state(intent) -> IntentState:
    error = intent["last_payment_error"] if "last_payment_error" in intent else None
    metadata = intent["metadata"] if "metadata" in intent else {}
    return IntentState(id=intent["id"], status=intent["status"], amount=int(intent["amount"]),
                       currency=str(intent["currency"]).lower(),
                       order_reference=metadata["order"] if metadata and "order" in metadata else None,
                       client_secret=intent["client_secret"] if "client_secret" in intent else None,
                       failure_message=error["message"] if error and "message" in error else None)


def create_payment_intent(*, amount_vnd: int, order_reference: str, attempt: int, email: str) -> IntentState:
    """A PaymentIntent for one attempt to pay an order (an attempt number keeps the key unique)."""
    try:
        intent = _client().v1.payment_intents.create(
            params={"amount": amount_vnd, "currency": CURRENCY, "payment_method_types": ["card"],
                    "metadata": {"order": order_reference, "email": email}},
            options={"idempotency_key": f"pi-{order_reference}-{attempt}"})
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error
    return _state(intent)


def retrieve_payment_intent(intent_id: str) -> IntentState:
    try:
        intent = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error
    return _state(intent)


def refund(intent_id: str, amount_vnd: int, refund_key: str) -> str:
    """Refund part or all of a PaymentIntent; returns the Stripe refund id."""
    try:
        result = _client().v1.refunds.create(params={"payment_intent": intent_id, "amount": amount_vnd},
                                             options={"idempotency_key": refund_key})
    except stripe.StripeError as error:
        raise StripeUnavailable(str(error)) from error
    return result["id"]


def parse_event(payload: bytes, signature: str | None) -> dict:
    """A verified webhook event as a plain dict; InvalidSignature, or BadPayload for a signed body that is not a
    JSON object within ``inputs.load_json``'s limits. The signature is checked first, on the raw bytes."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret or not signature:
        raise InvalidSignature("missing signature or secret")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidSignature(str(error)) from error
    try:
        event = inputs.load_json(payload, max_bytes=MAX_EVENT_BYTES)
    except inputs.BadJSON as error:
        raise BadPayload(str(error)) from None
    data = event.get("data", {}) if isinstance(event, dict) else None
    if (not isinstance(data, dict) or not isinstance(data.get("object", {}), dict)
            or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str)):
        raise BadPayload("not a Stripe event")
    return event
