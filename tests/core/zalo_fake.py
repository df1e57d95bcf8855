"""Local stand-ins for Zalo (ZNS and the OA token refresh) and eSMS, checking each request as the providers
document it (core/channels/zalo_api.py and core/channels/sms.py quote the documents; the sample bodies are in
tests/fixtures/zalo/ and tests/fixtures/esms/), and answering their documented success and error bodies.

Zalo's refresh token is single-use in the stand-in as at Zalo: a second refresh with the same token is refused,
so a test notices two workers refreshing at once.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.json_stub import serving

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APP_ID = "1860141329355019864"
APP_SECRET = "zalo-app-secret-for-tests"
OA_SECRET = "zalo-oa-secret-key-for-tests"
FIRST_REFRESH = "first-refresh-token"
ESMS_KEYS = {"ApiKey": "ESMS-API-KEY", "SecretKey": "ESMS-SECRET-KEY", "Brandname": "HTX_DUAKEP"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeZalo:
    def __init__(self):
        self.problems: list[str] = []
        self.sent: list[dict] = []  # each ZNS request's body, with the token it carried
        self.refreshes: list[str] = []  # the refresh tokens spent
        self.sms: list[dict] = []
        self.valid_refresh = {FIRST_REFRESH}
        self.valid_access: set[str] = set()
        self.zns_errors: list[int] = []  # the next ZNS answers' error codes
        self.zns_http_status: list[int] = []
        self.esms_codes: list[str] = []
        self.refresh_delay = 0.0
        self.lock = threading.Lock()

    def answer(self, method: str, path: str, headers, raw: bytes) -> tuple[int, dict]:
        routes = {"/message/template": self.zns, "/v4/oa/access_token": self.refresh,
                  "/MainService.svc/json/SendMultipleMessage_V4_post_json/": self.esms}
        route = routes.get(path) if method == "POST" else None
        if route is None:
            self.problems.append(f"{method} {path}: no such endpoint")
            return 404, {"error": -404}
        return route(headers, raw)

    # -- ZNS ---------------------------------------------------------------------------------------------------
    def zns(self, headers, raw: bytes) -> tuple[int, dict]:
        if headers.get("Content-Type") != "application/json":
            self.problems.append("ZNS: Content-Type is not application/json")
        body = json.loads(raw)
        if set(body) != {"phone", "template_id", "template_data", "tracking_id"}:
            self.problems.append(f"ZNS: unexpected fields {sorted(body)}")
        if not (body.get("phone", "").startswith("84") and body["phone"].isdigit() and len(body["phone"]) == 11):
            self.problems.append(f"ZNS: phone {body.get('phone')!r} is not in 84... form")
        if not isinstance(body.get("template_data"), dict):
            self.problems.append("ZNS: template_data is not an object")
        token = headers.get("access_token", "")
        with self.lock:
            self.sent.append({**body, "access_token": token})
            if self.zns_http_status:
                return self.zns_http_status.pop(0), {"error": -1, "message": "Internal error"}
            if token not in self.valid_access:
                return 200, fixture("zalo/zns_token_invalid.json")
            if self.zns_errors:
                code = self.zns_errors.pop(0)
                return 200, {"error": code, "message": f"documented error {code}"}
        answer = fixture("zalo/zns_success.json")
        answer["data"]["msg_id"] = secrets.token_hex(10)
        return 200, answer

    # -- OAuth v4 refresh ----------------------------------------------------------------------------------------
    def refresh(self, headers, raw: bytes) -> tuple[int, dict]:
        if headers.get("Content-Type") != "application/x-www-form-urlencoded":
            self.problems.append("refresh: Content-Type is not form-urlencoded")
        if headers.get("secret_key") != APP_SECRET:
            self.problems.append("refresh: wrong or missing secret_key header")
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        if form.get("app_id") != APP_ID or form.get("grant_type") != "refresh_token":
            self.problems.append(f"refresh: unexpected form {form}")
        time.sleep(self.refresh_delay)
        with self.lock:
            spent = form.get("refresh_token", "")
            self.refreshes.append(spent)
            if spent not in self.valid_refresh:
                return 200, fixture("zalo/refresh_invalid.json")
            self.valid_refresh.discard(spent)
            answer = fixture("zalo/refresh_success.json")
            n = len(self.refreshes)
            answer["access_token"], answer["refresh_token"] = f"access-{n}", f"refresh-{n}"
            self.valid_access = {answer["access_token"]}
            self.valid_refresh.add(answer["refresh_token"])
        return 200, answer

    # -- eSMS ----------------------------------------------------------------------------------------------------
    def esms(self, headers, raw: bytes) -> tuple[int, dict]:
        if headers.get("Content-Type") != "application/json":
            self.problems.append("eSMS: Content-Type is not application/json")
        body = json.loads(raw)
        for key, value in ESMS_KEYS.items():
            if body.get(key) != value:
                self.problems.append(f"eSMS: {key} is {body.get(key)!r}")
        if body.get("SmsType") != "2" or body.get("IsUnicode") not in ("0", "1"):
            self.problems.append(f"eSMS: SmsType/IsUnicode {body.get('SmsType')!r}/{body.get('IsUnicode')!r}")
        if not (body.get("Phone", "").startswith("0") and len(body["Phone"]) == 10):
            self.problems.append(f"eSMS: Phone {body.get('Phone')!r}")
        if not body.get("RequestId") or len(body["RequestId"]) > 50:
            self.problems.append("eSMS: RequestId missing or longer than 50")
        with self.lock:
            self.sms.append(body)
            code = self.esms_codes.pop(0) if self.esms_codes else "100"
        return 200, fixture(f"esms/send_{code}.json")


@pytest.fixture(scope="session")
def _zalo_http():
    holder = {"fake": FakeZalo()}
    with serving(holder) as url:
        yield holder, url


def channel_config(url: str) -> dict:
    """The settings that point the Zalo and SMS channels at the stand-in (the same for every test)."""
    return {"MESSAGE_CHANNELS": ["email", "zalo", "sms"], "ZALO_APP_ID": APP_ID, "ZALO_APP_SECRET": APP_SECRET,
            "ZALO_REFRESH_TOKEN": FIRST_REFRESH, "ZALO_OA_SECRET_KEY": OA_SECRET,
            "ZALO_TEMPLATES": "order_placed=231001,order_paid=231002,farm_new_order=231003",
            "ZALO_ZNS_URL": f"{url}/message/template", "ZALO_OAUTH_URL": f"{url}/v4/oa/access_token",
            "ESMS_API_KEY": ESMS_KEYS["ApiKey"], "ESMS_SECRET_KEY": ESMS_KEYS["SecretKey"],
            "ESMS_BRANDNAME": ESMS_KEYS["Brandname"],
            "ESMS_URL": f"{url}/MainService.svc/json/SendMultipleMessage_V4_post_json/"}


@pytest.fixture
def zalo(_zalo_http):
    holder, url = _zalo_http
    holder["fake"] = fake = FakeZalo()
    fake.url = url
    yield fake
    assert fake.problems == [], "requests Zalo or eSMS would not take"
