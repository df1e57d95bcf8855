"""The farmer's own screens, on top of the rules: the application to sell, products, orders to prepare, visits
and their times, manifests and check-in, the income dashboard and statement, and assisted mode (``acting.py``:
commune staff acting for a farmer who consented). Views and forms only; the rules they call live in ``shop``,
``tours`` and ``accounts``. Nothing imports this package but the app factory; ``admin`` is its sibling."""
