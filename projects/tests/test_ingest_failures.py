"""Ingest never strands a photo: a damaged file ends rejected with a plain reason, our own
failures end failed after a few tries, and the sweep finishes what a lost worker left."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from django.utils import timezone

from conftest import CAMERA_HEIC, shared_photo
from photolisting.celery import app as celery_app
from projects.models import Photo
from projects.tests import damaged
from projects.tests.test_uploads import send, start

pytestmark = pytest.mark.django_db(transaction=True)

# What must never reach a person: a Python repr, a library's names, its raw wording.
INTERNALS = re.compile(
    r"<|0x|_io|Plugin|MAX_TEXT|Error|Exception|bytes not processed|Invalid input|iloc|decoder"
)


def via_multipart(upload, api, client, project, data: bytes, content_type: str):
    return upload(data, "upload.bin")


def via_direct_upload(upload, api, client, project, data: bytes, content_type: str):
    started = start(api, project, data, content_type=content_type)
    assert started.status_code == 201, started.content
    assert send(client, started.json()["target"], data).status_code in (200, 201, 204)
    return api.post(f"/api/v1/uploads/{started.json()['id']}/complete")


FLOWS = [via_multipart, via_direct_upload]

DAMAGED = [
    ("png-broken-stream", damaged.png_broken_stream, "image/png", "corrupt_image"),
    ("png-truncated-last-chunk", damaged.png_truncated_last_chunk, "image/png", "truncated_image"),
    ("png-truncated-pixels", damaged.png_truncated_pixels, "image/png", "truncated_image"),
    ("jpeg-truncated", damaged.jpeg_truncated, "image/jpeg", "truncated_image"),
    ("heic-truncated", damaged.heic_truncated, "image/heic", "truncated_image"),
    # A tiled camera HEIC cut in half still decodes (blank tiles): the container says it is cut.
    ("camera-heic-halved", lambda: (d := shared_photo(CAMERA_HEIC))[: len(d) // 2], "image/heic", "truncated_image"),
    ("png-text-bomb", damaged.png_text_bomb, "image/png", "decompression_bomb"),
    ("png-pixel-bomb", lambda: damaged.png_claiming(100_000, 100_000), "image/png", "decompression_bomb"),
    ("png-too-many-pixels", lambda: damaged.png_claiming(13_000, 12_000, padding=400_000), "image/png", "too_many_pixels"),
]  # fmt: skip


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("kind", "make", "content_type", "code"), DAMAGED, ids=[d[0] for d in DAMAGED]
)
def test_damaged_files_end_rejected_with_a_plain_reason_at_once(
    kind, make, content_type, code, flow, upload, api, client, project, wait_for_ingest, caplog
):  # fmt: skip
    data = make()
    started = time.monotonic()
    response = flow(upload, api, client, project, data, content_type)
    assert response.status_code == 201, response.content
    # Within seconds: a retried decode would take 2 + 8 + 30 s before giving up.
    photo = wait_for_ingest(response.json()["id"], timeout=10)
    elapsed = time.monotonic() - started

    assert (photo.status, photo.rejection_code) == ("rejected", code), photo.rejection_message
    assert elapsed < 10
    assert "retrying" not in caplog.text
    body = api.get(f"/api/v1/photos/{photo.id}/").json()
    assert body["rejection"]["code"] == code and body["failure"] is None
    message = body["rejection"]["message"]
    assert len(message) > 20 and not INTERNALS.search(message), message
    if code == "too_many_pixels":
        assert "150 megapixels" in message
    # The original stays for inspection; nothing was rendered.
    assert storages["originals"].exists(photo.storage_key)
    assert body["urls"]["thumbnail"] is None


def test_bigtiff_is_unsupported_the_same_way_by_both_flows(upload, api, client, project):
    data = damaged.bigtiff()
    multipart = upload(data, "scan.tif")
    started = start(api, project, data, content_type="image/tiff").json()
    send(client, started["target"], data)
    direct = api.post(f"/api/v1/uploads/{started['id']}/complete")

    assert multipart.status_code == direct.status_code == 415
    assert (
        multipart.json()["error"]["code"] == direct.json()["error"]["code"] == "unsupported_format"
    )
    assert multipart.json()["error"]["message"] == direct.json()["error"]["message"]
    assert not Photo.objects.exists()


def test_a_lost_original_fails_after_bounded_retries_then_the_user_retries(
    upload, api, wait_for_ingest, caplog, monkeypatch
):
    """Storage trouble is ours: retried a few times, then ``failed`` with a reason, never left
    ``processing``; once the file is back, ``POST .../retry`` ingests it."""
    from projects.tasks import INGEST_RETRY_DELAYS, ingest_photo

    data = damaged.encoded(damaged.synthetic_photo(), "JPEG")
    photo = wait_for_ingest(upload(data, "room.jpg").json()["id"])
    assert photo.status == "ready"
    storages["originals"].delete(photo.storage_key)
    Photo.objects.filter(id=photo.id).update(status=Photo.Status.UPLOADED)

    # Run here, as a worker would: retries run inline, their errors recorded, not raised.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    ingest_photo.apply(args=[str(photo.id)])

    photo.refresh_from_db()
    assert (photo.status, photo.rejection_code) == ("failed", "ingest_failed")
    assert caplog.text.count("retrying") == len(INGEST_RETRY_DELAYS)
    body = api.get(f"/api/v1/photos/{photo.id}/").json()
    assert body["failure"]["code"] == "ingest_failed" and body["rejection"] is None
    assert not INTERNALS.search(body["failure"]["message"])

    storages["originals"].save(photo.storage_key, io.BytesIO(data))
    retried = api.post(f"/api/v1/photos/{photo.id}/retry")
    assert retried.status_code == 202
    assert wait_for_ingest(photo.id).status == "ready"
    again = api.post(f"/api/v1/photos/{photo.id}/retry")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_retryable"


def test_rejected_photo_can_be_deleted_and_others_cannot_touch_it(
    upload, api, client_for, wait_for_ingest
):
    from accounts.tests.factories import UserFactory

    photo = wait_for_ingest(upload(damaged.jpeg_truncated(), "cut.jpg").json()["id"])
    assert photo.status == "rejected"
    stranger = client_for(UserFactory())
    assert stranger.post(f"/api/v1/photos/{photo.id}/retry").status_code == 404
    assert stranger.delete(f"/api/v1/photos/{photo.id}/").status_code == 404
    assert api.post("/api/v1/photos/not-a-uuid/retry").status_code == 404

    assert api.delete(f"/api/v1/photos/{photo.id}/").status_code == 204
    assert not Photo.objects.filter(id=photo.id).exists()
    assert not storages["originals"].exists(photo.storage_key)


# --- The sweep --------------------------------------------------------------------------------


def _left_behind(photo: Photo, *, minutes_ago: int, sweeps: int = 0) -> None:
    """What a worker killed mid-ingest leaves: ``processing``, and no message to finish it."""
    Photo.objects.filter(id=photo.id).update(
        status=Photo.Status.PROCESSING,
        ingest_queued_at=timezone.now() - timedelta(minutes=minutes_ago),
        ingest_sweeps=sweeps,
    )


def test_sweep_requeues_a_stuck_photo_once_then_fails_it(upload, wait_for_ingest, settings):
    settings.PHOTO_INGEST_DEADLINE = 600
    data = damaged.encoded(damaged.synthetic_photo(), "JPEG")
    stuck = wait_for_ingest(upload(data, "a.jpg").json()["id"])
    recent = wait_for_ingest(upload(data[:-1] + b"\xd9", "b.jpg").json()["id"])
    hopeless = wait_for_ingest(
        upload(damaged.encoded(damaged.synthetic_photo(), "PNG")).json()["id"]
    )
    _left_behind(stuck, minutes_ago=11)
    _left_behind(recent, minutes_ago=2)
    _left_behind(hopeless, minutes_ago=11, sweeps=1)

    out = io.StringIO()
    call_command("sweep_stuck_photos", "--dry-run", stdout=out)
    assert "would queue 1 again, would fail 1" in out.getvalue()
    assert Photo.objects.get(id=stuck.id).status == "processing"

    call_command("sweep_stuck_photos", stdout=out)
    assert wait_for_ingest(stuck.id).status == "ready"
    hopeless.refresh_from_db()
    assert (hopeless.status, hopeless.rejection_code) == ("failed", "ingest_stalled")
    assert Photo.objects.get(id=recent.id).status == "processing"  # not past the deadline yet

    # Queued again and stuck again: the next sweep gives up instead of looping forever.
    _left_behind(stuck, minutes_ago=11, sweeps=1)
    call_command("sweep_stuck_photos", stdout=out)
    assert Photo.objects.get(id=stuck.id).status == "failed"


def test_sweep_runs_as_a_celery_task(upload, wait_for_ingest, settings):
    from projects.tasks import sweep_stuck_photos

    assert "sweep-stuck-photos" in settings.CELERY_BEAT_SCHEDULE
    photo = wait_for_ingest(upload(damaged.encoded(damaged.synthetic_photo(), "WEBP")).json()["id"])
    _left_behind(photo, minutes_ago=60)
    assert sweep_stuck_photos.apply().get() == 1
    assert wait_for_ingest(photo.id).status == "ready"


# --- The project page ---------------------------------------------------------------------


def test_project_page_explains_and_offers_retry_and_delete(upload, wait_for_ingest, user, client):
    client.force_login(user)
    photo = wait_for_ingest(upload(damaged.png_truncated_pixels(), "salon.png").json()["id"])
    page = client.get(f"/projects/{photo.project_id}/").content.decode()
    assert "The file is incomplete" in page
    assert f"/photos/{photo.id}/retry" in page and f"/photos/{photo.id}/delete" in page

    response = client.post(f"/projects/{photo.project_id}/photos/{photo.id}/retry")
    assert response.status_code == 302
    assert wait_for_ingest(photo.id).status == "rejected"  # the same bytes, the same verdict
    response = client.post(f"/projects/{photo.project_id}/photos/{photo.id}/delete")
    assert response.status_code == 302
    assert not Photo.objects.filter(id=photo.id).exists()


def test_admin_action_processes_failed_photos_again(client, upload, wait_for_ingest):
    from accounts.tests.factories import StaffFactory

    data = damaged.encoded(damaged.synthetic_photo(), "JPEG")
    photo = wait_for_ingest(upload(data, "room.jpg").json()["id"])
    Photo.objects.filter(id=photo.id).update(
        status=Photo.Status.FAILED, rejection_code="ingest_stalled"
    )
    client.force_login(StaffFactory())
    response = client.post(
        "/admin/projects/photo/",
        {"action": "retry_ingest", "_selected_action": [str(photo.id)]},
        follow=True,
    )
    assert "1 photo(s) queued again." in response.content.decode()
    assert wait_for_ingest(photo.id).status == "ready"
