"""The market's own signed webhook, ``POST /payments/bank/notify``, for any bank-notification service or script
that can sign a body: the format and the signature are this app's, and unchanged since before notifications were
stored.

Body (JSON, UTF-8)::

    {"transaction_id": "FT26152123456789",   # the bank's id of the transfer, unique
     "amount": 150000,                       # whole dong, a number or a string of digits
     "content": "MBVCB.123.KEP00000042.thanh toan",   # the transfer content, as typed
     "time": "2026-06-01T10:02:37+07:00"}    # optional ISO 8601; no offset = Vietnam time

Header ``X-Signature``: hex HMAC-SHA256 of the raw body with BANK_WEBHOOK_SECRET.

It names no receiving account (the sender is set up for the cooperative's account) and only reports money in. The
transaction id is the bank's as sent (no ``generic:`` prefix, as before), so a transfer staff typed in already is
a duplicate. A body that is not such a notification is still answered 400, as this webhook always did, and it is
stored first (``failed``, staff told): the sender learns its mistake and nothing it sent is lost."""
from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from flask import current_app, request

from core import inputs
from core.extensions import csrf, limiter
from core.time import local_to_utc, utcnow
from core.transactions import idempotent
from shop.payments.reference import reference_for
from shop.payments import notifications
from shop.payments.banks.fields import MAX_AMOUNT_VND, MAX_BODY_BYTES, kept_headers
from shop.payments.notifications import Reading, Source, Unreadable
from shop.payments.web import bp, deliver_after_commit, webhook_limit

CODE = "generic"


def _parse_time(raw) -> datetime | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise Unreadable("time must be an ISO 8601 string")
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise Unreadable("time is not ISO 8601") from None
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return local_to_utc(value)  # no offset: the bank's local time, Asia/Ho_Chi_Minh


def parse_bank_notification(raw: bytes) -> dict:
    """The fields of a bank notification, checked; raises Unreadable. Control characters (a NUL) are removed from
    its strings, so that such a notification is still recorded (and not retried for ever)."""
    try:
        data = inputs.load_json(raw, max_bytes=MAX_BODY_BYTES, max_depth=8)
    except inputs.BadJSON as error:
        raise Unreadable(str(error)) from None
    if not isinstance(data, dict):
        raise Unreadable("body must be a JSON object")
    transaction_id = data.get("transaction_id")
    if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
        transaction_id = str(transaction_id)
    if not isinstance(transaction_id, str) or not transaction_id.strip() or len(transaction_id.strip()) > 100:
        raise Unreadable("transaction_id must be a non-empty string of at most 100 characters")
    amount = data.get("amount")
    if isinstance(amount, str):
        amount = inputs.parse_int(amount)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_VND:
        raise Unreadable("amount must be a positive whole number of dong")
    content = data.get("content")
    if not isinstance(content, str):
        raise Unreadable("content must be a string")
    return {"transaction_id": transaction_id.strip(), "amount_vnd": amount, "content": content,
            "transferred_at": _parse_time(data.get("time"))}


def read(raw: bytes) -> Reading:
    fields = parse_bank_notification(raw)
    return Reading(transaction_id=fields["transaction_id"], direction="in", amount_vnd=fields["amount_vnd"],
                   content=fields["content"], transferred_at=fields["transferred_at"], accounts=None)


notifications.register(Source(code=CODE, transfer_source="webhook", actor_label="webhook:bank",
                              identify=lambda raw: parse_bank_notification(raw)["transaction_id"], read=read))


@bp.route("/payments/bank/notify", methods=["POST"])
@csrf.exempt
@limiter.limit(webhook_limit)
@idempotent  # the stored notification is found again, not stored twice
def bank_notify():
    """A transfer into the cooperative's account, reported by a bank-notification service (the module's notes).

    Answers (JSON): 200 ``{"status": "matched"|"overpaid"|"underpaid"|"late"|"unmatched", "order": ...}``,
    200 ``{"status": "duplicate"}`` for a transaction already taken in (retries are safe),
    400 malformed body (stored all the same), 401 bad or missing signature, 503 no secret configured or the
    database unavailable (a notification stored before the failure is processed by the job, or by the retry).
    """
    secret = current_app.config.get("BANK_WEBHOOK_SECRET")
    if not secret:
        return {"error": "bank notifications are not configured"}, 503
    raw = request.get_data()
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Signature", "").strip().lower()
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        return {"error": "invalid signature"}, 401
    taken = notifications.take_in(CODE, raw, kept_headers("X-Signature"), utcnow())
    row = taken.notification
    if row.status == "failed":
        return {"error": row.error}, 400
    if not taken.first or taken.duplicate_transfer:
        return {"status": "duplicate"}
    deliver_after_commit()
    transfer = row.bank_transfer
    if transfer is None:
        return {"status": row.status}
    return {"status": transfer.status, "order": reference_for(transfer.order_id) if transfer.order_id else None}
