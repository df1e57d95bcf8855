"""The plumbing every package stands on, knowing nothing of the market: extensions, configuration helpers,
one unit of work per request with an after-commit queue (``transactions.py``) and the one ``DomainError``
(``domain.py``), error pages, forms' shared parts (``forms.py``), photos (``images.py``, ``gallery.py``,
``storage*.py``, ``media.py``), messages (``messages.py``: ``notify`` → ``outbox.py`` → ``channels/``), audit
log, time, i18n, security headers and request logs. Imports no other package of ours."""
