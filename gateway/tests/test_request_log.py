"""The API request log: sampled calls with their route pattern, status, duration, user and
request id — never a path's ids or tokens — readable by staff in the admin."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory
from gateway.models import ApiRequest
from gateway.services import api_requests_flush

pytestmark = pytest.mark.django_db


def test_sampled_api_calls_are_logged_without_ids_or_secrets(settings):
    settings.API_LOG_SAMPLE_RATE = 1.0
    user = UserFactory()
    app = APIClient()
    login = app.post(
        "/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )
    access = login.json()["meta"]["access_token"]
    photo_id = uuid.uuid4()
    me = app.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    missing = app.get(f"/api/v1/photos/{photo_id}/", HTTP_AUTHORIZATION=f"Bearer {access}")
    Client().get("/", HTTP_AUTHORIZATION=f"Bearer {access}")  # pages are not API calls

    entries = list(ApiRequest.objects.order_by("created_at", "id"))
    assert [(e.method, e.route, e.status) for e in entries] == [
        ("GET", "api/v1/me", 200),
        ("GET", "api/v1/photos/<str:photo_id>/", 404),
    ]
    assert {e.user_id for e in entries} == {user.id}
    assert [e.request_id for e in entries] == [me["X-Request-ID"], missing["X-Request-ID"]]
    assert all(e.duration_ms > 0 for e in entries)
    stored = " ".join(f"{e.route} {e.request_id}" for e in entries)
    assert str(photo_id) not in stored and access[:20] not in stored


def test_calls_outside_the_sample_are_not_logged(settings, client_for):
    settings.API_LOG_SAMPLE_RATE = 0.0
    client_for(UserFactory()).get("/api/v1/me")
    assert not ApiRequest.objects.exists()


def test_staff_read_the_log_in_the_admin(settings, client_for, client):
    settings.API_LOG_SAMPLE_RATE = 1.0
    client_for(UserFactory(email="caller@example.com")).get("/api/v1/projects/")
    client.force_login(StaffFactory())
    listing = client.get("/admin/gateway/apirequest/").content.decode()
    assert "api/v1/projects/" in listing and "caller@example.com" in listing
    assert client.get("/admin/gateway/apirequest/add/").status_code == 403


@pytest.fixture(autouse=True)
def _nothing_left_pending():
    yield
    api_requests_flush()  # a batch a test left half full must not reach the next test


def test_the_log_is_written_in_batches_with_each_calls_own_time(settings, client_for):
    settings.API_LOG_SAMPLE_RATE = 1.0
    settings.API_LOG_BATCH_SIZE = 3
    settings.API_LOG_BATCH_SECONDS = 3600
    app = client_for(UserFactory())
    app.get("/api/v1/me")
    app.get("/api/v1/projects/")
    before_third = timezone.now()
    assert not ApiRequest.objects.exists()  # held until the batch is full

    app.get("/api/v1/me")

    entries = list(ApiRequest.objects.order_by("created_at", "id"))
    assert [e.route for e in entries] == ["api/v1/me", "api/v1/projects/", "api/v1/me"]
    assert entries[1].created_at <= before_third <= entries[2].created_at


def test_a_batch_waits_no_longer_than_its_age_limit(settings, client_for):
    settings.API_LOG_SAMPLE_RATE = 1.0
    settings.API_LOG_BATCH_SIZE = 50
    settings.API_LOG_BATCH_SECONDS = 0
    client_for(UserFactory()).get("/api/v1/me")
    assert ApiRequest.objects.count() == 1


def test_a_caller_deleted_before_the_write_is_logged_as_no_one(settings, client_for):
    settings.API_LOG_SAMPLE_RATE = 1.0
    settings.API_LOG_BATCH_SIZE = 2
    settings.API_LOG_BATCH_SECONDS = 3600
    gone, staying = UserFactory(), UserFactory()
    client_for(gone).get("/api/v1/me")
    gone.delete()

    client_for(staying).get("/api/v1/me")

    entries = list(ApiRequest.objects.order_by("created_at", "id"))
    assert [e.user_id for e in entries] == [None, staying.id]
