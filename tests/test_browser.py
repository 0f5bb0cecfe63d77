"""The browser path in real headless Chromium: log in, upload several photos, see thumbnails."""

from __future__ import annotations

import os

from accounts.tests.factories import UserFactory
from billing.tests.factories import SubscriptionFactory
from conftest import BROWSER_TEST, INTERIOR, log_in, shared_photo
from projects.tests.factories import ProjectFactory

pytestmark = BROWSER_TEST


def test_log_in_and_upload_several_photos_with_progress(
    live_server, page, tmp_path, celery_worker_process
):
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Loft Croix-Rousse")
    photo = tmp_path / "living-room.jpg"
    photo.write_bytes(shared_photo(INTERIOR))
    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("not a photo")

    log_in(page, live_server.url, user)
    page.click("text=Loft Croix-Rousse")
    page.wait_for_url(f"**/projects/{project.id}/")

    page.set_input_files("#file-input", [str(photo), str(not_a_photo)])
    rows = page.locator("#upload-list li")
    assert rows.count() == 2
    assert page.locator("#upload-list progress").count() == 2
    page.wait_for_selector("#photo-grid li.tile img", timeout=60_000)
    page.wait_for_selector("#upload-list li:nth-child(2) .error", timeout=30_000)

    assert "(JPEG, PNG, WebP, HEIC/HEIF or TIFF)" in rows.nth(1).inner_text()
    assert rows.nth(0).locator("progress").get_attribute("value") == "100"
    image = page.locator("#photo-grid li.tile img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => img.naturalWidth") == 400
    page.screenshot(
        path=os.environ.get("SCREENSHOT", str(tmp_path / "project.png")), full_page=True
    )
    # The page reloads with the photo rendered server-side.
    page.reload()
    assert page.locator("#photo-grid li.tile img").count() == 1


def test_enhance_a_photo_and_compare_before_and_after(
    live_server, page, tmp_path, celery_worker_process
):
    from django.core.files.base import ContentFile

    from projects.models import Photo
    from projects.services import photo_upload

    user = UserFactory()
    project = ProjectFactory(owner=user, name="Maison Lumière")
    photo_upload(
        user=user, project=project, upload=ContentFile(shared_photo(INTERIOR), "salon.jpg")
    )
    deadline = __import__("time").monotonic() + 60
    while Photo.objects.get(project=project).status != "ready":
        assert __import__("time").monotonic() < deadline
        __import__("time").sleep(0.1)

    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.select_option("#preset", label="Bright & airy")
    page.click("#run-preset")
    page.wait_for_selector("#photo-grid .caption >> text=Bright & airy", timeout=90_000)

    page.click("#photo-grid li.tile a")
    page.wait_for_selector("#compare")
    before_width = page.locator(".before-clip").evaluate("el => el.getBoundingClientRect().width")
    page.locator("#compare-range").fill("20")
    after_width = page.locator(".before-clip").evaluate("el => el.getBoundingClientRect().width")
    assert after_width < before_width * 0.6
    for selector in ("img.before", "img.after"):
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=page.locator(selector).element_handle(),
        )
    page.screenshot(path=os.environ.get("SCREENSHOT_COMPARE", str(tmp_path / "compare.png")))


def test_billing_page_upgrade_button_goes_to_checkout(
    live_server, page, stripe, celery_worker_process
):
    user = UserFactory()
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/billing/")
    assert "Free" in page.locator("#current-plan h2").inner_text()
    assert page.locator(".usage .bar").count() == 2
    premium = page.locator('li[data-plan="premium"]')
    premium.locator("select[name=interval]").select_option("year")
    premium.locator("button[type=submit]").click()
    page.wait_for_url(f"{stripe.base_url}/checkout/cs_test_*")
    assert "Test checkout" in page.content()
    session = stripe.sessions[page.url.rsplit("/", 1)[-1]]
    assert session["line_items"][0]["price"] == "price_premium_year"
    assert session["client_reference_id"] == f"user:{user.id}"


def test_export_for_a_portal_and_share_the_gallery(
    live_server, page, celery_worker_process, tmp_path
):
    import time

    from django.core.files.base import ContentFile

    from projects.models import Photo
    from projects.services import photo_upload

    user = UserFactory()
    SubscriptionFactory(user=user)  # exports are a paid feature
    project = ProjectFactory(owner=user, name="Villa Fourvière", listing_reference="VF-7")
    photo_upload(
        user=user, project=project, upload=ContentFile(shared_photo(INTERIOR), "salon.jpg")
    )
    deadline = time.monotonic() + 60
    while Photo.objects.get(project=project).status != "ready":
        assert time.monotonic() < deadline
        time.sleep(0.1)

    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.select_option("#portal", "seloger")
    page.click("#export")
    page.wait_for_selector("#export-state a", timeout=60_000)
    # One photo: a single JPEG rather than a ZIP.
    assert page.locator("#export-state a").inner_text() == "Download vf-7_01.jpg"

    page.check("#share-download")
    page.click("#share")
    page.wait_for_selector("#share-url")
    shared = page.locator("#share-url").get_attribute("href")
    visitor = page.context.browser.new_page()
    visitor.goto(shared)
    assert "Villa Fourvière" in visitor.content()
    assert visitor.locator("#shared-grid img").count() == 1
    assert visitor.locator("text=Download").count() == 1


def test_a_damaged_upload_says_why_and_can_be_deleted(
    live_server, page, tmp_path, celery_worker_process
):
    from projects.models import Photo
    from projects.tests import damaged

    user = UserFactory()
    project = ProjectFactory(owner=user, name="Studio Bellecour")
    cut = tmp_path / "salon.png"
    cut.write_bytes(damaged.png_truncated_pixels())

    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.set_input_files("#file-input", [str(cut)])

    tile = page.locator("#photo-grid li.tile[data-status=rejected]")
    tile.wait_for(timeout=30_000)
    assert "The file is incomplete" in tile.inner_text()
    assert "Rejected: The file is incomplete" in page.locator("#upload-list li").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())  # "Delete salon.png? …"
    tile.get_by_role("button", name="Delete").click()
    page.locator("#listing-state >> text=The photo was deleted.").wait_for()
    assert page.locator("#photo-grid li.tile").count() == 0
    assert not Photo.objects.filter(project=project).exists()
