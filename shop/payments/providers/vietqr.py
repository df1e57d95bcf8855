"""Bank transfer by VietQR: the pay page shows the cooperative's account as a VietQR code with the order's
reference (where payOS is configured, payOS's own code and checkout link for that amount instead: providers/payos.py;
the plain code whenever payOS is off or fails); a bank-notification service (shop/payments/banks/: SePay, Casso,
payOS, or the generic signed webhook) reports each incoming transfer, or staff enter it; staff make the refunds by
bank transfer and mark them done."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from core.qr import qr_svg
from shop.payments import registry
from shop.payments.providers import payos
from shop.payments.providers.base import Provider
from shop.payments.transfers import BANK_TRANSFER, receiving_account, waiting_parts
from shop.vietqr import VietQRError, build_payload


class VietQRProvider(Provider):
    code = BANK_TRANSFER
    label = _l("Bank transfer (VietQR)")
    checkout_label = _l("Bank transfer (VietQR): scan the QR code with any Vietnamese banking app")
    pay_template = "payments/providers/vietqr.html"
    transfer_reference = True
    refund_wording = {
        "before_cancelling": _l("Commune staff transfer it back to the buyer's bank account."),
        "farm_order_cancelled": _l("The order is cancelled. Commune staff will transfer %(amount)s back to the "
                                   "buyer."),
        "booking_cancelled": _l("Your booking is cancelled. Commune staff will transfer %(amount)s back to your "
                                "bank account.")}

    def pay_context(self, order, now: datetime) -> dict:
        """The account as a QR code for what is still due: after a first part, only the rest. With payOS, its
        link's code (``link``), and the transfer content its code carries; else the plain VietQR."""
        account = receiving_account()
        parts = waiting_parts(order.id)
        received = sum(part.amount_vnd for part in parts)
        due = order.total_vnd - received
        link = payos.link_for(order, due, now)
        if link is not None:
            payload, content = link.qr_code, link.description or order.reference
        else:
            content = order.reference
            try:
                payload = build_payload(account.bank_bin, account.account_number, due, order.reference)
            except VietQRError:
                current_app.logger.exception("The receiving bank account cannot make a VietQR code")
                payload = None
        qr = Markup(qr_svg(payload, scale=6, title=_("VietQR code for order %(reference)s",
                                                     reference=order.reference))) if payload else None
        return {"account": account, "payload": payload, "qr": qr, "parts": parts, "received": received, "due": due,
                "link": link, "content": content}


registry.register(VietQRProvider())
