"""Money in and out of the market: the payment providers, one confirmation for all of them, refunds, bank
transfers and the paid farm order's life.

- ``confirm.py``: a payment succeeds once and its order becomes paid once, whoever reports it; then
  ``shop.events.order_paid`` (ledger, tickets, popularity) and the messages. ``outcome.py``: what a step
  came to (``Outcome``), and ``PaymentError``.
- ``refunds.py``: refunds booked on their payment, sent after the commit (``flask send-refunds``) by the
  providers that send their own, made by staff for the others.
- ``transfers.py``: the cooperative's receiving account and each incoming bank transfer, taken in once.
- ``notifications.py``: what the bank-notification services report, stored raw and committed first, then
  processed once (``flask process-bank-notifications`` takes again what could not be processed at once).
- ``banks/``: the bank-notification services (SePay, Casso, the generic signed webhook), one module each with its
  endpoint: the sources of the VietQR provider's bank transfers, not ways to pay.
- ``farm_orders.py``: the farmer's steps on a paid farm order, and cancelling it or one line with a refund.
- ``registry.py``: the providers by code, and those configured (``PAYMENT_PROVIDERS``) and enabled.
- ``providers/``: one module per provider, implementing ``providers/base.py``'s ``Provider``: its code and
  label, its part of the pay page (templates/payments/providers/<code>.html), its refund (sent, or made by
  staff) and its wording, and its routes (webhook, return page) on ``web.py``'s blueprint.

Order of the imports: ``providers`` and ``banks`` register themselves (with ``registry`` and ``notifications``)
when imported here.

Adding a provider (MoMo, say): ``providers/momo.py`` with a ``Provider`` subclass registered on import and
its webhook route; ``templates/payments/providers/momo.html``; its keys in config.py and "momo" in
``PAYMENT_PROVIDERS``; a migration adding "momo" to the ``orders.payment_method`` CHECK; its import in
``providers/__init__.py``. Nothing else names a provider.

The functions other packages use are imported here, so callers write ``from shop import payments``."""
from shop.payments import providers, registry  # noqa: F401  (first: the providers import the rest)
from shop.payments import banks  # noqa: F401
from shop.payments.confirm import confirm_payment
from shop.payments.farm_orders import (cancel_paid_farm_order, move_farm_order, refund_farm_order, refund_line,
                                      refund_line_part)
from shop.payments.outcome import DuplicateTransfer, Outcome, PaymentError
from shop.payments.providers.stripe import handle_stripe_event, start_card_payment, sync_card_payment
from shop.payments.refunds import REFUND_REASONS, create_refund, mark_refund_done, send_pending_refunds
from shop.payments.transfers import (ReceivingAccount, assign_transfer, receiving_account, record_bank_transfer,
                                     refund_unmatched, resolve_transfer)

__all__ = ["confirm_payment", "cancel_paid_farm_order", "move_farm_order", "refund_line", "refund_line_part",
           "DuplicateTransfer",
           "Outcome", "PaymentError", "handle_stripe_event", "start_card_payment", "sync_card_payment",
           "REFUND_REASONS", "create_refund", "mark_refund_done", "send_pending_refunds", "ReceivingAccount",
           "receiving_account", "record_bank_transfer", "resolve_transfer", "assign_transfer", "refund_unmatched",
           "refund_farm_order"]
