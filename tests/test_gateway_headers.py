"""What every answer carries at the edge: a CSP that allows only our own scripts (and no page has
an inline script or an event-handler attribute to need more), CORS for the configured app origins
only, and JSON 404s for unknown API paths whatever the method."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from PIL import Image

from accounts.tests.factories import MembershipFactory, StaffFactory
from conftest import jpeg_bytes

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_strict_csp(response, path: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src")[0], (
        path,
        policy,
    )
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html), (path, INLINE_SCRIPT.search(html).group(0))
    assert not HANDLER_ATTRIBUTE.search(html), (path, HANDLER_ATTRIBUTE.search(html).group(0))


@pytest.mark.django_db(transaction=True)
def test_every_page_has_a_strict_csp_and_no_inline_script(
    client, user, project, api, upload, wait_for_ingest
):
    photo = wait_for_ingest(upload(jpeg_bytes(Image.new("RGB", (320, 240), "teal"))).json()["id"])
    agency = MembershipFactory(user=user, role="owner").agency
    link = api.post(f"/api/v1/projects/{project.id}/share-links/", {}, format="json").json()
    anonymous = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/",
                 "/api/docs/", "/api/redoc/", link["url"].removeprefix("http://testserver")]  # fmt: skip
    for path in anonymous:
        response = Client().get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response, path)

    client.force_login(user)
    pages = ["/", f"/projects/{project.id}/", f"/projects/{project.id}/photos/{photo.id}/",
             "/presets/", "/billing/", "/usage/", "/team/", f"/team/{agency.id}/",
             "/integrations/webhooks/", "/accounts/email/", "/accounts/2fa/",
             "/accounts/password/change/"]  # fmt: skip
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response, path)

    staff = Client()
    staff.force_login(StaffFactory())
    for path in ("/admin/", "/admin/accounts/user/", "/admin/projects/photo/",
                 f"/admin/projects/photo/{photo.id}/change/"):  # fmt: skip
        response = staff.get(path)
        assert response.status_code == 200, path
        assert_strict_csp(response, path)

    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


@pytest.mark.django_db
def test_cors_answers_the_configured_app_origins_only(settings, client_for, user):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.photolisting.example"]
    preflight = Client().options(
        "/api/v1/me",
        HTTP_ORIGIN="https://app.photolisting.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert preflight["Access-Control-Allow-Origin"] == "https://app.photolisting.example"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    answer = client_for(user).get("/api/v1/me", HTTP_ORIGIN="https://app.photolisting.example")
    assert "x-ratelimit-remaining" in answer["Access-Control-Expose-Headers"]
    for origin in ("https://evil.example", "http://app.photolisting.example"):
        refused = Client().options(
            "/api/v1/me", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
        )
        assert "Access-Control-Allow-Origin" not in refused
    page = Client().get("/", HTTP_ORIGIN="https://app.photolisting.example")
    assert "Access-Control-Allow-Origin" not in page  # pages are not for other origins


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_unknown_api_paths_are_json_404s_whatever_the_method(user, method):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    for path in (
        "/api/v1/no-such-thing/",
        "/api/v1/agencies/-1/members/e%0A/",  # an encoded newline in a path segment
        "/api/v2/projects/",  # outside the versioned router
    ):
        response = getattr(browser, method)(path, content_type="application/json")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found", path


@pytest.mark.django_db
def test_unknown_pages_are_the_404_page(client):
    response = client.get("/no-such-page/%0A/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
