"""Services record usage events when things happen, driven through the product's interfaces."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from analytics.models import UsageEvent
from billing.models import UsageCounter
from billing.tests.test_billing import subscribe
from conftest import jpeg_bytes

pytestmark = pytest.mark.django_db(transaction=True)
Kind = UsageEvent.Kind


def kinds() -> list[str]:
    return list(UsageEvent.objects.order_by("id").values_list("kind", flat=True))


def test_signup_and_login_are_recorded(client):
    client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "a-Long-pass-1", "password2": "a-Long-pass-1"},
    )
    user = User.objects.get(email="new@example.com")
    signup = UsageEvent.objects.get(kind=Kind.SIGNUP)
    assert signup.user_id == user.id and signup.plan == "free"

    existing = UserFactory()
    client.post("/accounts/login/", {"login": existing.email, "password": "wrong"})
    assert not UsageEvent.objects.filter(kind=Kind.LOGIN).exists()
    client.post("/accounts/login/", {"login": existing.email, "password": PASSWORD})
    assert UsageEvent.objects.get(kind=Kind.LOGIN).user_id == existing.id


def test_upload_and_rejected_ingest_are_recorded(upload, user, project, wait_for_ingest):
    good = upload(jpeg_bytes(Image.new("RGB", (64, 48)))).json()
    bad = upload(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20, "broken.jpg").json()
    assert wait_for_ingest(bad["id"]).status == "rejected"  # ingest runs in a worker
    uploads = UsageEvent.objects.filter(kind=Kind.UPLOAD).order_by("id")
    assert [event.metadata["photo"] for event in uploads] == [good["id"], bad["id"]]
    assert {(e.user_id, e.project_id, e.plan) for e in uploads} == {(user.id, project.id, "free")}
    rejected = UsageEvent.objects.get(kind=Kind.INGEST_REJECTED)
    assert rejected.metadata["photo"] == bad["id"] and rejected.metadata["code"]


def test_jobs_record_operation_duration_and_outcome(api, ready_photos, wait_for_job, openai):
    photos = ready_photos(3)
    done = api.post("/api/v1/jobs/", {"photos": photos[:1], "preset": "natural"}, format="json")
    job = wait_for_job(done.json()["jobs"][0]["id"])
    assert job.status == "succeeded"
    succeeded = UsageEvent.objects.get(kind=Kind.JOB_SUCCEEDED, metadata__job=str(job.id))
    assert succeeded.operation == job.operations[0]["op"]
    assert succeeded.metadata["job"] == str(job.id) and succeeded.duration_ms is not None
    assert succeeded.ai_edits == 0 and succeeded.provider_cost == 0

    staged = {"photos": photos[2:], "preset": "virtual-staging-living-room"}
    paid = wait_for_job(api.post("/api/v1/jobs/", staged, format="json").json()["jobs"][0]["id"])
    assert paid.status == "succeeded" and paid.cost > 0
    ai = UsageEvent.objects.get(kind=Kind.JOB_SUCCEEDED, operation="virtual_staging")
    assert (ai.provider_cost, ai.ai_edits) == (paid.cost, 1)

    openai.plan("moderation")
    body = {"photos": photos[1:2], "preset": "virtual-staging-living-room"}
    failed_job = wait_for_job(
        api.post("/api/v1/jobs/", body, format="json").json()["jobs"][0]["id"]
    )
    failed = UsageEvent.objects.get(kind=Kind.JOB_FAILED)
    assert failed.operation == "virtual_staging"
    assert failed.metadata["error"] == failed_job.error_code


def test_quota_refusal_is_recorded_though_the_request_rolled_back(api, user, ready_photos):
    photo = ready_photos(1)
    UsageCounter.objects.update_or_create(
        subject=f"user:{user.id}",
        period_start=timezone.localdate().replace(day=1),
        metric="processed",
        defaults={"used": 30},
    )
    refused = api.post("/api/v1/jobs/", {"photos": photo, "preset": "natural"}, format="json")
    assert refused.json()["error"]["code"] == "quota_exceeded"
    event = UsageEvent.objects.get(kind=Kind.QUOTA_REFUSED)
    assert (event.user_id, event.plan, event.metadata["metric"]) == (user.id, "free", "processed")


def test_share_link_views_and_subscription_changes_are_recorded(
    api, user, project, upload, stripe, deliver
):
    upload(jpeg_bytes(Image.new("RGB", (64, 48))))
    link = api.post(f"/api/v1/projects/{project.id}/share-links/", {}, format="json").json()
    Client().get(link["url"].removeprefix("http://testserver"))
    view = UsageEvent.objects.get(kind=Kind.SHARE_VIEW)
    assert (view.user_id, view.project_id) == (user.id, project.id)

    subscribe(api, stripe, deliver, "premium")
    change = UsageEvent.objects.get(kind=Kind.SUBSCRIPTION_CHANGED)
    assert change.plan == "premium" and change.metadata["from"]["plan"] == "free"
    assert change.user_id == user.id
