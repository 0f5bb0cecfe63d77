"""Deleting is complete: a project, an inactive account or a photo leaves no object behind in
any of the four storages or the cold tier, and ``verify_storage`` finds nothing of it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import time_machine
from django.conf import settings
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import jpeg_bytes
from delivery.models import Export
from delivery.tests.test_exports import wait_for_export
from photolisting import storage
from projects.archive import photo_archive
from projects.models import Photo, PhotoVersion, Project, Rendition
from projects.tests import test_uploads as direct_upload
from projects.tests.factories import ProjectFactory

# Exports are a paid feature: the test user is on Premium.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("premium")]
COLD_TIER = "cold tier"


def room_jpeg(shade: int) -> bytes:
    """1600×1200 (4:3): big enough for SeLoger (800×600 at least), small enough to be quick."""
    image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for left in range(100, 1500, 300):
        draw.rectangle((left, 350, left + 180, 950), fill=(shade, 140, 255 - shade))
    return jpeg_bytes(image)


@dataclass(frozen=True)
class Listing:
    """A project holding one stored object of every kind, and the ids its keys are made of."""

    project: Project
    multipart: str  # uploaded through the API, then processed: a version with renditions
    direct: str  # a direct upload: its original keeps the upload's key, outside the photo's
    archived: str  # its original went to the cold tier
    upload_id: str
    upload_key: str
    job_id: str
    version_id: str
    export_id: str

    @property
    def photos(self) -> dict[str, list[str]]:
        """Each photo, and what the keys of its objects contain."""
        return {
            self.multipart: [self.multipart],
            self.direct: [self.direct, self.upload_id],
            self.archived: [self.archived],
        }

    @property
    def ids(self) -> list[str]:
        return [
            str(self.project.id),
            *(part for parts in self.photos.values() for part in parts),
            self.upload_key,
            self.job_id,
            self.version_id,
            self.export_id,
        ]


@pytest.fixture
def listing(api, client, project, upload, wait_for_ingest, wait_for_job) -> Listing:
    multipart, archived = (
        wait_for_ingest(upload(room_jpeg(shade), f"room-{shade}.jpg").json()["id"])
        for shade in (40, 120)
    )
    data = room_jpeg(200)
    started = direct_upload.start(api, project, data).json()
    assert direct_upload.send(client, started["target"], data).status_code in (200, 201, 204)
    completed = api.post(f"/api/v1/uploads/{started['id']}/complete")
    assert completed.status_code == 201, completed.content
    direct = wait_for_ingest(completed.json()["id"])
    assert {photo.status for photo in (multipart, archived, direct)} == {"ready"}

    job = api.post(
        "/api/v1/jobs/", {"photos": [str(multipart.id)], "preset": "natural"}, format="json"
    )
    assert job.status_code == 202, job.content
    job = wait_for_job(job.json()["jobs"][0]["id"])
    assert job.status == "succeeded", job.error_message
    export = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": "seloger"}, format="json"
    )
    assert export.status_code == 202, export.content
    export = wait_for_export(export.json()["id"])
    assert export.status == "succeeded", export.error_message
    # Only now: building an export brings an archived original back first.
    photo_archive(archived)
    return Listing(
        project=project,
        multipart=str(multipart.id),
        direct=str(direct.id),
        archived=str(archived.id),
        upload_id=started["id"],
        upload_key=direct.storage_key,
        job_id=str(job.id),
        version_id=str(job.result_version_id),
        export_id=str(export.id),
    )


# --- What is stored, what verify_storage says -----------------------------------------------


def stored(fragments: list[str]) -> dict[str, set[str]]:
    """Every key, in each storage and in the local cold tier, that contains one of
    ``fragments``; storages are listed whole, so a key outside the expected prefix counts."""
    found = {
        name: {key for key, _ in storage.list_objects(name) if any(f in key for f in fragments)}
        for name in settings.PHOTO_STORAGE_NAMES
    }
    archive = Path(settings.ARCHIVE_ROOT)
    found[COLD_TIER] = {
        str(path.relative_to(archive))
        for path in archive.rglob("*")
        if path.is_file() and any(f in str(path) for f in fragments)
    }
    return found


def nothing(found: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: set() for name in found}


def in_cold_tier(key: str) -> bool:
    """S3: a colder storage class on the same object. Local: moved to the archive folder."""
    originals = storages["originals"]
    if storage.is_s3():
        head = originals.connection.meta.client.head_object(Bucket=originals.bucket_name, Key=key)
        return head.get("StorageClass") == settings.ARCHIVE_S3_STORAGE_CLASS
    archived = Path(settings.ARCHIVE_ROOT) / "originals" / key
    return archived.is_file() and not originals.exists(key)


def storage_problems(fragments: list[str]) -> list[str]:
    """The orphan and missing lines of ``manage.py verify_storage`` naming one of ``fragments``
    (earlier tests may leave objects of their own behind)."""
    out = io.StringIO()
    try:
        call_command("verify_storage", stdout=out)
    except CommandError as error:  # rows without objects; the lines are written already
        out.write(f"{error}\n")
    lines = out.getvalue().splitlines()
    assert {line.split(":")[0] for line in lines} >= set(settings.PHOTO_STORAGE_NAMES), lines
    return [
        line
        for line in lines
        if line.lstrip().startswith(("orphan", "missing")) and any(f in line for f in fragments)
    ]


def assert_everything_stored(listing: Listing) -> None:
    """The listing's objects exist where its rows say, so a test that finds none after a
    delete has deleted something."""
    found = stored(listing.ids)
    photos = Photo.objects.filter(project=listing.project)
    versions = PhotoVersion.objects.filter(photo__in=photos)
    renditions = Rendition.objects.filter(photo__in=photos)
    archived_key = photos.get(id=listing.archived).storage_key
    recorded = {
        "originals": set(photos.exclude(id=listing.archived).values_list("storage_key", flat=True)),
        "processed": set(versions.values_list("storage_key", flat=True)),
        "thumbnails": set(renditions.values_list("storage_key", flat=True)),
        "exports": set(
            Export.objects.filter(id=listing.export_id).values_list("storage_key", flat=True)
        ),
    }
    assert listing.upload_key in recorded["originals"]
    assert not listing.upload_key.startswith(
        storage.photo_prefix(listing.project.id, listing.direct)
    )
    assert renditions.filter(version_id=listing.version_id).exists()
    for name, keys in recorded.items():
        assert keys and keys <= found[name], (name, keys - found[name])
    assert in_cold_tier(archived_key)
    if storage.is_s3():
        assert archived_key in found["originals"]
    else:
        assert found[COLD_TIER] == {f"originals/{archived_key}"}
    assert storage_problems(listing.ids) == []


# --- Tests ------------------------------------------------------------------------------------


def test_deleting_a_project_leaves_nothing_stored(api, project, listing):
    assert_everything_stored(listing)

    response = api.delete(f"/api/v1/projects/{project.id}/")

    assert response.status_code == 204
    assert not Project.objects.filter(pk=project.pk).exists()
    found = stored(listing.ids)
    assert found == nothing(found)
    assert storage_problems(listing.ids) == []


def test_purging_an_inactive_account_leaves_nothing_stored_of_its_projects(
    user, project, listing, upload, wait_for_ingest
):
    start = timezone.now()
    active = UserFactory(last_login=start + timedelta(days=300))
    neighbour = ProjectFactory(owner=active)
    as_active = APIClient()
    as_active.force_authenticate(active)  # not a login: last_login stays in the future
    kept = wait_for_ingest(
        upload(room_jpeg(80), client=as_active, project_id=neighbour.id).json()["id"]
    )
    assert kept.status == "ready"
    neighbours = stored([str(neighbour.id), str(kept.id)])
    assert neighbours["originals"] and neighbours["thumbnails"]
    assert_everything_stored(listing)

    with time_machine.travel(start + timedelta(days=366), tick=False):
        out = io.StringIO()
        call_command("notify_inactive_accounts", stdout=out)
        assert "affected 1 item" in out.getvalue()
    with time_machine.travel(start + timedelta(days=397), tick=False):
        out = io.StringIO()
        call_command("purge_inactive_accounts", "--verbose-items", stdout=out)
        assert user.email in out.getvalue() and active.email not in out.getvalue()

    assert not User.objects.filter(pk=user.pk).exists()
    assert not Project.objects.filter(pk=project.pk).exists()
    found = stored(listing.ids)
    assert found == nothing(found)
    assert storage_problems(listing.ids) == []
    assert stored([str(neighbour.id), str(kept.id)]) == neighbours


def test_deleting_a_photo_removes_its_objects_and_leaves_the_others(api, listing):
    assert_everything_stored(listing)
    before = {photo: stored(parts) for photo, parts in listing.photos.items()}
    assert before[listing.multipart]["processed"]  # the version
    assert any(listing.job_id in key for key in before[listing.multipart]["thumbnails"])
    assert before[listing.direct]["originals"] == {listing.upload_key}
    remaining = dict(listing.photos)

    # The archived photo goes last, so the others are deleted while its original is cold.
    for photo in (listing.multipart, listing.direct, listing.archived):
        parts = remaining.pop(photo)
        assert api.delete(f"/api/v1/photos/{photo}/").status_code == 204
        found = stored(parts)
        assert found == nothing(found), photo
        assert storage_problems(parts) == []
        for other, other_parts in remaining.items():
            assert stored(other_parts) == before[other], other
    assert not Photo.objects.filter(project=listing.project).exists()


@pytest.mark.skipif(settings.STORAGE_BACKEND != "s3", reason="S3 multipart uploads only")
def test_deleting_a_project_aborts_its_unfinished_multipart_uploads(api, client, project):
    """A phone that sent one part of a big photo, then the project went: no part stays billed."""
    data = b"\xff\xd8\xff\xe0" + bytes(direct_upload.PART_SIZE + 1024)
    started = direct_upload.start(api, project, data).json()
    first = started["target"]["parts"][0]
    assert first["url"]
    assert requests.put(first["url"], data=data[: first["size"]], timeout=30).status_code == 200
    bucket = storages["originals"].bucket
    assert list(bucket.multipart_uploads.filter(Prefix=str(project.id)))

    assert api.delete(f"/api/v1/projects/{project.id}/").status_code == 204
    assert not list(bucket.multipart_uploads.filter(Prefix=str(project.id)))


@pytest.mark.skipif(settings.STORAGE_BACKEND == "s3", reason="the local cold tier is a folder")
def test_verify_storage_finds_an_archived_original_without_its_photo(upload, wait_for_ingest):
    photo = wait_for_ingest(upload(room_jpeg(90), "cold.jpg").json()["id"])
    photo_archive(photo)
    Photo.objects.filter(id=photo.id).delete()  # a row lost without its files

    out = io.StringIO()
    call_command("verify_storage", stdout=out)
    assert f"orphan: {photo.storage_key}" in out.getvalue()
    call_command("verify_storage", "--delete-orphans", stdout=io.StringIO())
    assert photo.storage_key not in set(storage.list_archived())
