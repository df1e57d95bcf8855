"""Rate limits, with small limits: log in (per account and address, per address), register (per address and
per email), ask for a password reset (per address and per email) and the two webhooks (per address). Past the
limit: 429 and the friendly "too many attempts" page (the log-in page saying how long to wait, for one account
from one address), or a JSON answer for the webhooks; other addresses and accounts go on."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.outbox import Notification
from tests.helpers import PASSWORD

_ips = itertools.count(10)
TOO_MANY = "Thử quá nhiều lần"  # "Too many attempts"


@pytest.fixture
def app_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_FREE_FAILURES": 2, "LOGIN_LIMIT_PER_IP": "4 per minute",
            "REGISTER_LIMIT_PER_IP": "2 per minute", "REGISTER_LIMIT_PER_EMAIL": "2 per minute", "RESET_LIMIT_PER_IP": "3 per minute",
            "RESET_LIMIT_PER_EMAIL": "2 per minute", "WEBHOOK_LIMIT_PER_IP": "2 per minute",
            "BANK_WEBHOOK_SECRET": "limits-bank-secret", "STRIPE_WEBHOOK_SECRET": "whsec_limits"}


def _from(client):
    """Requests from one address of their own."""
    ip = f"10.0.0.{next(_ips)}"

    def post(url, **kwargs):
        return client.post(url, environ_base={"REMOTE_ADDR": ip}, **kwargs)
    return post


def _friendly(response) -> None:
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert TOO_MANY in html and "Vui lòng thử lại sau 1 phút." in html


def _resets() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "password_reset"))


def test_login_per_account_and_address(client, make_user):
    user = make_user()
    post = _from(client)
    for _ in range(3):
        assert post("/login", data={"email": user.email, "password": "wrong-guess-1"}).status_code == 200
    response = post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 429
    assert "Vui lòng thử lại sau 1 phút." in response.get_data(as_text=True)
    # The owner from another address is not locked out: the pair waits, not the account.
    assert _from(client)("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    other = make_user()
    assert post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 302


def test_login_per_address(client):
    post = _from(client)
    for n in range(4):
        post("/login", data={"email": f"guess{n}@example.vn", "password": "wrong-guess-1"})
    _friendly(post("/login", data={"email": "guess9@example.vn", "password": "wrong-guess-1"}))


def test_registration_per_email_from_any_address(client):
    data = {"email": "lan@example.vn", "full_name": "Lan", "phone": "0912345678",
            "password": "dua-ngot-2026", "confirm": "dua-ngot-2026"}
    for _ in range(2):
        assert _from(client)("/register", data=data).status_code == 302
    _friendly(_from(client)("/register", data=dict(data, email="LAN@example.vn ")))
    assert _from(client)("/register", data=dict(data, email="minh@example.vn")).status_code == 302


def test_registration_per_address(client):
    post = _from(client)
    for n in range(2):
        assert post("/register", data={"email": "bad"}).status_code == 200
    _friendly(post("/register", data={"email": "bad"}))
    assert _from(client)("/register", data={"email": "bad"}).status_code == 200


def test_reset_requests_per_email_from_any_address(client, make_user):
    user = make_user(email="lan@example.vn")
    post = _from(client)
    for _ in range(2):
        assert post("/password/forgot", data={"email": user.email}).status_code == 302
    _friendly(_from(client)("/password/forgot", data={"email": " LAN@Example.vn"}))
    assert _resets() == 2, "the refused request queued nothing"
    assert _from(client)("/password/forgot", data={"email": "minh@example.vn"}).status_code == 302
    assert client.get("/password/forgot").status_code == 200, "showing the form is not limited"


def test_reset_requests_per_address(client):
    post = _from(client)
    for n in range(3):
        assert post("/password/forgot", data={"email": f"guess{n}@example.vn"}).status_code == 302
    _friendly(post("/password/forgot", data={"email": "guess9@example.vn"}))


@pytest.mark.parametrize("url, refused", [("/payments/bank/notify", 401), ("/payments/stripe/webhook", 400)])
def test_webhooks_per_address(client, url, refused):
    """``refused``: how each answers an unsigned body (the bank's has no signature, Stripe's no header)."""
    post = _from(client)
    for _ in range(2):
        assert post(url, data=b"{}", content_type="application/json").status_code == refused
    response = post(url, data=b"{}", content_type="application/json")
    assert response.status_code == 429 and response.is_json
    assert response.get_json()["error"]
    assert _from(client)(url, data=b"{}", content_type="application/json").status_code == refused


def test_the_webhook_limit_has_a_generous_default(app, monkeypatch):
    import config as settings
    from shop.payments.web import webhook_limit as _webhook_limit

    monkeypatch.delenv("WEBHOOK_LIMIT_PER_IP", raising=False)
    assert settings.load(app.instance_path)["WEBHOOK_LIMIT_PER_IP"] == "120 per minute"
    with app.test_request_context():
        assert _webhook_limit() == app.config["WEBHOOK_LIMIT_PER_IP"]
