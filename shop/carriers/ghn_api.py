"""GHN's (Giao Hàng Nhanh's) public API, as its documents describe it (api.ghn.vn/home/docs/detail).

Every call goes to ``GHN_API_BASE`` (production https://online-gateway.ghn.vn/shiip/public-api, the test
environment https://dev-online-gateway.ghn.vn/shiip/public-api) with the header ``Token`` (the account's API
token) and, for the calls about a shop's orders, ``ShopId``; bodies are JSON. GHN answers with an envelope
``{"code": 200, "message": "Success", "data": ...}``; a refusal carries another ``code`` (400 with a message in
Vietnamese, say "Số điện thoại không hợp lệ"), often with an HTTP status of 400 as well. Both are a ``GhnError``
here, as are a timeout, a refused connection or an answer that is not that envelope.

The endpoints used (paths below ``GHN_API_BASE``):
- ``GET  /master-data/province`` and ``POST /master-data/district`` ``{"province_id"}`` and
  ``POST /master-data/ward`` ``{"district_id"}``: GHN's own address codes (ProvinceID, DistrictID, WardCode);
- ``POST /v2/shipping-order/fee``: the fee of a parcel (``data.total`` in VND);
- ``POST /v2/shipping-order/create``: book a parcel (``data.order_code``, ``data.expected_delivery_time``);
- ``POST /v2/shipping-order/detail`` ``{"order_code"}``: one order, with its ``status``.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from flask import current_app

from shop.carriers.base import CarrierError

SUCCESS = 200
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a province's districts, a district's wards: small; a limit all the same


class GhnError(CarrierError):
    """GHN refused, or could not be asked. ``message`` is GHN's own words when it gave any (shown to staff and
    farmers: GHN writes them in Vietnamese), else a short English note for the log."""


def configured(config=None) -> bool:
    config = config if config is not None else current_app.config
    return bool(config.get("GHN_TOKEN") and str(config.get("GHN_SHOP_ID") or "").strip())


def call(path: str, body: dict | None = None, *, method: str = "POST", shop: bool = True):
    """One call to GHN; the envelope's ``data`` when ``code`` is 200, else GhnError."""
    config = current_app.config
    headers = {"Token": config["GHN_TOKEN"], "Content-Type": "application/json", "Accept": "application/json"}
    if shop:
        headers["ShopId"] = str(config["GHN_SHOP_ID"]).strip()
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(config["GHN_API_BASE"].rstrip("/") + path, data=data, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=config.get("GHN_TIMEOUT_SECONDS", 4)) as response:  # noqa: S310
            raw = response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        answer = _json(error.read(64 * 1024))
        if isinstance(answer, dict) and answer.get("message"):
            raise GhnError(str(answer["message"])[:300], _int(answer.get("code"))) from None
        raise GhnError(f"GHN answered HTTP {error.code}", error.code) from None
    except (OSError, ValueError) as error:  # a timeout is an OSError too
        raise GhnError(f"GHN could not be reached: {error}") from None
    answer = _json(raw)
    if not isinstance(answer, dict) or "code" not in answer:
        raise GhnError("GHN's answer is not its JSON envelope")
    if _int(answer.get("code")) != SUCCESS:
        raise GhnError(str(answer.get("message") or "GHN refused")[:300], _int(answer.get("code")))
    return answer.get("data")


def _json(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
