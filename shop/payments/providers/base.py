"""What a payment provider supplies (the interface every module in this package implements)."""
from __future__ import annotations


class ProviderUnavailable(Exception):
    """The provider could not be reached or refused the call; nothing was changed on our side."""


class Provider:
    """One way to pay. Subclasses set the attributes and override what their service does.

    - ``code``: stored in ``orders.payment_method``, ``payments.provider`` and ``refunds.provider``.
    - ``label``: what the buyer reads on every page; ``checkout_label`` the longer choice at checkout, and
      ``unavailable_note`` what checkout says while it is offered but not enabled.
    - ``pay_template``: its part of the pay page (templates/payments/providers/), given the order, ``chosen``
      (the buyer chose this provider at checkout) and what ``pay_context`` returns.
    - ``refund_wording``: how a refund through it reaches the buyer (with ``%(amount)s``), as the farmer reads
      it before ("before_cancelling") and after cancelling a farm order ("farm_order_cancelled"), and as the
      visitor reads it after cancelling a booking ("booking_cancelled"); ``registry.refund_message`` picks one.
    - ``sends_refunds``: True when ``send_refund`` sends a refund to the service (after the commit that booked
      it, by ``shop.payments.refunds.send_pending_refunds``); False when commune staff make it by hand and mark
      it done (``mark_refund_done``).
    - Its webhook and any return page are routes on the ``payments`` blueprint (shop/payments/web.py)."""

    code: str
    label = None
    checkout_label = None
    unavailable_note = None
    pay_template: str
    sends_refunds = False
    transfer_reference = False  # the buyer writes the order's reference in the payment (a bank transfer's content)
    refund_wording: dict = {}

    def enabled(self) -> bool:
        """Whether it can take money now (configured, keys present)."""
        return True

    def pay_context(self, order, now) -> dict:
        """What its pay-page part needs, computed when the order waits for payment."""
        return {}

    def send_refund(self, payment, refund) -> str:
        """Send ``refund`` of ``payment`` to the service; returns the service's id of the refund. Raises
        ``ProviderUnavailable`` when it could not be sent (it stays pending and is tried again). Only called for
        providers with ``sends_refunds``; the others' refunds are made by staff."""
        raise NotImplementedError(f"{self.code} sets sends_refunds but does not implement send_refund")

