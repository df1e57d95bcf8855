"""The pages the bench measures, and the targets every page must meet.

To add a page, add a ``Page`` to ``pages()``. A page that needs an account names it with
``login=``: the bench logs that account in once through the real login form (CSRF included)
and sends its session cookie with every request to the page, wrk's included.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.seed import Catalogue

MIN_CEILING_RATIO = 0.5    # requests/s of the page / requests/s of a bare Flask app, same gunicorn
MAX_P99_MS = 100.0
MAX_QUERIES = 6
MAX_WEIGHT_BYTES = 50 * 1024  # HTML + same-origin CSS and JS, uncompressed, photos excluded
# Logged-in pages are personal (never cached): their target is server time, one request at a time,
# in-process (the median of SERVER_TIME_RUNS requests), with the same query limit.
MAX_SERVER_MS = 150.0
SERVER_TIME_RUNS = 5


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    login: str | None = None   # e-mail of a seeded account (password ``Catalogue.password``)
    check_weight: bool = True  # False for downloads such as CSV, where page weight means nothing

    @property
    def public(self) -> bool:
        """Public pages meet the throughput targets; logged-in ones the server-time target."""
        return self.login is None


def pages(catalogue: Catalogue) -> list[Page]:
    farmer = catalogue.farmer_email
    return [
        Page("home", "/"),
        Page("catalogue", "/products"),
        Page("catalogue search+filter", "/products?q=dua&category=fresh"),
        Page("product", f"/products/{catalogue.product_slug}"),
        Page("farm", f"/farms/{catalogue.farm_slug}"),
        Page("account (logged-in farmer)", "/account", login=farmer),
        # The farm of ``farmer`` has 50,000 ledger entries over two years (bench/ledger.py).
        Page("farmer dashboard", "/farmer/dashboard", login=farmer),
        Page("farmer dashboard CSV", "/farmer/dashboard.csv", login=farmer, check_weight=False),
    ]
