"""Bad input never makes a 5xx: every rule of ``app.url_map``, as an anonymous visitor, buyer A, farmer A (with a
farm) and commune staff (with farm A's consent, so the farmer screens open for them too).

1. URL arguments: each ``<int:...>`` set to 0, 2**31, 2**63 and 10**30, each string argument to odd text.
2. Query parameters: every GET page with each query name the code reads (found in the source, plus those of the
   page's own URL) set to each evil value, as the roles that may open the page.
3. Forms: every form the pages show (crawled as each role), one field at a time set to each evil value while the
   others keep what the page had, posted (or, for a GET form, sent as a query) by the role that saw it.
4. Every POST rule, as every role, with every field name it may read set to each short evil value at once.

The world of tests/security/conftest.py is put back after each form and each POST rule. Everything is
deterministic: fixed values, fixed orders, no random seed. A response of 500 or more, or an exception out of the
app, is a failure; the one 5xx allowed is the card return page's 503 "card payment is unavailable" (Stripe points
at a closed local port here). Each test prints how many requests it sent.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing.converters import IntegerConverter

from core.extensions import db
from core.inputs import IdConverter
from core.time import utcnow
from tests.helpers import PASSWORD
from tests.security.conftest import restore, sign_in
from tests.security.forms import forms
from tests.security.test_authorization import ROUTES

APP_CONFIG = {"BANK_WEBHOOK_SECRET": "fuzz-bank-secret", "STRIPE_WEBHOOK_SECRET": "whsec_fuzz",
              "SEPAY_API_KEY": "fuzz-sepay-key", "CASSO_WEBHOOK_SECRET": "fuzz-casso-secret",
              "PAYOS_CHECKSUM_KEY": "fuzz-payos-checksum", "ZALO_OA_SECRET_KEY": "fuzz-zalo-oa-secret",
              "GHN_WEBHOOK_TOKEN": "fuzz-ghn-webhook-token"}
FUZZ_ROLES = ("farmer_a", "buyer_a", "admin", "anonymous")  # a form is fuzzed by the first role that sees it
INT_VALUES = (0, 2**31, 2**63, 10**30)
PATH_VALUES = ("\x00abc", "²", "a" * 3000, "-1", "1e9", "%", "'\"<>", "..")
QUERY_VALUES = ("²", "1" * 5000, "-1", "1e9", "\x00abc", "a" * 5000, str(2**63), str(2**31))
FIELD_VALUES = ("²", "1" * 100000, "-1", "1e9", "\x00abc", "a" * 100000, str(2**63), str(2**31),
                ["\x00abc", str(2**63), "²"])  # the last: several values, as a multi-select sends them
BLAST_VALUES = ("²", "-1", "\x00abc", str(2**63), ["1e9", str(10**30)])
ALLOWED_5XX = {("payments.card_return", 503)}
# What a person would type in a field the page left empty, so that the other fields pass and the odd one is the
# only thing wrong (and a value that the form accepts goes on to the services and the database).
PLAUSIBLE = {
    "name": "Dứa thử", "title": "Tham quan thử", "full_name": "Nguyễn Văn Thử", "phone": "0912345678",
    "email": "thu.nguyen@example.vn", "password": "dua-ngot-2026", "confirm": "dua-ngot-2026",
    "current": PASSWORD, "description": "Dứa ngọt.", "included": "Nước dứa.", "meeting_point": "Cổng vườn",
    "price_vnd": "25000", "stock": "10", "price_adult_vnd": "100000", "village_other": "Thôn Thử",
    "bank_bin": "970405", "bank_account_number": "2500205110001", "bank_account_name": "NGUYEN VAN THU",
    "amount_vnd": "1000", "transaction_id": "FTFUZZ0001", "content": "chuyen tien", "reason": "Lý do thử.",
    "start": "09:00", "last": "2027-01-31", "bank_reference": "FTPAYOUT1", "note": "Ghi chú.",
    "r1-bank_reference": "FTREFUND1", "t3-note": "Đã xử lý.", "action": "order.placed", "actor": "admin",
    "date_from": "2026-01-01", "date_to": "2027-01-01",
}
_PARAM = re.compile(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_READS = re.compile(r"""(?:args|form|values)(?:\.get|\.getlist)?[(\[]\s*f?["']([a-zA-Z_][a-zA-Z0-9_-]*)""")
ROOT = Path(__file__).resolve().parents[2]


def names_read_in_code(kind: str) -> list[str]:
    """Query or form names the code reads (``request.args.get("page")``, ``args.get("farm")``...)."""
    found = set()
    for folder in ("accounts", "admin", "core", "farmers", "shop", "tours"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if kind == "query" and ("args" in line or "values" in line) or kind == "form" and "form" in line:
                    found.update(_READS.findall(line))
    return sorted(found | ({"page", "farm", "q"} if kind == "query" else set()))


class Fuzzer:
    def __init__(self, shared):
        self.shared = shared
        self.app = shared.app
        self.adapter = shared.app.url_map.bind("localhost")
        self.sent = 0
        self.failures: list[str] = []
        self._clients: dict = {}
        self.found: list | None = None
        self.failed_endpoints: dict[str, int] = {}

    # -- sending ----------------------------------------------------------------------------------------------
    def client(self, role: str, fresh: bool = False):
        if fresh or role not in self._clients:
            client = self.app.test_client()
            if role != "anonymous":
                sign_in(client, self.shared.world.users[role])
            self._clients[role] = client
        return self._clients[role]

    def send(self, role: str, method: str, url: str, data=None, endpoint: str | None = None):
        self.sent += 1
        try:
            response = self.client(role).open(url, method=method, data=data)
        except Exception as error:  # noqa: BLE001 - an exception out of the app is what we look for
            db.session.rollback()
            self._fail(role, method, url, data, f"raised {error.__class__.__name__}: {str(error)[:200]}")
            return None
        if response.status_code >= 500 and (endpoint or self.endpoint(url, method), response.status_code) \
                not in ALLOWED_5XX:
            self._fail(role, method, url, data, f"answered {response.status_code}")
        return response

    def _fail(self, role, method, url, data, what):
        fields = {key: _short(value) for key, value in (data or {}).items()} if isinstance(data, dict) else data
        self.failures.append(f"{role}: {method} {_short(url)} {fields or ''} {what}")
        self.failed_endpoints[f"{method} {self.endpoint(url, method)}"] = (
            self.failed_endpoints.get(f"{method} {self.endpoint(url, method)}", 0) + 1)

    def endpoint(self, url: str, method: str) -> str | None:
        try:
            return self.adapter.match(urlsplit(url).path, method=method)[0]
        except (NotFound, MethodNotAllowed):
            return None
        except Exception:  # noqa: BLE001 - a redirect (strict slashes) and the like: not one of ours
            return None

    def start(self) -> int:
        """A new test: no failures yet; returns the requests sent so far."""
        self.failures.clear()
        self.failed_endpoints.clear()
        return self.sent

    def put_back(self) -> None:
        """The world as built, and new logins (a post may have logged a client out or changed its session)."""
        restore(self.shared.saved)
        self._clients.clear()

    # -- the URLs ---------------------------------------------------------------------------------------------
    def valid_url(self, rule) -> str:
        entry = ROUTES.get(rule.endpoint)
        if entry is not None:
            return entry.url.format(**self.shared.world.params)
        return _fill(rule.rule, {name: "1" for name in rule.arguments})

    def rules(self):
        """(rule, method) of every rule but static, HEAD and OPTIONS aside, in a fixed order."""
        return sorted(((rule, method) for rule in self.app.url_map.iter_rules() if rule.endpoint != "static"
                       for method in rule.methods - {"HEAD", "OPTIONS"}), key=lambda item: (item[0].rule, item[1]))


def _fill(template: str, values: dict) -> str:
    return _PARAM.sub(lambda match: values[match.group(2)], template)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}...({len(text)} chars)"


def _quote(value: str) -> str:
    return quote(value, safe="")


@pytest.fixture(scope="module")
def fuzzer(shared):
    """The shared world, plus farm A's consent for staff (farmer screens open to them) and buyer A's cart with
    a product and a visit (so the cart page has its quantity fields)."""
    from accounts import assist
    from shop import cart as carts
    from tests.security.conftest import snapshot
    from tours import visit_lines

    world = shared.world
    assist.record_consent(world.objects["farm_a"], world.users["admin"], way="phone", note="", days=30,
                          now=utcnow())
    store = carts.DbStore(world.users["buyer_a"].id)
    carts.add_product(store, world.objects["product_b"].id, "1")
    visit_lines.add_visit(store, world.objects["slot_a"].id, "1", "0", now=utcnow())
    db.session.commit()
    shared.saved = snapshot()
    return Fuzzer(shared)


def report(fuzzer: Fuzzer, what: str, before: int) -> None:
    print(f"\nfuzz {what}: {fuzzer.sent - before} requests, {len(fuzzer.failures)} failures")
    if fuzzer.failures:
        print("failures by endpoint:", dict(sorted(fuzzer.failed_endpoints.items())))
    assert fuzzer.failures == [], "\n".join(fuzzer.failures[:60])


# -- 1. URL arguments ---------------------------------------------------------------------------------------------

def test_odd_url_arguments(fuzzer):
    before = fuzzer.start()
    for rule, method in fuzzer.rules():
        if not rule.arguments:
            continue
        valid = fuzzer.valid_url(rule)
        split = urlsplit(valid)
        args = fuzzer.adapter.match(split.path, method=method)[1] if fuzzer.endpoint(valid, method) else {}
        args = {name: args.get(name, 1) for name in rule.arguments}
        good = {name: _quote(str(value)) for name, value in args.items()}
        query = f"?{split.query}" if split.query else ""
        for name in sorted(rule.arguments):
            odd = INT_VALUES if isinstance(rule._converters[name], (IdConverter, IntegerConverter)) else PATH_VALUES
            for value in odd:
                url = _fill(rule.rule, {**good, name: _quote(str(value))}) + query
                for role in FUZZ_ROLES:
                    fuzzer.send(role, method, url, data={} if method == "POST" else None, endpoint=rule.endpoint)
        if method == "POST":
            fuzzer.put_back()
    report(fuzzer, "URL arguments", before)


# -- 2. query parameters ------------------------------------------------------------------------------------------

def test_odd_query_parameters(fuzzer):
    before = fuzzer.start()
    names = names_read_in_code("query")
    for rule, method in fuzzer.rules():
        if method != "GET":
            continue
        valid = fuzzer.valid_url(rule)
        split = urlsplit(valid)
        own = dict(parse_qsl(split.query))
        roles = [role for role in FUZZ_ROLES if getattr(fuzzer.send(role, "GET", valid), "status_code", 0) == 200]
        for value in QUERY_VALUES:
            for role in roles or ["anonymous"]:
                # every name the code reads, the page's own (?farm=) kept; then the page's own odd as well
                fuzzer.send(role, "GET", f"{split.path}?{urlencode({**{n: value for n in names}, **own})}")
                if own:
                    fuzzer.send(role, "GET", f"{split.path}?{urlencode({n: value for n in own})}")
    report(fuzzer, "query parameters", before)


# -- 3. forms -----------------------------------------------------------------------------------------------------

def crawl(fuzzer: Fuzzer) -> list[tuple[str, str, str, dict]]:
    """(role, method, action URL, fields) of every form on every GET page, each form once (by the first role in
    FUZZ_ROLES that sees it); crawled once, in the world as built."""
    if fuzzer.found is not None:
        return fuzzer.found
    fuzzer.put_back()
    seen, found = set(), []
    for role in FUZZ_ROLES:
        for rule, method in fuzzer.rules():
            if method != "GET":
                continue
            page = fuzzer.valid_url(rule)
            response = fuzzer.send(role, "GET", page)
            if response is None or response.status_code != 200 or "html" not in response.content_type:
                continue
            for action, fields in forms(response.get_data(as_text=True)):
                url = urljoin("http://localhost" + page, action or page)
                target = urlsplit(url)
                url = target.path + (f"?{target.query}" if target.query else "")
                post_endpoint, get_endpoint = fuzzer.endpoint(url, "POST"), fuzzer.endpoint(url, "GET")
                form_method = "POST" if post_endpoint else "GET"
                key = (post_endpoint or get_endpoint, form_method, tuple(sorted(fields)))
                if key[0] is None or key in seen or not fields:
                    continue
                seen.add(key)
                plausible = {"reference": fuzzer.shared.world.objects["order_a"].reference,
                             "code": fuzzer.shared.world.params["ticket_a"], **PLAUSIBLE}
                fields = {name: plausible[name] if value in ("", "\r\n") and name in plausible else value
                          for name, value in fields.items()}
                found.append((role, form_method, url, fields))
    fuzzer.found = found
    return found


def test_odd_values_in_every_form_field(fuzzer):
    before = fuzzer.start()
    found = crawl(fuzzer)
    assert len(found) > 30, [url for _, _, url, _ in found]
    for role, method, url, fields in found:
        for name in sorted(fields):
            changed = False
            for value in FIELD_VALUES:
                data = {**fields, name: value}
                if method == "GET":
                    split = urlsplit(url)
                    query = urlencode({**dict(parse_qsl(split.query)), **data}, doseq=True)
                    fuzzer.send(role, "GET", f"{split.path}?{query}")
                    continue
                response = fuzzer.send(role, "POST", url, data=data)
                changed = changed or response is None or response.status_code < 400
            if changed:  # taken: the next field starts from the world as built again
                fuzzer.put_back()
    print(f"\nfuzz forms: {len(found)} forms")
    report(fuzzer, "form fields", before)


# -- 4. every POST rule, every role, every name at once ------------------------------------------------------------

def test_every_post_rule_with_odd_values_everywhere(fuzzer):
    before = fuzzer.start()
    names = sorted(set(names_read_in_code("form")) | {name for role, method, url, fields in crawl(fuzzer)
                                                      for name in fields})
    for rule, method in fuzzer.rules():
        if method != "POST":
            continue
        url = fuzzer.valid_url(rule)
        for role in FUZZ_ROLES:
            changed = False
            for value in BLAST_VALUES:
                response = fuzzer.send(role, "POST", url, data={name: value for name in names})
                changed = changed or response is None or response.status_code < 400
            if changed:  # a refused post changed nothing; one taken may have (a password, a logout)
                fuzzer.put_back()
    report(fuzzer, "POST rules", before)
