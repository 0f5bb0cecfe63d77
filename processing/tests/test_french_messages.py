"""Presets and jobs speak the reader's language (Accept-Language), with the same stable codes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

FR = {"HTTP_ACCEPT_LANGUAGE": "fr"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def start(api, photos, preset, **body):
    return api.post(
        "/api/v1/jobs/", {"photos": photos, "preset": preset, **body}, format="json", **FR
    )


def test_shipped_preset_names_follow_the_language_and_slugs_stay(api):
    french = {p["slug"]: p for p in api.get("/api/v1/presets/", **FR).json()}
    english = {p["slug"]: p for p in api.get("/api/v1/presets/", **EN).json()}
    assert french.keys() == english.keys()
    assert french["natural"]["name"] == "Naturel" and english["natural"]["name"] == "Natural"
    assert french["bright-airy"]["name"] == "Clair et aéré"
    assert french["hdr-interior"]["name"] == "Intérieur HDR"
    assert french["portal-export"]["description"].startswith("Recadrage 3:2 en 1920×1280")
    assert english["portal-export"]["description"].startswith("3:2 crop at 1920×1280")
    one = api.get("/api/v1/presets/natural/", **FR).json()
    assert one["slug"] == "natural" and one["name"] == "Naturel"


def test_own_presets_keep_their_name_in_french(api):
    operations = [{"op": "auto_enhance", "params": {}}]
    created = api.post(
        "/api/v1/presets/", {"name": "Natural", "operations": operations}, format="json", **FR
    )
    assert created.status_code == 201 and created.json()["name"] == "Natural"
    again = api.post(
        "/api/v1/presets/", {"name": "Natural", "operations": operations}, format="json", **FR
    )
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "preset_exists",
        "message": "Vous avez déjà un préréglage nommé « Natural ».",
        "details": {},
    }


def test_agency_presets_are_for_its_admins_in_french(api, user):
    membership = MembershipFactory(user=user, role=Membership.Role.MEMBER)
    body = {
        "name": "Maison",
        "operations": [{"op": "auto_enhance", "params": {}}],
        "agency": membership.agency_id,
    }
    refused = api.post("/api/v1/presets/", body, format="json", **FR)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "not_agency_admin"
    assert error["message"] == (
        "Seuls les propriétaires et administrateurs de l’agence peuvent modifier ses préréglages."
    )
    system = api.delete("/api/v1/presets/natural/", **FR)
    assert system.status_code == 403 and system.json()["error"]["code"] == "system_preset"
    assert system.json()["error"]["message"].startswith("Les préréglages fournis")


def test_refusals_when_starting_jobs_are_in_french(api, ready_photos):
    (photo,) = ready_photos(1)
    bracket = start(api, [photo], "hdr-interior")
    assert bracket.status_code == 400 and bracket.json()["error"]["code"] == "bracket_mismatch"
    assert bracket.json()["error"]["message"].startswith("Les préréglages HDR prennent")
    mask = start(api, [photo], "natural", mask_regions=[[0.5, 0, 0.2, 1]])
    assert mask.status_code == 400 and mask.json()["error"]["code"] == "invalid_mask"
    assert mask.json()["error"]["message"].startswith("Les zones de masque sont des fractions")


def test_cancelling_a_finished_job_is_refused_in_french(
    api, ready_photos, wait_for_job, time_machine
):
    # Mid-day, outside the off-peak window, so the economy job waits.
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    time_machine.move_to(noon, tick=True)
    first, second = ready_photos(2)
    queued = start(api, [first], "natural", lane="offpeak").json()["jobs"][0]["id"]
    assert api.post(f"/api/v1/jobs/{queued}/cancel", **FR).status_code == 200
    again = api.post(f"/api/v1/jobs/{queued}/cancel", **FR)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "job_finished"
    assert again.json()["error"]["message"] == "Le traitement a déjà été annulé."

    done = start(api, [second], "natural").json()["jobs"][0]["id"]
    assert wait_for_job(done).status == "succeeded"
    late = api.post(f"/api/v1/jobs/{done}/cancel", **FR)
    assert late.status_code == 409 and late.json()["error"]["code"] == "job_finished"
    assert late.json()["error"]["message"] == "Le traitement est déjà terminé."
    english = api.post(f"/api/v1/jobs/{done}/cancel", **EN)
    assert english.json()["error"]["message"] == "The job has already finished."
    retry = api.post(f"/api/v1/jobs/{done}/retry", **FR)
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "job_not_failed"
    assert (
        retry.json()["error"]["message"] == "Seuls les traitements en échec peuvent être relancés."
    )


def test_a_failed_jobs_message_is_translated_when_read(api, ready_photos, wait_for_job, openai):
    (photo,) = ready_photos(1)
    openai.plan("moderation")
    job_id = start(api, [photo], "virtual-staging-living-room").json()["jobs"][0]["id"]
    assert wait_for_job(job_id).status == "failed"
    french = api.get(f"/api/v1/jobs/{job_id}/", **FR).json()["error"]
    english = api.get(f"/api/v1/jobs/{job_id}/", **EN).json()["error"]
    assert french["code"] == english["code"] == "moderation_blocked"
    assert french["message"].startswith("Le système de sécurité du fournisseur d’IA a refusé")
    assert english["message"].startswith("The AI provider's safety system refused this edit.")
