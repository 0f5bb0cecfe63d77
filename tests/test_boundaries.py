"""Who may do what across apps, and malformed ids: one rule each, tested through HTTP."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory
from integrations.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency_team(client_for):
    """An agency with its owner, an admin and a plain member, each with an API client."""
    owner = MembershipFactory(role=Membership.Role.OWNER)
    admin = MembershipFactory(agency=owner.agency, role=Membership.Role.ADMIN)
    member = MembershipFactory(agency=owner.agency, role=Membership.Role.MEMBER)
    return {
        "agency": owner.agency,
        "owner": (owner, client_for(owner.user)),
        "admin": (admin, client_for(admin.user)),
        "member": (member, client_for(member.user)),
    }


def test_a_plain_member_cannot_touch_the_agencys_webhooks(agency_team):
    agency = agency_team["agency"]
    _, admin_api = agency_team["admin"]
    _, member_api = agency_team["member"]
    created = admin_api.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/pl", "events": [], "agency": agency.id},
        format="json",
    )
    assert created.status_code == 201, created.content
    endpoint_id = created.json()["id"]
    delivery = WebhookDelivery.objects.create(
        endpoint_id=endpoint_id, event_id=uuid.uuid4(), event_type="photo.ingested", payload={}
    )

    refused = member_api.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/x", "events": [], "agency": agency.id},
        format="json",
    )
    assert refused.status_code == 403
    assert member_api.get("/api/v1/webhooks/").json() == []
    patch = member_api.patch(
        f"/api/v1/webhooks/{endpoint_id}/", {"is_active": False}, format="json"
    )
    assert patch.status_code == 404
    assert member_api.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 404
    assert member_api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries/").status_code == 404
    assert member_api.post(f"/api/v1/webhook-deliveries/{delivery.id}/replay").status_code == 404
    assert WebhookEndpoint.objects.get(id=endpoint_id).is_active

    # The admin, who may create one, may also change and read it.
    assert admin_api.get(f"/api/v1/webhooks/{endpoint_id}/deliveries/").status_code == 200
    assert (
        admin_api.patch(
            f"/api/v1/webhooks/{endpoint_id}/", {"is_active": False}, format="json"
        ).status_code
        == 200
    )


def test_an_admin_cannot_cap_or_demote_the_owner(agency_team):
    agency = agency_team["agency"]
    owner, owner_api = agency_team["owner"]
    admin, admin_api = agency_team["admin"]
    _, member_api = agency_team["member"]
    url = f"/api/v1/agencies/{agency.id}/members/{owner.user_id}/"

    capped = admin_api.patch(url, {"monthly_processed_limit": 0}, format="json")
    assert capped.status_code == 403 and capped.json()["error"]["code"] == "owner_role"
    owner.refresh_from_db()
    assert owner.monthly_processed_limit is None
    # A member manages nobody; the owner may set a cap on the admin and on themself.
    admin_url = f"/api/v1/agencies/{agency.id}/members/{admin.user_id}/"
    assert member_api.patch(admin_url, {"monthly_ai_limit": 1}, format="json").status_code == 403
    assert owner_api.patch(admin_url, {"monthly_ai_limit": 3}, format="json").status_code == 200
    assert owner_api.patch(url, {"monthly_ai_limit": 50}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/jobs/?photo=abc"),
        ("get", "/api/v1/jobs/?batch=1"),
        ("get", "/api/v1/folders/?project=abc"),
        ("get", "/api/v1/billing/?agency=null"),
        ("get", "/api/v1/billing/?agency=abc"),
        ("get", "/api/v1/usage/?project=abc"),
        ("get", "/api/v1/photos/not-a-uuid/"),
        ("get", "/api/v1/agencies/abc/members/"),
        ("patch", "/api/v1/agencies/1/members/abc/"),
        ("post", "/api/v1/webhook-deliveries/not-a-uuid/replay"),
        ("get", "/api/v1/webhooks/not-a-uuid/deliveries/"),
        ("get", "/api/v1/exports/not-a-uuid/"),
        ("post", "/api/v1/share-links/0/revoke"),
        ("get", "/api/v1/uploads/nope/"),
    ],
)
def test_malformed_ids_answer_a_json_4xx(method, path, api):
    response = getattr(api, method)(path, {}, format="json")
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    error = response.json()["error"]
    assert error["code"] and error["message"]


def test_an_empty_filter_is_no_filter(api):
    assert api.get("/api/v1/folders/?project=").status_code == 200
    assert api.get("/api/v1/jobs/?photo=").status_code == 200


@pytest.mark.parametrize(
    "path", ["/billing/?agency=abc", "/billing/?agency=null", "/projects/abc/"]
)
def test_malformed_ids_on_pages_are_not_found(path, user, client):
    client.force_login(user)
    assert client.get(path).status_code == 404


def test_malformed_delivery_id_on_the_webhooks_page(user, client):
    client.force_login(user)
    assert client.post("/integrations/deliveries/not-a-uuid/replay").status_code == 404
