"""Who gets which message by which channel: the account's choices, the defaults, and what cannot be turned off.

- One-time codes and receipts (an order placed or paid, money refunded, an order or visit cancelled with its
  refund) always go out. Every other kind belongs to a topic the account holder may turn off.
- Marketing goes only to accounts that consented (``marketing_consent_at``), never by default.
- Channels: an account that never chose gets e-mail (with an address) and Zalo (once its phone number is verified:
  a number nobody proved could be someone else's); its choice, once made, is kept (``message_channels``). A guest
  gets e-mail if given and Zalo at the phone given at checkout.
- SMS costs the cooperative for each message: it carries one-time codes, a message Zalo could not deliver (the
  outbox's fallback), and a message for someone no other channel reaches.
- One phone channel per message: Zalo, else SMS (else the development log of phone messages).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ONE_TIME_CODES = frozenset({"code_verify_phone", "code_login", "code_reset", "password_reset", "register_confirm",
                            "register_existing"})
RECEIPTS = frozenset({"order_placed", "order_paid", "order_cancelled", "farm_order_cancelled",
                      "late_payment_refunded", "received_money_refunded", "refund_after_delivery", "visit_cancelled",
                      "visit_slot_cancelled", "visit_rebooked",
                      "visit_rain_choice", "visit_rain_applied", "waitlist_slot_cancelled",
                      "waitlist_offer",  # the answer to joining a waiting list
                      "farm_application_decided", "certificate_decided",  # answers to what the person asked for
                      "certificate_expiring"})  # the farm's badge ends with it
TOPICS = {
    "order_updates": (_l("My orders: ready for pickup, on the way"), ("farm_order_ready", "order_shipped")),
    "visits": (_l("My visits: a reminder the day before"), ("visit_reminder",)),
    "farm_orders": (_l("My farm: new paid orders and visits booked"), ("farm_new_order", "farm_visit_booked",
                                                                        "farm_visit_cancelled",
                                                                        "farm_visit_rebooked")),
    "farm_money": (_l("My farm: payouts sent"), ("payout_sent",)),
    "farm_stock": (_l("My farm: products running low"), ("low_stock",)),
    "marketing": (_l("News and offers from the farms of Kép (only with your consent)"), ("news",)),
}
MARKETING = frozenset(TOPICS["marketing"][1])
CHANNELS = {"email": _l("E-mail"), "zalo": _l("Zalo")}  # what an account may choose (SMS is not a choice)
PHONE_CHANNELS = ("zalo", "sms", "phone")


def essential(kind: str) -> bool:
    return kind in ONE_TIME_CODES or kind in RECEIPTS or kind.startswith("staff_")


def topic_of(kind: str) -> str | None:
    return next((topic for topic, (_label, kinds) in TOPICS.items() if kind in kinds), None)


def allowed(kind: str, recipient) -> bool:
    """Whether ``recipient`` gets ``kind`` at all."""
    if essential(kind):
        return True
    if kind in MARKETING:
        return recipient.marketing
    return topic_of(kind) not in recipient.muted


def wants(recipient, channel: str, kind: str, *, queued: tuple[str, ...]) -> bool:
    """Whether ``kind`` goes to ``recipient`` by ``channel``, after the channels ``queued`` already have it."""
    if channel in PHONE_CHANNELS and any(name in PHONE_CHANNELS for name in queued):
        return False  # one phone channel per message
    if channel == "sms":
        return kind in ONE_TIME_CODES or not queued
    chosen = recipient.channels
    if chosen is not None:
        return channel in chosen or (channel == "phone" and "zalo" in chosen)
    if channel in ("zalo", "phone"):
        return recipient.phone_verified or recipient.guest or kind in ONE_TIME_CODES
    return True


def channel_choices(user) -> list[str]:
    """The channels ``user``'s page shows ticked: their choice, or the defaults."""
    if user.message_channels is not None:
        return [name for name in user.message_channels.split(",") if name]
    return [name for name, on in (("email", bool(user.email)), ("zalo", bool(user.phone_verified_at))) if on]
