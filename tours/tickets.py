"""Tickets: the code and the signed check-in address in the QR, who may see a ticket,
what state a booking is in, and checking a group in at the farm.

The QR holds ``/checkin/<token>``: the ticket code, farm and visit day signed with the
market's ECDSA key (tours/ticket_signing.py, which a phone can check offline), so a code
typed into the address bar by someone who guessed or changed it is refused as forged.
Tokens sent before that carry an itsdangerous HMAC of the code and still work. Farmers can
also type the code alone at /farmer/checkin; either way they must be logged in and
the ticket must be for one of their own tours.
"""
from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from sqlalchemy import update

from core import audit
from core.domain import DomainError
from core.extensions import db
from core.time import to_local
from core.urls import public_url
from tours import ticket_signing
from tours.models import Ticket
from tours.services import CODE_ALPHABET, CODE_LENGTH

SIGNING_SALT = "kep.tours.checkin"


class CheckinError(DomainError):
    """A ticket that cannot be checked in (unknown, cancelled, another day)."""


def normalize_code(raw: str | None) -> str:
    """What a farmer typed ("k7pm-3xq9", "K7PM 3XQ9") as a stored code, or "" when it cannot be one."""
    code = re.sub(r"[\s\-.]", "", raw or "").upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return ""
    return code


# -- the signed check-in address ---------------------------------------------------------------------

def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=SIGNING_SALT)


def checkin_token(ticket: Ticket) -> str:
    slot = ticket.line.slot
    return ticket_signing.sign(ticket.code, slot.tour.farm_id, to_local(slot.starts_at).date())


def code_from_token(token: str) -> str | None:
    """The ticket code inside a check-in token, or None when the signature does not match."""
    signed = ticket_signing.verify(token)
    if signed is not None:
        return signed[0]
    try:  # a ticket sent before the ECDSA signature
        return _signer().unsign(token).decode()
    except (BadSignature, UnicodeError):
        return None


def checkin_url(ticket: Ticket) -> str:
    return public_url("farmer_tours.checkin_scan", token=checkin_token(ticket))


def ticket_url(ticket: Ticket, order=None) -> str:
    """The buyer's link to the ticket page, with the order's key (works without logging in)."""
    order = order or ticket.line.farm_order.order
    return public_url("tours.ticket", code=ticket.code, key=order.secret)


# -- who may see it, and its state ------------------------------------------------------------------

def may_view(ticket: Ticket, user, key: str | None) -> bool:
    """The buyer: logged in as the order's owner, or holding the order's secret key; and commune staff."""
    order = ticket.line.farm_order.order
    if user is not None and user.is_authenticated and (user.is_admin or (order.user_id and order.user_id == user.id)):
        return True
    return bool(key) and hmac.compare_digest(str(key).encode(), order.secret.encode())


def booking_state(ticket: Ticket) -> str:
    """valid, checked_in, cancelled (by the buyer, the farm or a refund) or unpaid."""
    line = ticket.line
    farm_order = line.farm_order
    if ticket.status == "cancelled" or line.slot.status == "cancelled" or farm_order.status in ("cancelled",
                                                                                                 "expired"):
        return "cancelled"
    if farm_order.order.status != "paid":
        return "unpaid"
    return "checked_in" if ticket.checked_in_at else "valid"


def cancel_deadline(ticket: Ticket) -> datetime:
    """Until when the buyer can cancel for a full refund (the tour's free-cancellation hours before the start)."""
    slot = ticket.line.slot
    return slot.starts_at - timedelta(hours=slot.tour.free_cancel_hours)


def can_cancel(ticket: Ticket, now: datetime) -> bool:
    return booking_state(ticket) == "valid" and now < cancel_deadline(ticket)


# -- check-in ------------------------------------------------------------------------------------------

def checkin_problem(farm, ticket: Ticket):
    """Why this ticket must not be checked in at ``farm`` (None when it may be)."""
    if farm is None or ticket.line.slot.tour.farm_id != farm.id:
        return _l("This ticket is for a visit of another farm. Do not check it in here.")
    state = booking_state(ticket)
    if state == "cancelled":
        return _l("This booking was cancelled. Do not let this group in on this ticket.")
    if state == "unpaid":
        return _l("This booking is not paid. Do not let this group in on this ticket.")
    return None


def check_in(actor, farm, ticket: Ticket, now: datetime) -> bool:
    """Check the group in: True when done now, False when it had already been done (nothing changes)."""
    problem = checkin_problem(farm, ticket)
    if problem is not None:
        raise CheckinError(problem)
    done = db.session.execute(
        update(Ticket).where(Ticket.id == ticket.id, Ticket.status == "valid", Ticket.checked_in_at.is_(None))
        .values(checked_in_at=now, checked_in_by_id=actor.id).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    db.session.refresh(ticket)
    audit.record("ticket.checked_in", "ticket", ticket.id, actor=actor,
                 on_behalf_of=farm.owner if actor.id != farm.owner_id else None, from_state="valid",
                 to_state="checked_in", details={"code": ticket.code, "slot_id": ticket.line.slot_id})
    return True
