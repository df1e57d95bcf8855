"""The payment providers the market knows, by code, and the ones it offers (configuration
``PAYMENT_PROVIDERS``, in the order the buyer sees them). Providers register themselves when
``shop.payments.providers`` is imported; this module imports none of them."""
from __future__ import annotations

from flask import current_app

from core.formatting import vnd

DEFAULT_PROVIDERS = ("vietqr", "card")
_providers: dict = {}


def register(provider) -> None:
    _providers[provider.code] = provider


def codes() -> set[str]:
    return set(_providers)


def get(code: str):
    """The provider of that code (a payment, refund or order stores it); KeyError for an unknown code."""
    return _providers[code]


def offered() -> list:
    """The configured providers, in their configured order, whether or not each can take money right now."""
    codes = current_app.config.get("PAYMENT_PROVIDERS") or DEFAULT_PROVIDERS
    return [_providers[code] for code in codes if code in _providers]


def enabled() -> list:
    """The configured providers that can take money now (Stripe needs its keys, for one)."""
    return [provider for provider in offered() if provider.enabled()]


def is_enabled(code: str) -> bool:
    return any(provider.code == code for provider in enabled())


def label(code: str):
    """What the buyer reads for a provider ("Bank transfer (VietQR)", "Card"); the code itself if unknown."""
    provider = _providers.get(code)
    return provider.label if provider else code


def sending_refunds() -> list[str]:
    """The codes of the providers that send refunds themselves (the others' refunds are made by staff)."""
    return [code for code, provider in _providers.items() if provider.sends_refunds]


def refund_message(refund, occasion: str) -> str:
    """What the person who cancelled reads about ``refund``, in its provider's words (``Provider.refund_wording``)."""
    return str(_providers[refund.provider].refund_wording[occasion]) % {"amount": vnd(refund.amount_vnd)}
