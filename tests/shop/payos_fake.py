"""A local stand-in for payOS's merchant API (api-merchant.payos.vn) on 127.0.0.1, for the payOS tests.

It checks each request as payOS documents it (payos.vn/docs "payOS API"; the official SDKs payOSHQ/payos-lib-python
and payos-lib-node): the path, the ``x-client-id`` / ``x-api-key`` headers, a JSON body with exactly the documented
fields, and the create call's ``signature`` (HMAC-SHA256 with the checksum key of
``amount=..&cancelUrl=..&description=..&orderCode=..&returnUrl=..``), recomputed here on its own. It answers with
payOS's documented envelope ``{"code", "desc", "data", "signature"}``, the data signed as payOS signs it (sorted
``key=value`` pairs), and with payOS's refusals: code 231 for an orderCode used before, 20 for a description over
25 characters, 101 for an unknown link. ``fail_next`` makes it refuse or break the next call."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from tests.json_stub import serving

CLIENT_ID = "payos-client-id-for-tests"
API_KEY = "payos-api-key-for-tests"
CHECKSUM_KEY = "payos-checksum-key-for-tests-0123456789abcdef"
CREATE_FIELDS = {"orderCode", "amount", "description", "returnUrl", "cancelUrl", "signature", "expiredAt"}


def sign(data: dict, key: str = CHECKSUM_KEY) -> str:
    """payOS's data signature, written out here as its documents describe it (independent of the app's)."""
    parts = []
    for name in sorted(data):
        value = data[name]
        if value is None:
            value = ""
        elif isinstance(value, list):
            value = json.dumps([dict(sorted(item.items())) for item in value], separators=(",", ":"),
                               ensure_ascii=False)
        parts.append(f"{name}={value}")
    return hmac.new(key.encode(), "&".join(parts).encode(), hashlib.sha256).hexdigest()


class FakePayos:
    def __init__(self, account: str, bank_bin: str = "970422"):
        self.account, self.bank_bin = account, bank_bin
        self.links: dict[int, dict] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.problems: list[str] = []
        self.failures: list[tuple[str, str, int]] = []  # (code, desc, http status) for the next calls
        self.answer_account: str | None = None
        self.bad_signature = False
        self.url = ""

    def fail_next(self, code: str = "20", desc: str = "Thông tin truyền lên không đúng.", status: int = 200):
        self.failures.append((code, desc, status))

    def pay(self, order_code: int, amount: int, reference: str, when: str = "2026-12-02T10:00:00+07:00") -> dict:
        """A buyer pays into a link: the transaction payOS lists for it (and sends by webhook)."""
        link = self.links[order_code]
        transaction = {"reference": reference, "amount": amount, "accountNumber": self.account,
                       "description": link["description"], "transactionDateTime": when,
                       "virtualAccountName": None, "virtualAccountNumber": None, "counterAccountBankId": "970415",
                       "counterAccountBankName": None, "counterAccountName": "NGUYEN VAN A",
                       "counterAccountNumber": "9876543210"}
        link["transactions"].append(transaction)
        link["amountPaid"] += amount
        link["amountRemaining"] = max(0, link["amount"] - link["amountPaid"])
        link["status"] = "PAID" if link["amountRemaining"] == 0 else "UNDERPAID"
        return transaction

    # -- what a request is answered ------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers, raw: bytes) -> tuple[int, dict]:
        body = None
        if raw:
            if headers.get("Content-Type", "").split(";")[0] != "application/json":
                self.problems.append(f"{method} {path}: body is not application/json")
            body = json.loads(raw)
        return self.handle(method, path, headers, body)

    def handle(self, method: str, path: str, headers, body: dict | None) -> tuple[int, dict]:
        self.requests.append((method, path, body))
        if headers.get("x-client-id") != CLIENT_ID or headers.get("x-api-key") != API_KEY:
            self.problems.append(f"{method} {path}: wrong x-client-id / x-api-key")
            return 401, {"code": "401", "desc": "Unauthorized", "data": None}
        if self.failures:
            code, desc, status = self.failures.pop(0)
            return status, {"code": code, "desc": desc, "data": None, "signature": None}
        if method == "POST" and path == "/v2/payment-requests":
            return self._create(body or {})
        parts = path.strip("/").split("/")
        if len(parts) >= 3 and parts[:2] == ["v2", "payment-requests"]:
            link = self._find(parts[2])
            if link is None:
                return 200, {"code": "101", "desc": "Không tìm thấy đơn thanh toán", "data": None, "signature": None}
            if method == "GET" and len(parts) == 3:
                return self._signed(self._status(link))
            if method == "POST" and parts[3:] == ["cancel"]:
                if set(body or {}) - {"cancellationReason", "signature"}:
                    self.problems.append(f"cancel body has {sorted(body)}")
                if link["status"] in ("PENDING", "UNDERPAID"):
                    link["status"], link["canceledAt"] = "CANCELLED", "2026-12-02T10:30:00+07:00"
                    link["cancellationReason"] = (body or {}).get("cancellationReason")
                return self._signed(self._status(link))
        self.problems.append(f"unknown call {method} {path}")
        return 404, {"code": "404", "desc": "Not found", "data": None}

    def _find(self, ident: str):
        if ident.isdigit() and int(ident) in self.links:
            return self.links[int(ident)]
        return next((link for link in self.links.values() if link["id"] == ident), None)

    def _create(self, body: dict) -> tuple[int, dict]:
        fields = set(body)
        if not {"orderCode", "amount", "description", "returnUrl", "cancelUrl", "signature"} <= fields \
                or fields - CREATE_FIELDS:
            self.problems.append(f"create body fields {sorted(fields)}")
            return 200, {"code": "20", "desc": "Thông tin truyền lên không đúng.", "data": None, "signature": None}
        text = (f"amount={body['amount']}&cancelUrl={body['cancelUrl']}&description={body['description']}"
                f"&orderCode={body['orderCode']}&returnUrl={body['returnUrl']}")
        if body["signature"] != hmac.new(CHECKSUM_KEY.encode(), text.encode(), hashlib.sha256).hexdigest():
            self.problems.append("create signature does not match")
            return 200, {"code": "201", "desc": "Mã kiểm tra(signature) không hợp lệ", "data": None,
                         "signature": None}
        if not isinstance(body["orderCode"], int) or not isinstance(body["amount"], int) or body["amount"] <= 0:
            return 200, {"code": "20", "desc": "Thông tin truyền lên không đúng.", "data": None, "signature": None}
        if len(body["description"]) > 25:
            return 200, {"code": "20", "desc": "Mô tả tối đa 25 kí tự", "data": None, "signature": None}
        if body["orderCode"] in self.links:
            return 200, {"code": "231", "desc": "Đơn thanh toán đã tồn tại", "data": None, "signature": None}
        link_id = f"{body['orderCode']:032x}"[-32:]
        self.links[body["orderCode"]] = link = {
            "id": link_id, "orderCode": body["orderCode"], "amount": body["amount"], "amountPaid": 0,
            "amountRemaining": body["amount"], "status": "PENDING", "createdAt": "2026-12-02T09:55:00+07:00",
            "transactions": [], "canceledAt": None, "cancellationReason": None, "description": body["description"],
            "expiredAt": body.get("expiredAt")}
        data = {"bin": self.bank_bin, "accountNumber": self.answer_account or self.account,
                "accountName": "HTX DUA KEP", "amount": link["amount"], "description": link["description"],
                "orderCode": link["orderCode"], "currency": "VND", "paymentLinkId": link_id, "status": "PENDING",
                "expiredAt": link["expiredAt"], "checkoutUrl": f"https://pay.payos.vn/web/{link_id}",
                "qrCode": f"00020101021238570010A000000727012700069704220113{self.account}0208QRIBFTTA"
                          f"53037045406{link['amount']}5802VN62140810{link['description'][:10]}6304ABCD"}
        return self._signed(data)

    @staticmethod
    def _status(link: dict) -> dict:
        return {key: link[key] for key in ("id", "orderCode", "amount", "amountPaid", "amountRemaining", "status",
                                           "createdAt", "transactions", "canceledAt", "cancellationReason")}

    def _signed(self, data: dict) -> tuple[int, dict]:
        signature = sign(data, "not-the-key" if self.bad_signature else CHECKSUM_KEY)
        return 200, {"code": "00", "desc": "success", "data": data, "signature": signature}


@pytest.fixture(scope="session")
def _payos_http():
    """The server, one per run (so the app's configuration, and the app, stay the same from test to test)."""
    from tests.shop.bank_notices import ACCOUNT

    holder = {"fake": FakePayos(ACCOUNT)}
    with serving(holder) as url:
        yield holder, url


@pytest.fixture
def payos_server(_payos_http):
    """payOS as it is at the start of a test: no links, every call answered."""
    from tests.shop.bank_notices import ACCOUNT

    holder, url = _payos_http
    holder["fake"] = fake = FakePayos(ACCOUNT)
    fake.url = url
    yield fake
    assert fake.problems == [], "requests payOS would not take"


def payos_config(url: str) -> dict:
    return {"PAYOS_CLIENT_ID": CLIENT_ID, "PAYOS_API_KEY": API_KEY, "PAYOS_CHECKSUM_KEY": CHECKSUM_KEY,
            "PAYOS_API_BASE": url, "PAYOS_TIMEOUT_SECONDS": 3}
