"""Changing the cooperative's receiving bank account: the account every VietQR transfer is paid into.

It is the most valuable setting of the market (whoever changes it receives the buyers' money), so:
the staff member types their password again (a session left open on a shared computer is not enough);
a wrong password changes nothing; and every change is audit-logged and told, in the same transaction, to
every active staff account and to ``STAFF_EMAIL`` (one message per address): who changed it, from which
account to which (account numbers masked but for their last four digits) and when.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.models import User
from core import audit, settings_store
from core.banks import bank_name
from core.domain import DomainError
from core.extensions import db
from core.messages import Recipient, notify
from shop.payments import ReceivingAccount, receiving_account

NOTICE_KIND = "staff_bank_account_changed"


class WrongPassword(DomainError):
    """The staff member's password was not typed right (it belongs beside the password field)."""


def mask(account_number: str) -> str:
    """All but the last four digits hidden: ``"2500205123456"`` -> ``"•••••••••3456"``."""
    digits = account_number or ""
    return "•" * max(len(digits) - 4, 0) + digits[-4:]


def change_receiving_account(staff: User, password: str, bank_bin: str, account_number: str, account_name: str,
                             *, now: datetime) -> bool:
    """Make this the receiving account. False when it already was (nothing is written, nobody is told);
    ``WrongPassword`` (and nothing written) when ``password`` is not ``staff``'s."""
    if not staff.check_password(password or ""):
        raise WrongPassword(_l("That is not your password, so the account was not changed. "
                               "Type the password you log in with."), field="password")
    before = receiving_account()
    after = ReceivingAccount(bank_bin=bank_bin, bank_name=bank_name(bank_bin), account_number=account_number,
                             account_name=account_name.strip().upper())
    if after == before:
        return False
    for key, value in {"bank_bin": after.bank_bin, "bank_account_number": after.account_number,
                       "bank_account_name": after.account_name, "bank_name": after.bank_name}.items():
        settings_store.put(key, value)
    audit.record("settings.bank_account", "settings", None, actor=staff,
                 from_state=mask(before.account_number), to_state=mask(after.account_number),
                 details={"from": _described(before), "to": _described(after)})
    _tell_staff(staff, before, after, now)
    return True


def _described(account: ReceivingAccount) -> dict:
    return {"bank_bin": account.bank_bin, "bank_name": account.bank_name, "account_number": account.account_number,
            "account_name": account.account_name}


def _recipients() -> list[Recipient]:
    """Every active staff account (in its language) and STAFF_EMAIL (in Vietnamese), each address once."""
    staff = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    seen: dict[str, Recipient] = {}
    for user in staff:
        seen.setdefault(user.email.strip().lower(), Recipient.of_user(user))
    extra = (current_app.config.get("STAFF_EMAIL") or "").strip()
    if extra:
        seen.setdefault(extra.lower(), Recipient.by_email(extra))
    return list(seen.values())


def _tell_staff(staff: User, before: ReceivingAccount, after: ReceivingAccount, now: datetime) -> None:
    context = dict(staff=staff, before=before, after=after, when=now, mask=mask)
    for recipient in _recipients():
        notify(NOTICE_KIND, recipient, **context)
