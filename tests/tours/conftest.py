"""The visit tests read the services' messages in English (the builders are in tests/factories.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def english_messages(app):
    """Service messages in English for the assertions (pages and mails choose their own language)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield
