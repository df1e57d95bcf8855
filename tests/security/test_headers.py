"""Security headers on every response: pages (checked on every cell of the authorization matrix), and here
the answers that do not come from a page view: static files (served by WhiteNoise, outside Flask), photos,
error pages (404, 405, 429, 500, CSRF 400), the CSV export, JSON webhook answers, OPTIONS."""
from __future__ import annotations

import pytest

from tests.security.conftest import header_problems

APP_CONFIG = {"BANK_WEBHOOK_SECRET": "headers-bank-secret", "STRIPE_WEBHOOK_SECRET": "whsec_headers"}


def _ok(response, *statuses):
    assert response.status_code in statuses, response.status_code
    assert header_problems(response) == []
    return response


@pytest.mark.parametrize("name", ["css/site.css", "img/favicon.svg", "js/card.js"])
def test_static_files(shared, name):
    url = shared.app.jinja_env.globals["static_url"](name)
    assert url != f"/static/{name}", "the hashed name"
    client = shared.client("anonymous")
    _ok(client.get(url), 200)
    _ok(client.get(url, headers={"Accept-Encoding": "gzip"}), 200)


def test_a_missing_static_file_is_a_404_page_with_headers(shared):
    _ok(shared.client("anonymous").get("/static/css/nothing.0123456789ab.css"), 404)


def test_photos(shared):
    response = _ok(shared.client("anonymous").get(f"/media/{shared.world.params['photo_key']}"), 200)
    assert response.mimetype == "image/webp"
    _ok(shared.client("anonymous").get("/media/00/0123456789abcdef0123456789abcdef.webp"), 404)


def test_error_pages(shared):
    client = shared.client("buyer_a")
    _ok(client.get("/no/such/page"), 404)
    _ok(client.get("/admin/"), 403)
    _ok(client.put("/"), 405)
    _ok(client.options("/"), 200)


def test_the_500_page(shared, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(shared.app.view_functions, "tours.index", broken)
    monkeypatch.setitem(shared.app.config, "PROPAGATE_EXCEPTIONS", False)
    response = _ok(shared.client("anonymous").get("/tours"), 500)
    assert "boom" not in response.get_data(as_text=True)


def test_csv_export(shared):
    response = _ok(shared.client("farmer_a").get("/farmer/dashboard.csv"), 200)
    assert response.mimetype == "text/csv"


def test_json_webhook_answers(shared):
    client = shared.client("anonymous")
    response = _ok(client.post("/payments/bank/notify", data=b"{}", content_type="application/json"), 401)
    assert response.is_json
    response = _ok(client.post("/payments/stripe/webhook", data=b"{}", content_type="application/json"), 400)
    assert response.is_json


def test_the_reset_page_sends_no_referrer(shared):
    response = _ok(shared.client("anonymous").get(f"/password/reset/{shared.world.params['reset_token']}"), 200)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
