"""Journey 4: the farmer's income dashboard shows what journeys 2 and 3 earned the farm, every figure equal
to the ledger's sums, and the CSV export (downloaded with the farmer's own session) agrees line by line."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from playwright.sync_api import expect

from tests.browser.buying import (
    CARD_TOTAL,
    FARM_A_TOTAL,
    KG_A,
    TOURIST_ADULTS,
    card_ticket,
    money,
    vietqr_order,
)
from tests.browser.selling import (
    FEE_BASIS_POINTS,
    PINEAPPLES_A,
    VISIT_A,
    farm_a,
    open_screen,
)
from tests.browser.world import World

# What farm A sold in journeys 2 and 3, line by line (a visit is one line, whatever the party).
FARM_A_LINES = (KG_A * PINEAPPLES_A.price_vnd, FARM_A_TOTAL - KG_A * PINEAPPLES_A.price_vnd, CARD_TOTAL)
VISIT_SEATS = 2 + 1 + TOURIST_ADULTS


@dataclass
class Ledger:
    by_kind: dict[str, int]
    entries: int
    references: set[str]


def _ledger_of(farm_name: str) -> Ledger:
    from sqlalchemy import func, select

    from accounts.farms import Farm
    from core.extensions import db
    from shop.ledger import LedgerEntry
    from shop.payments.reference import reference_for

    farm_id = db.session.scalar(select(Farm.id).where(Farm.name == farm_name))
    rows = db.session.execute(select(LedgerEntry.kind, func.sum(LedgerEntry.amount_vnd), func.count())
                              .where(LedgerEntry.farm_id == farm_id).group_by(LedgerEntry.kind)).all()
    orders = db.session.scalars(select(LedgerEntry.order_id).where(LedgerEntry.farm_id == farm_id)).all()
    return Ledger({kind: int(total) for kind, total, _n in rows}, sum(n for _k, _t, n in rows),
                  {reference_for(order_id) for order_id in orders if order_id})


def _kind_labels(world: World) -> dict[str, str]:
    """The CSV's words for each ledger kind, in Vietnamese (the farmer's language)."""
    from flask_babel import force_locale

    from farmers.dashboard_views import KIND_LABELS

    with world.live.app.test_request_context(), force_locale("vi"):
        return {str(label): kind for kind, label in KIND_LABELS.items()}


def fee(amount: int) -> int:
    return (amount * FEE_BASIS_POINTS + 5000) // 10000


def income_checked(world: World) -> Ledger:
    """Journey 4."""
    def journey(w: World) -> Ledger:
        farm = farm_a(w)
        paid = [vietqr_order(w), card_ticket(w)]
        ledger = w.query(lambda: _ledger_of(farm.farmer.farm))
        sales, fees = sum(FARM_A_LINES), sum(fee(amount) for amount in FARM_A_LINES)
        assert ledger.by_kind == {"sale": sales, "fee": -fees}, ledger.by_kind
        assert {order.reference for order in paid} == ledger.references

        farmer = farm.person
        open_screen(farmer, "/farmer/dashboard")
        w.seen(farmer, "income dashboard")
        stats = farmer.page.locator("main .income-stats > li")
        figure = [money(text) if any(ch.isdigit() for ch in text) else 0
                  for text in (stats.nth(i).locator("strong").first.inner_text() for i in range(stats.count()))]
        net, shown_sales, shown_fees, refunds = figure[:4]
        assert (shown_sales, shown_fees, refunds, net) == (sales, fees, 0, sales - fees)
        expect(stats.nth(4)).to_contain_text(f"{KG_A}")
        assert (figure[5], figure[6], figure[7]) == (VISIT_SEATS, TOURIST_ADULTS, 2), figure  # seats, in, to prepare
        balance = farmer.page.locator("main .balance dd")
        assert money(balance.first.inner_text()) == sales - fees
        expect(farmer.page.locator("main")).to_contain_text(VISIT_A.title)

        link = farmer.page.get_attribute("main a[href^='/farmer/dashboard.csv']", "href")
        response = farmer.page.request.get(link)
        assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        body = response.body()
        assert body.startswith(b"\xef\xbb\xbf"), "the CSV must start with the UTF-8 BOM (for Excel)"
        header, *lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert len(header) == 9 and len(lines) == ledger.entries  # the last: the fee rate
        kinds = _kind_labels(w)
        in_csv: dict[str, int] = {}
        for line in lines:
            in_csv[kinds[line[1]]] = in_csv.get(kinds[line[1]], 0) + int(line[5])
        assert in_csv == ledger.by_kind
        assert {line[6] for line in lines} == ledger.references
        assert sorted(int(line[5]) for line in lines if kinds[line[1]] == "sale") == sorted(FARM_A_LINES)
        assert any(line[3] == PINEAPPLES_A.name for line in lines), "the CSV names the product (UTF-8)"
        return ledger
    return world.once("journey 4", journey)
