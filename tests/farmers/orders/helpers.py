"""Orders for the farmer's order pages, made with the services, and reading their answers."""
from __future__ import annotations

from core.extensions import db
from shop import payments
from shop.order_models import FarmOrder
from tests.factories import NOW, buyer_details, make_order, pay


def place_order(*items, buyer: str = "Trịnh Thị Mai", phone: str = "0987 654 321", note: str = "", **order_args):
    """An order placed through checkout at NOW (tests/factories.make_order) by ``buyer``. ``items``:
    (product, quantity) or (slot, adults, children)."""
    return make_order(*items, buyer=buyer_details(buyer, phone, note=note), **order_args)


def paid_farm_order(*items, **kwargs) -> FarmOrder:
    return pay(place_order(*items, **kwargs)).farm_orders[0]


def move(farm_order, *states):
    for state in states:
        payments.move_farm_order(farm_order, state, None, NOW)
    db.session.commit()
    return farm_order


def html(response) -> str:
    return response.get_data(as_text=True)


def follow(client, response):
    assert response.status_code == 302, html(response)[:300]
    return html(client.get(response.headers["Location"]))
