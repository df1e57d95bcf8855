"""The market's rules and the buyer's pages: the catalogue (``catalogue.py``, ``services.py`` for the
farmer's products), the cart and its kinds of line (``cart.py``, ``lines.py``, ``product_lines.py``),
checkout and delivery (``checkout.py``, ``delivery.py``), orders, payments (``payments/``: the confirmation and
refund rules and one module per payment provider), the ledger and payouts, and the events other packages
subscribe to (``events.py``: ``order_paid``, ``order_expired``, ``lines_released``).

Imports ``accounts`` and ``core``, never ``tours``: visits join through the line protocol (``lines.py``), the
pages' extras (``showcase.py``) and the events. A new kind of thing to sell (a box of several products, a
workshop) is a line kind registered from its own package; product reviews are a ``reviews.py`` here with its
model, a migration, a partial on the product page, and a receiver of the order events."""
