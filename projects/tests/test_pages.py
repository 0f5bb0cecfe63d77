"""Server-rendered pages: dashboard, project gallery, and the demo command."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from PIL import Image

from accounts.models import User
from accounts.tests.factories import MembershipFactory, StaffFactory
from conftest import SHARED_DATA, SHARED_DATA_REQUIRED, jpeg_bytes
from processing.models import Job
from projects.models import Photo, PhotoVersion, Project
from projects.tests.factories import ProjectFactory


@pytest.mark.django_db
def test_dashboard_lists_own_and_agency_projects_only(client, user):
    ProjectFactory(owner=user, name="Mine")
    membership = MembershipFactory(user=user)
    ProjectFactory(owner=None, agency=membership.agency, name="Ours")
    ProjectFactory(name="Someone else's")
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "Mine" in page and "Ours" in page
    assert "Someone else" not in page


@pytest.mark.django_db
def test_create_project_from_the_dashboard(client, user):
    client.force_login(user)
    response = client.post("/projects/new", {"name": "Maison Bleue", "address": "Annecy"})
    project = Project.objects.get(name="Maison Bleue")
    assert response.status_code == 302 and response.url == f"/projects/{project.id}/"
    assert project.owner == user


@pytest.mark.django_db
def test_project_page_and_another_users_project(client, user, project):
    client.force_login(user)
    page = client.get(f"/projects/{project.id}/")
    assert page.status_code == 200
    assert b'id="file-input"' in page.content and b"multiple" in page.content
    assert client.get(f"/projects/{ProjectFactory().id}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_project_page_shows_signed_thumbnails(client, user, project, upload, wait_for_ingest):
    photo = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (800, 600), "teal"))).json()["id"])
    client.force_login(user)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert f'data-photo="{photo.id}"' in page
    assert "<img src=" in page


@pytest.mark.django_db(transaction=True)
def test_seed_demo_creates_a_login_and_photos_and_is_repeatable(
    wait_for_ingest, wait_for_job, client, capsys
):
    call_command("seed_demo", data_dir=str(SHARED_DATA))
    call_command("seed_demo", data_dir=str(SHARED_DATA))
    output = capsys.readouterr().out
    assert "Demo login: demo@photolisting.local" in output
    user = User.objects.get(email="demo@photolisting.local")
    assert Project.objects.filter(owner=user).count() == 1
    photos = Photo.objects.filter(project__owner=user)
    if not (SHARED_DATA.exists() or SHARED_DATA_REQUIRED):
        return
    assert photos.count() == 5
    assert {wait_for_ingest(p.id).status for p in photos} == {"ready"}
    # Processed examples: one Bright & airy job per photo, not a second batch on the re-run.
    jobs = Job.objects.filter(project__owner=user)
    assert sorted(str(job.photo_id) for job in jobs) == sorted(str(p.id) for p in photos)
    assert {wait_for_job(job.id).status for job in jobs} == {"succeeded"}
    assert {job.preset_name for job in jobs} == {"Bright & airy"}
    assert PhotoVersion.objects.filter(photo__in=photos).count() == 5
    # The pages show the result: a before/after on the photo page.
    client.login(email="demo@photolisting.local", password="listing-demo-2026")
    photo = photos.first()
    page = client.get(f"/projects/{photo.project_id}/photos/{photo.id}/").content.decode()
    assert 'id="compare"' in page


@pytest.mark.django_db(transaction=True)
def test_admin_lists_photos_with_thumbnails_and_original_links(client, upload, wait_for_ingest):
    good = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (800, 600), "teal"))).json()["id"])
    bad = wait_for_ingest(upload(b"\xff\xd8\xff\xe0" + b"\x00" * 400, "bad.jpg").json()["id"])
    admin = StaffFactory()
    client.force_login(admin)
    listing = client.get("/admin/projects/photo/").content.decode()
    assert listing.count('style="height:48px') == 1 and "Rejected" in listing
    change = client.get(f"/admin/projects/photo/{bad.id}/change/").content.decode()
    assert "Download original" in change
    for model in ("project", "folder", "photoversion"):
        assert client.get(f"/admin/projects/{model}/").status_code == 200
    assert client.get("/admin/projects/photo/?q=" + good.sha256[:12]).status_code == 200
