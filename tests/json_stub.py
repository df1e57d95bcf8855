"""The HTTP side of the local stand-ins for outside services (payOS, GHN, Zalo and eSMS): a server on a free
port of 127.0.0.1 that hands each request to ``holder["fake"].answer(method, path, headers, raw)`` and writes the
``(status, JSON object)`` it returns. The fake in the holder is replaced test by test, the server kept for the run
(so the app's settings, which name its address, stay the same)."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    holder: dict

    def _answer(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer = self.holder["fake"].answer(method, self.path, self.headers, raw)
        out = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):  # noqa: N802
        self._answer("GET")

    def do_POST(self):  # noqa: N802
        self._answer("POST")

    def log_message(self, *args):
        pass


@contextmanager
def serving(holder: dict):
    """A stand-in server answering through ``holder["fake"]``; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"holder": holder}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
