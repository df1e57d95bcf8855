"""The Zalo channel: a ZNS template message from the cooperative's Zalo Official Account to the recipient's phone.

Zalo sends only templates it approved beforehand, so each kind of message maps to a template id
(ZALO_TEMPLATES, ``kind=id`` pairs) and templates/messages/<kind>.zalo.txt renders that template's parameters as a
JSON object (README: "Connecting Zalo" lists them, to register the same names at Zalo). A kind without both is not
sent by Zalo. The message waits in the outbox as that JSON; at sending time its template id is read from the
configuration, so a template approved later applies to what still waits.

What Zalo answers decides what happens (core/channels/zalo_api.py): sent; the access token was refused (it is
refreshed once, core/zalo_tokens.py, and the message tried again); Zalo is busy or cannot be reached (the outbox
tries again later); anything else means this recipient cannot get it on Zalo, and the message falls back to SMS
(``channels.Fallback``: the outbox queues the SMS text rendered beside it, when the SMS channel is on).
"""
from __future__ import annotations

import json

from flask import current_app

from core import channels, zalo_tokens
from core.channels import zalo_api

NAME = "zalo"
SUBJECT = False
PHONE = True  # reaches a phone number: the one phone channel a message goes by (see core/messages.py)
UNREACHABLE = (zalo_api.ZaloUnreachable,)


def address(recipient) -> str:
    return recipient.phone if zalo_api.zalo_phone(recipient.phone or "") else ""


def can_reach(recipient) -> bool:
    return bool(address(recipient))


def ready(config) -> bool:
    return bool(config.get("ZALO_APP_ID") and config.get("ZALO_APP_SECRET") and config.get("ZALO_REFRESH_TOKEN"))


def templates(config) -> dict[str, str]:
    """``kind -> template id`` from ZALO_TEMPLATES ("order_paid=231234,order_placed=231235" or a dict)."""
    value = config.get("ZALO_TEMPLATES") or {}
    if isinstance(value, str):
        value = dict(pair.split("=", 1) for pair in value.replace(";", ",").split(",") if "=" in pair)
    return {kind.strip(): str(template).strip() for kind, template in value.items() if str(template).strip()}


def handles(kind: str) -> bool:
    return kind in templates(current_app.config) and channels.has_template(kind, NAME)


def send(row) -> None:
    """Send one outbox row (``to_address`` a phone, ``body`` the template's parameters as JSON)."""
    config = current_app.config
    template_id = templates(config).get(row.kind)
    if not template_id:
        raise channels.Fallback(f"no Zalo template is configured for {row.kind!r}")
    data = json.loads(row.body)
    attempt = (config["ZALO_ZNS_URL"], zalo_api.zalo_phone(row.to_address), template_id, data, f"kep-{row.id}")
    timeout = config.get("ZALO_TIMEOUT_SECONDS", 10)
    try:
        try:
            token = zalo_tokens.access_token(config)
            row.provider_message_id = zalo_api.send_template(attempt[0], token, *attempt[1:], timeout=timeout)
        except zalo_api.ZaloError as error:
            if not error.token_invalid:
                raise
            token = zalo_tokens.refresh(config, stale=token)
            row.provider_message_id = zalo_api.send_template(attempt[0], token, *attempt[1:], timeout=timeout)
    except zalo_api.ZaloError as error:
        if error.temporary:
            raise
        raise channels.Fallback(str(error)) from error
