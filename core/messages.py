"""Messages to people: ``notify(kind, recipient, **context)``.

For each enabled channel (core/channels/) that can reach the recipient, sends this kind, and is one the recipient
wants it by (core/preferences.py: their choices, the defaults, one phone channel per message), ``notify`` renders
templates/messages/<kind>.<channel>.txt (and, for e-mail, <kind>.email_subject.txt) in the recipient's
language, and adds one outbox row to the current transaction: it is sent after the commit, by
``flask worker``, ``flask send-notifications`` or at the end of the request, and never if the transaction rolls
back. A Zalo row carries the SMS text to send instead if Zalo cannot deliver it. A recipient no channel can reach
(no e-mail address, say) gets nothing, and nothing is rendered.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app, render_template
from flask_babel import force_locale

from core import channels, outbox, preferences
from core.urls import public_url

DEFAULT_LOCALE = "vi"


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, with every address a channel might use; ``locale`` None means Vietnamese.
    The rest are the account's choices (core/preferences.py): ``channels`` None means the defaults."""

    email: str = ""
    phone: str = ""
    zalo_id: str = ""
    locale: str | None = None
    phone_verified: bool = False
    guest: bool = False
    channels: tuple[str, ...] | None = None
    muted: frozenset[str] = frozenset()
    marketing: bool = False

    @classmethod
    def of_user(cls, user, fallback_locale: str | None = None) -> Recipient:
        """An account holder, in the language of the account (else ``fallback_locale``), with its choices."""
        chosen = getattr(user, "message_channels", None)
        return cls(email=user.email or "", phone=user.phone or "", locale=user.locale or fallback_locale,
                   phone_verified=bool(getattr(user, "phone_verified_at", None)),
                   channels=None if chosen is None else tuple(name for name in chosen.split(",") if name),
                   muted=frozenset(name for name in (getattr(user, "muted_topics", "") or "").split(",") if name),
                   marketing=bool(getattr(user, "marketing_consent_at", None)))

    @classmethod
    def buyer_of(cls, order) -> Recipient:
        """The buyer of an order: the account's choices when it has one, else the guest at what they gave, in
        the language the order was placed in."""
        buyer = order.user if getattr(order, "user_id", None) else None
        if buyer is not None:
            account = cls.of_user(buyer, order.locale)
            return replace(account, email=order.buyer_email or account.email,
                           phone=order.buyer_phone or account.phone, locale=order.locale or account.locale)
        return cls(email=order.buyer_email or "", phone=order.buyer_phone or "", locale=order.locale, guest=True)

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
    if not preferences.allowed(kind, recipient):
        return []
    rows, queued = [], []
    enabled = channels.enabled()
    for channel in enabled:
        if not (channel.can_reach(recipient) and _handles(channel, kind)
                and preferences.wants(recipient, channel.NAME, kind, queued=tuple(queued))):
            continue
        name, texts = template or kind, getattr(channel, "TEMPLATES", channel.NAME)
        with force_locale(recipient.locale or DEFAULT_LOCALE):
            subject = (render_template(f"messages/{name}.{texts}_subject.txt", order=order, **context).strip()
                       if channel.SUBJECT else "")
            body = render_template(f"messages/{name}.{texts}.txt", order=order, **context)
            fallback = _fallback_text(enabled, channel, recipient, kind, name, order, context)
        row = outbox.queue(kind, channel.address(recipient), subject, body,
                           order.id if order is not None else None, channel=channel.NAME)
        row.fallback_body = fallback
        rows.append(row)
        queued.append(channel.NAME)
    return rows


def _handles(channel, kind: str) -> bool:
    """Channels that send only some kinds (Zalo: approved templates; SMS: registered texts) say which."""
    handles = getattr(channel, "handles", None)
    return handles is None or handles(kind)


def _fallback_text(enabled, channel, recipient, kind, name, order, context) -> str | None:
    """For a Zalo message, the SMS text that goes instead if Zalo cannot deliver it (None: nothing goes)."""
    if channel.NAME != "zalo":
        return None
    sms = next((other for other in enabled if other.NAME == "sms"), None)
    if sms is None or not sms.can_reach(recipient) or not _handles(sms, name):
        return None
    return render_template(f"messages/{name}.sms.txt", order=order, **context)


UNDELIVERABLE = "staff_undeliverable"


@outbox.given_up.connect
def _tell_staff(note: outbox.Notification, error: str) -> None:
    """A message given up on: staff are told (STAFF_EMAIL) in the same transaction, and the outbox page lists it
    as failed. An alert that cannot be delivered itself raises no further alert."""
    if note.kind == UNDELIVERABLE:
        return
    notify(UNDELIVERABLE, Recipient.by_email(current_app.config.get("STAFF_EMAIL", "")), note=note, error=error,
           link=public_url("admin_payments.outbox", status="failed"))
