"""What a cart or order line can be, behind one small protocol: a product (shop/product_lines.py) or a
visit (tours/visit_lines.py); a new kind (a delivery box, a workshop) is one more module that registers.

A kind says, for its items:
- ``code``: the prefix of its cart keys ("p:12", "s:7" — built and read only by ``key``/``parse_key``);
- ``rank``: its place in the app's lock order (products before slots; shop/checkout.py's docstring);
- ``column``: the column of ``order_lines`` and ``cart_items`` that holds its item's id;
- ``load(ids)``: its items by id, in one query; ``cart_line(key, item, values, now)``: a ``CartLine`` with
  its price, total and the problems that stop it being bought now;
- ``reserve(ident, amount)`` / ``release(ident, amount)``: take or give back what a line holds (units of
  stock, seats) with guarded UPDATEs; ``sold_out(line)``: the buyer's message when ``reserve`` fails;
- ``snapshot(farm_order, line)``: the ``OrderLine`` that keeps what was bought at its price;
- ``cart_values(order_line)``: an order line back in a cart;
- ``merge(item, values, existing)``: a guest's cart line joining the account's at login;
- optionally ``lock_ahead(idents)``: lock, before any of its items, what several of them share (a visit's guides
  and vehicles), so that a transaction taking many items keeps the app's lock order (``lock_ahead`` below);
- optionally ``delivered(line, now)``: SQL, true when an order line of this kind (``OrderLine`` or an alias)
  has been delivered on its own, before its farm order is completed (a visit that has taken place). A kind
  without it is delivered with its farm order (shop/balances.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from core import inputs


class LineKind(Protocol):
    code: str
    rank: int
    column: str

    def load(self, ids: list[int]) -> dict[int, Any]: ...
    def cart_line(self, key: str, item, values: dict, now) -> "CartLine": ...
    def reserve(self, ident: int, amount: int) -> bool: ...
    def release(self, ident: int, amount: int) -> None: ...
    def sold_out(self, line: "CartLine"): ...
    def snapshot(self, farm_order, line: "CartLine"): ...
    def cart_values(self, order_line) -> dict: ...
    def merge(self, item, values: dict, existing: dict | None) -> dict | None: ...


_KINDS: dict[str, LineKind] = {}


def register(kind: LineKind) -> None:
    _KINDS[kind.code] = kind


def kinds() -> list[LineKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.rank)


def key(kind: LineKind, ident: int) -> str:
    return f"{kind.code}:{int(ident)}"


def parse_key(raw) -> tuple[LineKind, int] | None:
    """The kind and item id of a cart key; None for anything ``key`` would not have made."""
    code, _, ident = str(raw).partition(":")
    kind = _KINDS.get(code)
    ident = inputs.parse_id(ident) if kind else None
    return (kind, ident) if ident is not None else None


def of_row(row) -> tuple[LineKind, int]:
    """The kind and item id of an order line or a saved cart item."""
    for kind in _KINDS.values():
        ident = getattr(row, kind.column)
        if ident is not None:
            return kind, ident
    raise LookupError(f"{row!r} is of no known kind")


@dataclass
class CartLine:
    """One cart line as the pages and checkout read it. ``amount`` is what it holds once ordered (units,
    seats); ``product`` or ``slot`` is its item, for the templates."""
    key: str
    kind: LineKind
    ident: int
    farm: Any
    unit_price_vnd: int
    total_vnd: int
    amount: int
    seen_price_vnd: int = 0
    product: Any = None
    slot: Any = None
    quantity: int = 0
    adults: int = 0
    children: int = 0
    problems: list = field(default_factory=list)
    hold: str = ""  # a kind's own key to what is already held for this line (a waiting-list offer's seats)

    @property
    def seats(self) -> int:
        return self.adults + self.children

    @property
    def price_changed(self) -> bool:
        return self.seen_price_vnd != self.unit_price_vnd


def lock_ahead(items, kind_and_ident) -> None:
    """Let each kind with a ``lock_ahead`` lock what its items share, in rank order, before they are taken."""
    idents: dict[str, list[int]] = {}
    for item in items:
        kind, ident = kind_and_ident(item)
        if hasattr(kind, "lock_ahead"):
            idents.setdefault(kind.code, []).append(ident)
    for kind in kinds():
        if kind.code in idents:
            kind.lock_ahead(idents[kind.code])


def in_lock_order(items, kind_and_ident):
    """``items`` sorted as locks are taken: by kind (its rank), then by item id."""
    def rank(item):
        kind, ident = kind_and_ident(item)
        return kind.rank, ident
    return sorted(items, key=rank)
