"""The short cache of public pages must not be poisoned: a page asked for with a forged Host header (absolute
links to another site in its canonical and og: tags) is not what the next visitor of the real site gets."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_config():
    # As in production: no SERVER_NAME (any Host header reaches the app), the page cache on.
    return {"SERVER_NAME": None, "PAGE_CACHE_SECONDS": 60}


@pytest.mark.parametrize("page", ["farm", "product"])
def test_a_forged_host_does_not_poison_the_cache(app, make_product, page):
    product = make_product()
    url = f"/farms/{product.farm.slug}" if page == "farm" else f"/products/{product.slug}"
    attacker, visitor = app.test_client(), app.test_client()
    forged = attacker.get(url, base_url="http://evil.example")
    assert forged.status_code == 200
    html = visitor.get(url, base_url="http://duakep.vn").get_data(as_text=True)
    assert "evil.example" not in html
    assert "http://duakep.vn/" in html
