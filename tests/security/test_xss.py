"""XSS: each payload is typed into every user text field, through the real forms (and a bank notification),
then every page is read (every GET route of the authorization matrix as the role that uses it, farmer screens
also as staff helping the farmer, and the pages of what the payload made: the new account, the application,
the order, its ticket...). On every page the payload must come out escaped, never as markup; a ``javascript:``
address must never become a link; ``{{7*7}}`` must stay text. Messages in the outbox are plain text: there the
payload is stored as typed. Inputs that are only echoed back (search, login, filters) are checked too.

Each stored field carries a tag (``Q01``...) so the test knows which field a page shows.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import select

from accounts.models import User
from core.extensions import db
from core.outbox import Notification
from core.time import utcnow
from tests.farmers.ledger_helpers import sale
from tests.helpers import registration_link
from tests.security.conftest import sign_in
from tests.security.forms import form_with
from tests.security.test_authorization import OK, ROUTES

APP_CONFIG = {"BANK_WEBHOOK_SECRET": "xss-bank-secret"}

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "url": "javascript:alert(1)",
    "script-end": "</script><script>alert(1)</script>",
    "template": "{{7*7}}",
    "unicode": "Dứa \u202e🍍 <svg/onload=alert(1)>＜script＞「'」",
}

STORED = {
    "Q01": "registration: full name",
    "Q02": "farm application: farm name", "Q03": "farm application: other village",
    "Q04": "farm application: about the farm", "Q05": "farm application: VietGAP certificate number",
    "Q06": "farm application: account holder's name",
    "Q07": "staff: reason to reject an application", "Q08": "staff: reason to suspend a farm",
    "Q09": "product name", "Q10": "product description",
    "Q11": "tour title", "Q12": "tour description", "Q13": "tour: what is included", "Q14": "tour meeting point",
    "Q15": "checkout: buyer name", "Q16": "checkout: note for the farms",
    "Q17": "bank notification content (matched)", "Q18": "bank notification content (unmatched)",
    "Q19": "staff: payout reference", "Q20": "staff: note resolving a transfer",
    "Q21": "staff: bank reference of a refund", "Q22": "staff: assisted-mode consent note",
}
REFLECTED = {"Q30": "catalogue search", "Q31": "login email", "Q32": "forgotten-password email",
             "Q33": "check-in code", "Q34": "audit filter: action", "Q35": "audit filter: who"}
SPECIAL = set("<>\"'")
JS_URL = re.compile(r"""\b(?:href|src|action|formaction|data|poster)\s*=\s*["']?\s*javascript:""", re.I)
CRAWL_AS = ("anonymous", "buyer_a", "farmer_a", "admin")  # the first of these a matrix row allows


@dataclass
class Seen:
    payload: str
    pages: int = 0
    shown: dict = field(default_factory=dict)  # tag -> pages that showed it (escaped)

    def read(self, what: str, response) -> None:
        if response.mimetype != "text/html":
            return
        self.pages += 1
        html = response.get_data(as_text=True)
        low, raw = html.lower(), self.payload.lower()
        if SPECIAL & set(self.payload):
            assert raw not in low, f"{what}: the payload is in the page as markup"
        assert not JS_URL.search(html), f"{what}: a javascript: address became a link"
        escaped = str(escape(self.payload)).lower()
        for tag in (*STORED, *REFLECTED):
            assert f"{tag}49".lower() not in low, f"{what}: a template ran ({tag})"
            if f"{tag}{escaped}".lower() in low or f"{tag} {escaped}".lower() in low:
                self.shown.setdefault(tag, set()).add(what)


def _value(tag: str, payload: str) -> str:
    return f"{tag}{payload}"


def _sign(body: bytes) -> str:
    return hmac.new(b"xss-bank-secret", body, hashlib.sha256).hexdigest()


def _post_ok(client, url, data, what):
    response = client.post(url, data=data)
    assert response.status_code == 302, (what, response.status_code, response.get_data(as_text=True)[:3000])
    return response


def _type_everything(shared, payload: str, clients: dict) -> dict:
    """Every stored field gets the payload, through the forms its users fill in. Returns the new objects' URLs."""
    from accounts.farms import Farm
    from shop.models import Product
    from shop.order_models import Order
    from shop.payment_models import BankTransfer
    from tours.models import Ticket

    p = shared.world.params
    v = lambda tag: _value(tag, payload)  # noqa: E731

    # A newcomer registers, and applies to sell.
    newcomer = clients["newcomer"] = shared.app.test_client()
    _post_ok(newcomer, "/register", {"email": "moi@example.vn", "full_name": v("Q01"), "phone": "0987654321",
                                     "password": "dua-ngot-2026", "confirm": "dua-ngot-2026"}, "register")
    link = registration_link("moi@example.vn")  # the account is made from the e-mail's link
    _post_ok(newcomer, link, {}, "register link")
    _post_ok(newcomer, "/sell", {"name": v("Q02"), "village": "other", "village_other": v("Q03"),
                                 "description": v("Q04"), "vietgap_certified": "y", "vietgap_certificate_no": v("Q05"),
                                 "bank_bin": "970405", "bank_account_number": "2500205110009",
                                 "bank_account_name": v("Q06")}, "apply")
    admin = clients["admin"]
    _post_ok(admin, f"/admin/applications/{p['pending_farm']}/reject", {"reason": v("Q07")}, "reject")
    _post_ok(admin, f"/admin/farms/{shared.world.objects['farm_b'].id}/suspend", {"reason": v("Q08")}, "suspend")

    # Farmer A renames the product and the tour.
    farmer = clients["farmer_a"]
    data = form_with(farmer.get(f"/farmer/products/{p['product_a']}/edit").get_data(as_text=True), "name")
    _post_ok(farmer, f"/farmer/products/{p['product_a']}/edit", dict(data, name=v("Q09"), description=v("Q10")),
             "product")
    data = form_with(farmer.get(f"/farmer/tours/{p['tour_a']}/edit").get_data(as_text=True), "title")
    tour = dict(data, title=v("Q11"), description=v("Q12"), included=v("Q13"), meeting_point=v("Q14"))
    _post_ok(farmer, f"/farmer/tours/{p['tour_a']}/edit", tour, "tour")
    # A map link must be an https:// address: the payload is refused (or, if it is one, kept as a link).
    farmer.post(f"/farmer/tours/{p['tour_a']}/edit", data=dict(tour, map_url=payload))

    # Buyer A orders the renamed product and a visit, with a name and a note.
    buyer = clients["buyer_a"]
    after_add = buyer.post("/cart/add", data={"product_id": p["product_a"], "quantity": "2"}, follow_redirects=True)
    clients["pages"].append(("buyer_a: the page after adding to the cart", after_add))
    buyer.post(f"/tours/{p['tour_a_slug']}/book", data={"slot": p["slot_a"], "adults": "2", "children": "1"})
    data = form_with(buyer.get("/checkout").get_data(as_text=True), "checkout_token")
    placed = _post_ok(buyer, "/checkout", dict(data, name=v("Q15"), note=v("Q16")), "checkout")
    order = db.session.scalar(select(Order).where(Order.user_id == shared.world.users["buyer_a"].id)
                              .order_by(Order.id.desc()))
    assert order.public_id in placed.headers["Location"]

    # The bank reports the transfer (its content as the buyer typed it), and one it cannot match.
    for transaction, content, amount in (("FTXSS1", f"{order.reference} {v('Q17')}", order.total_vnd),
                                         ("FTXSS2", v("Q18"), 5000)):
        body = json.dumps({"transaction_id": transaction, "amount": amount, "content": content}).encode()
        response = clients["anonymous"].post("/payments/bank/notify", data=body, content_type="application/json",
                                              headers={"X-Signature": _sign(body)})
        assert response.status_code == 200, response.get_json()

    # Staff pay farm A out, resolve the unmatched transfer, mark a refund done, record a consent.
    farm_a = shared.world.objects["farm_a"].id
    # The world's orders are not delivered yet (their money is pending): a delivered sale makes money to pay out.
    sale(shared.world.objects["farm_a"], utcnow(), 100000)
    data = form_with(admin.get(f"/admin/payouts/{farm_a}").get_data(as_text=True), "form_token")
    _post_ok(admin, f"/admin/payouts/{farm_a}", dict(data, amount_vnd="1000", paid_on=date.today().isoformat(),
                                                     bank_reference=v("Q19")), "payout")
    unmatched = db.session.scalar(select(BankTransfer).where(BankTransfer.transaction_id == "FTXSS2"))
    _post_ok(admin, f"/admin/transfers/{unmatched.id}/resolve", {f"t{unmatched.id}-note": v("Q20")}, "resolve")
    _post_ok(admin, f"/admin/refunds/{p['refund']}/done", {f"r{p['refund']}-bank_reference": v("Q21")}, "refund")
    _post_ok(admin, f"/admin/farms/{farm_a}/assist", {"way": "phone", "days": "7", "note": v("Q22")}, "consent")

    newcomer_farm = db.session.scalar(select(Farm).where(Farm.name == v("Q02")))
    product = db.session.get(Product, p["product_a"])
    ticket = db.session.scalar(select(Ticket).join(Ticket.line).where(Ticket.line.has(
        farm_order_id=order.farm_orders[0].id)))
    return dict(order=order, farm_order=order.farm_orders[0].id, newcomer_farm=newcomer_farm.id,
                product_slug=product.slug, ticket=ticket.code, transfer=unmatched.id)


def _crawl(shared, clients: dict, made: dict, seen: Seen, payload: str) -> None:
    p = dict(shared.world.params, product_a_slug=made["product_slug"])
    order = made["order"]

    def read(role: str, url: str):
        seen.read(f"{role}: {url}", clients[role].get(url, follow_redirects=True))

    for endpoint, entry in ROUTES.items():
        outcomes = entry.expect.get("GET")
        if not outcomes:
            continue
        allowed = dict(zip(("anonymous", "buyer_a", "buyer_b", "farmer_a", "farmer_b", "admin"), outcomes))
        role = next((r for r in CRAWL_AS if allowed[r] == OK), None)
        url = entry.url.format(**p)
        if role is not None:
            read(role, url)
        if allowed["admin"] == "assist":  # staff helping farmer A (consent recorded above)
            read("admin", url)
    for role, url in [
        ("newcomer", "/account"), ("newcomer", "/sell"), ("applicant", "/sell"),
        ("admin", f"/admin/applications/{made['newcomer_farm']}"), ("admin", "/admin/farms?status=suspended"),
        ("admin", "/admin/transfers"), ("admin", "/admin/outbox"), ("admin", "/admin/audit"),
        ("admin", f"/admin/farms/{p['farm_a']}/assist"), ("admin", f"/orders/{order.public_id}"),
        ("buyer_a", f"/orders/{order.public_id}"), ("buyer_a", f"/orders/{order.public_id}/receipt"),
        ("buyer_a", f"/orders/{order.public_id}/pay"), ("buyer_a", f"/tickets/{made['ticket']}"),
        ("anonymous", f"/orders/{order.public_id}?key={order.secret}"),
        ("anonymous", f"/tickets/{made['ticket']}?key={order.secret}"),
        ("farmer_a", f"/farmer/orders/{made['farm_order']}"), ("farmer_a", f"/farmer/orders/{made['farm_order']}/packing-list"),
        ("farmer_a", f"/farmer/slots/{p['slot_a']}/manifest"), ("farmer_a", "/farmer/assistance"),
        ("farmer_a", f"/farmer/orders/{made['farm_order']}/cancel"),
        ("farmer_b", "/farmer/products"), ("farmer_b", "/farmer/tours"), ("farmer_b", "/farmer/dashboard"),
        ("farmer_b", "/farmer/orders"),
    ]:
        read(role, url)
    for what, response in clients["pages"]:
        seen.read(what, response)

    # Echoed inputs.
    v = lambda tag: _value(tag, payload)  # noqa: E731
    seen.read("search", clients["anonymous"].get("/products", query_string={"q": v("Q30")}))
    seen.read("login", shared.app.test_client().post("/login", data={"email": v("Q31"), "password": "x"}))
    seen.read("forgot", clients["anonymous"].post("/password/forgot", data={"email": v("Q32")}))
    seen.read("check-in", clients["farmer_a"].get("/farmer/checkin", query_string={"code": v("Q33")}))
    seen.read("audit filter", clients["admin"].get("/admin/audit", query_string={"action": v("Q34"),
                                                                                  "actor": v("Q35")}))


_LINK = re.compile(r"https?://\S+")


def _outbox_as_typed(payload: str) -> set[str]:
    """Tags found in the messages of the outbox; each one there as typed (text, not HTML-escaped). The links
    of the messages are left out: a random token in one may spell a tag."""
    found = set()
    for note in db.session.scalars(select(Notification)):
        for tag in STORED:
            for text in (note.subject, _LINK.sub("", note.body)):
                if tag in text:
                    assert _value(tag, payload) in text or f"{tag} {payload}" in text, (note.kind, tag, text)
                    found.add(tag)
    return found


@pytest.mark.parametrize("name", PAYLOADS)
def test_payload_comes_out_escaped_everywhere(fresh_world, name):
    shared, payload = fresh_world, PAYLOADS[name]
    clients = {role: shared.client(role, fresh=True) for role in ("anonymous", "buyer_a", "farmer_a", "farmer_b",
                                                                   "admin")}
    clients["applicant"] = shared.app.test_client()
    sign_in(clients["applicant"], db.session.scalar(select(User).where(User.email == "applicant@example.vn")))
    clients["pages"] = []
    made = _type_everything(shared, payload, clients)
    seen = Seen(payload)
    _crawl(shared, clients, made, seen, payload)

    # Every field was stored and shown somewhere (else the test would prove nothing about it).
    assert sorted(set(STORED) - set(seen.shown)) == [], "fields never shown"
    if payload.isprintable():  # (the search drops characters that are not, such as U+202E)
        assert set(seen.shown) >= set(REFLECTED) - {"Q33"}, "echoed inputs not shown"
    in_outbox = _outbox_as_typed(payload)
    assert {"Q09", "Q11", "Q15"} <= in_outbox, in_outbox
    tour = shared.world.objects["tour_a"]
    db.session.refresh(tour)
    assert not tour.map_url or re.match(r"https?://", tour.map_url), tour.map_url
    pairs = sum(len(pages) for pages in seen.shown.values())
    print(f"\nXSS {name}: {len(STORED) + len(REFLECTED)} fields, {seen.pages} pages read, "
          f"{pairs} field-on-page showings checked, {len(in_outbox)} fields in the outbox as typed")
