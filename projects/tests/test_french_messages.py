"""Refusals of the projects API in French when the client asks for it, with unchanged codes;
photo statuses shown in French."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from conftest import jpeg_bytes
from projects.models import Photo
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_folder_exists_in_french_and_english(api, project):
    body = {"project": str(project.id), "name": "Cuisine"}
    assert api.post("/api/v1/folders/", body, format="json").status_code == 201

    french = error_of(api.post("/api/v1/folders/", body, format="json", **FR), 409)
    assert french["code"] == "folder_exists"
    assert french["message"] == "Le projet a déjà un dossier nommé « Cuisine »."

    english = error_of(api.post("/api/v1/folders/", body, format="json"), 409)
    assert english["code"] == "folder_exists"
    assert english["message"] == "The project already has a folder named “Cuisine”."


def test_not_project_admin_in_french(api, user):
    membership = MembershipFactory(user=user, role=Membership.Role.MEMBER)
    project = ProjectFactory(owner=None, agency=membership.agency, created_by=UserFactory())

    refused = error_of(api.delete(f"/api/v1/projects/{project.id}/", **FR), 403)
    assert refused["code"] == "not_project_admin"
    assert refused["message"] == (
        "Seul le propriétaire du projet ou un administrateur de l’agence peut faire cela."
    )


def test_idempotency_key_reused_in_french(upload):
    first = upload(jpeg_bytes(Image.new("RGB", (64, 48), "teal")), HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    other = upload(
        jpeg_bytes(Image.new("RGB", (64, 48), "orange")), HTTP_IDEMPOTENCY_KEY="k1", **FR
    )
    refused = error_of(other, 422)
    assert refused["code"] == "idempotency_key_reused"
    assert refused["message"] == "Cette clé Idempotency-Key a déjà servi pour un autre envoi."
    assert Photo.objects.count() == 1


def _start(api, project, data: bytes, **extra):
    body = {
        "project": str(project.id),
        "filename": "IMG_2001.JPG",
        "content_type": "image/jpeg",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    started = api.post("/api/v1/uploads/", body, format="json", **extra)
    assert started.status_code == 201, started.content
    return started.json()


def test_direct_upload_refusals_in_french(api, project, client):
    data = jpeg_bytes(Image.new("RGB", (320, 240), (180, 120, 60)))
    started = _start(api, project, data)
    target = started["target"]
    if target["method"] != "PUT":
        pytest.skip("the local PUT endpoint is what answers these refusals")
    path = target["url"].removeprefix("http://testserver")

    too_much = client.put(path, data + b"\0" * 10, content_type="application/octet-stream", **FR)
    refused = error_of(too_much, 413)
    assert refused["code"] == "file_too_large"
    assert refused["message"] == "Plus d’octets que déclaré pour cet envoi."

    short = client.put(path, data[:-100], content_type="application/octet-stream")
    assert short.status_code == 200
    incomplete = error_of(api.post(f"/api/v1/uploads/{started['id']}/complete", **FR), 422)
    assert incomplete["code"] == "size_mismatch"
    assert incomplete["message"] == (
        f"{len(data) - 100} octets reçus ; {len(data)} étaient annoncés."
    )

    finished = error_of(api.post(f"/api/v1/uploads/{started['id']}/complete", **FR), 409)
    assert finished["code"] == "upload_finished"
    assert finished["message"] == "Cet envoi n’est plus ouvert (Échec)."


def test_direct_upload_start_too_large_in_french(api, project, settings):
    settings.PHOTO_MAX_UPLOAD_BYTES = 2 * 1048576
    body = {
        "project": str(project.id),
        "filename": "big.jpg",
        "content_type": "image/jpeg",
        "size": 3 * 1048576,
        "sha256": "0" * 64,
    }
    refused = error_of(api.post("/api/v1/uploads/", body, format="json", **FR), 413)
    assert refused["code"] == "file_too_large"
    assert refused["message"] == "Le fichier dépasse la limite de 2 Mo."


def test_photo_statuses_in_french_on_the_admin_list(client, project):
    admin = StaffFactory()
    Photo.objects.create(
        project=project,
        original_filename="salon.jpg",
        storage_key=f"{project.id}/salon.jpg",
        bytes=10,
        sha256="1" * 64,
        status=Photo.Status.READY,
    )
    Photo.objects.create(
        project=project,
        original_filename="cuisine.jpg",
        storage_key=f"{project.id}/cuisine.jpg",
        bytes=10,
        sha256="2" * 64,
        status=Photo.Status.UPLOADED,
    )
    client.force_login(admin)
    page = client.get("/admin/projects/photo/", **FR).content.decode()
    assert "Prête" in page and "Envoyée" in page
    english = client.get("/admin/projects/photo/").content.decode()
    assert "Uploaded" in english and "Envoyée" not in english
