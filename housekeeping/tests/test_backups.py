"""Account data export and storage verification, through manage.py."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from PIL import Image

from accounts.tests.factories import MembershipFactory
from conftest import jpeg_bytes
from projects.models import Photo
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_export_a_users_data_with_originals_and_results(
    user, api, upload, wait_for_ingest, wait_for_job, tmp_path, capsys
):
    data = jpeg_bytes(Image.new("RGB", (400, 300), "navy"))
    photo = wait_for_ingest(upload(data, "facade.jpg").json()["id"])
    job = api.post(
        "/api/v1/jobs/", {"photos": [str(photo.id)], "preset": "natural"}, format="json"
    ).json()
    wait_for_job(job["jobs"][0]["id"])
    other = ProjectFactory()  # someone else's: must not be in the export
    storages["originals"].save(f"{other.id}/x/original.jpg", ContentFile(b"\xff\xd8\xffnot-mine"))

    out = tmp_path / "export.zip"
    call_command("export_account_data", "--user", user.email, "--out", str(out))
    assert "1/1" not in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        account = json.loads(archive.read("account.json"))
        assert account["subject"]["email"] == user.email
        (project,) = account["projects"]
        (entry,) = project["photos"]
        assert entry["original_filename"] == "facade.jpg" and len(entry["versions"]) == 1
        assert hashlib.sha256(archive.read(entry["file"])).hexdigest() == photo.sha256
        assert Image.open(io.BytesIO(archive.read(entry["versions"][0]["file"]))).format == "JPEG"
        assert not any(str(other.id) in name for name in archive.namelist())


def test_export_an_agency_and_unknown_subjects(user, tmp_path):
    membership = MembershipFactory(user=user)
    ProjectFactory(owner=None, agency=membership.agency, name="Agency listing")
    out = tmp_path / "agency.zip"
    call_command("export_account_data", "--agency", membership.agency.slug, "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        account = json.loads(archive.read("account.json"))
    assert account["subject"]["members"] == [{"email": user.email, "role": "member"}]
    assert [p["name"] for p in account["projects"]] == ["Agency listing"]
    with pytest.raises(CommandError, match="No such user"):
        call_command("export_account_data", "--user", "nobody@example.com", "--out", str(out))


@pytest.fixture
def empty_storages(settings):
    """Earlier tests leave files whose rows were flushed: start this one from empty storage."""
    from photolisting.storage import list_objects

    for name in settings.PHOTO_STORAGE_NAMES:
        for key, _ in list(list_objects(name)):
            storages[name].delete(key)


def test_verify_storage_reports_without_deleting_by_default(
    empty_storages, upload, wait_for_ingest, project
):
    photo = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (80, 60)))).json()["id"])
    out = io.StringIO()
    call_command("verify_storage", stdout=out)
    assert "Storage and database agree" in out.getvalue()

    stray = storages["originals"].save(f"{project.id}/stray/original.jpg", ContentFile(b"orphan"))
    missing = Photo.objects.create(
        project=project,
        storage_key=f"{project.id}/gone/original.jpg",
        bytes=1,
        sha256="0" * 64,
        format="JPEG",
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="missing"):
        call_command("verify_storage", stdout=out)
    report = out.getvalue()
    assert f"orphan: {stray}" in report and f"missing: {missing.storage_key}" in report
    assert storages["originals"].exists(stray) and Photo.objects.filter(pk=missing.pk).exists()

    missing.delete()
    call_command("verify_storage", "--delete-orphans", stdout=io.StringIO())
    assert not storages["originals"].exists(stray)
    assert storages["originals"].exists(photo.storage_key)
