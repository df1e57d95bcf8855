"""What the shop's own pages show of other kinds of listing (visits to the farms), without the shop knowing them.

The home page and a farm's page ask ``extras("home", now=...)`` / ``extras("farm", farm=...)`` for more template
variables; a package above the shop adds one with ``provide(page, name, fn)`` when the app starts (tours adds
the next visits and the farm's visits). A template shows a section only when its variable is there and
non-empty."""
from __future__ import annotations

from collections.abc import Callable

_PROVIDERS: dict[str, dict[str, Callable]] = {}


def provide(page: str, name: str, fn: Callable) -> None:
    _PROVIDERS.setdefault(page, {})[name] = fn


def extras(page: str, **kwargs) -> dict:
    return {name: fn(**kwargs) for name, fn in _PROVIDERS.get(page, {}).items()}
