"""Upload → ingest → renditions, through the API and the Celery task, on real photos."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pillow_heif
import pytest
from django.core.files.storage import storages
from PIL import Image, ImageChops, ImageStat

from conftest import CAMERA_HEIC, CAMERA_JPEG, INTERIOR, jpeg_bytes, shared_photo
from projects.models import Photo, Rendition
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


def ingested(upload, wait_for_ingest, data: bytes, name: str = "photo.jpg") -> Photo:
    response = upload(data, name)
    assert response.status_code == 201, response.content
    return wait_for_ingest(response.json()["id"])


def rendition_image(fetch, api, photo: Photo, spec: str) -> Image.Image:
    url = api.get(f"/api/v1/photos/{photo.id}/").json()["urls"][spec]
    status, _headers, body = fetch(url)
    assert status == 200
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def reference_scene() -> Image.Image:
    """A real interior, shrunk: asymmetric enough that any wrong rotation or flip shows."""
    return Image.open(INTERIOR).convert("RGB").resize((640, 384))


def difference(a: Image.Image, b: Image.Image) -> float:
    a = a.convert("RGB").resize((64, 48))
    b = b.convert("RGB").resize((64, 48))
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


# Stored pixels for each EXIF orientation, so that applying the tag gives the upright scene.
STORED_FOR_ORIENTATION = {
    1: [],
    2: [Image.Transpose.FLIP_LEFT_RIGHT],
    3: [Image.Transpose.ROTATE_180],
    4: [Image.Transpose.FLIP_TOP_BOTTOM],
    5: [Image.Transpose.TRANSPOSE],
    6: [Image.Transpose.ROTATE_90],
    7: [Image.Transpose.TRANSVERSE],
    8: [Image.Transpose.ROTATE_270],
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_an_upright_thumbnail(
    orientation, upload, wait_for_ingest, fetch, api
):
    shared_photo(INTERIOR)
    upright = reference_scene()
    stored = upright
    for step in STORED_FOR_ORIENTATION[orientation]:
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    photo = ingested(upload, wait_for_ingest, jpeg_bytes(stored, exif=exif.tobytes()))

    assert photo.status == "ready"
    assert (photo.width, photo.height, photo.orientation) == (640, 384, orientation)
    thumbnail = rendition_image(fetch, api, photo, "thumbnail")
    assert thumbnail.size == (400, 240)
    assert difference(thumbnail, upright) < 6
    # The same picture unrotated would be far off: the check above can fail.
    assert difference(thumbnail, upright.transpose(Image.Transpose.ROTATE_180)) > 15


def test_shared_orientation_samples_all_come_out_the_same(upload, wait_for_ingest, fetch, api):
    folder = INTERIOR.parent.parent / "orientation"
    thumbnails = []
    for number in (1, 3, 5, 6, 8):
        photo = ingested(
            upload, wait_for_ingest, shared_photo(folder / f"Landscape_{number}.jpg"), "l.jpg"
        )
        thumbnails.append(rendition_image(fetch, api, photo, "thumbnail"))
    assert all(t.size == thumbnails[0].size for t in thumbnails)
    assert all(difference(t, thumbnails[0]) < 6 for t in thumbnails)


def test_camera_jpeg_is_described_and_rendered(upload, wait_for_ingest, fetch, api):
    data = shared_photo(CAMERA_JPEG)
    photo = ingested(upload, wait_for_ingest, data, "IMG_0001.JPG")

    assert photo.status == "ready"
    assert photo.format == "JPEG"
    assert (photo.width, photo.height) == (3024, 4032)
    assert photo.camera_make == "Apple" and "iPhone 13" in photo.camera_model
    assert photo.captured_at is not None and photo.captured_at.year == 2022
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert len(photo.phash) == 16
    preview = rendition_image(fetch, api, photo, "preview")
    thumbnail = rendition_image(fetch, api, photo, "thumbnail")
    assert preview.format == thumbnail.format == "WEBP"
    assert preview.size == (1200, 1600) and thumbnail.size == (300, 400)
    # The original is kept byte for byte.
    with storages["originals"].open(photo.storage_key) as original:
        assert original.read() == data


def test_real_iphone_heic(upload, wait_for_ingest):
    photo = ingested(upload, wait_for_ingest, shared_photo(CAMERA_HEIC), "IMG_0002.HEIC")
    assert photo.status == "ready"
    assert (photo.format, photo.width, photo.height) == ("HEIF", 3024, 4032)
    assert photo.camera_make == "Apple"


def test_heic_made_with_pillow_heif_keeps_exif_and_orientation(upload, wait_for_ingest, fetch, api):
    upright = reference_scene()
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15 Pro"
    heif = pillow_heif.from_pillow(upright)
    buffer = io.BytesIO()
    heif.save(buffer, quality=85, exif=exif.tobytes())
    photo = ingested(upload, wait_for_ingest, buffer.getvalue(), "IMG_0003.HEIC")

    assert (photo.status, photo.format) == ("ready", "HEIF")
    assert (photo.width, photo.height) == (640, 384)
    assert photo.camera_model == "iPhone 15 Pro"
    assert difference(rendition_image(fetch, api, photo, "thumbnail"), upright) < 6


@pytest.mark.parametrize(
    ("pillow_format", "stored_as", "options"),
    [
        ("PNG", "PNG", {}),
        ("WEBP", "WEBP", {"quality": 90}),
        ("TIFF", "TIFF", {"compression": "tiff_lzw"}),
    ],
)
def test_other_formats(pillow_format, stored_as, options, upload, wait_for_ingest, fetch, api):
    upright = reference_scene()
    buffer = io.BytesIO()
    upright.save(buffer, format=pillow_format, **options)
    photo = ingested(upload, wait_for_ingest, buffer.getvalue(), "scan.bin")
    assert (photo.status, photo.format, photo.width) == ("ready", stored_as, 640)
    assert difference(rendition_image(fetch, api, photo, "preview"), upright) < 6


def test_transparent_png_keeps_alpha(upload, wait_for_ingest, fetch, api):
    logo = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    logo.paste((200, 30, 30, 255), (50, 50, 250, 150))
    buffer = io.BytesIO()
    logo.save(buffer, format="PNG")
    photo = ingested(upload, wait_for_ingest, buffer.getvalue(), "logo.png")
    thumbnail = rendition_image(fetch, api, photo, "thumbnail")
    assert thumbnail.mode == "RGBA"
    assert thumbnail.getpixel((5, 5))[3] == 0


def test_gps_and_other_private_metadata_never_reach_a_rendition(
    upload, wait_for_ingest, fetch, api
):
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R6"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (45.0, 45.0, 30.0), 3: "E", 4: (4.0, 50.0, 10.0)})
    exif[0x9286] = "secret note"  # UserComment-like free text
    data = jpeg_bytes(reference_scene(), exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload does carry GPS
    photo = ingested(upload, wait_for_ingest, data)

    for spec in ("thumbnail", "preview"):
        url = api.get(f"/api/v1/photos/{photo.id}/").json()["urls"][spec]
        _, _, body = fetch(url)
        served = Image.open(io.BytesIO(body))
        assert not served.getexif()
        assert "exif" not in served.info and "xmp" not in served.info
        assert b"EOS R6" not in body and b"secret note" not in body


def test_exact_duplicate_is_flagged_within_a_project_only(upload, wait_for_ingest, user):
    data = jpeg_bytes(reference_scene())
    first = ingested(upload, wait_for_ingest, data)
    second = ingested(upload, wait_for_ingest, data)
    elsewhere = ProjectFactory(owner=user)
    third = wait_for_ingest(upload(data, project_id=elsewhere.id).json()["id"])

    assert first.duplicate_of is None
    assert second.duplicate_of_id == first.id
    assert third.duplicate_of is None
    assert first.phash == second.phash == third.phash


# --- Bad input: a clear refusal, never a 500, nothing already stored is damaged -------------


def _png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ten gigapixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("name", "make", "code"),
    [
        ("bomb.png", _png_bomb, "decompression_bomb"),
        ("garbage.jpg", lambda: b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40, "corrupt_image"),
        ("cut.jpg", lambda: shared_photo(INTERIOR)[:60_000], "truncated_image"),
        ("fake.heic", lambda: b"\x00\x00\x00\x18ftypheic" + b"\x00" * 500, "corrupt_image"),
    ],
)
def test_undecodable_uploads_are_rejected_with_a_reason(
    name, make, code, upload, wait_for_ingest, api
):
    good = ingested(upload, wait_for_ingest, jpeg_bytes(reference_scene()))
    response = upload(make(), name)
    assert response.status_code == 201
    photo = wait_for_ingest(response.json()["id"])

    assert photo.status == "rejected"
    assert photo.rejection_code == code
    body = api.get(f"/api/v1/photos/{photo.id}/").json()
    assert body["rejection"]["code"] == code and body["rejection"]["message"]
    assert body["urls"]["thumbnail"] is None
    # The original is kept for inspection, and the earlier photo is untouched.
    assert storages["originals"].exists(photo.storage_key)
    good.refresh_from_db()
    assert good.status == "ready"
    assert storages["thumbnails"].exists(good.renditions.get(spec="thumbnail").storage_key)


@pytest.mark.parametrize(
    ("name", "data", "status", "code"),
    [
        ("empty.jpg", b"", 400, "empty_file"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415, "unsupported_format"),
        ("gifar.gif", b"GIF89a/*\x00\x00*/=1;alert(document.domain)//" + b"\x00" * 64, 415, "unsupported_format"),
        ("doc.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", 415, "unsupported_format"),
        ("page.jpg", b"<html><body><script>alert(1)</script></body></html>", 415, "unsupported_format"),
        ("photo.avif", b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1" + b"\x00" * 64, 415, "unsupported_format"),
    ],
)  # fmt: skip
def test_refused_at_upload_with_a_json_error(name, data, status, code, upload):
    response = upload(data, name)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert not Photo.objects.exists()


def test_jpeg_html_polyglot_is_served_only_as_an_image(upload, wait_for_ingest, fetch, api):
    payload = b"<html><script>alert(document.cookie)</script></html>"
    photo = ingested(upload, wait_for_ingest, jpeg_bytes(reference_scene()) + payload, "p.jpg")
    assert photo.status == "ready"
    urls = api.get(f"/api/v1/photos/{photo.id}/").json()["urls"]
    status, headers, body = fetch(urls["original"])
    headers = {k.lower(): v for k, v in headers.items()}
    assert status == 200 and body.endswith(payload)
    assert headers["content-type"] == "image/jpeg"
    assert headers["content-disposition"].startswith("attachment")
    for spec in ("thumbnail", "preview"):
        assert b"<script" not in fetch(urls[spec])[2]


def test_oversized_upload_is_refused_while_streaming(upload, settings):
    settings.PHOTO_MAX_UPLOAD_BYTES = 100_000
    response = upload(jpeg_bytes(reference_scene()) + b"\x00" * 200_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert not Photo.objects.exists()


def test_json_body_is_the_wrong_content_type(api, project):
    response = api.post("/api/v1/photos/", {"project": str(project.id)}, format="json")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_missing_file_and_bad_project_id(upload, api, project):
    response = api.post("/api/v1/photos/", {"project": str(project.id)}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]
    response = upload(jpeg_bytes(reference_scene()), fields={"project": "not-a-uuid"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# --- Idempotency ---------------------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_creates_one_photo(upload, wait_for_ingest):
    data = jpeg_bytes(reference_scene())
    first = upload(data, HTTP_IDEMPOTENCY_KEY="phone-42-upload-7")
    retry = upload(data, HTTP_IDEMPOTENCY_KEY="phone-42-upload-7")

    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert Photo.objects.count() == 1
    assert len(storages["originals"].listdir(str(Photo.objects.get().project_id))[0]) == 1


def test_reusing_an_idempotency_key_for_other_bytes_is_refused(upload):
    upload(jpeg_bytes(reference_scene()), HTTP_IDEMPOTENCY_KEY="k1")
    other = upload(jpeg_bytes(reference_scene().rotate(90)), HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Photo.objects.count() == 1


# --- The task itself ------------------------------------------------------------------------


def test_ingest_task_is_idempotent_and_finishes_a_claim_left_by_a_lost_worker(
    upload, wait_for_ingest
):
    from projects.tasks import ingest_photo

    photo = ingested(upload, wait_for_ingest, jpeg_bytes(reference_scene()))
    before = {r.spec: r.storage_key for r in photo.renditions.all()}
    # A worker died after claiming: the redelivered task must finish the job, with no copies.
    Photo.objects.filter(id=photo.id).update(status=Photo.Status.PROCESSING)
    Rendition.objects.filter(photo=photo).delete()
    assert ingest_photo.apply(args=[str(photo.id)]).get() == "ready"
    assert ingest_photo.apply(args=[str(photo.id)]).get() == "ready"
    after = {r.spec: r.storage_key for r in Rendition.objects.filter(photo=photo)}
    assert after == before
    assert Rendition.objects.filter(photo=photo).count() == 2
