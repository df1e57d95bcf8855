"""Helpers for tests (import them: ``from tests.helpers import login``)."""
from __future__ import annotations

import os
import re

import pytest

PASSWORD = "pineapple-123"


def login(client, user, password: str = PASSWORD):
    """Log ``user`` in through the real login form."""
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


requires_postgres = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
    reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
