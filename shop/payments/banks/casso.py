"""Casso (casso.vn), "Webhook V2": a transaction on a linked bank account, posted to ``POST /payments/casso/notify``.

What Casso documents (developer.casso.vn/webhook/thiet-lap-webhook-thu-cong; the signature in Casso's own samples,
github.com/CassoHQ/casso-webhook-v2-verify-signature: a README and the same check in PHP, Python, Go, Java, C#,
JavaScript). The body, ``data`` being one object (the older integrations sent a list, with other field names, and
a ``Secure-Token`` header: not taken here)::

    {"error": 0,
     "data": {"id": 0, "reference": "MA_GIAO_DICH_THU_NGHIEM", "description": "giao dich thu nghiem",
              "amount": 599000,                      # whole dong; negative = money out
              "runningBalance": 25000000, "transactionDateTime": "2024-10-03 15:06:37",   # no offset
              "accountNumber": "88888888",           # the linked account
              "bankName": "VPBank", "bankAbbreviation": "VPB",
              "virtualAccountNumber": "", "virtualAccountName": "",
              "counterAccountName": "NGUYEN VAN A", "counterAccountNumber": "8888888888",
              "counterAccountBankId": "970415", "counterAccountBankName": "VietinBank"}}

Signature, header ``X-Casso-Signature: t=<timestamp>,v1=<hex>``: HMAC-SHA512, keyed with the integration's
"Key bảo mật" (CASSO_WEBHOOK_SECRET), of ``t + "." + JSON``, the JSON being the webhook data sorted by key (A to Z,
into nested objects) without spaces. Read against the samples' test vector, "the webhook data" is the whole body,
``{"data": {...}, "error": 0}``, not the ``data`` object alone, and ``t`` is in milliseconds.

Where the samples disagree the check accepts each documented form, never a form without the key: how non-ASCII
text and "/" are written (JavaScript keeps UTF-8; Python writes \\uXXXX; PHP writes \\uXXXX and \\/), and a number
like ``56000.0`` (JavaScript writes 56000), and objects inside lists (sorted, or not as in the Python sample; v2 has
no lists). Go's form (escaping <, >, &) is not tried. The timestamp must be within
CASSO_SIGNATURE_TOLERANCE_SECONDS (5 minutes) of now: Casso's pages that could be read name no window, so a stale
or replayed delivery is refused. The signature covers the parsed body, so a body that is not JSON cannot be
checked: it is refused (401), not stored.

Answer: what Casso expects back, and how it retries, could not be read in Casso's pages; the conservative reading
is 200 ``{"success": true}`` once stored and processed (whatever came of it), 401 for a missing, wrong or stale
signature, 503 while not configured, a 5xx when storing or processing it failed (a stored row is then processed
by ``flask process-bank-notifications``, or by Casso's retry if it retries).

Reading: the transaction id is ``casso:<id>``; a negative amount is money out (ignored, kept); ``accountNumber``
or ``virtualAccountNumber`` must be the cooperative's; ``description`` is the transfer content; ``error`` other
than 0 is kept as failed. The sample with id 0 ("giao dich thu nghiem") looks like the dashboard's test call; that
is not documented, so it is kept like any other (flagged or unmatched for staff)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

from flask import current_app, request

from core import inputs
from core.extensions import csrf, limiter
from core.time import utcnow
from core.transactions import idempotent
from shop.payments import notifications
from shop.payments.banks.fields import MAX_BODY_BYTES, kept_headers, read_amount, read_id, read_text, read_time
from shop.payments.notifications import Reading, Source, Unreadable
from shop.payments.web import bp, deliver_after_commit, webhook_limit

CODE = "casso"
SIGNATURE_HEADER = "X-Casso-Signature"
_HEX = re.compile(r"[0-9a-fA-F]{128}")


# -- the signature -------------------------------------------------------------------------------------------

def _signature(header: str) -> tuple[int, list[str]] | None:
    """``t`` and the ``v1`` values of the header, or None when it is not of that form."""
    stamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= 16:
            stamp = int(value)
        elif name == "v1" and _HEX.fullmatch(value):
            signatures.append(value.lower())
    return (stamp, signatures) if stamp is not None and signatures else None


def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def _js_numbers(value):
    """``value`` with floats that are whole written as JavaScript writes them (56000.0 as 56000)."""
    if isinstance(value, dict):
        return {key: _js_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_js_numbers(item) for item in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _sorted_outside_lists(value):
    """Keys A to Z into nested objects but not into objects inside lists, as Casso's Python sample sorts."""
    if isinstance(value, dict):
        return {key: _sorted_outside_lists(value[key]) for key in sorted(value)}
    return value


def canonical_forms(body) -> set[str]:
    """The JSON strings Casso's samples would sign for ``body`` (see the module's notes)."""
    forms = set()
    for data in (body, _js_numbers(body)):
        for every_object in (True, False):
            for ascii_only in (False, True):
                text = json.dumps(data if every_object else _sorted_outside_lists(data), sort_keys=every_object,
                                  separators=(",", ":"), ensure_ascii=ascii_only)
                forms.add(text)
                if ascii_only:
                    forms.add(text.replace("/", "\\/"))
    return forms


def check_signature(raw: bytes, header: str, secret: str, now_ms: int, tolerance_seconds: int) -> str | None:
    """Why the delivery is refused, or None when its signature is Casso's."""
    parts = _signature(header)
    if parts is None:
        return "missing or malformed X-Casso-Signature"
    stamp, signatures = parts
    if abs(now_ms - stamp) > tolerance_seconds * 1000:
        return "stale X-Casso-Signature timestamp"
    if len(raw) > MAX_BODY_BYTES:
        return "body too large to check"
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
        forms = canonical_forms(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "body is not JSON: its signature cannot be checked"
    key = secret.encode()
    for form in forms:
        expected = hmac.new(key, f"{stamp}.{form}".encode(), hashlib.sha512).hexdigest()
        if any(hmac.compare_digest(expected, given) for given in signatures):
            return None
    return "invalid signature"


# -- reading ---------------------------------------------------------------------------------------------------

def _body(raw: bytes) -> tuple[dict, dict]:
    try:
        body = inputs.load_json(raw, max_bytes=MAX_BODY_BYTES, max_depth=8)
    except inputs.BadJSON as error:
        raise Unreadable(str(error)) from None
    if not isinstance(body, dict):
        raise Unreadable("body is not a JSON object")
    data = body.get("data")
    if isinstance(data, list):
        raise Unreadable("'data' is a list: the older Casso webhook; set up a Webhook V2 integration instead")
    if not isinstance(data, dict):
        raise Unreadable("no 'data' object")
    return body, data


def identify(raw: bytes) -> str:
    source_id = read_id(_body(raw)[1].get("id"))
    if source_id is None:
        raise Unreadable("no usable data.id (Casso's transaction id)")
    return source_id


def read(raw: bytes) -> Reading:
    body, data = _body(raw)
    if body.get("error", 0) not in (0, "0"):
        raise Unreadable(f"Casso reports error {str(body.get('error'))[:40]!r}")
    notes = []
    amount, note = read_amount(data.get("amount"), "amount")
    direction = None if amount is None else ("out" if amount < 0 else "in")
    when, time_note = read_time(data.get("transactionDateTime"), "transactionDateTime")
    content = read_text(data.get("description"))
    if not content:
        notes.append("no description")
    notes += [n for n in (note, time_note) if n]
    accounts = tuple(read_text(data.get(name)) for name in ("accountNumber", "virtualAccountNumber")
                     if read_text(data.get(name)))
    return Reading(transaction_id=f"{CODE}:{identify(raw)}", direction=direction,
                   amount_vnd=abs(amount) if amount is not None else None, content=content, transferred_at=when,
                   accounts=accounts, notes=tuple(notes))


notifications.register(Source(code=CODE, transfer_source=CODE, actor_label="webhook:casso", identify=identify,
                              read=read))


@bp.route("/payments/casso/notify", methods=["POST"])
@csrf.exempt
@limiter.limit(webhook_limit)
@idempotent  # the stored notification is found again, not stored twice
def casso_notify():
    """A Casso Webhook V2 delivery (see the module's notes). Answers 200 ``{"success": true}`` once it is
    stored and processed, 401 for a missing, wrong or stale signature, 503 while CASSO_WEBHOOK_SECRET is not set
    or the database is unavailable."""
    config = current_app.config
    secret = config.get("CASSO_WEBHOOK_SECRET")
    if not secret:
        return {"success": False, "message": "Casso notifications are not configured"}, 503
    raw = request.get_data()
    refused = check_signature(raw, request.headers.get(SIGNATURE_HEADER, ""), secret, int(time.time() * 1000),
                              config["CASSO_SIGNATURE_TOLERANCE_SECONDS"])
    if refused:
        return {"success": False, "message": refused}, 401
    notifications.take_in(CODE, raw, kept_headers(SIGNATURE_HEADER), utcnow())
    deliver_after_commit()
    return {"success": True}
