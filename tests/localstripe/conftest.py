"""What the official stripe library (16.x) can do against localstripe, in VND.

Each test pins down one behaviour the payment module can rely on (or a
localstripe gap it must work around); see tests/stripe_emulator.py. Each
test module gets its own emulator, and one webhook recorder on it.
"""

import pytest

from tests.localstripe.helpers import WEBHOOK_SECRET
from tests.stripe_emulator import WebhookRecorder, configure_webhook, start_localstripe, stripe_client


@pytest.fixture(scope="module")
def emulator():
    base_url, stop = start_localstripe()
    try:
        yield base_url
    finally:
        stop()


@pytest.fixture(scope="module")
def client(emulator):
    return stripe_client(emulator)


@pytest.fixture(scope="module")
def webhooks(emulator):
    recorder = WebhookRecorder()
    configure_webhook(emulator, "kep", recorder.url, WEBHOOK_SECRET)
    try:
        yield recorder
    finally:
        recorder.close()
