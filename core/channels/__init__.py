"""Message channels: how a row of the outbox reaches its reader (e-mail today; Zalo or SMS later).

To add one: write core/channels/<name>.py with the interface of email.py (NAME, SUBJECT, UNREACHABLE,
can_reach, address, ready, send; and ``handles(kind)`` and ``PHONE = True`` for a channel that sends only some
kinds to a phone), add templates/messages/<kind>.<name>.txt for the kinds it sends,
and list <name> in MESSAGE_CHANNELS (config.py). core/messages.py then queues a row for it to every
recipient it can reach and who wants it (core/preferences.py), and core/outbox.py sends that row through it.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from flask import current_app
from jinja2 import TemplateNotFound

DEFAULT = ("email",)
DEVELOPMENT = ("email", "phone")
# Channels whose module is not named like the channel: "phone" is the development one, which only logs.
MODULES = {"phone": "phone_log"}


def has_template(kind: str, channel_name: str) -> bool:
    """Whether templates/messages/<kind>.<channel>.txt exists: channels that send only some kinds (text
    messages: Zalo's approved templates, SMS texts registered with the carriers, the development phone log)
    send the kinds they have one for."""
    try:
        current_app.jinja_env.get_template(f"messages/{kind}.{channel_name}.txt")
    except TemplateNotFound:
        return False
    return True


class Fallback(Exception):  # noqa: N818 - not an error of ours: the recipient is to be reached another way
    """Raised by a channel's ``send`` when this recipient cannot get the message that way at all (no Zalo account,
    the template refused...): the row is not retried, and its ``fallback_body`` goes by SMS instead."""


def get(name: str) -> ModuleType:
    """The channel module called ``name``; LookupError when there is none."""
    if not name.isidentifier():
        raise LookupError(f"{name!r} is not a message channel")
    try:
        module = MODULES.get(name, name)
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{MODULES.get(name, name)}":
            raise
        raise LookupError(f"no message channel {name!r}: core/channels/{name}.py does not exist") from None


def enabled() -> list[ModuleType]:
    """The channels listed in MESSAGE_CHANNELS, in that order; when it is not set, only e-mail in production,
    and e-mail and the log-only phone channel in development (one-time codes are read in the log)."""
    config = current_app.config
    names = config.get("MESSAGE_CHANNELS") or (DEFAULT if config.get("APP_ENV") == "production" else DEVELOPMENT)
    return [get(name) for name in names]
