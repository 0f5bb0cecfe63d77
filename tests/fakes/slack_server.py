"""A local stand-in for a Slack incoming webhook: accepts ``POST`` JSON ``{"text": ...}`` and
answers ``ok`` as Slack does; ``messages`` keeps what arrived."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSlack:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.url = ""


def start() -> tuple[ThreadingHTTPServer, FakeSlack]:
    state = FakeSlack()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Type") != "application/json":
                self.send_response(400)
                self.end_headers()
                self.wfile.write(b"invalid_payload")
                return
            state.messages.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state
