"""An agent's whole first session, in French, in real headless Chromium: sign up and confirm the
address, create a project, drop photos in, enhance them, compare before/after, deliver the
original, reorder, export, share and revoke, an HDR group refused, and the page on a phone.

A screenshot of each main step goes to $SCREENSHOT_DIR (else the test's tmp_path), and one more
when a step fails."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from django.core import mail

from billing.tests.factories import SubscriptionFactory
from conftest import BROWSER_TEST, SHARED_DATA, require_shared
from tests.test_project_page_browser import tile_order, wait_until

PHOTOS = ("living-room.jpg", "kitchen.jpg", "bedroom.jpg")
EMAIL = "agent.lyon@example.com"
PASSWORD = "Une-longue-phrase-2026"
pytestmark = BROWSER_TEST

# Builds File objects from the bytes the test passes in and drops them on the zone, the way the
# browser hands a drag from the desktop to the page (Playwright cannot drag OS files).
DROP_FILES = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const file of files) {
    const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], file.name, { type: "image/jpeg" }));
  }
  const zone = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }
}"""


class Shots:
    """Numbered full-page screenshots of the journey's steps."""

    def __init__(self, page, folder: Path) -> None:
        self.page, self.folder, self.count = page, folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"journey-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def french_page(chromium, request, tmp_path):
    """A Chromium page whose browser speaks French; a failing test leaves a screenshot."""
    context = chromium.new_context(
        locale="fr-FR",
        extra_http_headers={"Accept-Language": "fr"},
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    shots = Shots(page, Path(os.environ.get("SCREENSHOT_DIR") or tmp_path))
    failures = request.session.testsfailed
    yield page, shots
    # The call's report is logged (and counted) before fixtures are torn down.
    if request.session.testsfailed > failures:
        shots.take("failure")


def test_an_agent_signs_up_in_french_and_prepares_a_listing(
    live_server, french_page, celery_worker_process
):
    from accounts.models import User
    from delivery.models import Export, ShareLink
    from projects.models import Photo, Project
    from projects.selectors import in_listing_order

    page, shots = french_page
    files = [require_shared(SHARED_DATA / "interiors" / name) for name in PHOTOS]
    site = live_server.url

    # --- Sign up in French; mandatory verification: the link comes by e-mail ----------------
    page.goto(f"{site}/accounts/signup/")
    assert page.evaluate("document.documentElement.lang") == "fr"
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    shots.take("signup")
    page.locator("form[action*='signup'] button[type=submit]").click()
    wait_until(lambda: len(mail.outbox) == 1, timeout=20)
    message = mail.outbox[0]
    assert message.to == [EMAIL]
    assert "PhotoListing" in message.subject
    confirm_path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", message.body)[1]
    assert not User.objects.get(email=EMAIL).emailaddress_set.get().verified

    page.goto(site + confirm_path)
    shots.take("confirm")
    page.locator("form[action*='confirm-email'] button[type=submit]").click()
    wait_until(lambda: User.objects.get(email=EMAIL).emailaddress_set.get().verified, 20)
    # The agent is on Premium, which includes portal exports (buying it through Checkout has its
    # own browser test); a Free account sees the export disabled (test_project_page_browser).
    SubscriptionFactory(user=User.objects.get(email=EMAIL))

    # --- Log in -------------------------------------------------------------------------------
    page.goto(f"{site}/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form[action*='login'] button[type=submit]").click()
    page.wait_for_url(f"{site}/")
    assert page.get_by_role("heading", name="Projets", exact=True).is_visible()
    shots.take("dashboard")

    # --- Create a project from the dashboard form ---------------------------------------------
    page.get_by_label("Nom du projet").fill("Appartement Croix-Rousse")
    page.locator("form.new-project button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/projects/[0-9a-f-]+/$"))
    project = Project.objects.get(owner__email=EMAIL)
    assert project.name == "Appartement Croix-Rousse"
    assert page.url == f"{site}/projects/{project.id}/"
    page.evaluate("window.sameDocument = true")

    # --- Drop three photos onto the drop zone: tiles become selectable without a reload -------
    payload = [{"name": f.name, "data": base64.b64encode(f.read_bytes()).decode()} for f in files]
    page.evaluate(DROP_FILES, ["#upload", payload])
    assert page.locator("#upload-list li").count() == 3
    picks = page.locator("#photo-grid li.tile .pick")
    picks.nth(2).wait_for(timeout=90_000)
    assert picks.count() == 3
    for name in PHOTOS:
        assert page.get_by_role("checkbox", name=name, exact=True).is_enabled()
    assert page.evaluate("window.sameDocument") is True
    ids = {p.original_filename: str(p.id) for p in Photo.objects.filter(project=project)}
    assert sorted(ids) == sorted(PHOTOS)
    shots.take("uploaded")

    # --- The "Natural" preset on all photos: progress reaches 100% ----------------------------
    preset = page.locator("#preset option", has_text=re.compile(r"^(Naturel|Natural)$"))
    preset.wait_for(state="attached")
    page.select_option("#preset", value=preset.get_attribute("value"))
    page.click("#run-preset")
    page.wait_for_function(
        "() => document.getElementById('batch-progress').value === 100", timeout=180_000
    )
    for photo_id in ids.values():
        tile = page.locator(f'#photo-grid li.tile[data-photo="{photo_id}"]')
        tile.locator(".caption", has_text=re.compile("Naturel|Natural")).wait_for(timeout=60_000)
    assert page.evaluate("window.sameDocument") is True
    assert all(Photo.objects.get(id=i).versions.count() == 1 for i in ids.values())
    shots.take("enhanced")

    # --- The photo page: move the before/after slider ----------------------------------------
    living_room = ids["living-room.jpg"]
    page.locator(f'#photo-grid li.tile[data-photo="{living_room}"] .frame a').click()
    page.wait_for_url(f"**/photos/{living_room}/")
    page.wait_for_selector("#compare")
    clip = page.locator(".before-clip")
    wide = clip.evaluate("el => el.getBoundingClientRect().width")
    page.locator("#compare-range").fill("20")
    narrow = clip.evaluate("el => el.getBoundingClientRect().width")
    assert narrow < wide * 0.6
    # And from the keyboard: the arrow keys move it back.
    page.focus("#compare-range")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    assert page.locator("#compare-range").input_value() == "30"
    assert clip.evaluate("el => el.getBoundingClientRect().width") > narrow
    for selector in ("img.before", "img.after"):
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=page.locator(selector).element_handle(),
        )
    shots.take("compare")

    # --- Deliver the original instead of the result ------------------------------------------
    page.get_by_role("button", name=re.compile("Revenir à l.original")).click()
    page.locator('.version-row.delivered[data-version="original"]').wait_for()
    assert "livrent l’original" in page.locator("#delivered-state").inner_text()
    assert Photo.objects.get(id=living_room).deliver_original is True
    shots.take("delivered-original")

    # --- Back on the project page: reorder from the keyboard ---------------------------------
    page.get_by_role("link", name=re.compile("Appartement Croix-Rousse")).click()
    page.wait_for_url(f"{site}/projects/{project.id}/")
    page.evaluate("window.sameDocument = true")
    before = tile_order(page)
    first_name = Photo.objects.get(id=before[0]).original_filename
    page.get_by_role("button", name=f"Déplacer {first_name} plus tard").focus()
    page.keyboard.press("Enter")
    expected = [before[1], before[0], before[2]]
    wait_until(
        lambda: (
            [str(p.id) for p in in_listing_order(Photo.objects.filter(project=project))] == expected
        ),
        timeout=20,
    )
    assert tile_order(page) == expected
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        f"Déplacer {first_name} plus tard"
    )
    page.locator("#listing-state").filter(has_text=re.compile(r"\S")).wait_for()
    shots.take("reordered")

    # --- Export a selection (two ticked photos), in listing order ----------------------------
    chosen = [ids["kitchen.jpg"], ids["bedroom.jpg"]]
    for name in ("kitchen.jpg", "bedroom.jpg"):
        page.get_by_role("checkbox", name=name, exact=True).check()
    page.locator("#portal option").nth(0).wait_for(state="attached")
    page.select_option("#portal", "mls")
    page.click("#export")
    page.wait_for_selector("#export-state a", timeout=120_000)
    export = Export.objects.get(project=project)
    assert export.photo_ids == [i for i in expected if i in chosen]
    assert page.locator("#export-state a").get_attribute("href")
    shots.take("exported")

    # --- Share the selection, then revoke the link -------------------------------------------
    page.click("#share")
    page.wait_for_selector("#share-url")
    shared = page.locator("#share-url").get_attribute("href")
    assert page.locator("#share-links li").count() == 1
    visitor = page.context.new_page()
    assert visitor.goto(shared).status == 200
    page.get_by_role("button", name=f"Révoquer le lien de partage {shared}").click()
    page.locator("#share-links li.inactive").wait_for()
    link = ShareLink.objects.get(project=project)
    assert link.revoked_at is not None and sorted(link.photo_ids) == sorted(chosen)
    assert visitor.goto(shared).status == 410
    visitor.close()
    shots.take("shared-and-revoked")

    # --- HDR refusal: three different rooms are not one bracket group ------------------------
    page.get_by_role("checkbox", name="living-room.jpg", exact=True).check()
    page.check("#bracket")
    hdr = page.locator("#preset option", has_text="HDR")
    page.select_option("#preset", value=hdr.first.get_attribute("value"))
    page.click("#run-preset")
    refusal = page.locator("#batch-state.error")
    refusal.wait_for(timeout=60_000)
    text = refusal.inner_text()
    assert "la même scène" in text, text
    assert any(name in text for name in PHOTOS), text
    assert not Photo.objects.filter(
        project=project, versions__preset_name__icontains="HDR"
    ).exists()
    assert page.evaluate("window.sameDocument") is True
    shots.take("hdr-refused")

    # --- On a phone: no horizontal scroll ----------------------------------------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.locator("#photo-grid li.tile").nth(2).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert tile_order(page) == expected
    shots.take("phone-390")
