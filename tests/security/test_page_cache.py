"""The short cache of public pages must not be poisoned: a page asked for with a forged Host header (absolute
links to another site in its canonical and og: tags) is not what the next visitor of the real site gets."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_config():
    # As in production: no SERVER_NAME, the site's own hosts trusted, the page cache on.
    return {"SERVER_NAME": None, "PAGE_CACHE_SECONDS": 60, "PUBLIC_BASE_URL": "http://duakep.vn",
            "TRUSTED_HOSTS": ["duakep.vn", "www.duakep.vn"]}


@pytest.mark.parametrize("page", ["farm", "product"])
def test_a_forged_host_does_not_poison_the_cache(app, make_product, page):
    product = make_product()
    url = f"/farms/{product.farm.slug}" if page == "farm" else f"/products/{product.slug}"
    attacker, visitor = app.test_client(), app.test_client()
    forged = attacker.get(url, base_url="http://evil.example")
    assert forged.status_code == 400 and "evil.example" not in forged.get_data(as_text=True)
    alias = attacker.get(url, base_url="http://www.duakep.vn").get_data(as_text=True)
    assert "http://www.duakep.vn" not in alias  # a trusted alias still links to the one public address
    html = visitor.get(url, base_url="http://duakep.vn").get_data(as_text=True)
    assert "evil.example" not in html and "www.duakep.vn" not in html
    assert "http://duakep.vn/" in html
