"""Visits to the pineapple hill: tours, their time slots and seats (``slots.py``, ``services.py``), bookings
and their cancellation (``cancellations.py``), tickets and check-in (``tickets.py``), and the visitor's pages
(``views.py``). Visits are a kind of shop line (``visit_lines.py``) and join the shop at start-up
(``events.py``: the line kind, the home and farm pages' visits, tickets issued on ``order_paid``).
``reports.py`` holds the queries the farmer's dashboard reads. Imports ``shop``, ``accounts`` and ``core``."""
