"""The SMS channel, through eSMS (esms.vn): one-time codes, and messages that Zalo could not deliver.

eSMS's documented call (developers.esms.vn, "Tin nhắn SMS OTP/CSKH"): ``POST
https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/`` (ESMS_URL) with the JSON body
``{"ApiKey", "SecretKey", "Phone", "Content", "Brandname", "SmsType": "2", "IsUnicode": "0"|"1", "RequestId",
"CallbackUrl"?, "Sandbox"?}``; it answers ``{"CodeResult": "100", "SMSID": "..."}`` when the request is taken, and
another CodeResult otherwise (its "Bảng mã lỗi"): 99 number blocked, 101 wrong keys, 103 balance too low,
104 brand name not registered, 108 invalid number, 124 RequestId already used, 140 IP not whitelisted,
146 content matches no registered customer-care template.

Customer-care SMS in Vietnam must match a template the carriers registered for the brand name (146 otherwise), so
each kind sent by SMS has a short fixed text, templates/messages/<kind>.sms.txt; a kind without one is not sent by
SMS. ESMS_UNICODE=0 (the default, cheaper: 160 characters a part) sends the text without diacritics.
``RequestId`` is the outbox row's id: eSMS refuses a second request with it the same day (124), so a retry after a
lost answer cannot send the text twice; 124 is therefore taken as sent.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

from flask import current_app

from core import channels
from core.text import unaccent

NAME = "sms"
SUBJECT = False
PHONE = True
ACCEPTED = {"100"}
ALREADY_TAKEN = "124"
RETRY = {"103", "140"}  # money or the IP whitelist: staff fix it, and the message goes later
UNREACHABLE = (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError)


class SmsRefused(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def address(recipient) -> str:
    phone = recipient.phone or ""
    return phone if phone.startswith("0") and len(phone) == 10 else ""  # Vietnamese mobiles only


def can_reach(recipient) -> bool:
    return bool(address(recipient))


def ready(config) -> bool:
    return bool(config.get("ESMS_API_KEY") and config.get("ESMS_SECRET_KEY") and config.get("ESMS_BRANDNAME"))


def handles(kind: str) -> bool:
    return channels.has_template(kind, NAME)


def text(body: str) -> str:
    """The text as sent: one line, and without diacritics unless ESMS_UNICODE is on."""
    body = " ".join(body.split())
    return body if current_app.config.get("ESMS_UNICODE") else unaccent(body).translate(_PLAIN)


_PLAIN = str.maketrans({"–": "-", "—": "-", "₫": "d", "“": '"', "”": '"', "’": "'"})


def send(row) -> None:
    config = current_app.config
    payload = {"ApiKey": config["ESMS_API_KEY"], "SecretKey": config["ESMS_SECRET_KEY"], "Phone": row.to_address,
               "Content": text(row.body), "Brandname": config["ESMS_BRANDNAME"], "SmsType": "2",
               "IsUnicode": "1" if config.get("ESMS_UNICODE") else "0", "RequestId": f"kep-{row.id}"}
    if config.get("ESMS_SANDBOX"):
        payload["Sandbox"] = "1"
    request = urllib.request.Request(config["ESMS_URL"], data=json.dumps(payload, ensure_ascii=False).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=config.get("ESMS_TIMEOUT_SECONDS", 10)) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise SmsRefused(f"eSMS answered HTTP {error.code}", str(error.code)) from None
    except ValueError:
        raise SmsRefused("eSMS answered something that is not JSON", "") from None
    code = str(answer.get("CodeResult", ""))
    if code in ACCEPTED or code == ALREADY_TAKEN:
        row.provider_message_id = str(answer.get("SMSID") or "")
        return
    message = f"eSMS {code}: {answer.get('ErrorMessage') or answer.get('error') or ''}".strip()
    if code in RETRY:
        raise SmsRefused(message, code)
    raise channels.Fallback(message)  # the number, the keys, the template: trying again will not help
