"""Zalo's HTTP API as the Zalo channel uses it: a ZNS template message, and the OA access-token refresh.
Pure Python over ``urllib``: no state, no database (core/zalo_tokens.py keeps the tokens).

As Zalo documents them (developers.zalo.me, "Zalo Notification Service" and "Official Account API v3 / OAuth v4"):

- ``POST https://business.openapi.zalo.me/message/template`` (ZALO_ZNS_URL), headers ``access_token: <OA access
  token>`` and ``Content-Type: application/json``, body ``{"phone": "84912345678", "template_id": "...",
  "template_data": {...}, "tracking_id": "..."}``. Zalo answers HTTP 200 for business errors too: ``{"error": 0,
  "message": "Success", "data": {"msg_id": "...", "sent_time": "...", "quota": {...}}}`` when sent, otherwise a
  negative ``error`` and a ``message``.
- ``POST https://oauth.zaloapp.com/v4/oa/access_token`` (ZALO_OAUTH_URL), header ``secret_key: <app secret>``, form
  body ``refresh_token=...&app_id=...&grant_type=refresh_token``: ``{"access_token": "...", "refresh_token": "...",
  "expires_in": "90000"}`` (seconds, sent as a string). The refresh token is single-use: every refresh returns a
  new one, and the old one stops working, so the pair must be stored together (core/zalo_tokens.py).

Unclear in the documents (and decided here):
- Zalo's published error table could not be read in full; the codes below are those that Zalo's own pages and
  several integrations agree on. An unknown negative code is treated as "this recipient cannot be reached on Zalo"
  (the message falls back to SMS) rather than retried for hours.
- The refresh endpoint's error body is ``{"error": <negative>, "error_name": ..., "error_description": ...}`` in
  the samples seen; any answer without an ``access_token`` is taken as a failed refresh.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

ZNS_URL = "https://business.openapi.zalo.me/message/template"
OAUTH_URL = "https://oauth.zaloapp.com/v4/oa/access_token"

TOKEN_INVALID = frozenset({-124, -216})  # the access token is invalid or has expired: refresh, then try again
# Zalo's side is busy or broken, or this OA sends too fast: the same message may be tried again later.
TEMPORARY = frozenset({-1, -32, -100, -200, -201})
# Everything else (-108 invalid phone, -118/-114 no active Zalo account or the user refused, -119 cannot receive
# ZNS, -131/-132 template not approved or parameters wrong, -137/-144 quota or payment) is final for Zalo: the
# message falls back to SMS where the SMS channel is on.


class ZaloError(Exception):
    """Zalo refused the message (``code``) or could not be reached (``code`` None)."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code

    @property
    def token_invalid(self) -> bool:
        return self.code in TOKEN_INVALID

    @property
    def temporary(self) -> bool:
        return self.code is None or self.code in TEMPORARY


class ZaloUnreachable(ZaloError):
    """Zalo could not be reached at all (refused, timed out): no point trying the next message now."""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def zalo_phone(phone: str) -> str:
    """``0912345678`` or ``+84912345678`` as Zalo wants it: ``84912345678``; "" for a number from abroad."""
    digits = phone.lstrip("+")
    if digits.startswith("0") and len(digits) == 10:
        return "84" + digits[1:]
    if digits.startswith("84") and len(digits) == 11:
        return digits
    return ""


def send_template(url: str, access_token: str, phone: str, template_id: str, template_data: dict,
                  tracking_id: str, *, timeout: float = 10) -> str:
    """Send one ZNS message; Zalo's ``msg_id``. Raises ZaloError."""
    body = json.dumps({"phone": phone, "template_id": template_id, "template_data": template_data,
                       "tracking_id": tracking_id}, ensure_ascii=False).encode()
    answer = _call(urllib.request.Request(url, data=body, method="POST", headers={
        "access_token": access_token, "Content-Type": "application/json"}), timeout)
    if answer.get("error") != 0:
        raise ZaloError(f"Zalo error {answer.get('error')}: {answer.get('message', '')}", _code(answer))
    return str((answer.get("data") or {}).get("msg_id") or "")


def refresh(url: str, app_id: str, app_secret: str, refresh_token: str, *, timeout: float = 10) -> Tokens:
    """A new access token and the new refresh token that replaces ``refresh_token``. Raises ZaloError."""
    body = urllib.parse.urlencode({"refresh_token": refresh_token, "app_id": app_id,
                                   "grant_type": "refresh_token"}).encode()
    answer = _call(urllib.request.Request(url, data=body, method="POST", headers={
        "secret_key": app_secret, "Content-Type": "application/x-www-form-urlencoded"}), timeout)
    if not answer.get("access_token") or not answer.get("refresh_token"):
        reason = answer.get("error_description") or answer.get("error_name") or answer.get("message") or answer
        raise ZaloError(f"Zalo refused the token refresh: {reason}", _code(answer) or -14000)
    try:
        expires_in = int(answer.get("expires_in") or 0)
    except (TypeError, ValueError):
        expires_in = 0
    return Tokens(answer["access_token"], answer["refresh_token"], expires_in or 3600)


def _code(answer: dict) -> int | None:
    try:
        return int(answer.get("error"))
    except (TypeError, ValueError):
        return None


def _call(request: urllib.request.Request, timeout: float) -> dict:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a configured https URL
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise ZaloError(f"Zalo answered HTTP {error.code}") from None  # 5xx and the like: try again later
    except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as error:
        raise ZaloUnreachable(f"Zalo cannot be reached: {error}") from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise ZaloError("Zalo answered something that is not JSON") from None
    if not isinstance(answer, dict):
        raise ZaloError("Zalo answered something that is not a JSON object")
    return answer
