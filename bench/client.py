"""A small HTTP client with a cookie jar, and logging in through the real login form.

Production sends ``Secure`` session cookies; the bench talks plain HTTP to 127.0.0.1, so the jar
here keeps every cookie of the one origin it talks to (``http.cookiejar`` would drop them).
Flask-Login's "strong" session protection ties a session to the User-Agent: wrk must send the
same ``USER_AGENT`` as the login did, so ``headers()`` gives both.
"""
from __future__ import annotations

import http.client
import secrets
import ssl
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode

USER_AGENT = "kep-bench/1.0"


class BenchError(RuntimeError):
    """The bench itself cannot go on (server down, login refused, page not 200...)."""


@dataclass
class Response:
    status: int
    content_type: str
    location: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def describe(self) -> str:
        """``"HTTP 302 -> /login?next=..."`` for reports."""
        return f"HTTP {self.status}" + (f" -> {self.location}" if self.location else "")


class _CsrfInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[tuple[str, str]] = []  # (action of the enclosing form, token)
        self._action = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._action = attributes.get("action") or ""
        elif tag == "input" and attributes.get("name") == "csrf_token" and attributes.get("value"):
            self.tokens.append((self._action, attributes["value"] or ""))


def csrf_token_from(html: str, action: str = "/login") -> str:
    """The CSRF token of the form posting to ``action`` (or of the first form that has one)."""
    parser = _CsrfInputs()
    parser.feed(html)
    for form_action, token in parser.tokens:
        if form_action.split("?")[0].endswith(action) or form_action == "":
            return token
    if parser.tokens:
        return parser.tokens[0][1]
    raise BenchError("no csrf_token input in the login page")


def _multipart(form: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = "kep" + secrets.token_hex(12)
    parts = []
    for name, value in form.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class HttpSession:
    """Requests to one ``host:port``, one connection each, with the cookies the server set.

    ``scheme="https"`` talks TLS without checking the certificate (a self-signed one, in the deployment
    tests); ``host_header`` sends another Host than the address connected to, as a browser would for the
    site's name."""

    def __init__(self, host: str, port: int, *, scheme: str = "http", host_header: str | None = None) -> None:
        self.host, self.port = host, port
        self.scheme, self.host_header = scheme, host_header
        self.cookies: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host_header or f'{self.host}:{self.port}'}"

    def headers(self) -> dict[str, str]:
        """Headers that make a request part of this session (for wrk too)."""
        headers = {"User-Agent": USER_AGENT}
        if self.host_header:
            headers["Host"] = self.host_header
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                referer: str = "", files: dict[str, tuple[str, bytes, str]] | None = None) -> Response:
        """``files`` maps a field to (file name, bytes, content type): the form goes as multipart/form-data."""
        headers = self.headers()  # no Accept-Encoding: bodies come uncompressed
        if referer:
            headers["Referer"] = self.base_url + referer
        body = None
        if files:
            body, headers["Content-Type"] = _multipart(form or {}, files)
        elif form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.scheme == "https":
            connection = http.client.HTTPSConnection(self.host, self.port, timeout=30,
                                                     context=ssl._create_unverified_context())
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            data = raw.read()
            self._store_cookies(raw.msg.get_all("Set-Cookie") or [])
            return Response(raw.status, raw.getheader("Content-Type", ""), raw.getheader("Location", ""), data)
        finally:
            connection.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str], referer: str = "",
             files: dict[str, tuple[str, bytes, str]] | None = None) -> Response:
        return self.request("POST", path, form, referer, files)

    def _store_cookies(self, headers: list[str]) -> None:
        for header in headers:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                expired = morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970")
                if expired or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def login(self, email: str, password: str) -> None:
        """Log in like a browser: GET /login for the CSRF token and cookie, then POST the form."""
        page = self.get("/login")
        if page.status != 200:
            raise BenchError(f"GET /login answered {page.describe()}")
        answer = self.post("/login", {"csrf_token": csrf_token_from(page.text), "email": email,
                                      "password": password}, referer="/login")
        if answer.status not in (302, 303) or not self.cookies:
            raise BenchError(f"logging in as {email} failed: {answer.describe()} "
                             "(wrong password, CSRF token refused, or rate-limited?)")
