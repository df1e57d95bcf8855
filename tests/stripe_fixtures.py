"""localstripe for the payment tests, started once per test run, and what a buyer's browser
(Stripe.js) would do with a PaymentIntent. Import the fixture by name in a test module:
``from tests.stripe_fixtures import localstripe_url  # noqa: F401``."""
from __future__ import annotations

import atexit
import re

import pytest
import stripe

from tests.helpers import free_port
from tests.stripe_emulator import TEST_API_KEY, start_localstripe, stripe_client

WEBHOOK_SECRET = "whsec_kep_app_test"
_running: dict[str, str] = {}


@pytest.fixture(scope="session")
def localstripe_url() -> str:
    """One emulator for every module that imports this fixture (it is only started once)."""
    if "url" not in _running:
        url, stop = start_localstripe()
        atexit.register(stop)
        _running["url"] = url
    return _running["url"]


def stripe_config(api_base: str) -> dict:
    return {"STRIPE_API_BASE": api_base, "STRIPE_SECRET_KEY": TEST_API_KEY,
            "STRIPE_PUBLISHABLE_KEY": "pk_test_12345", "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_JS_URL": api_base + "/js.stripe.com/v3/"}


def dead_url() -> str:
    """An address on which nothing listens: Stripe is down."""
    return f"http://127.0.0.1:{free_port()}"


def card_page_data(html: str) -> dict[str, str]:
    """The data- attributes the card page hands to static/js/card.js."""
    form = re.search(r'<form id="card-form"(.*?)>', html, re.S)
    assert form, "no card form in the page"
    found = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', form.group(1)))
    found["return-url"] = found["return-url"].replace("&amp;", "&")
    found["intent"] = found["client-secret"].split("_secret_")[0]
    return found


def confirm_card(client: stripe.StripeClient, intent_id: str, number: str = "4242424242424242"):
    """What Stripe.js's confirmCardPayment does with the card typed in the Card Element
    (localstripe cannot confirm with a payment_method parameter: set it first)."""
    method = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    return client.v1.payment_intents.confirm(intent_id)


__all__ = ["WEBHOOK_SECRET", "card_page_data", "confirm_card", "dead_url", "localstripe_url", "stripe_client",
           "stripe_config"]
