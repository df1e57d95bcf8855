"""The development phone channel: a "text message" to the recipient's phone number that is only written to
the app's log (logger ``kep.phone``) and then counts as sent.

It stands where a real Zalo or SMS channel will stand (the same interface as email.py), so that in
development and tests the messages for phones, one-time codes among them, can be read in the log and on
the staff outbox page. Never use it in production: nobody receives what it "sends" (config.py refuses it).

It writes the SMS texts (``TEMPLATES``: messages/<kind>.sms.txt), and only the kinds that have one go out by it
(``handles``): text messages are kept for what a buyer or farmer needs on the phone (codes, orders). Like Zalo
and SMS, it is a phone channel: a message goes by one of them at most (core/preferences.py).
"""
from __future__ import annotations

import logging

from core import channels

NAME = "phone"
SUBJECT = False  # a text message has no subject
PHONE = True
TEMPLATES = "sms"  # it stands in for SMS: the same texts
UNREACHABLE = ()  # writing to the log does not fail for want of a service

log = logging.getLogger("kep.phone")


def address(recipient) -> str:
    """Where this channel sends to ``recipient``: the phone number; empty when there is none."""
    return recipient.phone or ""


def can_reach(recipient) -> bool:
    return bool(address(recipient))


def handles(kind: str) -> bool:
    return channels.has_template(kind, TEMPLATES)


def ready(config) -> bool:
    """Always ready: there is no outside service."""
    return True


def send(row) -> None:
    """"Send" one outbox row: write it to the log."""
    log.info("text message to %s (%s): %s", row.to_address, row.kind, row.body.strip())
