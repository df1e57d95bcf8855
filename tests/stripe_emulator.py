"""Run the official ``stripe`` library (16.1) against localstripe (1.15.10).

Findings: the tests in tests/localstripe/ prove the main ones, the rest is read
from localstripe's source. Amounts are VND, which is zero-decimal:
``amount=150000, currency="vnd"`` means 150 000 ₫.

Harness
  ``base_url, stop = start_localstripe()`` runs ``localstripe.server.app``
  with ``aiohttp.web.run_app`` in a child interpreter on a socket bound to
  127.0.0.1:<free port> (the CLI would listen on ``::``); the child's on-disk
  store (/tmp/localstripe.pickle) is disabled, and the child exits when this
  process does. Any ``sk_...`` key is accepted.
  ``stripe_client(base_url)`` -> ``stripe.StripeClient(key,
  base_addresses={"api": base_url, ...})``; plain ``http://`` works. Use the
  ``client.v1.<resource>`` services with ``params={...}`` and
  ``options={"idempotency_key": ...}``; ``client.payment_intents`` etc. raise
  a DeprecationWarning in stripe 16. The module-level API works too:
  ``stripe.api_key = "sk_test_..."; stripe.api_base = base_url``.

Works
  * PaymentIntent create (amount, currency, customer, payment_method,
    metadata, payment_method_types, capture_method, confirm, off_session)
    -> ``requires_confirmation`` -> ``confirm(id)`` -> ``succeeded``;
    retrieve/list with ``expand``; cancel; manual capture, also partial
    (``amount_to_capture``; the rest shows as refunded on the charge).
  * Payment methods: ``pm_card_visa`` (4242...), or
    ``payment_methods.create(params={"type": "card", "card": {"number": ...,
    "exp_month": 12, "exp_year": 2030, "cvc": "123"}})`` with any 16-digit
    number (exp_year 2019-2099).
  * Declines at charge time: 4000000000000341 / ``pm_card_chargeCustomerFail``
    -> ``stripe.CardError`` (HTTP 402, ``code == "card_declined"``, message
    "Your card was declined.", no ``decline_code``); the intent is then
    ``requires_payment_method`` with ``last_payment_error.code ==
    "card_declined"`` and ``latest_charge.status == "failed"``.
  * 3-D Secure: 4000002500003155, 4000002760003184, 4000000000003220,
    4000000000003063 -> ``requires_action`` (``next_action.type ==
    "use_stripe_sdk"``). Finish it with ``POST
    /v1/payment_intents/<id>/_authenticate`` (``client_secret=<intent's>,
    success=true|false``; secret key, or ``key=pk_...`` in the body), see
    ``authenticate_3ds``. true -> ``succeeded``; false ->
    ``requires_payment_method``, ``payment_method`` None,
    ``last_payment_error.code == "payment_intent_authentication_failure"``.
    4000008260003178 / 4000008400001629 ask for 3DS and then decline
    (``_authenticate`` itself raises CardError). A wrong client_secret ->
    ``stripe.AuthenticationError``.
  * Refunds: ``refunds.create(params={"payment_intent": id[, "amount": n,
    "metadata": {...}]})`` -> status ``succeeded`` at once; the charge then
    shows ``amount_refunded``, ``refunded`` (True once fully refunded) and
    ``refunds.data``; the intent stays ``succeeded``; ``refunds.list`` by
    payment_intent or charge works.
  * Webhooks: ``POST /_config/webhooks/<name>`` (form or JSON: ``url``,
    ``secret``, optional ``events`` list), see ``configure_webhook``. One
    attempt per event, about 1 s after it, no retries; signed ``t=<event
    created>,v1=<HMAC-SHA256>``, accepted by ``stripe.Webhook.construct_event``
    (``event.data.object`` is a ``stripe.PaymentIntent`` snapshot,
    ``api_version`` "2017-08-15"). Payment events sent:
    ``payment_intent.succeeded`` (confirm, 3DS success, capture) and
    ``payment_intent.payment_failed`` (charge-time decline). Also sent by
    other resources: balance.available, customer.{created,updated,deleted},
    customer.source.created, customer.subscription.{created,deleted},
    invoice.{created,payment_succeeded,payment_failed}, plan.created,
    product.created, payout.*. ``GET /v1/events`` lists them (filter
    ``type``). Registrations cannot be removed, only replaced by name.
  * ``DELETE /_config/data`` (``flush_data``) drops all objects, keeps
    webhooks. ``GET <base>/js.stripe.com/v3/`` serves a fake Stripe.js whose
    ``confirmCardPayment`` only performs the 3DS ``_authenticate`` step.
  * ``sign_webhook(payload, secret)`` builds a header ``construct_event``
    accepts, for feeding the app's webhook view directly.

Does not work / differs from Stripe
  * Idempotency-Key is ignored: the same key creates a second intent.
  * 4000000000000002 (``pm_card_visa_chargeDeclined``), 4000000000009995,
    ...9987, ...9979, ...0069, ...0127, ...0119, 4242424242424241 are only
    declined when attached to a customer; charging them succeeds.
  * ``confirm(id, params={"payment_method": ...})`` -> HTTP 500 "Not
    implemented" (``stripe.APIError``): set it on create or ``update`` first.
  * A declined intent cannot be retried: after updating its payment_method
    it stays ``requires_payment_method`` and confirm -> 400 "Bad request".
    Create a new PaymentIntent per attempt.
  * Unknown parameters -> 400 "Unexpected <name>": e.g. PaymentIntent
    ``description``, ``automatic_payment_methods``, ``receipt_email``,
    ``return_url``, ``statement_descriptor``; Refund ``reason``.
  * Refunds are not checked: no amount = the whole charge again even after
    partial refunds, and over-refunding is accepted (amount_refunded may
    exceed amount). Refunding an unpaid intent -> HTTP 500 (APIError).
  * No charge.*, refund.*, payment_intent.created/canceled/requires_action
    events, and nothing on 3DS failure. Errors are always
    ``type: invalid_request_error`` (stripe-python still maps 402 to
    CardError). ``latest_charge`` is always an embedded Charge, never an id;
    the intent keeps ``payment_method == "pm_card_visa"`` (the alias) while
    its charge gets a fresh ``pm_...``. Card brand is always visa, country FR.

stripe 16 objects
  ``StripeObject`` is not a dict: use attributes (``pi.status``,
  ``pi.metadata.order``) or items (``pi["status"]``, ``"status" in pi``);
  ``pi.get(...)`` raises AttributeError ("... is not a dict"), ``dict(pi)``
  and iteration raise TypeError; ``pi.to_dict()`` gives plain nested dicts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import requests
import stripe

TEST_API_KEY = "sk_test_12345"

# Talk to 127.0.0.1 directly even when HTTP(S)_PROXY is set in the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Runs in the child interpreter. argv[1] is the file descriptor of a socket
# the parent already bound to 127.0.0.1:<free port>, so there is no window in
# which another process could grab the port.
_CHILD_CODE = r"""
import os, socket, sys, threading

from aiohttp import web
from localstripe.resources import Store

# localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle
# after every write; keep the state in memory so parallel runs cannot clash.
Store.dump_to_disk = lambda self: None

from localstripe.server import app


def _exit_with_parent():
    sys.stdin.read()  # returns at EOF: the parent stopped us or died
    os._exit(0)


threading.Thread(target=_exit_with_parent, daemon=True).start()
sock = socket.socket(fileno=int(sys.argv[1]))
web.run_app(app, sock=sock, print=None, access_log=None)
"""


def start_localstripe(timeout: float = 15.0) -> tuple[str, Callable[[], None]]:
    """Start a private localstripe on 127.0.0.1; return ``(base_url, stop)``.

    ``stop()`` is idempotent. The child also exits by itself if this process
    dies (it watches its stdin pipe), so no emulator outlives the test run.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    # Listening already: a request sent before the child serves waits in the backlog instead of being
    # refused, so the first request is the readiness check (no polling).
    sock.listen(64)
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE, str(sock.fileno())],
            pass_fds=[sock.fileno()],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        sock.close()  # the child owns its own copy now

    def stop() -> None:
        if proc.poll() is None:
            proc.stdin.close()
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        elif proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        log.close()

    if _answers(base_url, timeout):
        return base_url, stop
    try:
        proc.wait(timeout=1)  # a child that died closed the socket: that is why
    except subprocess.TimeoutExpired:
        stop()
        raise RuntimeError(
            f"localstripe did not answer on {base_url} within {timeout} s") from None
    log.seek(0)
    output = log.read().decode(errors="replace")
    stop()
    raise RuntimeError(f"localstripe exited with code {proc.returncode}:\n{output}")


def _answers(base_url: str, timeout: float) -> bool:
    """One request, answered once the child serves (it waits in the socket's backlog until then)."""
    request = urllib.request.Request(
        base_url + "/v1/events?limit=1",
        headers={"Authorization": f"Bearer {TEST_API_KEY}"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stripe_client(base_url: str, api_key: str = TEST_API_KEY
                  ) -> stripe.StripeClient:
    """A ``StripeClient`` that talks plain http to the emulator."""
    session = requests.Session()
    session.trust_env = False  # ignore HTTP(S)_PROXY for 127.0.0.1
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": base_url, "connect": base_url,
                        "files": base_url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(session=session, timeout=10),
    )


def _post_form(url: str, fields: list[tuple[str, str]]) -> None:
    body = urllib.parse.urlencode(fields).encode()
    try:
        with _OPENER.open(urllib.request.Request(url, data=body),
                          timeout=5) as response:
            response.read()
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read().decode(errors="replace").strip()
        raise RuntimeError(f"{url}: HTTP {error.code} {detail}") from None


def configure_webhook(base_url: str, name: str, url: str, secret: str,
                      events: list[str] | None = None) -> None:
    """Register (or replace) webhook endpoint ``name`` in the emulator."""
    fields = [("url", url), ("secret", secret)]
    fields += [("events[]", event) for event in events or []]
    _post_form(f"{base_url}/_config/webhooks/{name}", fields)


def flush_data(base_url: str) -> None:
    """Drop every stored object (webhook registrations are kept)."""
    request = urllib.request.Request(f"{base_url}/_config/data",
                                     method="DELETE")
    with _OPENER.open(request, timeout=5) as response:
        response.read()


def authenticate_3ds(client: stripe.StripeClient, payment_intent: str,
                     client_secret: str, success: bool = True
                     ) -> stripe.PaymentIntent:
    """Complete (or fail) the simulated 3-D Secure step of a PaymentIntent."""
    response = client.raw_request(
        "post", f"/v1/payment_intents/{payment_intent}/_authenticate",
        client_secret=client_secret, success="true" if success else "false")
    return client.deserialize(response, api_mode="V1")


def sign_webhook(payload: bytes, secret: str,
                 timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``payload`` (v1 scheme)."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


class WebhookRecorder:
    """A tiny HTTP receiver on 127.0.0.1 that records every POST it gets."""

    def __init__(self) -> None:
        self._deliveries: list[tuple[bytes, str | None]] = []
        self._arrived = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                delivery = (self.rfile.read(length),
                            self.headers.get("Stripe-Signature"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with recorder._arrived:
                    recorder._deliveries.append(delivery)
                    recorder._arrived.notify_all()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever,
                         kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def event_types(self) -> list[str]:
        """Types of all events received so far, in arrival order."""
        with self._arrived:
            return [json.loads(body)["type"] for body, _ in self._deliveries]

    def wait_for(self, event_type: str, object_id: str | None = None,
                 timeout: float = 10.0) -> tuple[bytes, str | None]:
        """``(raw payload, Stripe-Signature)`` of the first matching event."""
        def find():
            for body, signature in self._deliveries:
                event = json.loads(body)
                if event["type"] == event_type and object_id in (
                        None, event["data"]["object"].get("id")):
                    return body, signature

        with self._arrived:
            found = self._arrived.wait_for(find, timeout=timeout)
        if found is None:
            raise TimeoutError(
                f"no {event_type} webhook for {object_id or 'any object'} "
                f"within {timeout} s; got {self.event_types}")
        return found

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
