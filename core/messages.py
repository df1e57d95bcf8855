"""Messages to people: ``notify(kind, recipient, **context)``.

For each enabled channel (core/channels/) that can reach the recipient, ``notify`` renders
templates/messages/<kind>.<channel>.txt (and, for e-mail, <kind>.email_subject.txt) in the recipient's
language, and adds one outbox row to the current transaction: it is sent after the commit, by
``flask send-notifications`` or at the end of the request, and never if the transaction rolls back.
A recipient no channel can reach (no e-mail address, say) gets nothing, and nothing is rendered.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale

from core import channels, outbox
from core.urls import public_url

DEFAULT_LOCALE = "vi"


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, with every address a channel might use; ``locale`` None means Vietnamese."""

    email: str = ""
    phone: str = ""
    zalo_id: str = ""
    locale: str | None = None

    @classmethod
    def of_user(cls, user, fallback_locale: str | None = None) -> Recipient:
        """An account holder, in the language of the account (else ``fallback_locale``)."""
        return cls(email=user.email or "", phone=user.phone or "", locale=user.locale or fallback_locale)

    @classmethod
    def buyer_of(cls, order) -> Recipient:
        """The buyer of an order (a guest or an account), in the language the order was placed in."""
        return cls(email=order.buyer_email or "", phone=order.buyer_phone or "", locale=order.locale)

    @classmethod
    def by_email(cls, address: str, locale: str | None = None) -> Recipient:
        """A bare e-mail address: STAFF_EMAIL, or an address typed in before any account has it."""
        return cls(email=address or "", locale=locale)


def notify(kind: str, recipient: Recipient, *, template: str | None = None, order=None,
           **context) -> list[outbox.Notification]:
    """Queue message ``kind`` for ``recipient`` on every channel that reaches them; the rows queued.

    ``template`` names the templates when several kinds share them (the staff alerts); ``order`` is
    given to the templates and recorded on the rows (the outbox page links them).
    """
    rows = []
    for channel in channels.enabled():
        if not channel.can_reach(recipient):
            continue
        name = f"messages/{template or kind}.{channel.NAME}"
        with force_locale(recipient.locale or DEFAULT_LOCALE):
            subject = (render_template(f"{name}_subject.txt", order=order, **context).strip()
                       if channel.SUBJECT else "")
            body = render_template(f"{name}.txt", order=order, **context)
        rows.append(outbox.queue(kind, channel.address(recipient), subject, body,
                                 order.id if order is not None else None, channel=channel.NAME))
    return rows


UNDELIVERABLE = "staff_undeliverable"


@outbox.given_up.connect
def _tell_staff(note: outbox.Notification, error: str) -> None:
    """A message given up on: staff are told (STAFF_EMAIL) in the same transaction, and the outbox page lists it
    as failed. An alert that cannot be delivered itself raises no further alert."""
    if note.kind == UNDELIVERABLE:
        return
    notify(UNDELIVERABLE, Recipient.by_email(current_app.config.get("STAFF_EMAIL", "")), note=note, error=error,
           link=public_url("admin_payments.outbox", status="failed"))
