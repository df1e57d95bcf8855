"""The e-mail channel: a message by SMTP to the recipient's address (MAIL_* settings).

Without MAIL_SERVER the channel is not ready: its rows wait in the outbox, where staff read them.
"""
from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from flask import current_app

NAME = "email"
SUBJECT = True  # messages/<kind>.email_subject.txt is rendered too
# The mail server cannot be reached (refused, timed out, hung up): no point trying the next message now.
UNREACHABLE = (ConnectionError, TimeoutError, socket.gaierror, smtplib.SMTPConnectError,
               smtplib.SMTPServerDisconnected)


def address(recipient) -> str:
    """Where this channel sends to ``recipient``; empty when it cannot reach them."""
    return recipient.email or ""


def can_reach(recipient) -> bool:
    return bool(address(recipient))


def ready(config) -> bool:
    """Whether messages can be sent now (a mail server is configured)."""
    return bool(config.get("MAIL_SERVER"))


def send(row) -> None:
    """Send one outbox row; any exception means it was not sent."""
    _smtp_send(current_app.config, row)


def _smtp_send(config, note) -> None:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = note.to_address
    message["Subject"] = note.subject
    message.set_content(note.body)
    timeout = config.get("MAIL_TIMEOUT_SECONDS", 10)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
