"""How the visits join the shop when the app starts: the visit kind of cart line, what the shop's home and
farm pages show of visits (shop/showcase.py), and the tickets issued when an order is paid (shop/events.py)."""
from __future__ import annotations

from shop import events, showcase
from tours import services, visit_lines


def connect() -> None:
    visit_lines.register()
    showcase.provide("home", "upcoming_tours", services.upcoming_tours)
    showcase.provide("farm", "tours", services.active_tours)
    events.order_paid.connect(issue_tickets)


def issue_tickets(order, *, now, **_) -> None:
    """``order_paid`` receiver: a ticket for each paid visit line."""
    services.issue_tickets(order, now)
