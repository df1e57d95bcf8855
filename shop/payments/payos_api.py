"""payOS's merchant API (payos.vn), the three calls the market makes and the signatures on both sides: the only
module that talks to payOS. Pure Python over ``urllib``: no state, no database.

What payOS documents (payos.vn/docs: "payOS API", "Kiểm tra dữ liệu với signature", "Webhook thông tin thanh toán";
its official SDKs github.com/payOSHQ/payos-lib-python 1.1 and payos-lib-node 2, read for the details):

- Every call goes to ``https://api-merchant.payos.vn`` (PAYOS_API_BASE) with the headers ``x-client-id`` and
  ``x-api-key`` and a JSON body; the answer is ``{"code": "00", "desc": "success", "data": {...}, "signature":
  "<hex>"}``, ``code`` other than "00" a refusal (e.g. "231": the orderCode was used before; "20": the input is
  wrong, such as a description over its limit), often with HTTP 200. The SDKs check ``signature`` over ``data``
  (below) on every answer; so does this module.
- ``POST /v2/payment-requests`` (create): ``orderCode`` (a whole number, never reused), ``amount`` (whole dong),
  ``description``, ``returnUrl``, ``cancelUrl``, ``expiredAt`` (Unix seconds, optional) and ``signature`` =
  hex HMAC-SHA256 with the checksum key of ``amount=..&cancelUrl=..&description=..&orderCode=..&returnUrl=..`` (these
  five only, in that order, the values as they are: not URL-encoded). Its ``data``: bin, accountNumber,
  accountName, amount, description, orderCode, currency, paymentLinkId, status, expiredAt, checkoutUrl, qrCode (a
  VietQR payload string, not an image).
- ``GET /v2/payment-requests/{id}`` (id: the orderCode or the paymentLinkId): id, orderCode, amount, amountPaid,
  amountRemaining, status (PENDING, UNDERPAID, PROCESSING, PAID, CANCELLED, EXPIRED, FAILED), createdAt,
  transactions (each: reference, amount, accountNumber, description, transactionDateTime, virtual and counter
  account fields), canceledAt, cancellationReason.
- ``POST /v2/payment-requests/{id}/cancel`` with ``{"cancellationReason": "..."}``: the same data as the GET. The
  Python SDK also puts a ``signature`` of that body (the "data" scheme below) into it; the Node SDK does not; payOS's
  API page names only ``cancellationReason``. The signed body is sent (an extra field the API can ignore).

The "data" signature (``data_signature``), on answers and on the webhook: the keys of ``data`` sorted A to Z,
``key=value`` joined with ``&``, HMAC-SHA256 hex with the checksum key. Values: null (and the strings "null",
"undefined") are empty; numbers and strings as written; a list is JSON of its objects with their keys sorted. The
documents leave open, and the SDKs disagree on: booleans (Python and JavaScript write ``true``, PHP ``1``); an
object as a value (JavaScript writes ``[object Object]``, Python its repr; payOS sends none); fields the SDK does
not know (Node signs every field that came; the Python SDK signs only its model's fields, with a missing optional
one as empty, and refuses a body with an unknown field). ``check_webhook`` accepts either of the two forms that can
come from payOS's data: every field that came, or the fields of payOS's documented webhook data; both need the key.

The description (what the buyer's transfer carries): payOS's API page limits it to 25 characters, and to 9 when the
payment channel's bank account is not linked through payOS's bank partners. The market sends the order's reference
(``KEP`` + 7 characters, 10 in all): within 25; a channel limited to 9 refuses it (code 20) and the pay page keeps
the plain VietQR. payOS may add its own code to the content its QR carries: the answer's ``description`` is what
the buyer's bank shows, and the pay page shows that."""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass

SUCCESS = "00"
ORDER_CODE_USED = "231"
MAX_DESCRIPTION = 25
# payOS's documented webhook data fields (the Python SDK's model of it).
WEBHOOK_FIELDS = ("orderCode", "amount", "description", "accountNumber", "reference", "transactionDateTime",
                  "currency", "paymentLinkId", "code", "desc", "counterAccountBankId", "counterAccountBankName",
                  "counterAccountName", "counterAccountNumber", "virtualAccountName", "virtualAccountNumber")


class PayosError(Exception):
    """payOS could not be reached, refused the call (``code``), or answered what cannot be trusted."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Keys:
    client_id: str
    api_key: str
    checksum_key: str
    base_url: str = "https://api-merchant.payos.vn"
    timeout: float = 5


def _value(value) -> str:
    if value is None or value in ("null", "undefined"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [{key: item[key] for key in sorted(item)} if isinstance(item, dict) else item for item in value]
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def data_string(data: dict) -> str:
    """``data`` as payOS signs it (see the module's notes)."""
    return "&".join(f"{key}={_value(data[key])}" for key in sorted(data))


def _hmac(key: str, text: str) -> str:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def data_signature(data: dict, checksum_key: str) -> str:
    return _hmac(checksum_key, data_string(data))


def request_signature(*, amount: int, cancel_url: str, description: str, order_code: int, return_url: str,
                      checksum_key: str) -> str:
    """The signature of a create call: its five fields, in this order, the values not encoded."""
    return _hmac(checksum_key, f"amount={amount}&cancelUrl={cancel_url}&description={description}"
                               f"&orderCode={order_code}&returnUrl={return_url}")


def _matches(expected: str, given) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def check_webhook(body, checksum_key: str) -> str | None:
    """Why a webhook body is refused, or None when its ``signature`` is payOS's over its ``data``."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return "no 'data' object"
    given = body.get("signature")
    if not isinstance(given, str) or not given.strip():
        return "no signature"
    data = body["data"]
    forms = [data, {name: data.get(name) for name in WEBHOOK_FIELDS}]
    if any(_matches(data_signature(form, checksum_key), given) for form in forms):
        return None
    return "invalid signature"


def _call(keys: Keys, method: str, path: str, body: dict | None = None) -> dict:
    """One call; its ``data`` once the answer's code is "00" and its signature payOS's."""
    request = urllib.request.Request(keys.base_url.rstrip("/") + path, method=method,
                                     data=json.dumps(body, ensure_ascii=False).encode() if body is not None else None,
                                     headers={"x-client-id": keys.client_id, "x-api-key": keys.api_key,
                                              "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=keys.timeout) as response:  # noqa: S310 - the configured URL
            raw = response.read(1024 * 1024)
    except urllib.error.HTTPError as error:
        raw = error.read(64 * 1024)
        answer = _json(raw)
        code = str(answer.get("code")) if isinstance(answer, dict) and answer.get("code") is not None else None
        raise PayosError(f"payOS answered HTTP {error.code}: {str(answer)[:200]}", code) from None
    except (OSError, ValueError) as error:
        raise PayosError(f"payOS could not be reached: {error}") from None
    answer = _json(raw)
    if not isinstance(answer, dict):
        raise PayosError("payOS's answer is not a JSON object")
    code = str(answer.get("code"))
    if code != SUCCESS:
        raise PayosError(f"payOS refused ({code}): {str(answer.get('desc'))[:200]}", code)
    data = answer.get("data")
    if not isinstance(data, dict):
        raise PayosError("payOS's answer has no data")
    if not _matches(data_signature(data, keys.checksum_key), answer.get("signature")):
        raise PayosError("payOS's answer is not signed with the checksum key")
    return data


def _json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def create_link(keys: Keys, *, order_code: int, amount: int, description: str, return_url: str, cancel_url: str,
                expired_at: int | None = None) -> dict:
    """``POST /v2/payment-requests``: payOS's data of the new link (raises ``PayosError``)."""
    body = {"orderCode": order_code, "amount": amount, "description": description, "returnUrl": return_url,
            "cancelUrl": cancel_url}
    if expired_at is not None:
        body["expiredAt"] = expired_at
    body["signature"] = request_signature(amount=amount, cancel_url=cancel_url, description=description,
                                          order_code=order_code, return_url=return_url,
                                          checksum_key=keys.checksum_key)
    return _call(keys, "POST", "/v2/payment-requests", body)


def get_link(keys: Keys, link_id) -> dict:
    """``GET /v2/payment-requests/{id}``: the link's status and transactions."""
    return _call(keys, "GET", f"/v2/payment-requests/{link_id}")


def cancel_link(keys: Keys, link_id, reason: str) -> dict:
    """``POST /v2/payment-requests/{id}/cancel``."""
    body = {"cancellationReason": reason}
    body["signature"] = data_signature(body, keys.checksum_key)
    return _call(keys, "POST", f"/v2/payment-requests/{link_id}/cancel", body)
