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


class Fallback(Exception):  # noqa: N818 - not an error of ours: the recipient is to be reached another way
    """Raised by a channel's ``send`` when this recipient cannot get the message that way at all (no Zalo account,
    the template refused...): the row is not retried, and its ``fallback_body`` goes by SMS instead."""


def get(name: str) -> ModuleType:
    """The channel module called ``name``; LookupError when there is none."""
    if not name.isidentifier():
        raise LookupError(f"{name!r} is not a message channel")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise LookupError(f"no message channel {name!r}: core/channels/{name}.py does not exist") from None


def enabled() -> list[ModuleType]:
    """The channels listed in MESSAGE_CHANNELS, in that order (only e-mail when it is not set)."""
    return [get(name) for name in current_app.config.get("MESSAGE_CHANNELS") or DEFAULT]
