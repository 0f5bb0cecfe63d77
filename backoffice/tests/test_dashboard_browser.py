"""A staff member signs in with their password and authenticator code, opens the dashboard,
filters a date range, sees the charts and downloads the CSV — in headless Chromium."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.tests.factories import PASSWORD, TOTP_SECRET, StaffFactory, totp_code
from analytics.tests.factories import history
from conftest import BROWSER_TEST

pytestmark = BROWSER_TEST


def test_staff_with_mfa_filters_the_dashboard_and_downloads_the_csv(live_server, page, tmp_path):
    staff = StaffFactory()
    today = timezone.localdate()
    history(
        subject_type="all",
        subject_key="",
        metric="upload",
        values={today - timedelta(days=n): 100 + n for n in range(40)},
    )

    page.goto(f"{live_server.url}/admin/dashboard/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("input[name=login]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", totp_code(TOTP_SECRET))
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin/dashboard/")

    assert page.locator("#chart-upload svg rect.bar-rect").count() == 30
    start, end = today - timedelta(days=9), today - timedelta(days=3)
    page.fill("input[name=start]", start.isoformat())
    page.fill("input[name=end]", end.isoformat())
    page.click("text=Apply")
    page.wait_for_url(f"**start={start.isoformat()}**")
    bars = page.locator("#chart-upload svg rect.bar-rect")
    assert bars.count() == 7
    assert bars.first.get_attribute("data-value") == "109"  # 9 days ago: 100 + 9
    assert page.locator("#chart-upload svg").is_visible()
    for chart in (
        "chart-active_users",
        "chart-provider_cost",
        "chart-failure-rate",
        "chart-plan-mix",
    ):
        assert page.locator(f"#{chart} svg").is_visible()

    with page.expect_download() as download_info:
        page.click("#dashboard-csv")
    download = download_info.value
    assert download.suggested_filename == f"photolisting-{start}-{end}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("day,active_users,upload")
    assert lines[1].startswith(f"{start.isoformat()},0,109")
    assert len([line for line in lines[1:8] if line]) == 7


def test_the_job_list_fits_a_1366_pixel_screen(live_server, chromium, client):
    from processing.models import Batch, Job
    from projects.models import Photo
    from projects.tests.factories import ProjectFactory

    staff = StaffFactory()
    project = ProjectFactory(owner=staff, name="Villa with a rather long name, Croix-Rousse")
    batch = Batch.objects.create(project=project, preset_name="Virtual staging — living room")
    for n in range(3):
        photo = Photo.objects.create(
            project=project, storage_key=f"k{n}/original.jpg", bytes=10, sha256=f"{n}" * 64
        )
        Job.objects.create(
            batch=batch,
            project=project,
            photo=photo,
            preset_name=batch.preset_name,
            operations=[{"op": "virtual_staging", "params": {}}],
            status="failed",
            error_code="provider_unavailable",
            cost="0.190000",
            quota_subject=f"user:{staff.pk}",
            quota_period=timezone.localdate(),
        )
    client.force_login(staff)
    tab = chromium.new_page(viewport={"width": 1366, "height": 768})
    session = client.cookies["sessionid"].value
    tab.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    tab.goto(f"{live_server.url}/admin/processing/job/")
    overflow = tab.evaluate(
        "() => { const t = document.querySelector('#result_list');"
        " return t.getBoundingClientRect().right - document.documentElement.clientWidth; }"
    )
    assert overflow <= 0, f"the job list is {overflow}px wider than the screen"
    headers = tab.locator("#result_list thead th").all_inner_texts()
    assert any("COST" in h.upper() for h in headers) and any(
        "CREATED" in h.upper() for h in headers
    )
