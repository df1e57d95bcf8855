"""The allowed moves of a status column, and the one way to make them.

Each table with a status declares its moves once, next to its model (``ORDER_MOVES`` in shop/order_models.py,
``PAYMENT_MOVES`` in shop/payment_models.py, ``TICKET_MOVES`` in tours/models.py…). ``Moves.move`` is a
conditional UPDATE from the state the caller read, so of two requests racing for one row only one moves it
(the other gets False and says so), and a move the table does not list is a programming error, refused
before any SQL runs."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update

from core.extensions import db


class Moves:
    def __init__(self, model, moves: Iterable[tuple[str, str]], column: str = "status"):
        self.model = model
        self.column = column
        self.allowed = frozenset(moves)

    def allows(self, from_state: str, to_state: str) -> bool:
        return (from_state, to_state) in self.allowed

    def move(self, where, from_states: str | tuple[str, ...], to_state: str, **values) -> int:
        """Move the rows matching ``where`` (a row id, or a SQL condition) that are still in ``from_states`` to
        ``to_state``, with the other column ``values``; returns how many rows moved."""
        from_states = (from_states,) if isinstance(from_states, str) else tuple(from_states)
        refused = [state for state in from_states if not self.allows(state, to_state)]
        if refused:
            raise ValueError(f"{self.model.__name__}: no move from {refused} to {to_state!r}")
        column = getattr(self.model, self.column)
        condition = self.model.id == where if isinstance(where, int) else where
        result = db.session.execute(
            update(self.model).where(condition, column.in_(from_states))
            .values({self.column: to_state, **values}).execution_options(synchronize_session=False))
        return result.rowcount
