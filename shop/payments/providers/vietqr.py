"""Bank transfer by VietQR: the pay page shows the cooperative's account as a VietQR code with the order's
reference; a bank-notification service (shop/payments/banks/: SePay, Casso, or the generic signed webhook) reports
each incoming transfer, or staff enter it; staff make the refunds by bank transfer and mark them done."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from core.extensions import db
from core.qr import qr_svg
from shop.payment_models import BankTransfer
from shop.payments import registry
from shop.payments.providers.base import Provider
from shop.payments.transfers import BANK_TRANSFER, receiving_account
from shop.vietqr import VietQRError, build_payload


class VietQRProvider(Provider):
    code = BANK_TRANSFER
    label = _l("Bank transfer (VietQR)")
    checkout_label = _l("Bank transfer (VietQR): scan the QR code with any Vietnamese banking app")
    pay_template = "payments/providers/vietqr.html"
    refund_wording = {
        "before_cancelling": _l("Commune staff transfer it back to the buyer's bank account."),
        "farm_order_cancelled": _l("The order is cancelled. Commune staff will transfer %(amount)s back to the "
                                   "buyer."),
        "booking_cancelled": _l("Your booking is cancelled. Commune staff will transfer %(amount)s back to your "
                                "bank account.")}

    def pay_context(self, order, now: datetime) -> dict:
        account = receiving_account()
        try:
            payload = build_payload(account.bank_bin, account.account_number, order.total_vnd, order.reference)
        except VietQRError:
            current_app.logger.exception("The receiving bank account cannot make a VietQR code")
            payload = None
        qr = Markup(qr_svg(payload, scale=6, title=_("VietQR code for order %(reference)s",
                                                     reference=order.reference))) if payload else None
        underpaid = db.session.scalars(select(BankTransfer).where(BankTransfer.order_id == order.id,
                                                                  BankTransfer.status == "underpaid")).all()
        return {"account": account, "payload": payload, "qr": qr, "underpaid": underpaid}


registry.register(VietQRProvider())
