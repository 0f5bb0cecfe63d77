"""Outbound webhooks to a real HTTP receiver on loopback: signed, retried, logged, replayed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from accounts.tests.factories import UserFactory
from conftest import jpeg_bytes
from integrations.models import WebhookDelivery, WebhookEndpoint
from photolisting.errors import ApplicationError

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """A CRM's endpoint: records what arrives, answers with scripted statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.statuses: deque[int] = deque()
        self.always: int | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers, body))  # case-insensitive, like HTTP
                status = receiver.always or (
                    receiver.statuses.popleft() if receiver.statuses else 200
                )
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"nope")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def events(self, event_type: str) -> list[dict]:
        return [
            json.loads(body)
            for headers, body in self.received
            if headers["PhotoListing-Event"] == event_type
        ]


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def wait_until(condition, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def register(api, receiver, events=()):
    response = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": list(events)}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does, written from the documentation, not from our code."""
    parts = dict(item.split("=", 1) for item in headers["PhotoListing-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def test_ingest_events_arrive_signed(api, receiver, upload, wait_for_ingest):
    endpoint = register(api, receiver, ["photo.ingested", "photo.rejected"])
    assert endpoint["secret"].startswith("plwh_")
    good = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (64, 48)))).json()["id"])
    bad = wait_for_ingest(upload(b"\xff\xd8\xff\xe0" + b"\0" * 300, "bad.jpg").json()["id"])
    wait_until(lambda: len(receiver.received) == 2)
    for headers, body in receiver.received:
        assert verify(endpoint["secret"], headers, body)
        assert not verify("plwh_wrong", headers, body)
    (ingested,) = receiver.events("photo.ingested")
    assert ingested["data"]["photo"] == str(good.id) and ingested["data"]["width"] == 64
    (rejected,) = receiver.events("photo.rejected")
    assert rejected["data"]["photo"] == str(bad.id) and rejected["data"]["code"] == "corrupt_image"
    log = api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()
    assert {d["status"] for d in log} == {"succeeded"}


def test_failures_are_retried_with_backoff_then_succeed(api, receiver, upload):
    register(api, receiver, ["photo.ingested"])
    receiver.statuses.extend([500, 503])
    upload(jpeg_bytes(Image.new("RGB", (64, 48))))
    wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists())
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 3 and delivery.response_status == 200
    ids = {json.loads(body)["id"] for _, body in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1, "retries resend the same event"


def test_endpoint_switched_off_after_repeated_failures_then_replayed(api, receiver, upload):
    endpoint = register(api, receiver, ["photo.ingested"])
    receiver.always = 500
    for shade in (10, 20):
        upload(jpeg_bytes(Image.new("RGB", (64, 48), (shade, 0, 0))))
        wait_until(
            lambda n=shade: (
                WebhookDelivery.objects.filter(status="failed").count() >= (1 if n == 10 else 2)
            )
        )
    wait_until(lambda: not WebhookEndpoint.objects.get(id=endpoint["id"]).is_active)
    disabled = WebhookEndpoint.objects.get(id=endpoint["id"])
    assert "in a row failed" in disabled.disabled_reason
    upload(jpeg_bytes(Image.new("RGB", (64, 48), (30, 0, 0))))
    assert WebhookDelivery.objects.count() == 2  # nothing is queued for a disabled endpoint

    receiver.always = None
    assert api.patch(
        f"/api/v1/webhooks/{endpoint['id']}/", {"is_active": True}, format="json"
    ).json()["is_active"]
    failed = WebhookDelivery.objects.filter(status="failed").first()
    before = len(receiver.received)
    replay = api.post(f"/api/v1/webhook-deliveries/{failed.id}/replay")
    assert replay.status_code == 202
    wait_until(
        lambda: WebhookDelivery.objects.filter(replay_of=failed, status="succeeded").exists()
    )
    assert str(failed.event_id) in [
        json.loads(body)["id"] for _, body in receiver.received[before:]
    ]


def test_job_and_batch_events(api, receiver, ready_photos, wait_for_job):
    register(api, receiver, ["job.succeeded", "batch.completed"])
    photos = ready_photos(2)
    jobs = api.post("/api/v1/jobs/", {"photos": photos, "preset": "natural"}, format="json").json()[
        "jobs"
    ]
    for job in jobs:
        wait_for_job(job["id"])

    def events(event_type: str) -> dict[str, dict]:
        # At least once: a redelivered task may send an event again, with the same id.
        return {event["id"]: event for event in receiver.events(event_type)}

    wait_until(lambda: len(events("job.succeeded")) == 2 and events("batch.completed"))
    (batch,) = events("batch.completed").values()
    assert batch["data"]["jobs"] == {"succeeded": 2}


def test_registration_is_validated_and_scoped(api, client_for, receiver, settings):
    bad = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["photo.deleted"]}, format="json"
    )
    assert bad.status_code == 400
    endpoint = register(api, receiver)
    stranger = client_for(UserFactory())
    assert (
        stranger.patch(
            f"/api/v1/webhooks/{endpoint['id']}/", {"is_active": False}, format="json"
        ).status_code
        == 404
    )
    assert stranger.get("/api/v1/webhooks/").json() == []

    from integrations.services import endpoint_create

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    for url in (receiver.url, "https://127.0.0.1/hooks", "https://10.0.0.8/hooks"):
        with pytest.raises(ApplicationError):
            endpoint_create(user=UserFactory(), url=url, events=[])
