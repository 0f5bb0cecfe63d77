"""Runtime switches staff change in the admin: the maintenance banner and the off-peak window,
each change audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from analytics.models import AuditEntry
from processing.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(StaffFactory())
    return client


def set_switch(client, name: str, value: str) -> None:
    from runtime.models import Switch

    existing = Switch.objects.filter(name=name).first()
    url = (
        f"/admin/runtime/switch/{existing.pk}/change/" if existing else "/admin/runtime/switch/add/"
    )
    response = client.post(url, {"name": name, "value": value})
    assert response.status_code == 302, response.content


def test_the_maintenance_banner_shows_on_every_page_and_its_change_is_audited(staff_client):
    assert b"maintenance" not in Client().get("/").content
    set_switch(staff_client, "maintenance_banner", "Maintenance tonight 22:00–23:00 UTC")

    page = Client().get("/").content.decode()
    assert (
        '<div class="banner maintenance" role="status">Maintenance tonight 22:00–23:00 UTC' in page
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target_type) == ("add", "runtime.Switch")
    assert entry.after["value"] == "Maintenance tonight 22:00–23:00 UTC"


def test_an_unparsable_window_is_refused(staff_client):
    response = staff_client.post(
        "/admin/runtime/switch/add/", {"name": "offpeak_window", "value": "25,3"}
    )
    assert response.status_code == 200 and "hours are 0 to 23" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_economy_jobs_wait_for_the_window_staff_set(staff_client, api, ready_photos, wait_for_job):
    hour = timezone.localtime().hour
    set_switch(staff_client, "offpeak_window", f"{(hour + 2) % 24},{(hour + 3) % 24}")
    photos = ready_photos(2)
    body = {"photos": photos[:1], "preset": "natural", "lane": "offpeak"}
    waiting = api.post("/api/v1/jobs/", body, format="json").json()["jobs"][0]["id"]
    assert Job.objects.get(id=waiting).status == "queued"

    set_switch(staff_client, "offpeak_window", f"{hour},{(hour + 1) % 24}")
    change = AuditEntry.objects.latest("id")
    assert change.action == "change" and change.after["value"] == f"{hour},{(hour + 1) % 24}"
    assert change.before["value"] == f"{(hour + 2) % 24},{(hour + 3) % 24}"
    from processing.tasks import release_offpeak_jobs

    release_offpeak_jobs.delay()
    assert wait_for_job(waiting).status == "succeeded"
