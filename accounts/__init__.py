"""Who is who: users and their logins (sessions, throttling, registration, password reset), the farms they own
and their application to sell (``farms.py``, ``farm_applications.py``), and the consents that let commune staff
act for a farmer (``assist.py``). Imports only ``core``; every other package may import it."""
