"""Payment providers behind one interface: the registry, the order_paid event, the status tables."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.extensions import db
from core.time import utcnow
from shop import events, payments
from shop.order_models import ORDER_MOVES, Order
from shop.payment_models import Payment
from shop.payments import Outcome, registry
from tests.factories import NOW, make_order, make_product, make_slot, pay


def test_each_provider_has_what_the_pages_and_refunds_need(app):
    for provider in registry.offered():
        assert provider.label and provider.checkout_label and provider.pay_template
        assert set(provider.refund_wording) == {"before_cancelling", "farm_order_cancelled", "booking_cancelled"}
        app.jinja_env.get_template(provider.pay_template)  # exists and compiles
    assert [p.code for p in registry.offered()] == ["vietqr", "card"]
    # Visit credit gives its refunds back as credit (never offered from the configuration: checkout adds it).
    assert sorted(registry.sending_refunds()) == ["card", "credit"]


class TestOnlyTheConfiguredProviders:
    @pytest.fixture
    def app_config(self):
        return {"PAYMENT_PROVIDERS": ["vietqr"], "STRIPE_SECRET_KEY": "sk_test_x",
                "STRIPE_PUBLISHABLE_KEY": "pk_test_x"}

    def test_a_provider_left_out_of_the_configuration_is_offered_nowhere(self, client):
        """Card keys are set, but PAYMENT_PROVIDERS lists only VietQR: the pay page offers no card."""
        order = make_order((make_product(stock=5), 1), now=utcnow())
        page = client.get(f"/orders/{order.public_id}/pay?key={order.secret}&lang=en").get_data(as_text=True)
        assert "VietQR" in page and "by card" not in page
        assert registry.enabled() == [registry.get("vietqr")]


def test_order_paid_is_sent_once_however_often_the_payment_is_confirmed(app):
    order = make_order((make_product(stock=5, price_vnd=30000), 2))
    heard = []

    def receiver(sender, **kwargs):
        heard.append((sender.id, kwargs["payment"].id, kwargs["from_state"]))

    events.order_paid.connect(receiver)
    try:
        payment = Payment(order_id=order.id, provider="vietqr", provider_ref="FT-ONCE", amount_vnd=order.total_vnd)
        db.session.add(payment)
        db.session.flush()
        assert payments.confirm_payment(payment, actor_label="test", now=NOW) is Outcome.PAID
        assert payments.confirm_payment(payment, actor_label="test", now=NOW) is Outcome.ALREADY
    finally:
        events.order_paid.disconnect(receiver)
    assert heard == [(order.id, payment.id, "pending_payment")]


def test_the_receivers_do_their_part_in_the_payments_transaction(app):
    """Ledger, popularity and tickets come from the order_paid receivers, in the same transaction."""
    from shop.ledger import LedgerEntry
    from tours.models import Ticket

    product, slot = make_product(stock=5, price_vnd=30000), make_slot()
    order = pay(make_order((product, 2), (slot, 2, 0)))
    assert order.status == "paid"
    assert db.session.scalar(select(db.func.count()).select_from(Ticket)) == 1
    db.session.refresh(product)
    assert product.orders_count == 1
    kinds = db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.order_id == order.id)).all()
    assert kinds.count("sale") == 2


def test_a_move_the_table_does_not_list_is_refused_before_any_sql(app):
    with pytest.raises(ValueError, match="no move"):
        ORDER_MOVES.move(1, "paid", "pending_payment")


def test_of_two_moves_from_the_same_state_only_one_happens(app):
    order = make_order((make_product(stock=5), 1))
    assert ORDER_MOVES.move(order.id, "pending_payment", "cancelled") == 1
    assert ORDER_MOVES.move(order.id, "pending_payment", "expired") == 0
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "cancelled"


def test_an_unknown_provider_in_the_configuration_stops_the_app(_schema, instance_path):
    import config as settings
    from app import create_app
    from tests.conftest import _test_config

    with pytest.raises(settings.UnsafeConfiguration, match="momo"):
        create_app(_test_config(_schema, instance_path, PAYMENT_PROVIDERS=["vietqr", "momo"]))
