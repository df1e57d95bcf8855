"""What a payment step came to, as one Enum that views map to a page, instead of strings read again."""
from __future__ import annotations

from enum import StrEnum

from core.domain import DomainError


class Outcome(StrEnum):
    PAID = "paid"                              # the order has just become paid
    LATE_PAID = "late_paid"                    # it had expired, and its stock and seats could be taken again
    ALREADY = "already"                        # this payment was confirmed before: nothing changed
    LATE_REFUNDED = "late_refunded"            # it came after the order expired or was cancelled: booked back
    DUPLICATE_REFUNDED = "duplicate_refunded"  # the order was paid by another payment: booked back
    FAILED = "failed"                          # the provider says the payment failed
    PENDING = "pending"                        # the provider has not decided yet
    MISMATCH = "mismatch"                      # the provider's amount or currency is not the payment's
    UNKNOWN = "unknown"                        # no payment has that provider reference
    DUPLICATE = "duplicate"                    # a notification or event taken in before
    RECORDED = "recorded"                      # kept for the record, no change to any order
    IGNORED = "ignored"                        # an event this app does not act on

    @property
    def paid(self) -> bool:
        return self in (Outcome.PAID, Outcome.LATE_PAID)

    @property
    def refunded(self) -> bool:
        return self in (Outcome.LATE_REFUNDED, Outcome.DUPLICATE_REFUNDED)


class PaymentError(DomainError):
    """A money rule refused the step (a refund above what was paid, an order that can no longer be paid…)."""


class DuplicateTransfer(Exception):
    """This bank transaction was already taken in; nothing changed."""
