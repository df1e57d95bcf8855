"""Message channels: how a row of the outbox reaches its reader (e-mail today; Zalo or SMS later).

To add one: write core/channels/<name>.py with the interface of email.py (NAME, SUBJECT, UNREACHABLE,
can_reach, address, ready, send), add templates/messages/<kind>.<name>.txt for every kind of message,
and list <name> in MESSAGE_CHANNELS (config.py). core/messages.py then queues a row for it to every
recipient it can reach, and core/outbox.py sends that row through it.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from flask import current_app

DEFAULT = ("email",)
DEVELOPMENT = ("email", "phone")
# Channels whose module is not named like the channel: "phone" is the development one, which only logs.
MODULES = {"phone": "phone_log"}


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
