"""The buyer's saved addresses: keep one (at most MAX_ADDRESSES per account), list them. The caller commits."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.domain import DomainError
from core.extensions import db
from core.validators import normalize_any_mobile
from shop.delivery import Destination
from shop.delivery_models import Address

MAX_ADDRESSES = 10


class AddressError(DomainError):
    pass


def of(user) -> list[Address]:
    if user is None or not user.is_authenticated:
        return []
    return db.session.scalars(select(Address).where(Address.user_id == user.id).order_by(Address.id)).all()


def keep(user, destination: Destination) -> Address:
    """Save ``destination`` (complete: checked by core.places) on the account; AddressError when full."""
    if not destination.complete:
        raise AddressError(_l("Enter the delivery address: province, commune or ward, street and house number."))
    held = db.session.scalar(select(func.count()).select_from(Address).where(Address.user_id == user.id))
    if held >= MAX_ADDRESSES:
        raise AddressError(_l("You can keep at most %(count)d addresses. Remove one first.", count=MAX_ADDRESSES))
    address = Address(user_id=user.id, recipient_name=destination.recipient.strip(),
                      phone=normalize_any_mobile(destination.phone) or destination.phone.strip(),
                      province_code=destination.province_code, commune_code=destination.commune_code,
                      street=destination.street.strip())
    db.session.add(address)
    db.session.flush()
    return address
