"""payOS's webhook, ``POST /payments/payos/notify``: a payment into a payOS payment link (shop/payments/providers/
payos.py makes the links), signed with the payment channel's checksum key (PAYOS_CHECKSUM_KEY).

What payOS documents (payos.vn/docs/du-lieu-tra-ve/webhook, "Kiểm tra dữ liệu với signature"; the SDKs'
``webhooks.verify``). One JSON object per payment::

    {"code": "00", "desc": "success", "success": true,
     "data": {"orderCode": 123, "amount": 3000, "description": "VQRIO123", "accountNumber": "12345678",
              "reference": "TF230204212323",             # the bank's reference of the transaction
              "transactionDateTime": "2023-02-04 18:25:00",   # no offset: Vietnam time
              "currency": "VND", "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
              "code": "00", "desc": "Thành công",
              "counterAccountBankId": "", "counterAccountBankName": "", "counterAccountName": "",
              "counterAccountNumber": "", "virtualAccountName": "", "virtualAccountNumber": ""},
     "signature": "<hex HMAC-SHA256 of data, see shop/payments/payos_api.py>"}

Answer: 200 ``{"success": true}`` (payOS's documented answer) once the notification is stored and processed,
whatever came of it; 401 for a signature that is missing or not payOS's (nothing stored); 400 for a body that is not
JSON; 503 while payOS is not configured or the database is unavailable (payOS's retries are not documented; a row
already stored is processed by ``flask process-bank-notifications``).

Registering the webhook URL (my.payos.vn, or the API's ``POST /confirm-webhook``): payOS checks the URL by posting
to it and wants a 2xx. Its documents do not say what that request holds; the SDKs' comments call it "a validation
request", and the payload the documents show is the sample above (orderCode 123). So a body carrying that sample is
answered 200 whether or not its signature checks (unsigned it is not stored; it moves nothing), and a signed one is
stored and ``ignored`` as payOS's test.

Reading: the transaction id is ``payos:<reference>`` (the webhook and the status lookup of one payment share it, and
a payment is taken in once); the order is the one whose payOS link has the ``orderCode`` (another ``paymentLinkId``
than the link's, or an orderCode that is none of ours, is noted and left to the content, usually for staff);
``accountNumber`` or ``virtualAccountNumber``, when sent, must be the cooperative's; a ``currency`` other than VND,
or a ``code`` other than "00" (at the top or in ``data``), is not taken in as money."""
from __future__ import annotations

import json

from flask import current_app, request
from sqlalchemy import select

from core import inputs
from core.extensions import csrf, db, limiter
from core.time import utcnow
from core.transactions import idempotent
from shop.payment_models import PayosLink
from shop.payments import notifications, payos_api
from shop.payments.banks.fields import MAX_BODY_BYTES, kept_headers, read_amount, read_id, read_text, read_time
from shop.payments.notifications import Reading, Source, Unreadable
from shop.payments.web import bp, deliver_after_commit, webhook_limit

CODE = "payos"
# payOS's documented sample (the webhook page): what the URL check is taken to send.
SAMPLE = {"orderCode": 123, "reference": "TF230204212323", "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18"}


def _body(raw: bytes) -> tuple[dict, dict]:
    try:
        body = inputs.load_json(raw, max_bytes=MAX_BODY_BYTES, max_depth=8)
    except inputs.BadJSON as error:
        raise Unreadable(str(error)) from None
    if not isinstance(body, dict):
        raise Unreadable("body is not a JSON object")
    data = body.get("data")
    if not isinstance(data, dict):
        raise Unreadable("no 'data' object")
    return body, data


def is_sample(data) -> bool:
    return isinstance(data, dict) and all(data.get(key) == value for key, value in SAMPLE.items())


def identify(raw: bytes) -> str:
    source_id = read_id(_body(raw)[1].get("reference"))
    if source_id is None:
        raise Unreadable("no usable data.reference (the bank's reference of the payment)")
    return source_id


def _order_of(data: dict, notes: list[str]) -> int | None:
    code = data.get("orderCode")
    link = None
    if isinstance(code, int) and not isinstance(code, bool):
        link = db.session.scalar(select(PayosLink).where(PayosLink.order_code == code))
    if link is None:
        notes.append(f"orderCode {str(code)[:20]!r} is none of the market's payOS links")
        return None
    given = read_text(data.get("paymentLinkId"))
    if given and given != link.payment_link_id:
        notes.append(f"paymentLinkId {given[:40]!r} is not that of orderCode {code}")
        return None
    return link.order_id


def read(raw: bytes) -> Reading:
    body, data = _body(raw)
    for where, value in (("", body.get("code", "00")), ("data.", data.get("code", "00"))):
        if str(value) != payos_api.SUCCESS:
            raise Unreadable(f"payOS reports {where}code {str(value)[:20]!r}")
    notes: list[str] = []
    amount, note = read_amount(data.get("amount"), "amount")
    if amount is not None and amount < 0:
        amount, note = None, f"amount {amount} is negative"
    currency = data.get("currency")
    if currency not in (None, "", "VND"):
        amount, note = None, f"currency {str(currency)[:10]!r} is not VND"
    when, time_note = read_time(data.get("transactionDateTime"), "transactionDateTime")
    content = read_text(data.get("description"))
    if not content:
        notes.append("no description")
    notes += [n for n in (note, time_note) if n]
    accounts = tuple(read_text(data.get(name)) for name in ("accountNumber", "virtualAccountNumber")
                     if read_text(data.get(name)))
    reading = dict(transaction_id=f"{CODE}:{identify(raw)}", direction="in", amount_vnd=amount, content=content,
                   transferred_at=when, accounts=accounts or None)
    if is_sample(data):
        return Reading(**reading, notes=tuple(notes), ignore="payOS's webhook test (the sample of its documents)")
    order_id = _order_of(data, notes)
    return Reading(**reading, notes=tuple(notes), order_id=order_id)


notifications.register(Source(code=CODE, transfer_source=CODE, actor_label="webhook:payos", identify=identify,
                              read=read))


def lookup_body(transaction: dict, link: dict) -> bytes:
    """A transaction that payOS's status lookup lists, stored as the webhook would have brought it."""
    data = {**transaction, "orderCode": link.get("orderCode"), "paymentLinkId": link.get("id")}
    return json.dumps({"code": "00", "desc": "status lookup", "data": data}, ensure_ascii=False,
                      sort_keys=True).encode("utf-8")


@bp.route("/payments/payos/notify", methods=["POST"])
@csrf.exempt
@limiter.limit(webhook_limit)
@idempotent  # the stored notification is found again, not stored twice
def payos_notify():
    """A payOS webhook delivery (see the module's notes)."""
    checksum = current_app.config.get("PAYOS_CHECKSUM_KEY")
    if not checksum:
        return {"success": False, "message": "payOS is not configured"}, 503
    raw = request.get_data()
    try:
        body = inputs.load_json(raw, max_bytes=MAX_BODY_BYTES, max_depth=8)
    except inputs.BadJSON:
        return {"success": False, "message": "body is not JSON"}, 400
    refused = payos_api.check_webhook(body, checksum)
    if refused:
        if isinstance(body, dict) and is_sample(body.get("data")):
            current_app.logger.info("payOS's webhook check answered (its sample, %s)", refused)
            return {"success": True}
        return {"success": False, "message": refused}, 401
    notifications.take_in(CODE, raw, kept_headers(), utcnow())
    deliver_after_commit()
    return {"success": True}
