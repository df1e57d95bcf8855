"""Visit credit (shop/credits.py) as a way to pay: offered at checkout to a signed-in buyer with credit, when it
covers the whole order (paying part by credit and part by another way is not offered). The order is paid at
once, in the transaction that places it (``credits.pay_order``); a refund of it goes back as credit."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.extensions import db
from shop.credit_models import CreditEntry, expiry
from shop.payments import registry
from shop.payments.providers.base import Provider

CODE = "credit"


class CreditProvider(Provider):
    code = CODE
    label = _l("Visit credit")
    checkout_label = _l("My visit credit (it must cover the whole order)")
    pay_template = "payments/providers/credit.html"
    sends_refunds = True  # "sent" at once: the amount becomes credit again
    refund_wording = {
        "before_cancelling": _l("The amount goes back to the buyer's visit credit."),
        "farm_order_cancelled": _l("The order is cancelled. %(amount)s goes back to the buyer's visit credit."),
        "booking_cancelled": _l("Your booking is cancelled. %(amount)s goes back to your visit credit.")}

    def enabled(self) -> bool:
        return False  # never in the configured list: checkout adds it for a buyer whose credit covers the order

    def send_refund(self, payment, refund) -> str:
        """The amount becomes credit of the account again (a new entry, valid as long as a new credit), once per
        refund (its unique ``refund_id``: a second run at the same time finds the first one's entry)."""
        entry = db.session.scalar(select(CreditEntry).where(CreditEntry.refund_id == refund.id))
        if entry is None:
            entry = CreditEntry(user_id=payment.order.user_id, amount_vnd=refund.amount_vnd,
                                remaining_vnd=refund.amount_vnd, order_id=payment.order_id, refund_id=refund.id,
                                reason="refund", created_at=refund.created_at, expires_at=expiry(refund.created_at))
            try:
                with db.session.begin_nested():
                    db.session.add(entry)
            except IntegrityError:
                entry = db.session.scalar(select(CreditEntry).where(CreditEntry.refund_id == refund.id))
        return f"credit-entry-{entry.id}"


registry.register(CreditProvider())
