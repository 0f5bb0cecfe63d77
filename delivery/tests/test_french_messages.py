"""Delivery's refusals in French when the client asks for it, with unchanged codes: portal
profiles and rules, exports with nothing to send, share-link passwords and attempts."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from PIL import Image

from conftest import jpeg_bytes
from delivery.models import Export

# Exports are a paid feature: the test user is on Premium.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("premium")]

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def export(api, project, profile: str, **extra):
    return api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": profile}, format="json", **extra
    )


def test_unknown_profile_and_empty_project_in_french(api, project):
    unknown = error_of(export(api, project, "idealista", **FR), 404)
    assert unknown["code"] == "profile_not_found"
    assert unknown["message"].startswith("Pas de profil de portail 'idealista' ; profils connus :")
    assert "seloger" in unknown["message"]

    empty = error_of(export(api, project, "seloger", **FR), 400)
    assert empty["code"] == "no_photos"
    assert empty["message"] == "Aucune photo prête à exporter."
    english = error_of(export(api, project, "seloger"), 400)
    assert english["message"] == "There is no ready photo to export."


def test_portal_refusal_in_french(api, project, upload, wait_for_ingest):
    small = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (700, 500), "grey"))).json()["id"])
    refused = error_of(export(api, project, "rightmove", **FR), 400)
    assert refused["code"] == "export_not_allowed"
    assert refused["message"] == "Ces photos ne peuvent pas partir telles quelles sur Rightmove."
    assert re.fullmatch(
        r"ferait \d+×\d+ ; Rightmove exige au moins 1024×683", refused["details"][str(small.id)]
    )
    assert not Export.objects.exists()


def test_share_password_refusals_in_french(api, project, upload, wait_for_ingest):
    wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (640, 480), "teal"))).json()["id"])
    created = api.post(
        f"/api/v1/projects/{project.id}/share-links/", {"password": "maison-2026"}, format="json"
    )
    assert created.status_code == 201, created.content
    path = created.json()["url"].removeprefix("http://testserver")

    wrong = Client().post(path, {"password": "devine"}, **FR)
    assert wrong.status_code == 401
    assert "Ce mot de passe n’est pas le bon." in wrong.content.decode()
    for _attempt in range(5):
        Client().post(path, {"password": "devine"})
    blocked = Client().post(path, {"password": "maison-2026"}, **FR)
    assert "Trop de tentatives ; patientez une minute." in blocked.content.decode()


def test_the_ready_e_mail_speaks_the_language_the_export_was_asked_in(
    api, project, upload, wait_for_ingest, settings
):
    """The worker builds the export long after the request: the language travels with the task."""
    from django.core import mail

    from delivery.tests.test_exports import wait_for_export

    wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (1600, 1200), "teal"))).json()["id"])
    started = export(api, project, "seloger", **FR)
    assert started.status_code == 202, started.content
    assert wait_for_export(started.json()["id"]).status == "succeeded"
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a real worker sends its mail from its own process")
    assert mail.outbox[-1].subject == "PhotoListing : votre export SeLoger est prêt"
    started = export(api, project, "seloger")
    wait_for_export(started.json()["id"])
    assert mail.outbox[-1].subject == "PhotoListing: your SeLoger export is ready"
