"""Direct-to-storage uploads: presigned targets, resumable parts, verification on completion."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests
from django.core.files.storage import storages
from PIL import Image

from conftest import jpeg_bytes
from projects.models import DirectUpload, Photo
from projects.tests.factories import ProjectFactory
from projects.uploads import PART_SIZE

pytestmark = pytest.mark.django_db(transaction=True)


def photo_bytes(extra: int = 0) -> bytes:
    """A real JPEG, padded after its end marker when a test needs a big file."""
    return jpeg_bytes(Image.new("RGB", (320, 240), (180, 120, 60))) + os.urandom(extra)


def start(api, project, data: bytes, **overrides):
    body = {
        "project": str(project.id),
        "filename": "IMG_2001.JPG",
        "content_type": "image/jpeg",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        **overrides,
    }
    return api.post("/api/v1/uploads/", body, format="json")


def send(client, target: dict, data: bytes, *, start_at: int | None = None):
    """What a phone does with the target: a presigned POST, S3 part PUTs, or local PUTs."""
    if target["method"] == "POST":
        return requests.post(
            target["url"], data=target["fields"], files={"file": ("photo", data)}, timeout=30
        )
    if target["method"] == "PUT":
        headers = {}
        if start_at is not None:
            headers["HTTP_CONTENT_RANGE"] = f"bytes {start_at}-{start_at + len(data) - 1}/*"
        return client.put(target["url"], data, content_type="application/octet-stream", **headers)
    raise AssertionError(target["method"])


def test_direct_upload_then_complete_ingests_the_photo(api, project, client, wait_for_ingest):
    data = photo_bytes()
    started = start(api, project, data)
    assert started.status_code == 201
    target = started.json()["target"]
    response = send(client, target, data)
    assert response.status_code in (200, 201, 204)
    completed = api.post(f"/api/v1/uploads/{started.json()['id']}/complete")
    assert completed.status_code == 201, completed.content
    photo = wait_for_ingest(completed.json()["id"])
    assert photo.status == "ready" and photo.original_filename == "IMG_2001.JPG"
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    again = api.post(f"/api/v1/uploads/{started.json()['id']}/complete")
    assert again.json()["id"] == str(photo.id)  # completing twice is harmless
    assert Photo.objects.count() == 1


@pytest.mark.parametrize(
    ("declared", "sent", "code"),
    [
        ({}, "bigger", "size_mismatch"),
        ({"sha256": "0" * 64}, "same", "checksum_mismatch"),
        ({"content_type": "image/png"}, "same", "content_type_mismatch"),
    ],
)
def test_completion_verifies_what_arrived(api, project, client, declared, sent, code, settings):
    data = photo_bytes()
    started = start(api, project, data, **declared).json()
    payload = data + b"\0" * 5000 if sent == "bigger" else data
    if started["target"]["method"] == "PUT" and sent == "bigger":
        # Locally the endpoint itself refuses more bytes than announced.
        assert send(client, started["target"], payload).status_code == 413
        storages["originals"].save(
            DirectUpload.objects.get().storage_key, __import__("io").BytesIO(payload)
        )
    else:
        send(client, started["target"], payload)
    refused = api.post(f"/api/v1/uploads/{started['id']}/complete")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == code
    upload = DirectUpload.objects.get()
    assert upload.status == "failed" and not storages["originals"].exists(upload.storage_key)
    assert not Photo.objects.exists()


def test_start_refuses_what_cannot_be_a_photo(api, project, settings):
    data = photo_bytes()
    assert start(api, project, data, content_type="image/gif").status_code == 415
    settings.PHOTO_MAX_UPLOAD_BYTES = 1000
    too_big = start(api, project, data)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "file_too_large"
    assert start(api, ProjectFactory(), data).status_code == 404
    assert not DirectUpload.objects.exists()


def test_a_cut_upload_resumes_where_it_stopped(api, project, client, wait_for_ingest, settings):
    data = photo_bytes(extra=PART_SIZE + 3 * 1024 * 1024)  # two parts
    started = start(api, project, data).json()
    upload_id = started["id"]
    target = started["target"]
    cut = int(len(data) * 0.7)
    if target["method"] == "multipart":
        assert len(target["parts"]) == 2 and target["part_size"] == PART_SIZE
        first = target["parts"][0]
        assert requests.put(first["url"], data=data[:PART_SIZE], timeout=30).status_code == 200
        # The phone lost its connection here; later it asks where it stands.
        resumed = api.get(f"/api/v1/uploads/{upload_id}/").json()["target"]
        assert resumed["received"] == PART_SIZE
        assert [p["done"] for p in resumed["parts"]] == [True, False]
        assert resumed["parts"][0]["url"] is None
        assert (
            requests.put(resumed["parts"][1]["url"], data=data[PART_SIZE:], timeout=30).status_code
            == 200
        )
    else:
        assert send(client, target, data[:cut], start_at=0).status_code == 200
        resumed = api.get(f"/api/v1/uploads/{upload_id}/").json()["target"]
        assert resumed["received"] == cut
        wrong = send(client, resumed, data[cut + 10 :], start_at=cut + 10)
        assert wrong.status_code == 409 and wrong.json()["error"]["details"]["received"] == cut
        assert send(client, resumed, data[cut:], start_at=cut).status_code == 200
    completed = api.post(f"/api/v1/uploads/{upload_id}/complete")
    assert completed.status_code == 201, completed.content
    assert wait_for_ingest(completed.json()["id"]).status == "ready"


def test_local_upload_links_need_their_signature(api, project, client, settings):
    if settings.STORAGE_BACKEND != "local":
        pytest.skip("local uploads only")
    started = start(api, project, photo_bytes()).json()
    forged = started["target"]["url"].split("?token=")[0] + "?token=abc"
    response = client.put(forged, b"x", content_type="application/octet-stream")
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_token"
