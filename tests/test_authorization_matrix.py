"""The authorisation matrix, generated from the URL conf: every route that names an object is
called with every method by someone who must not reach it — anonymous, another user, a member of
another agency, and (for the agency's management) a plain member — on objects of an agency
owner. None of them gets a success, none sees the owner's ids, nothing changes, nothing crashes.

A new route with a parameter this file does not know fails the test until it is added here."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.models import Agency, Invitation, Membership
from accounts.tests.factories import AgencyFactory, MembershipFactory, UserFactory
from billing.tests.factories import SubscriptionFactory
from delivery.models import ShareLink
from integrations.models import WebhookDelivery, WebhookEndpoint
from processing.models import Job, Preset
from processing.tests.factories import JobFactory
from projects.models import Folder, Photo, Project
from projects.tests.factories import FolderFactory, ProjectFactory, ready_photo_with_version

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Routes whose permission is a secret in the URL itself, or that are not ours to test here.
TOKEN_ROUTES = {
    "signed-file",  # the signed token is the permission (tests/test_links_and_docs.py)
    "shared-gallery",  # a share link is public by design (delivery/tests/test_sharing.py)
    "shared-file",
    "accept-invitation",  # the token, then the invited e-mail (accounts/tests/test_auth.py)
    "api-upload-data",  # the signed upload token (projects/tests/test_uploads.py)
}
SKIPPED_PREFIXES = ("admin/", "accounts/", "_allauth/", "i18n/", "static/")
# Agency management: a plain member may read the agency's work, not run the agency.
MANAGER_ONLY = {
    ("api-members", "post"), ("api-member", "patch"), ("api-member", "delete"),
    ("team-invite", "post"), ("team-branding", "post"), ("team-member-update", "post"),
    ("team-member-remove", "post"), ("team-invitation-cancel", "post"),
    ("api-project", "delete"),
}  # fmt: skip
# Bodies that would change something were the caller allowed (an empty one may be refused by
# validation before the permission is even asked).
BODIES = {
    ("api-project", "patch"): {"name": "Intruder"},
    ("api-folder", "patch"): {"name": "Intruder"},
    ("api-photo", "patch"): {"room_label": "Intruder"},
    ("api-preset", "patch"): {"name": "Intruder"},
    ("api-members", "post"): {"email": "intruder@example.com", "role": "admin"},
    ("api-member", "patch"): {"role": "member"},
    ("api-webhook", "patch"): {"is_active": False},
    ("team-invite", "post"): {"email": "intruder@example.com", "role": "admin"},
    ("team-branding", "post"): {"watermark_text": "Intruder"},
    ("team-member-update", "post"): {"role": "member"},
}


@dataclass
class World:
    """An agency owner's objects, and the ids each route parameter takes."""

    owner: object
    member: object
    ids: dict[str, str]

    def snapshot(self) -> list:
        """Everything the matrix must leave as it was."""
        rows = [
            list(Project.objects.order_by("id").values("id", "name", "agency_id")),
            list(Folder.objects.order_by("id").values("id", "name")),
            list(Photo.objects.order_by("id").values("id", "status", "room_label")),
            list(Membership.objects.order_by("id").values("id", "role", "user_id")),
            list(Preset.objects.order_by("id").values("id", "name")),
            list(Job.objects.order_by("id").values("id", "status")),
            list(WebhookEndpoint.objects.order_by("id").values("id", "url", "is_active")),
            list(ShareLink.objects.order_by("id").values("id", "revoked_at")),
            list(Invitation.objects.order_by("id").values("id", "email", "role")),
            list(Agency.objects.order_by("id").values("id", "name", "watermark_text")),
        ]
        return json.loads(json.dumps(rows, default=str))


@pytest.fixture
def world(settings) -> World:
    owner, member = UserFactory(), UserFactory()
    agency = AgencyFactory()
    # Team routes target the owner's membership: a member may leave, not remove the owner.
    membership = MembershipFactory(user=owner, agency=agency, role=Membership.Role.OWNER)
    MembershipFactory(user=member, agency=agency, role=Membership.Role.MEMBER)
    SubscriptionFactory(agency=agency, plan_code="agency")
    project = ProjectFactory(owner=None, agency=agency, created_by=owner)
    folder = FolderFactory(project=project)
    photo = ready_photo_with_version(project)
    job = JobFactory(
        batch__project=project, batch__created_by=owner, photo=photo, created_by=owner,
        quota_subject=f"agency:{agency.id}",
    )  # fmt: skip
    api = APIClient()
    api.force_login(owner)

    def created(path: str, body: dict) -> dict:
        response = api.post(path, body, format="json")
        assert response.status_code in (201, 202), (path, response.content)
        return response.json()

    preset = created(
        "/api/v1/presets/",
        {"name": "House style", "agency": agency.id, "operations": [{"op": "auto_enhance"}]},
    )
    upload = created(
        "/api/v1/uploads/",
        {"project": str(project.id), "filename": "a.jpg", "content_type": "image/jpeg",
         "size": 1000, "sha256": "0" * 64},
    )  # fmt: skip
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    endpoint = created("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/hooks", "events": []})
    delivery = WebhookDelivery.objects.create(
        endpoint_id=endpoint["id"], event_id=photo.id, event_type="photo.ingested", payload={},
        status=WebhookDelivery.Status.FAILED,
    )  # fmt: skip
    link = created(f"/api/v1/projects/{project.id}/share-links/", {})
    export = api.post(
        "/api/v1/exports/", {"project": str(project.id), "profile": "seloger"}, format="json"
    ).json()
    invitation = created(f"/api/v1/agencies/{agency.id}/members/", {"email": "new@example.com"})
    ids = {
        "agency_id": agency.id, "user_id": owner.id, "project_id": project.id,
        "folder_id": folder.id, "photo_id": photo.id, "upload_id": upload["id"],
        "preset_ref": preset["id"], "preset_id": preset["id"], "job_id": job.id,
        "batch_id": job.batch_id, "endpoint_id": endpoint["id"], "delivery_id": delivery.id,
        "link_id": link["id"], "export_id": export.get("id", export.get("export_id")),
        "membership_id": membership.id,
        "invitation_id": Invitation.objects.get(email=invitation["invited"]).id,
    }  # fmt: skip
    assert all(ids.values()), ids
    return World(owner, member, {name: str(value) for name, value in ids.items()})


def routes():
    """(route, name, kwarg names) for every route of the URL conf, recursively."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or pattern.name in TOKEN_ROUTES:
            continue
        yield route, pattern.name, list(pattern.pattern.regex.groupindex)


def principals(world: World) -> dict[str, APIClient | None]:
    stranger = UserFactory()
    other_agency = MembershipFactory(role=Membership.Role.OWNER).user
    clients = {"anonymous": APIClient()}
    for name, user in (("stranger", stranger), ("other agency", other_agency),
                       ("member", world.member)):  # fmt: skip
        clients[name] = APIClient()
        clients[name].force_login(user)
    return clients


def test_no_route_lets_an_outsider_reach_an_agencys_objects(world):
    clients = principals(world)
    before = world.snapshot()
    owner_ids = {i for i in world.ids.values() if len(i) > 8}  # uuids: small ints match anything
    unknown, failures, calls = [], [], 0
    for route, name, params in routes():
        if not params:
            continue
        missing = [param for param in params if param not in world.ids]
        if missing:
            unknown.append(f"{route} ({', '.join(missing)})")
            continue
        path = reverse(name, kwargs={param: world.ids[param] for param in params})
        for method in METHODS:
            for who, client in clients.items():
                if who == "member" and (name, method) not in MANAGER_ONLY:
                    continue  # members may use the agency's work; the other tests say how
                body = BODIES.get((name, method), {})
                if route.startswith("api/"):
                    response = getattr(client, method)(path, body, format="json")
                else:  # pages take forms
                    response = getattr(client, method)(path, body)
                calls += 1
                status = response.status_code
                # Pages refuse by sending anonymous callers to log in, and members back to the
                # team page with an error (the snapshot below shows nothing changed).
                back = status == 302 and response["Location"].startswith(
                    "/accounts/login/" if who == "anonymous" else "/team/"
                )
                refused = 400 <= status < 500 or (back and not route.startswith("api/"))
                body = response.content.decode(errors="replace")
                leaked = {i for i in owner_ids if i in body and i not in path}
                if not refused or leaked:
                    failures.append(f"{who} {method.upper()} {path} → {status} leaked={leaked}")
    assert not unknown, f"routes the matrix has no object for (add them to World): {unknown}"
    assert not failures, "\n".join(failures)
    assert calls > 400
    assert world.snapshot() == before, "a refused call changed something"


def test_lists_show_an_outsider_none_of_an_agencys_objects(world):
    owner_ids = {i for i in world.ids.values() if len(i) > 8}
    for who, client in principals(world).items():
        if who == "member":
            continue
        for route, name, params in routes():
            if params or name is None:
                continue
            response = client.get(reverse(name))
            body = response.content.decode(errors="replace")
            assert response.status_code < 500, (who, route)
            leaked = {i for i in owner_ids if i in body}
            assert not leaked, (who, route, leaked)
