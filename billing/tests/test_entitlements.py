"""What a plan includes is enforced where it applies (projects, exports, own watermark,
branding), with a 402 naming the plan that would allow it, and shown disabled beforehand."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from PIL import Image

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from billing.tests.factories import SubscriptionFactory
from conftest import jpeg_bytes
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db
WATERMARKED = [{"op": "watermark", "params": {"text": "Agence du Parc"}}]


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_free_plan_holds_three_projects_then_names_the_plan_that_allows_more(api, user):
    for number in range(3):
        assert api.post("/api/v1/projects/", {"name": f"Lot {number}"}).status_code == 201
    refused = api.post("/api/v1/projects/", {"name": "Lot 4"})
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "projects_limit"
    assert error["details"]["required_plan"] == "premium"
    assert error["details"]["limit"] == 3
    assert "3 projects" in error["message"]
    french = api.post("/api/v1/projects/", {"name": "Lot 4"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert "forfait" in french.json()["error"]["message"].lower()
    SubscriptionFactory(user=user)
    assert api.post("/api/v1/projects/", {"name": "Lot 4"}).status_code == 201


def test_agency_projects_count_against_the_agency_not_the_member(api, user):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    for number in range(3):
        ProjectFactory(owner=user, name=f"Perso {number}")
    created = api.post("/api/v1/projects/", {"name": "Agence 1", "agency": owner.agency_id})
    assert created.status_code == 201, created.content


def test_exports_need_a_plan_that_includes_them(api, user, project):
    body = {"project": str(project.id), "profile": "mls"}
    refused = api.post("/api/v1/exports/", body, format="json")
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "plan_upgrade_required"
    assert error["details"] == {
        "feature": "exports",
        "plan": "free",
        "required_plan": "premium",
        "upgrade_url": "/billing/",
    }
    assert "Premium" in error["message"]
    SubscriptionFactory(user=user)
    # Past the plan check, the portal's own rules answer (no ready photo here).
    assert api.post("/api/v1/exports/", body, format="json").json()["error"]["code"] == "no_photos"


def test_entitlements_api_says_what_is_disabled_and_why(api, user, project):
    free = api.get(f"/api/v1/entitlements/?project={project.id}").json()
    assert free["plan"] == "free"
    assert free["features"]["exports"]["allowed"] is False
    assert "Premium" in free["features"]["exports"]["reason"]
    assert free["features"]["offpeak_lane"] == {"allowed": True, "reason": ""}
    french = api.get("/api/v1/entitlements/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert "n’est pas inclus" in french["features"]["custom_watermark"]["reason"]
    SubscriptionFactory(user=user)
    paid = api.get(f"/api/v1/entitlements/?project={project.id}").json()
    assert paid["features"]["exports"]["allowed"] is True
    assert paid["features"]["branding"]["allowed"] is False
    other = ProjectFactory()
    assert api.get(f"/api/v1/entitlements/?project={other.id}").status_code == 404


@pytest.mark.django_db(transaction=True)  # ingest runs once the upload has committed
def test_own_watermark_is_refused_on_free_when_saved_and_when_run(api, user, ready_photos):
    refused = api.post(
        "/api/v1/presets/", {"name": "Signed", "operations": WATERMARKED}, format="json"
    )
    assert refused.status_code == 402
    assert refused.json()["error"]["details"]["feature"] == "custom_watermark"
    subscription = SubscriptionFactory(user=user)
    saved = api.post(
        "/api/v1/presets/", {"name": "Signed", "operations": WATERMARKED}, format="json"
    )
    assert saved.status_code == 201, saved.content
    # Back on Free (a downgrade), the saved preset no longer runs.
    subscription.plan_id = type(subscription.plan).objects.get(code="free").id
    subscription.save()
    [photo] = ready_photos(1)
    run = api.post(
        "/api/v1/jobs/", {"photos": [photo], "preset": saved.json()["id"]}, format="json"
    )
    assert run.status_code == 402
    assert run.json()["error"]["details"]["feature"] == "custom_watermark"


def test_preset_builder_offers_no_watermark_step_on_free(user):
    html = page_client(user).get("/presets/").content.decode()
    assert re.search(r'<option value="watermark" disabled>', html)
    assert 'id="watermark-unavailable"' in html
    SubscriptionFactory(user=user)
    html = page_client(user).get("/presets/").content.decode()
    assert '<option value="watermark">' in html
    assert 'id="watermark-unavailable"' not in html


def logo_png() -> bytes:
    image = Image.new("RGBA", (800, 200), (0, 0, 0, 0))
    image.paste((200, 30, 30, 255), (100, 50, 700, 150))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def named(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def test_branding_is_disabled_with_the_reason_until_the_agency_plan(user):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    agency = owner.agency
    client = page_client(user)
    html = client.get(f"/team/{agency.pk}/").content.decode()
    assert "branding-unavailable" in html and "<fieldset disabled>" in html
    posted = client.post(
        f"/team/{agency.pk}/branding",
        {"watermark_text": "Agence du Parc", "logo": named(logo_png(), "logo.png")},
        follow=True,
    )
    assert "Agency" in posted.content.decode()  # the refusal names the plan that includes it
    agency.refresh_from_db()
    assert agency.logo_key == "" and agency.watermark_text == ""

    SubscriptionFactory(agency=agency, plan_code="agency")
    client.post(
        f"/team/{agency.pk}/branding",
        {"watermark_text": "Agence du Parc", "logo": named(logo_png(), "logo.png")},
    )
    agency.refresh_from_db()
    assert agency.watermark_text == "Agence du Parc"
    assert agency.logo_key.endswith(".png")
    html = client.get(f"/team/{agency.pk}/").content.decode()
    assert "<fieldset>" in html and 'class="agency-logo"' in html


def test_a_bad_logo_is_refused_and_the_old_one_kept(user, fetch):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    agency = owner.agency
    SubscriptionFactory(agency=agency, plan_code="agency")
    client = page_client(user)
    client.post(f"/team/{agency.pk}/branding", {"logo": named(logo_png(), "logo.png")})
    agency.refresh_from_db()
    kept = agency.logo_key
    truncated = jpeg_bytes(Image.new("RGB", (400, 300), "red"))[:300]
    response = client.post(
        f"/team/{agency.pk}/branding", {"logo": named(truncated, "logo.jpg")}, follow=True
    )
    assert "cannot be read" in response.content.decode()
    agency.refresh_from_db()
    assert agency.logo_key == kept
    member = MembershipFactory(agency=agency, role=Membership.Role.MEMBER)
    page_client(member.user).post(
        f"/team/{agency.pk}/branding", {"watermark_text": "Hijacked"}, follow=True
    )
    agency.refresh_from_db()
    assert agency.watermark_text == ""


def test_the_gallery_carries_the_agency_brand_only_on_a_plan_with_branding(user, client_for):
    owner = MembershipFactory(user=user, role=Membership.Role.OWNER)
    agency = owner.agency
    agency.name = "Agence du Parc"
    agency.save()
    project = ProjectFactory(owner=None, agency=agency, created_by=user)
    api = client_for(user)
    link = api.post(f"/api/v1/projects/{project.id}/share-links/", {}, format="json").json()
    gallery = Client().get(link["url"]).content.decode()
    assert "gallery-brand" not in gallery
    SubscriptionFactory(agency=agency, plan_code="agency")
    gallery = Client().get(link["url"]).content.decode()
    assert 'id="gallery-brand"' in gallery and "Agence du Parc" in gallery
