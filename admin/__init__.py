"""The commune staff's screens: farm applications, farms and users (suspend, reinstate), money (bank
transfers, refunds, the outbox), payouts, settings (fee, receiving bank account), assisted mode, audit log.
Views and forms over the rules of ``shop``, ``tours`` and ``accounts``; nothing imports it but the app factory,
and it does not import ``farmers``."""
