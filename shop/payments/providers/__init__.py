"""The payment providers, one module each; importing this package registers them (shop/payments/registry.py).
A new provider is one more module here and one more import below."""
from shop.payments.providers import credit, stripe, vietqr  # noqa: F401
