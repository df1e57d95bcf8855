"""SePay (sepay.vn): a transfer into a linked bank account, posted to ``POST /payments/sepay/notify``.

What SePay documents (developer.sepay.vn/en/sepay-webhooks: quick start, "xac-thuc" for authentication,
"bao-mat" for security, "xu-ly-loi" for retries; docs.sepay.vn/tich-hop-webhooks.html; SePay's own Laravel package
github.com/sepayvn/laravel-sepay for the field types). One JSON object per transaction::

    {"id": 92704,                          # SePay's transaction id: deduplicate on it
     "gateway": "Vietcombank",             # the bank
     "transactionDate": "2023-03-25 14:02:37",   # the bank's time, no offset
     "accountNumber": "0123499999",        # the linked account that received (or sent) the money
     "code": null,                         # the payment code SePay recognised, if any
     "content": "chuyen tien KEP00000042", # the transfer content
     "transferType": "in",                 # "in" money in, "out" money out
     "transferAmount": 2277000,            # whole dong
     "accumulated": 19077000,              # the balance after it
     "subAccount": null,                   # the virtual account (VA), if any
     "referenceCode": "MBVCB.3278907687",  # the bank's reference
     "description": ""}                    # the bank's whole message (may be absent)

Authentication: the webhook's "API Key" method, header ``Authorization: Apikey <key>``, the key copied into
SEPAY_API_KEY. SePay documents an HMAC-SHA256 method too, but the text that says exactly what it signs and in which
header could not be read from SePay's pages, so it is not used here; choose "API Key" in SePay's Security step.

Answer: 200 with ``{"success": true}`` (SePay counts 200-201 as delivered). SePay retries, with "auto retry" on,
when the endpoint cannot be reached or answers outside 200-299 (401 too), about 8 attempts over some 33 minutes
(older pages: 7 retries over 5 hours). So a notification that is stored and processed is answered success
whatever came of it (processed, ignored, flagged, failed: a retry would change nothing); when storing or
processing it fails (the database is down) the answer is a 5xx and SePay's retry brings it again, while a row
already stored is processed by ``flask process-bank-notifications``, whichever comes first.

Reading (conservative where SePay's documents say nothing): the transaction id is ``sepay:<id>``; only
``transferType == "in"`` counts ("out" is ignored; any other value is kept for staff); ``accountNumber`` or
``subAccount`` must be the cooperative's account; ``content`` null or missing falls back to ``description``; the
time without an offset is Vietnam time; amounts as in shop/payments/banks/fields.py."""
from __future__ import annotations

import hmac

from flask import current_app, request

from core import inputs
from core.extensions import csrf, limiter
from core.time import utcnow
from core.transactions import idempotent
from shop.payments import notifications
from shop.payments.banks.fields import MAX_BODY_BYTES, kept_headers, read_amount, read_id, read_text, read_time
from shop.payments.notifications import Reading, Source, Unreadable
from shop.payments.web import bp, deliver_after_commit, webhook_limit

CODE = "sepay"


def _body(raw: bytes) -> dict:
    try:
        data = inputs.load_json(raw, max_bytes=MAX_BODY_BYTES, max_depth=8)
    except inputs.BadJSON as error:
        raise Unreadable(str(error)) from None
    if not isinstance(data, dict):
        raise Unreadable("body is not a JSON object")
    return data


def identify(raw: bytes) -> str:
    source_id = read_id(_body(raw).get("id"))
    if source_id is None:
        raise Unreadable("no usable id (SePay's transaction id)")
    return source_id


def read(raw: bytes) -> Reading:
    data = _body(raw)
    notes = []
    kind = data.get("transferType")
    direction = kind if kind in ("in", "out") else None
    if direction is None:
        notes.append(f"transferType {str(kind)[:20]!r} is neither 'in' nor 'out'")
    amount, note = read_amount(data.get("transferAmount"), "transferAmount")
    if amount is not None and amount < 0:
        amount, note = None, f"transferAmount {amount} is negative"
    when, time_note = read_time(data.get("transactionDate"), "transactionDate")
    content = read_text(data.get("content")) or read_text(data.get("description"))
    if not content:
        notes.append("no content")
    notes += [n for n in (note, time_note) if n]
    accounts = tuple(read_text(data.get(name)) for name in ("accountNumber", "subAccount")
                     if read_text(data.get(name)))
    return Reading(transaction_id=f"{CODE}:{identify(raw)}", direction=direction, amount_vnd=amount,
                   content=content, transferred_at=when, accounts=accounts, notes=tuple(notes))


notifications.register(Source(code=CODE, transfer_source=CODE, actor_label="webhook:sepay", identify=identify,
                              read=read))


def _authorized(key: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower() == "apikey" and bool(given.strip()) and hmac.compare_digest(given.strip().encode(),
                                                                                      key.encode())


@bp.route("/payments/sepay/notify", methods=["POST"])
@csrf.exempt
@limiter.limit(webhook_limit)
@idempotent  # the stored notification is found again, not stored twice
def sepay_notify():
    """A SePay webhook delivery (see the module's notes). Answers 200 ``{"success": true}`` once it is stored and
    processed, 401 ``{"success": false}`` without the right API key, 503 while SEPAY_API_KEY is not set or the
    database is unavailable."""
    key = current_app.config.get("SEPAY_API_KEY")
    if not key:
        return {"success": False, "message": "SePay notifications are not configured"}, 503
    if not _authorized(key):
        return {"success": False, "message": "Unauthorized"}, 401
    notifications.take_in(CODE, request.get_data(), kept_headers(), utcnow())
    deliver_after_commit()
    return {"success": True}
