"""The project page in real headless Chromium, without a reload: upload, select, enhance with
live progress, reorder from the keyboard, export the selection, share then revoke; and no
horizontal scroll on a phone."""

from __future__ import annotations

import os
import time
from pathlib import Path

from accounts.tests.factories import UserFactory
from billing.tests.factories import SubscriptionFactory
from conftest import BROWSER_TEST, SHARED_DATA, log_in, require_shared
from projects.tests.factories import ProjectFactory

PHOTOS = ("living-room.jpg", "kitchen.jpg", "bedroom.jpg")
pytestmark = BROWSER_TEST


def wait_until(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def tile_order(page) -> list[str]:
    return page.eval_on_selector_all(
        "#photo-grid li.tile", "tiles => tiles.map(t => t.dataset.photo)"
    )


def test_upload_enhance_reorder_export_and_share_without_reloading(
    live_server, page, celery_worker_process, tmp_path
):
    from delivery.models import Export, ShareLink
    from projects.models import Photo
    from projects.selectors import in_listing_order

    files = [str(require_shared(SHARED_DATA / "interiors" / name)) for name in PHOTOS]
    user = UserFactory()
    SubscriptionFactory(user=user)  # exports are a paid feature
    project = ProjectFactory(owner=user, name="Maison des Canuts", listing_reference="MC-3")
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.evaluate("window.sameDocument = true")

    # The file input is reachable from the keyboard, with a visible "Choose photos" label.
    page.focus("#file-input")
    assert page.evaluate("document.activeElement.id") == "file-input"
    assert page.get_by_text("Choose photos").is_visible()

    page.set_input_files("#file-input", files)
    picks = page.locator("#photo-grid li.tile .pick")
    picks.nth(2).wait_for(timeout=60_000)
    assert picks.count() == 3
    for name in PHOTOS:
        assert page.get_by_role("checkbox", name=name, exact=True).is_enabled()

    # Enhance two photos with "Natural": per-photo and batch progress, results on the tiles.
    chosen = [
        page.get_by_role("checkbox", name=name, exact=True).get_attribute("value")
        for name in PHOTOS[:2]
    ]
    for name in PHOTOS[:2]:
        page.get_by_role("checkbox", name=name, exact=True).check()
    page.select_option("#preset", label="Natural")
    page.click("#run-preset")
    page.wait_for_function(
        "() => document.getElementById('batch-progress').value === 100", timeout=120_000
    )
    for photo_id in chosen:
        tile = page.locator(f'#photo-grid li.tile[data-photo="{photo_id}"]')
        tile.locator(".caption >> text=Natural").wait_for(timeout=60_000)
        assert tile.locator("img").get_attribute("src")
    assert "2 done" in page.locator("#batch-state").inner_text()
    assert page.evaluate("window.sameDocument") is True

    # Reorder from the keyboard: the first tile one place later.
    before = tile_order(page)
    first_name = Photo.objects.get(id=before[0]).original_filename
    page.get_by_role("button", name=f"Move {first_name} later").focus()
    page.keyboard.press("Enter")
    page.locator("#listing-state >> text=moved to position 2").wait_for()
    expected = [before[1], before[0], before[2]]
    assert tile_order(page) == expected
    listing = [str(p.id) for p in in_listing_order(Photo.objects.filter(project=project))]
    assert listing == expected
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        f"Move {first_name} later"
    )

    # Export the selection (still ticked): built in listing order.
    page.select_option("#portal", "mls")
    page.click("#export")
    page.wait_for_selector("#export-state a", timeout=90_000)
    assert page.locator("#export-state a").inner_text() == "Download mc-3-mls.zip"
    export = Export.objects.get()
    assert export.photo_ids == [i for i in expected if i in chosen]

    # Share the selection, then revoke the link from the page.
    page.click("#share")
    page.wait_for_selector("#share-url")
    shared = page.locator("#share-url").get_attribute("href")
    assert page.locator("#share-links li").count() == 1
    page.get_by_role("button", name=f"Revoke the share link {shared}").click()
    page.locator("#share-links li.inactive").wait_for()
    assert "revoked" in page.locator("#share-links li").inner_text()
    link = ShareLink.objects.get()
    assert link.revoked_at is not None and sorted(link.photo_ids) == sorted(chosen)
    visitor = page.context.browser.new_page()
    assert visitor.goto(shared).status == 410
    assert page.evaluate("window.sameDocument") is True

    # The order survives a reload; a phone-sized screen has no horizontal scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert tile_order(page) == expected
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    page.screenshot(path=str(folder / "project-page-390.png"), full_page=True)


def test_duplicates_hidden_until_shown_and_delete_from_a_tile(
    live_server, page, celery_worker_process
):
    from projects.models import Photo

    photo = str(require_shared(SHARED_DATA / "interiors" / "kitchen.jpg"))
    user = UserFactory()
    project = ProjectFactory(owner=user)
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.set_input_files("#file-input", [photo])
    page.locator("#photo-grid li.tile .pick").wait_for(timeout=60_000)
    page.set_input_files("#file-input", [photo])
    page.locator("#upload-list li:nth-child(2) .status-ready").wait_for(timeout=60_000)
    wait_until(lambda: Photo.objects.filter(project=project, status="ready").count() == 2)

    page.reload()
    assert page.locator("#photo-grid li.tile:visible").count() == 1
    # A Free account is not offered exports: the button is disabled and says why.
    page.locator("#export-unavailable").wait_for()
    assert page.locator("#export").is_disabled()
    assert "Premium" in page.locator("#export-unavailable").inner_text()
    page.check("#show-duplicates")
    assert page.locator("#photo-grid li.tile:visible").count() == 2

    duplicate = page.locator("#photo-grid li.tile[data-duplicate]")
    page.once("dialog", lambda dialog: dialog.accept())
    duplicate.get_by_role("button", name="Delete kitchen.jpg").click()
    page.locator("#listing-state >> text=The photo was deleted.").wait_for()
    assert page.locator("#photo-grid li.tile").count() == 1
    wait_until(lambda: Photo.objects.filter(project=project).count() == 1)
    assert Photo.objects.get(project=project).duplicate_of_id is None


def test_off_peak_jobs_stay_on_view_and_failures_say_why(
    live_server, page, celery_worker_process, openai, settings
):
    from django.core.files.base import ContentFile

    from conftest import INTERIOR, shared_photo
    from projects.models import Photo
    from projects.services import photo_upload

    settings.OFFPEAK_WINDOW = (3, 3)  # an empty window: off-peak jobs wait
    user = UserFactory()
    project = ProjectFactory(owner=user)
    photo = photo_upload(
        user=user, project=project, upload=ContentFile(shared_photo(INTERIOR), "salon.jpg")
    ).photo
    wait_until(lambda: Photo.objects.get(id=photo.id).status == "ready")
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")
    tile = page.locator(f'#photo-grid li.tile[data-photo="{photo.id}"]')

    page.select_option("#preset", label="Natural")
    page.select_option("#lane", "offpeak")
    page.click("#run-preset")
    tile.locator(".job-state >> text=Waiting for the off-peak window").wait_for()
    page.locator("#batch-state >> text=waiting for the off-peak window").wait_for()
    page.reload()  # still on view after a reload
    tile.locator(".job-state >> text=Waiting for the off-peak window").wait_for()

    # An AI edit the provider refuses: the reason in words, and what to do.
    openai.plan("moderation")
    page.select_option("#lane", "standard")
    page.select_option("#preset", label="Virtual staging — living room")
    page.check(f"#pick-{photo.id}")
    page.click("#run-preset")
    failed = tile.locator(".job-failed .job-state")
    failed.wait_for(timeout=90_000)
    assert "Failed — " in failed.inner_text()
    assert "Try again from this photo, or choose another preset." in failed.inner_text()
    # The tile can show the failure before the batch line catches up: wait for it.
    page.locator("#batch-state", has_text="1 failed").wait_for(timeout=30_000)
    # The provider answers this time: the retried job's result replaces the tile's image.
    tile.get_by_role("button", name="Try Virtual staging — living room again on salon.jpg").click()
    tile.locator(".caption >> text=Virtual staging — living room").wait_for(timeout=90_000)
    assert tile.locator(".ai-tag").count() == 1

    # Without an AI provider, AI presets are offered disabled, with the reason.
    settings.OPENAI_API_KEY = ""
    page.reload()
    staging = page.locator("#preset option", has_text="Virtual staging — living room")
    assert staging.is_disabled()
    assert "AI editing is not set up" in page.locator("#preset-unavailable").inner_text()
    assert page.locator("#preset option", has_text="Natural").is_enabled()


def test_an_upload_cut_by_the_network_is_retried_from_its_row(
    live_server, page, tmp_path, celery_worker_process
):
    from conftest import INTERIOR, shared_photo
    from projects.models import Photo

    user = UserFactory()
    project = ProjectFactory(owner=user)
    photo = tmp_path / "salon.jpg"
    photo.write_bytes(shared_photo(INTERIOR))
    log_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/projects/{project.id}/")

    cut = {"count": 0}

    def drop_first(route):
        cut["count"] += 1
        route.abort("connectionreset")

    page.route("**/api/v1/photos/", drop_first, times=1)
    page.set_input_files("#file-input", [str(photo)])
    retry = page.get_by_role("button", name="Retry the upload of salon.jpg")
    retry.wait_for(timeout=30_000)
    assert cut["count"] == 1 and not Photo.objects.filter(project=project).exists()

    retry.click()
    page.locator("#photo-grid li.tile .pick").first.wait_for(timeout=60_000)
    assert Photo.objects.filter(project=project).count() == 1
    assert page.get_by_role("button", name="Retry the upload of salon.jpg").count() == 0
