"""The one error a rule of the market raises: ``DomainError(message, field=None)``.

Services raise it (or a subclass naming the domain: ``CartError``, ``PaymentError``…) with a message in the
user's language. The view does not roll back by hand: the request's unit of work (``core.transactions``)
rolls the request back and shows the message. ``field`` names the form field the message belongs to, for
views that show it beside that field (``core.forms.show_error``)."""
from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
