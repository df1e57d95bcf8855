"""payOS (payos.vn) as the way the bank-transfer method gets its QR code, where payOS is configured
(PAYOS_CLIENT_ID, PAYOS_API_KEY, PAYOS_CHECKSUM_KEY): not a payment method of its own.

The buyer still pays by a NAPAS bank transfer into the cooperative's account (the one linked to the payOS payment
channel); what payOS adds is a payment link per amount due, with its own QR code and checkout page, a webhook for
each payment (shop/payments/banks/payos.py) and a status to look up. So the order keeps ``payment_method`` "vietqr",
its payment is a bank-transfer payment (``payments.provider`` "vietqr"), staff refund it by bank transfer as any
other, and the transfers payOS reports are ``bank_transfers`` with ``source`` "payos" and the transaction id
``payos:<payOS's reference>`` (also the payment's ``provider_ref``), so parts, duplicates and late money go the one
way bank transfers go (transfers.py). Where payOS is off, or a call fails, the pay page shows the plain VietQR.

Links (``payos_links``): one per amount asked, ``orderCode = order id * 1000 + attempt`` (payOS refuses a reused
orderCode with code 231, so a refused code moves to the next attempt). A link lives as long as the order's hold
(``expiredAt``); the pay page reuses the open link of the amount still due, and asks for a new one when the amount
changed (a part arrived), the old one being cancelled after the commit. ``check_order`` asks payOS for the status of
an order's open links (the pay page's "check again", and ``flask check-payos-links`` for links whose webhook may
have been missed) and takes in each transaction it lists as the webhook would, through ``bank_notifications``
(source "payos", id: the reference; the webhook and the lookup of one payment are one notification). When the order
expires or is cancelled its open links are cancelled at payOS, after the commit.

Payouts to farmers stay VietQR codes that staff pay from the bank app (farmers/payouts). payOS has a payout API
("chi hộ": ``POST /v1/payouts``, ``/v1/payouts/batch``, ``GET /v1/payouts-account/balance``, signed with an
``x-signature`` header over the sorted, URL-encoded body, with ``x-idempotency-key``), but it runs on a separate payout
channel with its own keys (the SDKs read PAYOS_PAYOUT_CLIENT_ID / _API_KEY / _CHECKSUM_KEY) and pays out of the
balance of that channel's account. What the documents that could be read do not say: which banks and which kinds of
account (a cooperative's, "hợp tác xã", rather than a company's) may open a payout channel, what approval it needs,
and what it costs. With that unclear, no payout is sent through payOS."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core.extensions import db
from core.transactions import after_commit
from core.urls import public_url
from shop.order_models import Order
from shop.payment_models import PAYOS_LINK_STATUSES, PAYOS_OPEN_STATUSES, PayosLink
from shop.payments import notifications, payos_api
from shop.payments.payos_api import PayosError
from shop.payments.transfers import receiving_account

MAX_ATTEMPTS = 999
CODE_RETRIES = 3  # orderCodes tried when payOS says one was used before


def keys() -> payos_api.Keys | None:
    """payOS's keys, or None while it is not configured."""
    config = current_app.config
    client_id, api_key, checksum = (config.get(name) or "" for name in
                                    ("PAYOS_CLIENT_ID", "PAYOS_API_KEY", "PAYOS_CHECKSUM_KEY"))
    if not (client_id and api_key and checksum):
        return None
    return payos_api.Keys(client_id=client_id, api_key=api_key, checksum_key=checksum,
                          base_url=config.get("PAYOS_API_BASE") or "https://api-merchant.payos.vn",
                          timeout=config.get("PAYOS_TIMEOUT_SECONDS") or 5)


def configured() -> bool:
    return keys() is not None


def order_code(order_id: int, attempt: int) -> int:
    return order_id * 1000 + attempt


def _unix(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp())


def _open_links(order_id: int) -> list[PayosLink]:
    return db.session.scalars(select(PayosLink).where(PayosLink.order_id == order_id,
                                                      PayosLink.status.in_(PAYOS_OPEN_STATUSES))
                              .order_by(PayosLink.id)).all()


def _digits(value) -> str:
    return notifications.digits(value)


def link_for(order: Order, due: int, now: datetime) -> PayosLink | None:
    """The payOS link that asks ``due`` for ``order`` (its open one of that amount, else a new one), or None when
    payOS is off or refuses (logged; the pay page shows the plain VietQR). Open links of another amount are
    cancelled after the commit."""
    payos_keys = keys()
    if payos_keys is None or due <= 0 or order.expires_at <= now:
        return None
    usable = None
    for link in _open_links(order.id):
        if link.expires_at is not None and link.expires_at <= now:
            link.status = "EXPIRED"  # payOS ended it at its expiredAt
        elif usable is None and link.amount_vnd == due:
            usable = link
        else:
            cancel_after_commit(link.id, "superseded")
    return usable or _create(order, due, now, payos_keys)


def _create(order: Order, due: int, now: datetime, payos_keys: payos_api.Keys) -> PayosLink | None:
    attempt = (db.session.scalar(select(func.max(PayosLink.attempt)).where(PayosLink.order_id == order.id)) or 0) + 1
    keys_args = {"key": order.secret}
    return_url = public_url("payments.pay", public_id=order.public_id, checked=1, **keys_args)
    for _try in range(CODE_RETRIES):
        if attempt > MAX_ATTEMPTS:
            current_app.logger.warning("Order %s has used all its payOS orderCodes", order.id)
            return None
        code = order_code(order.id, attempt)
        try:
            data = payos_api.create_link(payos_keys, order_code=code, amount=due, description=order.reference,
                                         return_url=return_url, cancel_url=return_url,
                                         expired_at=_unix(order.expires_at))
        except PayosError as error:
            if error.code == payos_api.ORDER_CODE_USED:
                attempt += 1
                continue
            current_app.logger.warning("payOS did not make a link for order %s: %s", order.id, error)
            return None
        return _store(order, code, attempt, due, data)
    current_app.logger.warning("payOS refused %d orderCodes for order %s", CODE_RETRIES, order.id)
    return None


def _store(order: Order, code: int, attempt: int, due: int, data: dict) -> PayosLink | None:
    checks = {"orderCode": data.get("orderCode") == code, "amount": data.get("amount") == due,
              "qrCode": isinstance(data.get("qrCode"), str) and bool(data.get("qrCode")),
              "checkoutUrl": isinstance(data.get("checkoutUrl"), str) and
              str(data.get("checkoutUrl")).startswith("https://"),
              "paymentLinkId": isinstance(data.get("paymentLinkId"), str) and bool(data.get("paymentLinkId")),
              "accountNumber": _digits(data.get("accountNumber")) == _digits(receiving_account().account_number)}
    wrong = [name for name, good in checks.items() if not good]
    if wrong:
        current_app.logger.error("payOS's link for order %s cannot be shown (%s differ from what was asked or from "
                                 "the cooperative's account); the plain VietQR is shown", order.id, ", ".join(wrong))
        _cancel(data.get("paymentLinkId") or code, "mismatch", None)  # nothing of ours refers to it: no commit to wait
        return None
    status = data.get("status") if data.get("status") in PAYOS_LINK_STATUSES else "PENDING"
    expired_at = data.get("expiredAt")
    link = PayosLink(order_id=order.id, order_code=code, attempt=attempt, amount_vnd=due,
                     payment_link_id=data["paymentLinkId"], description=str(data.get("description") or "")[:50],
                     qr_code=data["qrCode"], checkout_url=data["checkoutUrl"], status=status,
                     expires_at=(datetime.fromtimestamp(expired_at, UTC).replace(tzinfo=None)
                                 if isinstance(expired_at, int) and not isinstance(expired_at, bool) else
                                 order.expires_at))
    db.session.add(link)
    db.session.flush()
    return link


# -- cancelling ----------------------------------------------------------------------------------------------

def cancel_after_commit(link_id: int, reason: str) -> None:
    link = db.session.get(PayosLink, link_id)
    if link is not None and link.status in PAYOS_OPEN_STATUSES:
        after_commit(_cancel, link.order_code, reason, link.id)


def _cancel(payos_id, reason: str, link_id: int | None) -> None:
    """After the commit: cancel the link at payOS, and mark it so (committed here). A failure is logged: the link
    then ends at its own ``expiredAt``."""
    payos_keys = keys()
    if payos_keys is None:
        return
    try:
        data = payos_api.cancel_link(payos_keys, payos_id, reason)
    except PayosError as error:
        current_app.logger.warning("payOS did not cancel link %s: %s", payos_id, error)
        return
    if link_id is not None:
        status = data.get("status") if data.get("status") in PAYOS_LINK_STATUSES else "CANCELLED"
        db.session.execute(update(PayosLink).where(PayosLink.id == link_id)
                           .values(status=status, cancel_sent_at=datetime.now(UTC).replace(tzinfo=None)))
        db.session.commit()


def on_order_closed(order: Order, *, now: datetime, **_) -> None:
    """``order_expired`` / ``order_cancelled`` receiver: its open payOS links are cancelled after the commit."""
    if not configured():
        return
    for link in _open_links(order.id):
        cancel_after_commit(link.id, "order expired" if order.status == "expired" else "order cancelled")


# -- looking up ----------------------------------------------------------------------------------------------

def check_order(order_id: int, now: datetime) -> int:
    """Ask payOS for the status of the order's open links and take in the payments they list that no webhook
    brought (each one once, whoever brings it). Commits the notifications it stores (``notifications.take_in``);
    returns how many transactions were new work. payOS not answering changes nothing."""
    payos_keys = keys()
    if payos_keys is None:
        return 0
    new = 0
    for link_id, code in db.session.execute(select(PayosLink.id, PayosLink.order_code).where(
            PayosLink.order_id == order_id, PayosLink.status.in_(PAYOS_OPEN_STATUSES))).all():
        try:
            data = payos_api.get_link(payos_keys, code)
        except PayosError as error:
            current_app.logger.warning("payOS status of link %s not known: %s", code, error)
            continue
        new += _take_in_transactions(data, code, now)
        status = data.get("status")
        db.session.execute(update(PayosLink).where(PayosLink.id == link_id).values(
            checked_at=now, **({"status": status} if status in PAYOS_LINK_STATUSES else {})))
        db.session.flush()
    return new


def _take_in_transactions(data: dict, code: int, now: datetime) -> int:
    from shop.payments.banks import payos as payos_source

    transactions = data.get("transactions")
    if data.get("orderCode") != code or not isinstance(transactions, list):
        current_app.logger.warning("payOS's status of link %s is not of that link", code)
        return 0
    new = 0
    for transaction in transactions:
        if isinstance(transaction, dict):
            raw = payos_source.lookup_body(transaction, data)
            new += notifications.take_in(payos_source.CODE, raw, {"via": "GET /v2/payment-requests"}, now).first
    return new


def open_link_orders(now: datetime, *, limit: int = 200) -> list[int]:
    """Orders with open links worth asking about: made within the last two days (payOS's link ends with the hold,
    but a payment may still be reported late), least recently checked first."""
    rows = db.session.execute(select(PayosLink.order_id, func.min(PayosLink.checked_at))
                              .where(PayosLink.status.in_(PAYOS_OPEN_STATUSES),
                                     PayosLink.created_at >= now - timedelta(days=2))
                              .group_by(PayosLink.order_id).order_by(func.min(PayosLink.checked_at).is_not(None),
                                                                     func.min(PayosLink.checked_at))
                              .limit(limit)).all()
    return [order_id for order_id, _checked in rows]
