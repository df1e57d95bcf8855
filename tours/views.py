"""Visits to the pineapple hill (the booking screens come with the tours work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tours", __name__)
