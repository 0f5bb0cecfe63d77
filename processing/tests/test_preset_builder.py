"""The presets page's builder (controls from each operation's schema, errors in words, French),
editing and deleting presets, and previewing steps on a photo without saving or charging."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from django.core.files.storage import storages
from PIL import Image

from accounts.models import Membership
from accounts.tests.factories import MembershipFactory, UserFactory
from billing.models import UsageCounter
from billing.tests.factories import SubscriptionFactory
from conftest import CHROMIUM, log_in
from imaging.ops import REGISTRY
from processing.models import Job, Preset
from projects.models import Photo, PhotoVersion, Rendition
from projects.tests.factories import ProjectFactory

TWO_STEPS = [
    {"op": "auto_enhance", "params": {"strength": 1.0, "brightness": 0.7, "warmth": 0.6}},
    {"op": "watermark", "params": {"text": "Agence Lumière", "size": 0.08, "opacity": 1.0}},
]


def _step_fields(index: int, op: str, **params: str) -> dict:
    fields = {f"steps-{index}-op": op}
    fields.update({f"steps-{index}-{name}": value for name, value in params.items()})
    return fields


def _param_block(page: str, element_id: str) -> str:
    """The markup of one parameter (its control, help and inline error)."""
    start = page.index(f'id="{element_id}"')
    start = page.rindex('<div class="param', 0, start)
    return page[start : page.index("</div>", start)]


# --- The builder ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_has_a_labelled_control_for_every_parameter_of_every_operation(client, user):
    client.force_login(user)
    page = client.get("/presets/").content.decode()
    for operation in REGISTRY.values():
        assert f'<template data-op="{operation.name}">' in page
        for name in operation.params:
            assert f'<label for="step-__i__-{name}">' in page, (operation.name, name)
            assert f'name="steps-__i__-{name}"' in page
    strength = _param_block(page, "step-__i__-strength")
    assert 'type="range"' in strength and 'min="0"' in strength and 'max="1"' in strength
    assert "<output" in strength and ">Strength</label>" in strength
    assert 'type="checkbox"' in _param_block(page, "step-__i__-white_balance")
    position = _param_block(page, "step-__i__-position")
    assert "<select" in position and '<option value="top-left">Top left</option>' in position
    assert 'type="text"' in _param_block(page, "step-__i__-text")
    # Nullable sizes are number fields ("Automatic" when empty), not sliders.
    assert 'type="number"' in _param_block(page, "step-__i__-long_edge")


@pytest.mark.django_db
def test_operations_and_parameters_are_named_in_french(client, user):
    client.force_login(user)
    page = client.get("/presets/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Amélioration automatique" in page and "Filigrane" in page
    assert ">Intensité</label>" in _param_block(page, "step-__i__-strength")
    assert '<option value="top-left">En haut à gauche</option>' in page
    assert "Ajouter l’étape" in page and "Aperçu" in page


@pytest.mark.django_db
def test_invalid_steps_are_explained_next_to_the_field_in_french(client, user):
    client.force_login(user)
    response = client.post(
        "/presets/",
        {
            "name": "Trop fort",
            **_step_fields(0, "auto_enhance", strength="3", brightness="0.5"),
            **_step_fields(1, "encode", format="jpeg", quality="80"),
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 400
    page = response.content.decode()
    strength = _param_block(page, "step-0-strength")
    assert 'id="step-0-strength-error">Doit valoir au plus 1.0.</p>' in strength
    assert 'aria-invalid="true"' in strength
    assert "Étape 1 (Amélioration automatique) — Intensité : Doit valoir au plus 1.0." in page
    assert "invalid_operations" not in page and "{&quot;" not in page  # words, not a JSON dump
    assert 'id="step-0-brightness-error"' not in page
    assert not Preset.objects.filter(owner=user).exists()

    unreadable = client.post(
        "/presets/",
        {"name": "Illisible", **_step_fields(0, "encode", format="jpeg", quality="beaucoup")},
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    assert "Saisissez un nombre." in _param_block(unreadable, "step-0-quality")

    out_of_order = client.post(
        "/presets/",
        {
            "name": "Désordre",
            "operations": '[{"op": "encode"}, {"op": "auto_enhance"}, {"op": "sepia"}]',
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    assert "« Format de fichier » doit être la dernière étape." in out_of_order
    assert "Étape 3 (sepia) : opération inconnue &#x27;sepia&#x27;." in out_of_order
    assert not Preset.objects.filter(owner=user).exists()


@pytest.mark.django_db
def test_create_edit_and_delete_a_preset_with_the_builder(client, user, premium):
    client.force_login(user)
    created = client.post(
        "/presets/",
        {
            "name": "Lumineux",
            "description": "Pour les séjours",
            **_step_fields(
                0, "auto_enhance", strength="0.6", brightness="0,55", white_balance="on"
            ),
            **_step_fields(1, "resize", long_edge="2048", width="", height="", fit="contain"),
            **_step_fields(2, "encode", format="webp", quality="82", max_bytes=""),
        },
    )
    assert created.status_code == 302
    preset = Preset.objects.get(owner=user)
    assert [step["op"] for step in preset.operations] == ["auto_enhance", "resize", "encode"]
    enhance, resize, encode = (step["params"] for step in preset.operations)
    assert enhance["strength"] == 0.6 and enhance["brightness"] == 0.55
    assert enhance["white_balance"] is True and enhance["contrast"] == 0.5
    assert resize["long_edge"] == 2048 and resize["width"] is None and resize["upscale"] is False
    assert encode["format"] == "webp" and encode["max_bytes"] is None

    edit_page = client.get(f"/presets/{preset.id}/edit/").content.decode()
    assert 'value="Lumineux"' in edit_page
    assert 'name="steps-2-format"' in edit_page and '<option value="webp" selected>' in edit_page
    assert 'name="steps-1-long_edge" min="16" max="12000" step="1" value="2048"' in edit_page

    edited = client.post(
        f"/presets/{preset.id}/edit/",
        {
            "name": "Lumineux doux",
            **_step_fields(0, "encode", format="jpeg", quality="90"),
            **_step_fields(1, "auto_enhance", strength="0.3"),
        },
    )
    assert edited.status_code == 400  # the file format must stay last
    assert "“File format” must be the last step." in edited.content.decode()
    client.post(
        f"/presets/{preset.id}/edit/",
        {
            "name": "Lumineux doux",
            **_step_fields(0, "auto_enhance", strength="0.3"),
            **_step_fields(1, "encode", format="jpeg", quality="90"),
        },
    )
    preset.refresh_from_db()
    assert preset.name == "Lumineux doux"
    assert preset.operations[0]["params"]["strength"] == 0.3
    # Unticked checkboxes are sent as absent: false.
    assert preset.operations[0]["params"]["white_balance"] is False

    listing = client.get("/presets/").content.decode()
    assert f'href="/presets/{preset.id}/edit/"' in listing
    deleted = client.post(f"/presets/{preset.id}/delete/", HTTP_ACCEPT_LANGUAGE="fr")
    assert deleted.status_code == 302
    assert not Preset.objects.filter(id=preset.id).exists()
    assert "Préréglage « Lumineux doux » supprimé." in client.get("/presets/").content.decode()


@pytest.mark.django_db
def test_only_agency_managers_change_agency_presets(client, user):
    admin = MembershipFactory(user=user, role=Membership.Role.ADMIN)
    member = MembershipFactory(agency=admin.agency, role=Membership.Role.MEMBER).user
    client.force_login(user)
    client.post(
        "/presets/",
        {"name": "Charte", "agency": admin.agency_id, **_step_fields(0, "auto_enhance")},
    )
    preset = Preset.objects.get(agency=admin.agency)
    assert f"/presets/{preset.id}/edit/" in client.get("/presets/").content.decode()

    client.force_login(member)
    listing = client.get("/presets/").content.decode()
    assert "Charte" in listing and f"/presets/{preset.id}/edit/" not in listing
    refused = client.post(
        f"/presets/{preset.id}/edit/",
        {"name": "Pirate", **_step_fields(0, "auto_enhance")},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    ).content.decode()
    assert "Seuls les propriétaires et administrateurs de l’agence" in refused
    client.post(f"/presets/{preset.id}/delete/")
    preset.refresh_from_db()
    assert preset.name == "Charte"
    # A member cannot make an agency preset either.
    client.post(
        "/presets/",
        {"name": "Autre", "agency": admin.agency_id, **_step_fields(0, "auto_enhance")},
    )
    assert Preset.objects.filter(agency=admin.agency).count() == 1

    stranger = UserFactory()
    client.force_login(stranger)
    assert client.get(f"/presets/{preset.id}/edit/").status_code == 404
    assert client.post(f"/presets/{preset.id}/delete/").status_code == 404
    assert client.get("/presets/not-a-preset/edit/").status_code == 404
    assert Preset.objects.filter(id=preset.id).exists()

    system = Preset.objects.get(is_system=True, slug="natural")
    client.force_login(user)
    client.post(f"/presets/{system.id}/delete/")
    assert Preset.objects.filter(id=system.id).exists()


# --- Preview -------------------------------------------------------------------------------


def _stored_preview(photo_id: str) -> np.ndarray:
    rendition = Rendition.objects.get(photo_id=photo_id, version=None, spec="preview")
    with storages["thumbnails"].open(rendition.storage_key, "rb") as handle:
        return np.asarray(Image.open(handle).convert("RGB"), dtype=np.int16)


@pytest.mark.django_db(transaction=True)
def test_preview_returns_a_changed_jpeg_without_storing_or_charging(
    api, project, ready_photos, premium
):
    (photo_id,) = ready_photos(1)
    usage_url = f"/api/v1/usage/?project={project.id}"
    before = {
        "versions": PhotoVersion.objects.count(),
        "renditions": Rendition.objects.count(),
        "jobs": Job.objects.count(),
        "usage": list(UsageCounter.objects.values_list("metric", "used")),
        "usage_api": api.get(usage_url).json(),
    }
    assert "error" not in before["usage_api"]
    response = api.post(
        "/api/v1/presets/preview",
        {
            "photo": photo_id,
            "operations": [
                *TWO_STEPS,
                {"op": "virtual_staging", "params": {}},
                {"op": "resize", "params": {"long_edge": 5000, "upscale": True}},
                {"op": "encode", "params": {"format": "avif"}},
            ],
        },
        format="json",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    result = Image.open(io.BytesIO(response.content))
    assert result.format == "JPEG"
    original = _stored_preview(photo_id)
    # The AI step is left out and the preview never grows past its 1600 px source.
    assert result.size == (original.shape[1], original.shape[0])
    difference = np.abs(np.asarray(result.convert("RGB"), dtype=np.int16) - original).mean()
    assert difference > 10
    assert {
        "versions": PhotoVersion.objects.count(),
        "renditions": Rendition.objects.count(),
        "jobs": Job.objects.count(),
        "usage": list(UsageCounter.objects.values_list("metric", "used")),
        "usage_api": api.get(usage_url).json(),
    } == before


@pytest.mark.django_db(transaction=True)
def test_preview_of_someone_elses_photo_is_not_found(api, client_for, ready_photos, premium):
    (photo_id,) = ready_photos(1)
    stranger = client_for(UserFactory())
    for photo in (photo_id, "not-an-id"):
        response = stranger.post(
            "/api/v1/presets/preview", {"photo": photo, "operations": TWO_STEPS}, format="json"
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "photo_not_found"
    assert (
        api.post(
            "/api/v1/presets/preview", {"photo": photo_id, "operations": TWO_STEPS}, format="json"
        ).status_code
        == 200
    )


@pytest.mark.django_db(transaction=True)
def test_preview_refuses_invalid_operations_field_by_field(api, ready_photos):
    (photo_id,) = ready_photos(1)
    response = api.post(
        "/api/v1/presets/preview",
        {
            "photo": photo_id,
            "operations": [
                {"op": "auto_enhance", "params": {"strength": 7}},
                {"op": "watermark", "params": {"position": "middle"}},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_operations"
    assert error["details"]["0"]["params"] == {"strength": "Must be at most 1.0."}
    assert error["details"]["1"]["params"]["position"].startswith("Choose one of: bottom-right")
    french = api.post(
        "/api/v1/presets/preview",
        {"photo": photo_id, "operations": [{"op": "encode"}, {"op": "auto_enhance"}]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="fr",
    ).json()["error"]
    assert french["code"] == "invalid_operations"
    assert french["message"] == "Les étapes ne sont pas valides."
    assert french["details"] == {"order": "« Format de fichier » doit être la dernière étape."}
    empty = api.post(
        "/api/v1/presets/preview", {"photo": photo_id, "operations": []}, format="json"
    )
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "invalid_operations"
    not_ready = Photo.objects.get(id=photo_id)
    Photo.objects.filter(id=photo_id).update(status=Photo.Status.PROCESSING)
    busy = api.post(
        "/api/v1/presets/preview",
        {"photo": str(not_ready.id), "operations": TWO_STEPS},
        format="json",
    )
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "photo_not_ready"
    Photo.objects.filter(id=photo_id).update(status=Photo.Status.READY)
    bad_aspect = api.post(
        "/api/v1/presets/preview",
        {"photo": photo_id, "operations": [{"op": "crop", "params": {"aspect": "wide"}}]},
        format="json",
    )
    assert bad_aspect.status_code == 400
    assert bad_aspect.json()["error"]["code"] == "invalid_input"


# --- In a real browser ---------------------------------------------------------------------

AXE = Path(__file__).resolve().parents[2] / "tests" / "vendor" / "axe.min.js"


def _serious_axe_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())  # not an inline <script>: the page's CSP allows none
    violations = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [
        f"{v['id']} at {v['nodes'][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_build_preview_and_save_a_two_step_preset_in_the_browser(
    live_server, page, tmp_path, celery_worker_process
):
    import time

    from django.core.files.base import ContentFile

    from conftest import INTERIOR, shared_photo
    from projects.services import photo_upload

    user = UserFactory()
    SubscriptionFactory(user=user)  # an own watermark is a paid feature
    project = ProjectFactory(owner=user, name="Maison Lumière")
    photo = photo_upload(
        user=user, project=project, upload=ContentFile(shared_photo(INTERIOR), "salon.jpg")
    ).photo
    deadline = time.monotonic() + 60
    while Photo.objects.get(id=photo.id).status != Photo.Status.READY:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    screenshot = Path(os.environ.get("SCREENSHOT_DIR", tmp_path)) / "preset-builder-failed.png"
    try:
        log_in(page, live_server.url, user)
        page.goto(f"{live_server.url}/presets/")
        assert page.locator("#id_operations").is_disabled()  # the builder replaces the JSON

        while page.locator("#steps > li").count():
            page.locator("#steps > li .remove").first.click()
        assert page.locator("#no-steps").is_visible()

        page.select_option("#add-op", "watermark")
        page.click("#add-step")
        page.get_by_label("Text", exact=True).fill("Agence Lumière")
        page.select_option("#add-op", "auto_enhance")
        page.click("#add-step")
        # Reorder with the keyboard-operable buttons: enhance first, then the watermark.
        page.get_by_role("button", name="Up — Auto enhance").click()
        assert page.locator("#steps > li").evaluate_all(
            "items => items.map(i => i.dataset.op)"
        ) == [
            "auto_enhance",
            "watermark",
        ]
        page.locator("#step-0-brightness").fill("0.7")
        assert page.locator("output[for=step-0-brightness]").inner_text() == "0.7"
        page.locator("#step-1-size").fill("0.1")

        assert not page.locator("#preview-result").is_visible()
        assert page.get_by_role("button", name="Up — Auto enhance").is_disabled()
        page.select_option("#preview-photo", str(photo.id))
        page.click("#preview-button")
        page.wait_for_selector("#preview-result:not([hidden])", timeout=30_000)
        for selector in ("#preview-before", "#preview-after"):
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0",
                arg=page.locator(selector).element_handle(),
                timeout=30_000,
            )
        assert page.locator("#preview-after").evaluate("img => img.naturalWidth") == 1600
        assert "Preview ready" in page.locator("#preview-status").inner_text()
        page.screenshot(path=str(screenshot.with_name("preset-preview.png")), full_page=True)
        assert _serious_axe_violations(page) == []
        assert not page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )

        page.fill("#id_name", "Lumière signée")
        page.click("#save-preset")
        page.wait_for_url(f"{live_server.url}/presets/")
        assert "Preset “Lumière signée” saved." in page.locator(".messages").inner_text()
        saved = Preset.objects.get(owner=user)
        assert [step["op"] for step in saved.operations] == ["auto_enhance", "watermark"]
        assert saved.operations[0]["params"]["brightness"] == 0.7
        assert saved.operations[1]["params"]["text"] == "Agence Lumière"
        assert not PhotoVersion.objects.filter(photo=photo).exists()

        page.set_viewport_size({"width": 360, "height": 800})
        page.goto(f"{live_server.url}/presets/{saved.id}/edit/")
        assert not page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        page.screenshot(path=str(screenshot.with_name("preset-edit-360px.png")), full_page=True)
        assert _serious_axe_violations(page) == []
    except Exception:
        page.screenshot(path=str(screenshot), full_page=True)
        raise
