"""Deliveries re-check where they go at the moment they are sent: a redirect to a private address
and a host name that re-resolves to one (DNS rebinding) are refused before any connection, and
nothing from such a target is kept."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from conftest import jpeg_bytes
from integrations.models import WebhookDelivery
from integrations.tests.test_webhooks import wait_until
from photolisting.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


class Server:
    """A loopback HTTP server that records each POST and answers as told (``redirect_to``)."""

    def __init__(self, host: str, redirect_to: str | None = None) -> None:
        self.hits: list[str] = []
        self.redirect_to = redirect_to
        self.redirect_status = 307
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                server.hits.append(self.path)
                if server.redirect_to and self.path == "/hooks":
                    self.send_response(server.redirect_status)
                    self.send_header("Location", server.redirect_to)
                    self.end_headers()
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"internal secret: db password hunter2")

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://{host}:{self.httpd.server_port}"


@pytest.fixture
def servers(settings, monkeypatch):
    # Only the receiver's loopback address is trusted; 127.0.0.2 plays an internal service.
    # These settings (and a patched resolver) exist in this process only, so the upload, its
    # event and every delivery attempt run here too, even when a real worker is running.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    internal = Server("127.0.0.2")
    receiver = Server("127.0.0.1")
    yield receiver, internal
    for server in (receiver, internal):
        server.httpd.shutdown()


def register(api, url: str) -> None:
    response = api.post("/api/v1/webhooks/", {"url": url, "events": []}, format="json")
    assert response.status_code == 201, response.content


def deliver_one(upload) -> WebhookDelivery:
    upload(jpeg_bytes(Image.new("RGB", (64, 48))))
    wait_until(lambda: WebhookDelivery.objects.exclude(status="pending").exists())
    return WebhookDelivery.objects.get()


def test_a_302_is_not_followed_at_all(api, upload, servers):
    """(Python's urllib turned a 302 into a GET to wherever it pointed.)"""
    receiver, internal = servers
    receiver.redirect_to, receiver.redirect_status = f"{internal.base}/admin", 302
    register(api, f"{receiver.base}/hooks")
    delivery = deliver_one(upload)
    assert delivery.status == "failed" and delivery.response_status == 302
    assert internal.hits == []


@pytest.mark.parametrize(
    "target", ["internal", "http://169.254.169.254/latest/meta-data/", "http://10.20.30.40/"]
)
def test_a_redirect_to_a_private_address_is_refused_and_nothing_kept(api, upload, servers, target):
    receiver, internal = servers
    receiver.redirect_to = f"{internal.base}/admin" if target == "internal" else target
    register(api, f"{receiver.base}/hooks")
    delivery = deliver_one(upload)
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("invalid_url")
    assert delivery.response_status is None and delivery.response_body == ""
    assert receiver.hits and set(receiver.hits) == {"/hooks"}  # every attempt stopped there
    assert internal.hits == []


def test_a_redirect_to_an_allowed_address_is_followed(api, upload, servers):
    receiver, _ = servers
    receiver.redirect_to = f"{receiver.base}/moved"
    register(api, f"{receiver.base}/hooks")
    delivery = deliver_one(upload)
    assert delivery.status == "succeeded" and delivery.response_status == 200
    assert receiver.hits == ["/hooks", "/moved"]


def test_a_host_that_re_resolves_to_a_private_address_is_refused(api, upload, servers, monkeypatch):
    _, internal = servers
    port = internal.httpd.server_port
    real_getaddrinfo = socket.getaddrinfo
    answers = {"hooks.example.test": "127.0.0.1"}

    def resolver(host, *args, **kwargs):
        """A DNS server under the attacker's control: same name, another address later."""
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    register(api, f"http://hooks.example.test:{port}/hooks")  # resolved to the trusted address
    answers["hooks.example.test"] = "127.0.0.2"
    delivery = deliver_one(upload)
    assert delivery.status == "failed" and delivery.last_error.startswith("invalid_url")
    assert delivery.response_body == "" and internal.hits == []
