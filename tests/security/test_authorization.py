"""The authorization matrix: every route of ``app.url_map`` (rule x method) x every role -> what it may get.

The table ``ROUTES`` holds, per endpoint, the URL with its parameters filled from the world of conftest.py
(farmer A's product, farm order A, buyer A's order, ticket A...) and, per method, the expected outcome for
each role in ``ROLES`` order: anonymous, buyer A, buyer B, farmer A, farmer B, admin.

Outcomes: ``OK`` = allowed (200, 302/303 anywhere but the login page, 400 or 409: a minimal or empty form is
refused by the form, not by the access check), ``LOGIN`` = 302 to the login page, and refusals by their
status (403, 404 = "as if it did not exist", 401/400 for unsigned webhooks). ``ASSIST`` is staff on a
farmer's screen (``?farm=<farm A>``): refused while farm A's farmer has given no consent (the world has none
active), allowed with one (``test_staff_with_the_farmers_consent`` runs those cells again with a consent).
A change of rule is a one-line edit: a row, or one of the named rows and constants below.

A route without an entry, or an entry without a route, fails ``test_every_route_has_an_entry``. Each cell is
one test on the module's shared world, put back after any cell that posts (tests/security/conftest.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from core.extensions import db
from core.time import utcnow
from tests.security.conftest import ROLES, header_problems

OK, LOGIN = "ok", "login"
ASSIST = "assist"
# Staff on a farmer's screen for farm A: without the farmer's consent (the matrix world) and with it.
ASSIST_WITHOUT_CONSENT = 403
ASSIST_WITH_CONSENT = OK

ANYONE = (OK, OK, OK, OK, OK, OK)
SIGNED_IN = (LOGIN, OK, OK, OK, OK, OK)
STAFF = (LOGIN, 403, 403, 403, 403, OK)
# Buyer A's order, its pages and ticket: its buyer and staff; anyone else (without the link's key): 404.
BUYER_A = (404, OK, 404, 404, 404, OK)
# Buyer A's own account's things (a review of buyer A's order): nobody else, staff neither.
OWN_BUYER_A = (LOGIN, OK, 404, 404, 404, 404)
# A farmer's own screens (each farmer sees their farm; a farmer's ``?farm=`` is ignored).
FARMER = (LOGIN, 403, 403, OK, OK, ASSIST)
# A screen about one of farm A's things: farmer B gets 404 (another farm's things do not exist there).
FARM_A = (LOGIN, 403, 403, OK, 404, ASSIST)

F = "?farm={farm_a}"  # staff name the farm; farmers' own ``farm=`` is ignored


@dataclass(frozen=True)
class Route:
    url: str
    expect: dict  # method -> outcomes in ROLES order
    ok_also: tuple = ()  # further statuses that count as allowed for this route


def route(url: str, ok_also: tuple = (), **methods) -> Route:
    return Route(url, methods, ok_also)


ROUTES: dict[str, Route] = {
    # -- public pages ------------------------------------------------------------------------------------------
    "shop.home": route("/", GET=ANYONE),
    "shop.catalogue": route("/products", GET=ANYONE),
    "shop.product": route("/products/{product_a_slug}", GET=ANYONE),
    "shop.farm": route("/farms/{farm_a_slug}", GET=ANYONE),
    "tours.index": route("/tours", GET=ANYONE),
    "tours.detail": route("/tours/{tour_a_slug}", GET=ANYONE),
    "tours.book": route("/tours/{tour_a_slug}/book", POST=ANYONE),
    # The private feed's token is its only key (a phone calendar fetches it without a session).
    "tours.calendar_ics": route("/calendar/{calendar_token}.ics", GET=ANYONE),
    "tours.waitlist_join": route("/tours/slots/{slot_a}/waitlist", GET=ANYONE, POST=ANYONE),
    # Buyer A's waiting-list offer: only buyer A's account may use it (staff do not book for a visitor).
    "tours.waitlist_offer": route("/waitlist/offer/{waitlist_offer}", GET=(404, OK, 404, 404, 404, 404),
                                  POST=(404, OK, 404, 404, 404, 404)),
    # A rain choice: its secret link is the key (sent to the buyer); a credit always goes to the order's account.
    "tours.rain_choice": route("/visits/rain/{rain_choice}", GET=ANYONE, POST=ANYONE),
    "media.photo": route("/media/{photo_key}", GET=ANYONE),
    # The posters behind the pages' Open Graph previews (no referral code in them).
    "share_posters.public_product": route("/share/poster/product/{product_a_slug}-1200x630.jpg", GET=ANYONE),
    "share_posters.public_farm": route("/share/poster/farm/{farm_a_slug}-1200x630.jpg", GET=ANYONE),
    "share_posters.public_tour": route("/share/poster/tour/{tour_a_slug}-1200x630.jpg", GET=ANYONE),
    "health.healthz": route("/healthz", GET=ANYONE),
    # -- accounts ----------------------------------------------------------------------------------------------
    "accounts.register": route("/register", GET=ANYONE, POST=ANYONE),
    "accounts.register_sent": route("/register/sent", GET=ANYONE),
    "accounts.register_confirm": route("/register/confirm/not-a-real-link", GET=ANYONE, POST=ANYONE),
    "accounts.login": route("/login", GET=ANYONE, POST=ANYONE),
    "accounts.logout": route("/logout", POST=ANYONE),
    "accounts.account": route("/account", GET=SIGNED_IN, POST=SIGNED_IN),
    # Ending a session that is not yours is "already ended" (a redirect to the account page): ok for anyone logged in.
    "accounts.end_session": route("/account/sessions/999999/end", POST=SIGNED_IN),
    "accounts.end_all_sessions": route("/account/sessions/end-all", POST=SIGNED_IN),
    "accounts.forgot_password": route("/password/forgot", GET=ANYONE, POST=ANYONE),
    "accounts.reset_password": route("/password/reset/{reset_token}", GET=ANYONE, POST=ANYONE),
    # The code pages read their phone number from the session; without one they send back to their form.
    "accounts.phone_verify": route("/register/phone", GET=ANYONE, POST=ANYONE),
    "accounts.phone_send_again": route("/register/phone/again", POST=ANYONE),
    "accounts.phone_reset": route("/password/reset/phone", GET=ANYONE, POST=ANYONE),
    "accounts.phone_confirm_mine": route("/account/phone", POST=SIGNED_IN),
    "account_messages.messages": route("/account/messages", GET=SIGNED_IN, POST=SIGNED_IN),
    # -- cart, checkout, the buyer's orders, paying --------------------------------------------------------------
    "orders.cart": route("/cart", GET=ANYONE, POST=ANYONE),
    "orders.add": route("/cart/add", POST=ANYONE),
    "orders.remove": route("/cart/remove", POST=ANYONE),
    "orders.checkout_page": route("/checkout", GET=ANYONE, POST=ANYONE),
    "orders.checkout_quote": route("/checkout/quote", POST=ANYONE),
    "addresses.communes_json": route("/places/24/communes.json", GET=ANYONE),
    "addresses.mine": route("/account/addresses", GET=SIGNED_IN, POST=SIGNED_IN),
    # Buyer A's saved address: only buyer A removes it; for anyone else (staff too) it is not found.
    "addresses.delete": route("/account/addresses/{address_a}/delete", POST=(LOGIN, OK, 404, 404, 404, 404)),
    "orders.mine": route("/orders", GET=SIGNED_IN),
    "orders.detail": route("/orders/{order_a}", GET=BUYER_A),
    "orders.receipt": route("/orders/{order_a}/receipt", GET=BUYER_A),
    "payments.pay": route("/orders/{order_a}/pay", GET=BUYER_A),
    "payments.status": route("/orders/{order_a}/pay/status", GET=BUYER_A),
    # Whoever has a refund's secret link gives the account it goes to (the link is the key, as a reset link is).
    "payments.refund_details": route("/refunds/{refund_token}", GET=ANYONE, POST=ANYONE),
    "payments.card": route("/orders/{order_a}/pay/card", GET=BUYER_A),
    "payments.cancel": route("/orders/{order_a}/pay/cancel", GET=BUYER_A, POST=BUYER_A),
    # Stripe is not configured here: the allowed viewers get "card payment unavailable" (503).
    "payments.card_return": route("/orders/{order_a}/pay/card/return?payment_intent={intent}", ok_also=(503,),
                                  GET=BUYER_A),
    "tours.ticket": route("/tickets/{ticket_a}", GET=BUYER_A),
    "tours.cancel": route("/tickets/{ticket_a}/cancel", POST=BUYER_A),
    # Changing the date: its buyer (or the key's holder) only; staff see tickets but do not move them.
    "tours.rebook": route("/tickets/{ticket_a}/rebook", GET=(404, OK, 404, 404, 404, 404),
                          POST=(404, OK, 404, 404, 404, 404)),
    # -- webhooks: CSRF-exempt, so an unsigned request is refused by its signature check ---------------------------
    "payments.bank_notify": route("/payments/bank/notify", POST=(401,) * 6),
    "payments.sepay_notify": route("/payments/sepay/notify", POST=(401,) * 6),
    "payments.casso_notify": route("/payments/casso/notify", POST=(401,) * 6),
    "payments.payos_notify": route("/payments/payos/notify", POST=(400,) * 6),  # an empty body is not JSON
    "payments.stripe_webhook": route("/payments/stripe/webhook", POST=(400,) * 6),
    "zalo_webhook.zalo_event": route("/messages/zalo/webhook", POST=(400,) * 6),  # an empty body is not JSON
    "shipping.ghn_webhook": route("/shipping/ghn/webhook", POST=(403,) * 6),  # without the URL's secret token
    # -- selling: the application, the farmer's products ---------------------------------------------------------
    "farmers.sell": route("/sell", GET=SIGNED_IN, POST=SIGNED_IN),
    "farmers.assistance": route("/farmer/assistance", GET=(LOGIN, 404, 404, OK, OK, 404)),
    "farmers.end_assistance": route("/farmer/assistance/{consent_a}/end", POST=(LOGIN, 404, 404, OK, 404, 404)),
    "farmers.farm_photo": route("/farmer/photo", POST=(LOGIN, 404, 404, OK, OK, 404)),  # an approved farm's owner
    "farmer_products.index": route("/farmer/products" + F, GET=FARMER),
    "farmer_delivery.settings": route("/farmer/delivery" + F, GET=FARMER, POST=FARMER),
    "farmer_products.new": route("/farmer/products/new" + F, GET=FARMER, POST=FARMER),
    "farmer_products.edit": route("/farmer/products/{product_a}/edit" + F, GET=FARM_A, POST=FARM_A),
    "farmer_products.delete": route("/farmer/products/{product_a}/delete" + F, GET=FARM_A, POST=FARM_A),
    "farmer_products.pause": route("/farmer/products/{product_a}/pause" + F, POST=FARM_A),
    "farmer_products.resume": route("/farmer/products/{product_a}/resume" + F, POST=FARM_A),
    "farmer_products.add_photos": route("/farmer/products/{product_a}/photos" + F, POST=FARM_A),
    "farmer_products.move_photo": route("/farmer/products/{product_a}/photos/{photo_a}/move" + F, POST=FARM_A),
    "farmer_products.remove_photo": route("/farmer/products/{product_a}/photos/{photo_a}/delete" + F,
                                          POST=FARM_A),
    # -- the farmer's orders and income ----------------------------------------------------------------------------
    "farmer_orders.index": route("/farmer/orders" + F, GET=FARMER),
    "farmer_orders.packing_list_all": route("/farmer/orders/packing-list" + F, GET=FARMER),
    "farmer_orders.detail": route("/farmer/orders/{farm_order_a}" + F, GET=FARM_A),
    "farmer_orders.packing_list": route("/farmer/orders/{farm_order_a}/packing-list" + F, GET=FARM_A),
    "farmer_orders.ready": route("/farmer/orders/{farm_order_a}/ready" + F, POST=FARM_A),
    "farmer_orders.complete": route("/farmer/orders/{farm_order_a}/complete" + F, POST=FARM_A),
    "farmer_orders.ship": route("/farmer/orders/{farm_order_a}/ship" + F, POST=FARM_A),
    "farmer_orders.cancel": route("/farmer/orders/{farm_order_a}/cancel" + F, GET=FARM_A, POST=FARM_A),
    # The share kit of one of farm A's products or visits, and its posters to download.
    "farmer_share.product": route("/farmer/share/product/{product_a}" + F, GET=FARM_A),
    "farmer_share.product_poster": route("/farmer/share/product/{product_a}/poster-1200x630.jpg" + F, GET=FARM_A),
    "farmer_share.tour": route("/farmer/share/tour/{tour_a}" + F, GET=FARM_A),
    "farmer_share.tour_poster": route("/farmer/share/tour/{tour_a}/poster-1080x1080.jpg" + F, GET=FARM_A),
    "farmer_dashboard.index": route("/farmer/dashboard" + F, GET=FARMER),
    "farmer_dashboard.export": route("/farmer/dashboard.csv" + F, GET=FARMER),
    "farmer_dashboard.statement": route("/farmer/statement" + F, GET=FARMER),
    "farmer_dashboard.statement_pdf": route("/farmer/statement.pdf" + F, GET=FARMER),
    # A statement's verify page: whoever has the signed token (the QR code); a token not signed is a 404 for all.
    "statements.verify": route("/statements/verify/not-a-statement", GET=(404,) * 6),
    # -- the farmer's visits -------------------------------------------------------------------------------------
    "farmer_tours.index": route("/farmer/tours" + F, GET=FARMER),
    "farmer_tours.calendar_token": route("/farmer/tours/calendar" + F, POST=FARMER),
    "farmer_tours.new": route("/farmer/tours/new" + F, GET=FARMER, POST=FARMER),
    "farmer_tours.edit": route("/farmer/tours/{tour_a}/edit" + F, GET=FARM_A, POST=FARM_A),
    "farmer_tours.pause": route("/farmer/tours/{tour_a}/pause" + F, POST=FARM_A),
    "farmer_tours.resume": route("/farmer/tours/{tour_a}/resume" + F, POST=FARM_A),
    "farmer_tours.add_photos": route("/farmer/tours/{tour_a}/photos" + F, POST=FARM_A),
    "farmer_tours.remove_photo": route("/farmer/tours/{tour_a}/photos/{tour_photo_a}/delete" + F, POST=FARM_A),
    "farmer_tours.photo_first": route("/farmer/tours/{tour_a}/photos/{tour_photo_a}/first" + F, POST=FARM_A),
    "farmer_tours.slots": route("/farmer/tours/{tour_a}/slots" + F, GET=FARM_A),
    "farmer_tours.add_slot": route("/farmer/tours/{tour_a}/slots/add" + F, POST=FARM_A),
    "farmer_tours.generate": route("/farmer/tours/{tour_a}/slots/generate" + F, POST=FARM_A),
    "farmer_tours.slot": route("/farmer/slots/{slot_a}" + F, GET=FARM_A),
    "farmer_tours.capacity": route("/farmer/slots/{slot_a}/capacity" + F, POST=FARM_A),
    "farmer_tours.close": route("/farmer/slots/{slot_a}/close" + F, POST=FARM_A),
    "farmer_tours.reopen": route("/farmer/slots/{slot_a}/reopen" + F, POST=FARM_A),
    "farmer_tours.cancel": route("/farmer/slots/{slot_a}/cancel" + F, GET=FARM_A, POST=FARM_A),
    "farmer_tours.rain_call_off": route("/farmer/slots/{slot_a}/rain" + F, GET=FARM_A, POST=FARM_A),
    "farmer_tours.manifest": route("/farmer/slots/{slot_a}/manifest" + F, GET=FARM_A),
    "farmer_tours.resource_list": route("/farmer/resources" + F, GET=FARMER),
    "farmer_tours.resource_add": route("/farmer/resources/add" + F, POST=FARMER),
    "farmer_tours.resource_edit": route("/farmer/resources/{resource_a}/edit" + F, GET=FARM_A, POST=FARM_A),
    "farmer_tours.resource_delete": route("/farmer/resources/{resource_a}/delete" + F, POST=FARM_A),
    "farmer_tours.tour_resources": route("/farmer/tours/{tour_a}/resources" + F, POST=FARM_A),
    "farmer_tours.checkin": route("/farmer/checkin" + F, GET=FARMER, POST=FARMER),
    # Moving one of farm A's bookings (an empty post names no new time: 400).
    "farmer_tours.move_booking": route("/farmer/tickets/{ticket_a}/move" + F, GET=FARM_A, POST=FARM_A,
                                       ok_also=(400,)),
    # Check-in without signal: the page, the day's list of the farm's tickets, and the sync of queued check-ins
    # (an empty post is not a list of check-ins: 400). Its service worker holds no data and needs no login.
    "farmer_tours.checkin_offline": route("/farmer/checkin/offline" + F, GET=FARMER),
    "farmer_tours.checkin_today": route("/farmer/checkin/today.json" + F, GET=FARMER),
    "farmer_tours.checkin_sync": route("/farmer/checkin/sync" + F, POST=FARMER, ok_also=(400,)),
    "checkin_sw.service_worker": route("/farmer/checkin/sw.js", GET=ANYONE),
    # The QR of ticket A, as scanned (no ?farm=): farmer B gets the answer of a ticket that does not exist (404);
    # staff act for its farm.
    "farmer_tours.checkin_scan": route("/checkin/{checkin_token}", GET=(LOGIN, 403, 403, OK, 404, OK),
                                       POST=(LOGIN, 403, 403, OK, 404, OK)),
    # -- commune staff -------------------------------------------------------------------------------------------
    "admin.overview": route("/admin/", GET=STAFF),
    # -- reviews: the order's own buyer writes (staff too get 404: a review is the buyer's word); the farm's own
    # farmer answers (staff may not answer for them); staff hide.
    "reviews.goods": route("/orders/{order_a}/farms/{farm_order_a}/review", GET=OWN_BUYER_A, POST=OWN_BUYER_A),
    "reviews.visit": route("/orders/{order_a}/visits/{visit_line_a}/review", GET=OWN_BUYER_A, POST=OWN_BUYER_A),
    "reviews.farmer_list": route("/farmer/reviews", GET=(LOGIN, 403, 403, OK, OK, 403)),
    "reviews.farmer_reply": route("/farmer/reviews/{review_a}/reply", POST=(LOGIN, 403, 403, OK, 404, 403)),
    "reviews.admin_list": route("/admin/reviews", GET=STAFF),
    "reviews.admin_hide": route("/admin/reviews/{review_a}/hide", POST=STAFF),
    # -- certificates: each farmer uploads their own farm's (an empty upload is refused: 400); staff check them
    "certificates.farmer_list": route("/farmer/certificates", ok_also=(400,), GET=(LOGIN, 403, 403, OK, OK, 403),
                                      POST=(LOGIN, 403, 403, OK, OK, 403)),
    # -- harvest batches: each farmer records their own; a batch's labels and buyers are its farm's; the public
    # page is anyone's
    "farmer_batches.index": route("/farmer/batches", ok_also=(400,), GET=(LOGIN, 403, 403, OK, OK, 403),
                                  POST=(LOGIN, 403, 403, OK, OK, 403)),
    "farmer_batches.labels": route("/farmer/batches/{batch_a}/labels.pdf", GET=(LOGIN, 403, 403, OK, 404, 403)),
    "farmer_batches.buyers": route("/farmer/batches/{batch_a}/buyers", GET=(LOGIN, 403, 403, OK, 404, 403)),
    # Correcting the batch of farm A's order line (an empty post chooses no batch: back to the order, unchanged).
    "farmer_batches.line_batch": route("/farmer/batches/lines/{product_line_a}", POST=(LOGIN, 403, 403, OK, 404, 403)),
    "batches.batch": route("/batch/KEPNRT34", GET=ANYONE),
    "certificates.admin_list": route("/admin/certificates", GET=STAFF),
    "certificates.admin_verify": route("/admin/certificates/{certificate_a}/verify", POST=STAFF),
    "certificates.admin_reject": route("/admin/certificates/{certificate_a}/reject", POST=STAFF),
    "admin.farms": route("/admin/farms", GET=STAFF),
    "admin.suspend": route("/admin/farms/{farm_a}/suspend", POST=STAFF),
    "admin.reinstate": route("/admin/farms/{farm_a}/reinstate", POST=STAFF),
    "admin.users": route("/admin/users", GET=STAFF),
    "admin.suspend_user": route("/admin/users/{buyer_b}/suspend", POST=STAFF),
    "admin.reinstate_user": route("/admin/users/{buyer_b}/reinstate", POST=STAFF),
    "admin.applications": route("/admin/applications", GET=STAFF),
    "admin.application": route("/admin/applications/{pending_farm}", GET=STAFF),
    "admin.approve": route("/admin/applications/{pending_farm}/approve", POST=STAFF),
    "admin.reject": route("/admin/applications/{pending_farm}/reject", POST=STAFF),
    "admin_assist.assist_farm": route("/admin/farms/{farm_a}/assist", GET=STAFF, POST=STAFF),
    "admin_assist.end_assist": route("/admin/farms/{farm_a}/assist/{consent_a}/end", POST=STAFF),
    "admin_payments.transfers": route("/admin/transfers", GET=STAFF),
    "admin_payments.record_transfer": route("/admin/transfers", POST=STAFF),
    "admin_payments.resolve_transfer": route("/admin/transfers/{transfer}/resolve", POST=STAFF),
    "admin_payments.assign_transfer": route("/admin/transfers/{transfer}/assign", POST=STAFF),
    "admin_payments.refund_transfer": route("/admin/transfers/{transfer}/refund", POST=STAFF),
    "admin_payments.order_refund": route("/admin/orders/{order_a}/refund", GET=STAFF),
    "admin_payments.refund_farm_order": route("/admin/orders/{order_a}/refund/{farm_order_a}", POST=STAFF),
    "admin_payments.refunds": route("/admin/refunds", GET=STAFF),
    "admin_payments.refund_done": route("/admin/refunds/{refund}/done", POST=STAFF),
    "admin_payments.send_card_refunds": route("/admin/refunds/send-card", POST=STAFF),
    "admin_payments.outbox": route("/admin/outbox", GET=STAFF),
    "admin_reconcile.split": route("/admin/transfers/{transfer}/split", GET=STAFF),
    "admin_reconcile.split_post": route("/admin/transfers/{transfer}/split", POST=STAFF),
    "admin_reconcile.statements": route("/admin/statements", GET=STAFF),
    "admin_reconcile.import_statement": route("/admin/statements", POST=STAFF),
    "admin_reconcile.statement": route("/admin/statements/{statement}", GET=STAFF),
    "admin_reconcile.record_line": route("/admin/statements/lines/{statement_line}/record", POST=STAFF),
    "admin_reconcile.balance": route("/admin/balance", GET=STAFF),
    "admin_payouts.payouts": route("/admin/payouts", GET=STAFF),
    "admin_payouts.farm": route("/admin/payouts/{farm_a}", GET=STAFF),
    "admin_payouts.record": route("/admin/payouts/{farm_a}", POST=STAFF),
    "admin_settings.settings": route("/admin/settings", GET=STAFF),
    "admin_settings.set_fee": route("/admin/settings/fee", POST=STAFF),
    "admin_settings.set_bank": route("/admin/settings/bank", POST=STAFF),
    "admin_settings.set_share_fee": route("/admin/settings/share-fee", POST=STAFF),
    "admin_settings.audit_log": route("/admin/audit", GET=STAFF),
}

CELLS = [(endpoint, method, role) for endpoint, entry in ROUTES.items() for method in entry.expect for role in ROLES]
# Staff with farm A's consent: the farmer-screen cells again.
ASSIST_CELLS = [(endpoint, method) for endpoint, entry in ROUTES.items() for method, outcomes in entry.expect.items()
                if outcomes[ROLES.index("admin")] == ASSIST]


# Every webhook configured, so that an unsigned request meets the signature check (not "not configured").
APP_CONFIG = {"BANK_WEBHOOK_SECRET": "matrix-bank-secret", "STRIPE_WEBHOOK_SECRET": "whsec_matrix",
              "SEPAY_API_KEY": "matrix-sepay-key", "CASSO_WEBHOOK_SECRET": "matrix-casso-secret",
              "PAYOS_CHECKSUM_KEY": "matrix-payos-checksum", "ZALO_OA_SECRET_KEY": "matrix-zalo-oa-secret",
              "GHN_WEBHOOK_TOKEN": "matrix-ghn-webhook-token"}


def route_methods(app) -> set[tuple[str, str]]:
    """(endpoint, method) of every rule, HEAD and OPTIONS aside (Flask answers them itself)."""
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_an_entry(shared):
    in_app = route_methods(shared.app)
    in_table = {(endpoint, method) for endpoint, entry in ROUTES.items() for method in entry.expect}
    assert sorted(in_app - in_table) == [], "routes without an entry in ROUTES: add the expected outcomes"
    assert sorted(in_table - in_app) == [], "entries in ROUTES for routes that no longer exist"


def test_each_url_reaches_its_endpoint(shared):
    adapter = shared.app.url_map.bind("localhost")
    for endpoint, entry in ROUTES.items():
        path = urlsplit(entry.url.format(**shared.world.params)).path
        for method in entry.expect:
            assert adapter.match(path, method=method)[0] == endpoint, (endpoint, method, path)


def test_the_matrix_size():
    """The figure for the report: (rule x method) x roles, plus the staff-with-consent cells."""
    assert len(CELLS) == len(ROLES) * sum(len(entry.expect) for entry in ROUTES.values())
    print(f"\nauthorization matrix: {len(CELLS) // len(ROLES)} routes x {len(ROLES)} roles = {len(CELLS)} cells, "
          f"+ {len(ASSIST_CELLS)} staff-with-consent cells")


def outcome_of(response, expected) -> str | int:
    """What the response amounts to: an exact status when a refusal by status is expected, else ok / login."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return LOGIN if urlsplit(response.headers["Location"]).path == "/login" else OK
    if status in (200, 400, 409) and not isinstance(expected, int):
        return OK
    return status


def check(shared, role: str, method: str, url: str, expected, ok_also: tuple = ()) -> None:
    if method != "GET":
        shared.dirty = True
    client = shared.client(role, fresh=method != "GET")
    response = client.open(url, method=method, data={} if method == "POST" else None)
    got = OK if response.status_code in ok_also else outcome_of(response, expected)
    assert got == expected, (f"{role}: {method} {url}: expected {expected}, got {response.status_code} "
                             f"{response.headers.get('Location', '')}")
    # Every answer, allowed or refused (error pages, redirects, JSON), carries the security headers.
    assert header_problems(response) == [], (method, url, response.status_code)


@pytest.mark.parametrize("endpoint,method,role", CELLS, ids=[f"{m} {e} {r}" for e, m, r in CELLS])
def test_matrix(shared, endpoint, method, role):
    entry = ROUTES[endpoint]
    expected = entry.expect[method][ROLES.index(role)]
    if expected == ASSIST:
        expected = ASSIST_WITHOUT_CONSENT
    shared.clean()
    check(shared, role, method, entry.url.format(**shared.world.params), expected, entry.ok_also)


@pytest.mark.parametrize("endpoint,method", ASSIST_CELLS, ids=[f"{m} {e}" for e, m in ASSIST_CELLS])
def test_staff_with_the_farmers_consent(shared, endpoint, method):
    from accounts import assist

    shared.clean()
    shared.dirty = True
    world = shared.world
    assist.record_consent(world.objects["farm_a"], world.users["admin"], way="phone", note="", days=7, now=utcnow())
    db.session.commit()
    entry = ROUTES[endpoint]
    check(shared, "admin", method, entry.url.format(**world.params), ASSIST_WITH_CONSENT, entry.ok_also)


@pytest.mark.parametrize("path", ["/orders/{order_a}", "/orders/{order_a}/receipt", "/orders/{order_a}/pay",
                                  "/tickets/{ticket_a}", "/tickets/{ticket_a}/rebook"])
def test_the_secret_link_opens_an_order_to_whoever_has_it_and_only_the_right_key_does(shared, path):
    shared.clean()
    url = path.format(**shared.world.params)
    for role in ("anonymous", "buyer_b", "farmer_b"):
        client = shared.client(role)
        assert client.get(url, query_string={"key": shared.world.params["order_a_key"]}).status_code == 200
        for wrong in ("", "x", shared.world.params["order_a_key"][:-1], shared.world.params["order_a_key"] + "x"):
            assert client.get(url, query_string={"key": wrong}).status_code == 404, (role, wrong)
