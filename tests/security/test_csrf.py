"""CSRF: every POST route of ``app.url_map`` refuses a request without the token (400, the "form has expired"
page) from a logged-in user allowed to use it, and nothing in the database changes; the same request with the
token gets past the check. The webhooks are exempt on purpose (a bank-notification service and Stripe cannot hold a
session): they refuse a request that is not signed instead, and change nothing either."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest

from shop.payments.reference import reference_for
from tests.security.conftest import snapshot
from tests.security.test_authorization import OK, ROUTES, route_methods

APP_CONFIG = {"WTF_CSRF_ENABLED": True, "BANK_WEBHOOK_SECRET": "csrf-bank-secret",
              "STRIPE_WEBHOOK_SECRET": "whsec_csrf", "SEPAY_API_KEY": "csrf-sepay-key",
              "CASSO_WEBHOOK_SECRET": "csrf-casso-secret", "PAYOS_CHECKSUM_KEY": "csrf-payos-checksum",
              "ZALO_OA_SECRET_KEY": "csrf-zalo-oa-secret", "GHN_WEBHOOK_TOKEN": "csrf-ghn-webhook-token"}
WEBHOOKS = {"payments.bank_notify", "payments.stripe_webhook", "payments.sepay_notify", "payments.casso_notify",
            "payments.payos_notify", "zalo_webhook.zalo_event", "shipping.ghn_webhook"}
CSRF_MESSAGE = "Biểu mẫu đã hết hạn"  # "This form has expired or was not sent from our site."
# Whom to act as: someone logged in who may use the route (the first of these the matrix allows).
PREFERRED = ("buyer_a", "farmer_a", "admin", "farmer_b", "buyer_b")
ROLE_ORDER = ("anonymous", "buyer_a", "buyer_b", "farmer_a", "farmer_b", "admin")

POSTS = sorted(endpoint for endpoint, entry in ROUTES.items() if "POST" in entry.expect and endpoint not in WEBHOOKS)


def allowed_role(endpoint: str) -> str:
    outcomes = dict(zip(ROLE_ORDER, ROUTES[endpoint].expect["POST"]))
    return next(role for role in PREFERRED if outcomes[role] == OK)


def test_every_post_route_is_checked(shared):
    posts = {endpoint for endpoint, method in route_methods(shared.app) if method == "POST"}
    assert posts == set(POSTS) | WEBHOOKS
    print(f"\nCSRF: {len(POSTS)} POST routes refused without a token, {len(WEBHOOKS)} webhooks refused unsigned")


def _token(client) -> str:
    html = client.get("/password/forgot").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("endpoint", POSTS)
def test_post_without_the_token_is_refused_and_changes_nothing(shared, endpoint):
    shared.clean()
    shared.dirty = True
    role = allowed_role(endpoint)
    client = shared.client(role, fresh=True)
    url = ROUTES[endpoint].url.format(**shared.world.params)
    before = snapshot()
    for data in ({}, {"csrf_token": "forged-" + "x" * 40}):
        response = client.post(url, data=data)
        assert response.status_code == 400, (role, url, response.status_code)
        assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert snapshot() == before, f"{endpoint}: a refused request changed the database"
    # The check is the token's: with it, the same request gets past (to the view, whatever it then says).
    response = client.post(url, data={"csrf_token": _token(client)})
    assert CSRF_MESSAGE not in response.get_data(as_text=True), (role, url, response.status_code)


def _bank_body() -> bytes:
    return json.dumps({"transaction_id": "FTCSRF0001", "amount": 12000, "content": reference_for(1)}).encode()


@pytest.mark.parametrize("signature", [None, "", "0" * 64, "not-hex"])
def test_the_bank_webhook_refuses_unsigned_or_badly_signed_requests(shared, signature):
    shared.clean()
    shared.dirty = True
    before = snapshot()
    headers = {} if signature is None else {"X-Signature": signature}
    response = shared.client("anonymous").post("/payments/bank/notify", data=_bank_body(), headers=headers,
                                               content_type="application/json")
    assert response.status_code == 401 and response.is_json
    assert snapshot() == before


def test_the_bank_webhook_takes_a_signed_request_without_any_csrf_token(shared):
    shared.clean()
    shared.dirty = True
    body = _bank_body()
    signature = hmac.new(b"csrf-bank-secret", body, hashlib.sha256).hexdigest()
    response = shared.client("anonymous").post("/payments/bank/notify", data=body, content_type="application/json",
                                               headers={"X-Signature": signature})
    assert response.status_code == 200 and response.is_json


@pytest.mark.parametrize("signature", [None, "", "t=1,v1=" + "0" * 64])
def test_the_stripe_webhook_refuses_unsigned_or_badly_signed_requests(shared, signature):
    shared.clean()
    shared.dirty = True
    before = snapshot()
    headers = {} if signature is None else {"Stripe-Signature": signature}
    body = json.dumps({"id": "evt_csrf", "type": "payment_intent.succeeded",
                       "data": {"object": {"id": "pi_security_matrix"}}}).encode()
    response = shared.client("anonymous").post("/payments/stripe/webhook", data=body, headers=headers,
                                               content_type="application/json")
    assert response.status_code == 400 and response.is_json
    assert snapshot() == before


@pytest.mark.parametrize("url, headers", [
    ("/payments/sepay/notify", {}), ("/payments/sepay/notify", {"Authorization": "Apikey not-the-key"}),
    ("/payments/sepay/notify", {"Authorization": "Bearer csrf-sepay-key"}),
    ("/payments/casso/notify", {}), ("/payments/casso/notify", {"X-Casso-Signature": "t=1,v1=" + "0" * 128}),
    ("/payments/casso/notify", {"X-Casso-Signature": f"t={int(time.time() * 1000)},v1=" + "0" * 128}),
    ("/payments/payos/notify", {}),
])
def test_the_bank_services_webhooks_refuse_unauthenticated_requests(shared, url, headers):
    shared.clean()
    shared.dirty = True
    before = snapshot()
    response = shared.client("anonymous").post(url, data=_bank_body(), headers=headers,
                                               content_type="application/json")
    assert response.status_code == 401 and response.is_json and response.json["success"] is False
    assert snapshot() == before


@pytest.mark.parametrize("query", ["", "?token=", "?token=csrf-ghn-webhook-tokeN"])
def test_ghns_webhook_refuses_a_request_without_its_secret_token(shared, query):
    shared.clean()
    shared.dirty = True
    before = snapshot()
    body = json.dumps({"OrderCode": "GHN00001", "Status": "delivered", "Type": "switch_status"}).encode()
    response = shared.client("anonymous").post("/shipping/ghn/webhook" + query, data=body,
                                               content_type="application/json")
    assert response.status_code == 403 and response.is_json and response.json["success"] is False
    assert snapshot() == before


def test_the_bank_services_webhooks_take_an_authenticated_request_without_any_csrf_token(shared):
    shared.clean()
    shared.dirty = True
    body = json.dumps({"id": 4242, "transferType": "in", "transferAmount": 12000, "accountNumber": "0",
                       "content": "KEP00000001"}).encode()
    response = shared.client("anonymous").post("/payments/sepay/notify", data=body, content_type="application/json",
                                               headers={"Authorization": "Apikey csrf-sepay-key"})
    assert response.status_code == 200 and response.json == {"success": True}
    casso = {"error": 0, "data": {"id": 4242, "amount": 12000, "accountNumber": "0", "description": "KEP00000001"}}
    stamp = int(time.time() * 1000)
    signed = f"{stamp}." + json.dumps(casso, sort_keys=True, separators=(",", ":"))
    signature = hmac.new(b"csrf-casso-secret", signed.encode(), hashlib.sha512).hexdigest()
    response = shared.client("anonymous").post("/payments/casso/notify", data=json.dumps(casso).encode(),
                                               content_type="application/json",
                                               headers={"X-Casso-Signature": f"t={stamp},v1={signature}"})
    assert response.status_code == 200 and response.json == {"success": True}
