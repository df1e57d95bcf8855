"""Bank transfer by VietQR: the pay page shows the cooperative's account as a VietQR code with the order's
reference; the bank-notification service reports each incoming transfer to a signed webhook; staff make the
refunds by bank transfer and mark them done."""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from core import inputs
from core.extensions import csrf, limiter
from core.qr import qr_svg
from core.time import local_to_utc, utcnow
from core.transactions import fail
from shop.payments import registry
from shop.payments.outcome import DuplicateTransfer, Outcome
from shop.payments.providers.base import Provider
from shop.payments.reference import reference_for
from shop.payments.transfers import BANK_TRANSFER, receiving_account, record_bank_transfer, waiting_parts
from shop.payments.web import bp, deliver_after_commit, webhook_limit
from shop.vietqr import VietQRError, build_payload

MAX_WEBHOOK_AMOUNT_VND = 10**13 - 1  # VietQR's 13-digit limit
MAX_NOTIFICATION_BYTES = 64 * 1024  # a notification is a few hundred bytes


class VietQRProvider(Provider):
    code = BANK_TRANSFER
    label = _l("Bank transfer (VietQR)")
    checkout_label = _l("Bank transfer (VietQR): scan the QR code with any Vietnamese banking app")
    pay_template = "payments/providers/vietqr.html"
    transfer_reference = True
    refund_wording = {
        "before_cancelling": _l("Commune staff transfer it back to the buyer's bank account."),
        "farm_order_cancelled": _l("The order is cancelled. Commune staff will transfer %(amount)s back to the "
                                   "buyer."),
        "booking_cancelled": _l("Your booking is cancelled. Commune staff will transfer %(amount)s back to your "
                                "bank account.")}

    def pay_context(self, order, now: datetime) -> dict:
        """The account as a QR code for what is still due: after a first part, only the rest."""
        account = receiving_account()
        parts = waiting_parts(order.id)
        received = sum(part.amount_vnd for part in parts)
        due = order.total_vnd - received
        try:
            payload = build_payload(account.bank_bin, account.account_number, due, order.reference)
        except VietQRError:
            current_app.logger.exception("The receiving bank account cannot make a VietQR code")
            payload = None
        qr = Markup(qr_svg(payload, scale=6, title=_("VietQR code for order %(reference)s",
                                                     reference=order.reference))) if payload else None
        return {"account": account, "payload": payload, "qr": qr, "parts": parts, "received": received, "due": due}


registry.register(VietQRProvider())


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
@limiter.limit(webhook_limit)
def bank_notify():
    """A transfer into the cooperative's account, reported by the bank-notification service.

    Body (JSON, UTF-8)::

        {"transaction_id": "FT26152123456789",   # the bank's id of the transfer, unique
         "amount": 150000,                       # whole dong, a number or a string of digits
         "content": "MBVCB.123.KEP9H4DJHE.thanh toan",  # the transfer content, as typed
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
    try:
        transfer = record_bank_transfer(source="webhook", now=utcnow(), **fields)
    except DuplicateTransfer:
        fail()
        return {"status": Outcome.DUPLICATE}
    deliver_after_commit()
    reference = reference_for(transfer.order_id) if transfer.order_id else None
    return {"status": transfer.status, "order": reference}
