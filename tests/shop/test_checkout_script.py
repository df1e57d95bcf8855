"""static/js/checkout.js, run in node against a stand-in of the page and the real /checkout/quote answer: on a
change it posts the form, shows the new totals and days, puts the button's total on it, and sets the hidden
fee field so that what is submitted is what is shown. Skipped without node (the browser journeys use the page
itself)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.shop.test_cart_views import add
from tests.shop.test_checkout_address import HANOI
from tests.shop.test_checkout_views import CONTACT, open_checkout

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs node to run the script (apt-get install nodejs)")
def test_the_script_shows_the_quote_and_sets_what_is_submitted(client, make_farm, make_product):
    farm = make_farm(offers_delivery=True, delivery_fee_vnd=30000, ships_parcels=True)
    add(client, make_product(farm=farm, price_vnd=65000, stock=10, shipping_weight_g=400), "2")
    answer = client.post("/checkout/quote", data={**open_checkout(client), **CONTACT, **HANOI,
                                                  f"fulfilment_{farm.id}": "delivery"}).get_json()
    run = subprocess.run([NODE, str(ROOT / "tests/shop/checkout_script_harness.js"),
                          str(ROOT / "static/js/checkout.js"), json.dumps(answer), str(farm.id)],
                         capture_output=True, text=True, timeout=30, check=True)
    shown = json.loads(run.stdout)
    assert shown["requests"] == [{"url": "/checkout/quote", "method": "POST", "hasBody": True}]
    assert shown["whileAsking"] is True and shown["busyAfter"] is False, "the form says it is busy while asking"
    assert shown["disabledWhileAsking"] is False, "a tap on the button while the total is asked for is not lost"
    assert shown["recalculateHidden"] is True, "the manual button is not needed with the script"
    assert shown["button"] == "Đặt hàng và thanh toán 155.000\u00a0₫" and shown["grand"] == "155.000\u00a0₫"
    assert shown["farmTotals"] == ["155.000\u00a0₫", "155.000\u00a0₫"]
    assert shown["days"] == "Nhận hàng sau 2–3 ngày"
    assert shown["fee"] == "25000"
