"""A local stand-in for GHN's public API (online-gateway.ghn.vn/shiip/public-api) on 127.0.0.1, for the GHN tests.

It checks each request as GHN documents it (api.ghn.vn/home/docs/detail; samples and their origin in
tests/fixtures/ghn/): the path and method, the ``Token`` header on every call and ``ShopId`` on the order calls,
a JSON body with only documented fields, the required ones present and of GHN's types (``to_district_id`` a
number, ``to_ward_code`` a string of that district), and answers GHN's envelope from the samples. ``fail_next``
makes it refuse the next order call with GHN's error body (or an HTTP status); ``slow_next`` makes it answer
later than the app waits."""
from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path

import pytest

from tests.json_stub import serving

TOKEN = "ghn-token-for-tests"
SHOP_ID = "885"
WEBHOOK_TOKEN = "ghn-webhook-secret-for-tests-0123456789"
SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "ghn"
FEE_FIELDS = {"service_id", "service_type_id", "from_district_id", "from_ward_code", "to_district_id", "to_ward_code",
              "height", "length", "weight", "width", "insurance_value", "cod_value", "coupon", "items"}
CREATE_FIELDS = {"payment_type_id", "note", "required_note", "from_name", "from_phone", "from_address",
                 "from_ward_name", "from_district_name", "from_province_name", "return_phone", "return_address",
                 "return_district_id", "return_ward_code", "client_order_code", "to_name", "to_phone", "to_address",
                 "to_ward_code", "to_district_id", "cod_amount", "content", "weight", "length", "width", "height",
                 "pick_station_id", "deliver_station_id", "insurance_value", "service_id", "service_type_id",
                 "coupon", "pick_shift", "items"}
CREATE_REQUIRED = {"payment_type_id", "required_note", "to_name", "to_phone", "to_address", "to_ward_code",
                   "to_district_id", "weight", "length", "width", "height", "service_type_id", "items"}
REQUIRED_NOTES = {"CHOTHUHANG", "CHOXEMHANGKHONGTHU", "KHONGCHOXEMHANG"}
PHONE = re.compile(r"^0\d{9}$")


def sample(name: str):
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


class FakeGhn:
    def __init__(self):
        self.requests: list[tuple[str, str, dict | None]] = []
        self.problems: list[str] = []
        self.failures: list[tuple[dict, int]] = []
        self.delay = 0.0
        self.orders: dict[str, dict] = {}
        self.districts, self.wards = sample("district.json"), sample("ward.json")

    def fail_next(self, body: dict | None = None, status: int = 400):
        self.failures.append((body if body is not None else sample("create_error.json"), status))

    def slow_next(self, seconds: float):
        self.delay = seconds

    def calls(self, path: str) -> list[dict]:
        return [body for _, called, body in self.requests if called == path]

    def _problem(self, text: str) -> tuple[int, dict]:
        self.problems.append(text)
        return 400, {"code": 400, "message": text, "data": None}

    def answer(self, method: str, path: str, headers, raw: bytes) -> tuple[int, dict]:
        body = json.loads(raw.decode("utf-8")) if raw else None
        return self.handle(method, path.split("?", 1)[0], headers, body)

    def handle(self, method: str, path: str, headers, body) -> tuple[int, dict]:
        self.requests.append((method, path, body))
        if headers.get("Token") != TOKEN:
            return 401, {"code": 401, "message": "Token is not valid!", "data": None}
        if path == "/master-data/province" and method == "GET":
            return 200, sample("province.json")
        if path == "/master-data/district" and method == "POST":
            found = self.districts.get(str(body.get("province_id")), [])
            return 200, {"code": 200, "message": "Success", "data": found}
        if path == "/master-data/ward" and method == "POST":
            return 200, {"code": 200, "message": "Success", "data": self.wards.get(str(body.get("district_id")))}
        if method != "POST" or not path.startswith("/v2/shipping-order/"):
            return self._problem(f"{method} {path}: not a GHN endpoint")
        if headers.get("ShopId") != SHOP_ID:
            return self._problem(f"{path}: ShopId header missing or wrong")
        if self.delay:
            time.sleep(self.delay)
            self.delay = 0.0
        if self.failures:
            answer, status = self.failures.pop(0)
            return status, answer
        if not isinstance(body, dict):
            return self._problem(f"{path}: body is not a JSON object")
        if path == "/v2/shipping-order/fee":
            return self._fee(body)
        if path == "/v2/shipping-order/create":
            return self._create(body)
        if path == "/v2/shipping-order/detail":
            found = self.orders.get(body.get("order_code"))
            if found is None:
                return 400, {"code": 400, "message": "Không tìm thấy đơn hàng", "data": None}
            answer = sample("detail_success.json")
            answer["data"].update(order_code=body["order_code"], status=found["status"])
            return 200, answer
        return self._problem(f"{path}: not a GHN endpoint")

    def _to(self, path: str, body: dict) -> str | None:
        district, ward = body.get("to_district_id"), body.get("to_ward_code")
        if not isinstance(district, int) or not isinstance(ward, str):
            return f"{path}: to_district_id must be a number, to_ward_code a string"
        if ward not in {item["WardCode"] for item in self.wards.get(str(district), [])}:
            return f"{path}: ward {ward} is not in district {district}"
        return None

    def _fee(self, body: dict) -> tuple[int, dict]:
        extra = set(body) - FEE_FIELDS
        wrong = (f"fee: undocumented fields {sorted(extra)}" if extra else self._to("fee", body)
                 or (None if isinstance(body.get("weight"), int) and body["weight"] > 0 else "fee: weight in grams")
                 or (None if body.get("service_type_id") in (2, 5) or body.get("service_id") else "fee: no service"))
        if wrong:
            return self._problem(wrong)
        answer = sample("fee_success.json")
        answer["data"]["total"] = answer["data"]["service_fee"] = 22000 + 2500 * (body["weight"] // 1000)
        return 200, answer

    def _create(self, body: dict) -> tuple[int, dict]:
        extra, missing = set(body) - CREATE_FIELDS, CREATE_REQUIRED - set(body)
        wrong = (f"create: undocumented fields {sorted(extra)}" if extra else
                 f"create: missing {sorted(missing)}" if missing else self._to("create", body)
                 or (None if body["required_note"] in REQUIRED_NOTES else "create: required_note")
                 or (None if body["payment_type_id"] in (1, 2) else "create: payment_type_id")
                 or (None if body["items"] and all({"name", "quantity"} <= set(i) for i in body["items"])
                     else "create: items need name and quantity"))
        if wrong:
            return self._problem(wrong)
        if not PHONE.match(str(body["to_phone"])):
            return 400, sample("create_error.json")
        answer = copy.deepcopy(sample("create_success.json"))
        code = f"GHN{len(self.orders) + 1:05d}"
        answer["data"]["order_code"] = code
        self.orders[code] = {"status": "ready_to_pick", "body": body}
        return 200, answer


@pytest.fixture(scope="session")
def _ghn_http():
    holder = {"fake": FakeGhn()}
    with serving(holder) as url:
        yield holder, url


@pytest.fixture
def ghn_server(_ghn_http):
    holder, _ = _ghn_http
    holder["fake"] = fake = FakeGhn()
    yield fake
    assert fake.problems == [], "requests GHN would not take"


def ghn_config(url: str) -> dict:
    return {"GHN_TOKEN": TOKEN, "GHN_SHOP_ID": SHOP_ID, "GHN_API_BASE": url, "GHN_TIMEOUT_SECONDS": 1,
            "GHN_WEBHOOK_TOKEN": WEBHOOK_TOKEN, "GHN_FROM_PHONE": "0204388123"}
