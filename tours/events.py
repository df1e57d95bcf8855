"""How the visits join the shop when the app starts: the visit kind of cart line, and what the shop's home
and farm pages show of visits (shop/showcase.py)."""
from __future__ import annotations

from shop import showcase
from tours import services, visit_lines


def connect() -> None:
    visit_lines.register()
    showcase.provide("home", "upcoming_tours", services.upcoming_tours)
    showcase.provide("farm", "tours", services.active_tours)
