"""Exports to each portal profile meet that profile's limits, on real photos."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core import mail
from PIL import Image

from conftest import CAMERA_JPEG, SHARED_DATA, shared_photo
from delivery.exports import portal_profiles
from delivery.models import Export

# Exports are a paid feature: the test user is on Premium.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("premium")]
PHOTOS = [
    SHARED_DATA / "interiors" / name for name in ("living-room.jpg", "kitchen.jpg", "bedroom.jpg")
]


@pytest.fixture
def listing(upload, wait_for_ingest, project):
    project.listing_reference = "REF-1042"
    project.save()
    ids = []
    for path in [*PHOTOS, CAMERA_JPEG]:
        ids.append(str(wait_for_ingest(upload(shared_photo(path), path.name).json()["id"]).id))
    return ids


def wait_for_export(export_id: str) -> Export:
    import time

    deadline = time.monotonic() + 120
    while (export := Export.objects.get(id=export_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return export


@pytest.mark.parametrize("code", sorted(portal_profiles()))
def test_every_portal_profile_is_met_on_real_photos(code, api, project, listing, fetch, settings):
    profile = portal_profiles()[code]
    response = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": code}, format="json"
    )
    assert response.status_code == 202, response.content
    export = wait_for_export(response.json()["id"])
    assert export.status == "succeeded", export.error_message
    body = api.get(f"/api/v1/exports/{export.id}/").json()
    status, _headers, data = fetch(body["url"])
    assert status == 200
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert len(names) == len(listing) <= profile.max_photos
        expected = [
            profile.file_name.format(reference="ref-1042", index=i + 1) for i in range(len(listing))
        ]
        assert names == expected
        for name in names:
            content = archive.read(name)
            image = Image.open(io.BytesIO(content))
            assert image.format == "JPEG"
            assert len(content) <= profile.max_bytes, (name, len(content))
            assert profile.min_width <= image.width <= profile.max_width, (name, image.size)
            assert profile.min_height <= image.height <= profile.max_height, (name, image.size)
            if profile.aspect:
                w, h = (int(v) for v in profile.aspect.split(":"))
                assert abs(image.width / image.height - w / h) < 0.01, (name, image.size)
    if settings.CELERY_TASK_ALWAYS_EAGER:  # a real worker sends its mail from its own process
        assert "export is ready" in mail.outbox[-1].subject


def test_single_photo_export_and_refusals(api, project, listing):
    one = api.post(
        "/api/v1/exports/",
        {"project": str(project.id), "profile": "mls", "photos": [listing[0]]},
        format="json",
    )
    export = wait_for_export(one.json()["id"])
    assert export.file_name == "ref-1042-001.jpg" and export.bytes <= 1_000_000

    unknown = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": "idealista"}, format="json"
    )
    assert unknown.status_code == 404 and "seloger" in unknown.json()["error"]["message"]


def test_photos_too_small_for_a_portal_are_refused_before_any_work(
    api, project, upload, wait_for_ingest
):
    from conftest import jpeg_bytes

    small = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (700, 500), "grey"))).json()["id"])
    refused = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": "rightmove"}, format="json"
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "export_not_allowed"
    assert re.search(r"needs at least 1024×683", error["details"][str(small.id)])
    assert not Export.objects.exists()
