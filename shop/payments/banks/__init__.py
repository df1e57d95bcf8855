"""The bank-notification services: how the market learns that money reached the cooperative's account.

They are not ways to pay. The buyer pays by bank transfer to the account the VietQR provider shows
(providers/vietqr.py); these services watch that account and report each transaction, so they are the sources of
the VietQR provider's bank transfers, beside staff typing a transfer in. One module per service, each with its
endpoint on the ``payments`` blueprint:

- ``sepay.py``: SePay, ``POST /payments/sepay/notify``, header ``Authorization: Apikey <SEPAY_API_KEY>``;
- ``casso.py``: Casso Webhook V2, ``POST /payments/casso/notify``, ``X-Casso-Signature`` (HMAC-SHA512 with
  CASSO_WEBHOOK_SECRET);
- ``payos.py``: payOS, ``POST /payments/payos/notify``, ``signature`` in the body (HMAC-SHA256 of its data with
  PAYOS_CHECKSUM_KEY): the payments into the payOS links that the pay page shows where payOS is configured;
- ``generic.py``: the market's own signed format, ``POST /payments/bank/notify`` (HMAC-SHA256 with
  BANK_WEBHOOK_SECRET), for any other service or script.

Each endpoint authenticates the sender first (nothing is stored for a request that fails it), then hands the raw
body to ``shop.payments.notifications.take_in``: stored and committed before anything else, then processed by the
same rules for every service (money in only, the cooperative's account only, an amount in whole dong). Each module
registers a ``notifications.Source`` saying how to find the service's id in a body and how to read it; the
service's documented format, and what it leaves unclear, is in the module's docstring. ``fields.py``: reading
amounts, times and ids the same way for all.

Adding a service (another aggregator, a bank's own API): one module here with its ``Source`` and endpoint, its
import below, its secret in config.py, its code in ``shop.payment_models.NOTIFICATION_SOURCES`` (and the CHECK of
``bank_notifications.source`` by a migration), and its rows in the route tables of tests/security."""
from shop.payments.banks import casso, generic, payos, sepay  # noqa: F401
