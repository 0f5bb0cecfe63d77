"""manage.py enhance on local files, the presets page and the admin retry action."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, StaffFactory
from conftest import CAMERA_HEIC, INTERIOR, shared_photo
from processing.models import Preset


def test_enhance_writes_every_photo_with_a_progress_bar(tmp_path, capsys):
    inputs = []
    for source in (INTERIOR, CAMERA_HEIC):
        target = tmp_path / source.name
        target.write_bytes(shared_photo(source))
        inputs.append(str(target))
    out = tmp_path / "out"
    call_command("enhance", *inputs, "--preset", "bright-airy", "--out", str(out))
    captured = capsys.readouterr()
    assert "2 of 2 photos written" in captured.out
    assert "[" + "#" * 30 + "] 2/2" in captured.err
    living = Image.open(out / "living-room.jpg")
    kitchen = Image.open(out / "kitchen-iphone13.jpg")
    assert living.size == (1600, 960) and kitchen.size == (3024, 4032)


def test_enhance_reports_bad_files_and_bad_presets(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    with pytest.raises(CommandError, match="1 photo"):
        call_command("enhance", str(bad), "--preset", "natural", "--out", str(tmp_path / "o"))
    with pytest.raises(CommandError, match="shipped presets: natural"):
        call_command("enhance", str(bad), "--preset", "sepia", "--out", str(tmp_path / "o"))
    with pytest.raises(CommandError, match="strength"):
        call_command(
            "enhance", str(bad), "--operations", json.dumps([{"op": "auto_enhance", "params": {"strength": 9}}]),
            "--out", str(tmp_path / "o"),
        )  # fmt: skip
    with pytest.raises(CommandError, match="AI"):
        call_command(
            "enhance", str(bad), "--preset", "virtual-staging-living-room", "--out", str(tmp_path)
        )


@pytest.mark.django_db
def test_presets_page_lists_and_creates_presets(client, user):
    client.force_login(user)
    page = client.get("/presets/").content.decode()
    assert "Bright &amp; airy" in page and "privacy_blur" in page
    refused = client.post("/presets/", {"name": "Bad", "operations": '[{"op": "sharpen"}]'})
    assert "unknown operation" in refused.content.decode()
    assert not Preset.objects.filter(owner=user).exists()
    created = client.post(
        "/presets/",
        {"name": "Soft", "operations": '[{"op": "auto_enhance", "params": {"strength": 0.3}}]'},
    )
    assert created.status_code == 302
    assert Preset.objects.get(owner=user).operations[0]["params"]["strength"] == 0.3

    membership = MembershipFactory(user=user, role=Membership.Role.ADMIN)
    assert membership.agency.name in client.get("/presets/").content.decode()
    client.post(
        "/presets/",
        {
            "name": "Team look",
            "agency": membership.agency_id,
            "operations": '[{"op": "auto_enhance"}]',
        },
    )
    assert Preset.objects.get(agency=membership.agency).name == "Team look"


@pytest.mark.django_db(transaction=True)
def test_admin_retries_failed_jobs(client, api, ready_photos, wait_for_job, openai):
    openai.plan("moderation")
    body = {"photos": ready_photos(1), "preset": "virtual-staging-living-room"}
    job_id = api.post("/api/v1/jobs/", body, format="json").json()["jobs"][0]["id"]
    job = wait_for_job(job_id)
    assert job.status == "failed"
    staff = StaffFactory()
    client.force_login(staff)
    assert client.get("/admin/processing/job/").status_code == 200
    response = client.post(
        "/admin/processing/job/",
        {"action": "retry_jobs", "_selected_action": [str(job.id)]},
        follow=True,
    )
    assert "1 job(s) queued again" in response.content.decode()
    for model in ("preset", "batch", "airesult"):
        assert client.get(f"/admin/processing/{model}/").status_code == 200
    for model in ("plan", "subscription", "usagecounter"):
        assert client.get(f"/admin/billing/{model}/").status_code == 200
