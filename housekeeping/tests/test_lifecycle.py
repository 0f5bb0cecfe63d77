"""Lifecycle commands with frozen time: archive and restore, temp files, inactive accounts."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import jpeg_bytes
from projects.models import DirectUpload, Photo, Project
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def original_is_hot(photo: Photo) -> bool:
    if storages["originals"].__class__.__name__ == "S3Storage":
        storage = storages["originals"]
        head = storage.connection.meta.client.head_object(
            Bucket=storage.bucket_name, Key=photo.storage_key
        )
        return head.get("StorageClass", "STANDARD") == "STANDARD"
    return storages["originals"].exists(photo.storage_key)


def test_photos_untouched_for_thirty_days_go_cold_and_come_back_on_access(
    api, user, upload, wait_for_ingest, fetch
):
    api.force_authenticate(user)  # sessions expire during the month we skip
    start = timezone.now() - timedelta(hours=1)  # so the last access below is in the past
    with time_machine.travel(start, tick=False):
        recent = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (80, 60), "red"))).json()["id"])
        stale = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (80, 60), "blue"))).json()["id"])
    with time_machine.travel(start + timedelta(days=29), tick=False):
        assert api.get(f"/api/v1/photos/{recent.id}/").status_code == 200  # accessed on day 29
        recorded_by = time.monotonic() + 30  # a worker records the access, with its day
        while Photo.objects.get(pk=recent.pk).last_accessed_at != timezone.now():
            assert time.monotonic() < recorded_by, "the access was not recorded"
            time.sleep(0.1)
    with time_machine.travel(start + timedelta(days=31), tick=False):
        assert "would affect 1 item" in run("archive_unused_photos", "--dry-run")
        assert Photo.objects.filter(archived_at__isnull=False).count() == 0
        assert "affected 1 item" in run("archive_unused_photos")
    stale.refresh_from_db()
    recent.refresh_from_db()
    assert stale.archived_at is not None and recent.archived_at is None
    assert not original_is_hot(stale)
    # Galleries keep working: renditions never go cold.
    assert (
        fetch(api.get("/api/v1/photos/?status=ready").json()["results"][0]["urls"]["thumbnail"])[0]
        == 200
    )

    # An access whose task a worker runs later than the request (here: an hour later).
    accessed_at = start + timedelta(seconds=1)
    with time_machine.travel(accessed_at, tick=False):
        detail = api.get(f"/api/v1/photos/{stale.id}/")  # the original starts coming back
    assert detail.status_code == 200
    deadline = timezone.now() + timedelta(seconds=30)
    while Photo.objects.get(pk=stale.pk).archived_at is not None:
        assert timezone.now() < deadline
    assert original_is_hot(stale)
    # Restored by a worker whose clock is later: the access keeps the request's time.
    assert Photo.objects.get(pk=stale.pk).last_accessed_at == accessed_at
    status, _, data = fetch(api.get(f"/api/v1/photos/{stale.id}/").json()["urls"]["original"])
    assert status == 200 and hashlib.sha256(data).hexdigest() == stale.sha256


def test_purge_temp_files_removes_abandoned_uploads_and_stale_exports(api, project, user):
    body = {
        "project": str(project.id),
        "content_type": "image/jpeg",
        "size": 20_000_000,
        "sha256": "a" * 64,
        "filename": "big.jpg",
    }
    upload_id = api.post("/api/v1/uploads/", body, format="json").json()["id"]
    # Storage timestamps are real, so the files are made two seconds apart and the clock is
    # moved to 24 h and 1 s after the first one.
    stale = storages["exports"].save(f"{upload_id}/stale.zip", ContentFile(b"zip"))
    made = timezone.now()
    time.sleep(2.1)
    fresh = storages["exports"].save(f"{upload_id}/fresh.zip", ContentFile(b"zip"))
    with time_machine.travel(made + timedelta(hours=24, seconds=1), tick=False):
        report = run("purge_temp_files", "--dry-run", "--verbose-items")
        assert f"exports/{stale}" in report and f"exports/{fresh}" not in report
        assert DirectUpload.objects.get(id=upload_id).status == "pending"
        run("purge_temp_files")
    assert DirectUpload.objects.get(id=upload_id).status == "expired"
    assert not storages["exports"].exists(stale)
    assert storages["exports"].exists(fresh)


def test_inactive_accounts_are_warned_then_purged_unless_they_come_back(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        leaving = UserFactory(last_login=start)
        returning = UserFactory(last_login=start)
        active = UserFactory(last_login=start + timedelta(days=300))
        photo_project = ProjectFactory(owner=leaving)
        key = storages["originals"].save(
            f"{photo_project.id}/x/original.jpg", ContentFile(b"\xff\xd8\xff" + b"0" * 100)
        )
        Photo.objects.create(
            project=photo_project,
            uploaded_by=leaving,
            storage_key=key,
            bytes=103,
            sha256="0" * 64,
            format="JPEG",
        )

    with time_machine.travel(start + timedelta(days=366), tick=False):
        assert "would affect 2 item" in run("notify_inactive_accounts", "--dry-run")
        assert not mail.outbox
        run("notify_inactive_accounts")
        assert sorted(m.to[0] for m in mail.outbox) == sorted([leaving.email, returning.email])
        deadline = (start + timedelta(days=366 + 30)).strftime("%d %B %Y")
        assert deadline in mail.outbox[0].body
        assert "affected 0 item" in run("purge_inactive_accounts")  # notice period not over

    with time_machine.travel(start + timedelta(days=380), tick=False):
        client.post(
            "/accounts/login/",
            {"login": returning.email, "password": "correct-horse-battery-staple"},
        )

    with time_machine.travel(start + timedelta(days=397), tick=False):
        assert "would affect 1 item" in run("purge_inactive_accounts", "--dry-run")
        assert User.objects.filter(pk=leaving.pk).exists()
        run("purge_inactive_accounts")
    assert not User.objects.filter(pk=leaving.pk).exists()
    assert not Project.objects.filter(pk=photo_project.pk).exists()
    assert not storages["originals"].exists(key)
    assert User.objects.filter(pk=returning.pk, purge_after=None).exists()
    assert User.objects.filter(pk=active.pk).exists()
