"""Hostile files through both upload entry points and the ingest behind them (eager Celery):
real JPEG, PNG, WebP and HEIC files cut short, with flipped bytes, claiming huge dimensions, or
random bytes behind a valid signature. Never a 500: a refusal in the API's error shape, or a
photo that ends ready or rejected with a reason; memory stays within the pixel budget."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from projects.models import Photo
from projects.tests import damaged
from projects.tests.test_ingest_failures import FLOWS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_TASK_ALWAYS_EAGER,
        reason="memory is measured in this process: ingest must run here (eager Celery)",
    ),
]

CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "HEIF": "image/heic",
}
SEEDS = {kind: damaged.encoded(damaged.synthetic_photo((64, 48)), kind) for kind in CONTENT_TYPES}
# Bytes that make each format recognisable (signature, and the container's brand for HEIC).
SIGNATURE_LENGTH = {"JPEG": 3, "PNG": 8, "WEBP": 16, "HEIF": 12}
# A test-sized pixel budget: anything claiming more must be refused before it is decoded.
PIXEL_BUDGET = 4_000_000
MAX_RSS_GROWTH_MB = 150
WALL_CLOCK_SECONDS = 90
EXAMPLES = 60


def rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, in MB."""
    status = Path("/proc/self/status").read_text()
    return (
        int(next(line for line in status.splitlines() if line.startswith(field)).split()[1]) / 1024
    )


def with_dimensions(kind: str, data: bytes, width: int, height: int) -> bytes:
    """The file with its header claiming ``width``×``height`` (checksums kept valid)."""
    out = bytearray(data)
    if kind == "PNG":
        ihdr = struct.pack(">II", width, height) + bytes(out[24:29])
        out[16:29] = ihdr
        out[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    elif kind == "JPEG":
        sof = next(
            i for i in range(2, len(out) - 9) if out[i] == 0xFF and out[i + 1] in (0xC0, 0xC2)
        )
        out[sof + 5 : sof + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
    elif kind == "WEBP":
        frame = out.index(b"\x9d\x01\x2a") + 3  # the VP8 key frame's start code
        out[frame : frame + 4] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    else:
        ispe = out.index(b"ispe") + 8  # the HEIF image's spatial extent, after version and flags
        out[ispe : ispe + 8] = struct.pack(">II", width, height)
    return bytes(out)


@st.composite
def hostile_files(draw) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(SEEDS)))
    data = SEEDS[kind]
    damage = draw(st.sampled_from(["truncated", "flipped", "dimensions", "random_body"]))
    if damage == "truncated":
        data = data[: draw(st.integers(1, len(data) - 1))]
    elif damage == "flipped":
        flips = st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255))
        mutable = bytearray(data)
        for position, value in draw(st.lists(flips, min_size=1, max_size=12)):
            mutable[position] = value
        data = bytes(mutable)
    elif damage == "dimensions":
        size = st.integers(1, 65_535)
        data = with_dimensions(kind, data, draw(size), draw(size))
    else:
        data = data[: SIGNATURE_LENGTH[kind]] + draw(st.binary(min_size=0, max_size=4096))
    return kind, data


def assert_error_shape(response) -> None:
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.__name__)
def test_hostile_files_never_crash_an_upload_or_its_ingest(
    flow, upload, api, client, project, wait_for_ingest, settings
):  # fmt: skip
    settings.PHOTO_MAX_PIXELS = PIXEL_BUDGET
    stop_at = time.monotonic() + WALL_CLOCK_SECONDS
    # The peak is measured for this test alone: earlier tests' peaks are forgotten.
    Path("/proc/self/clear_refs").write_text("5")
    rss_before = rss_mb("VmRSS")
    outcomes: dict[str, int] = {}

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(hostile_files())
    def check(file: tuple[str, bytes]) -> None:
        if time.monotonic() > stop_at:
            return  # the wall-clock cap: the examples left are skipped, not failed
        kind, data = file
        response = flow(upload, api, client, project, data, CONTENT_TYPES[kind])
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert_error_shape(response)
            code = response.json()["error"]["code"]
            outcomes[code] = outcomes.get(code, 0) + 1
            return
        photo = wait_for_ingest(response.json()["id"], timeout=30)
        assert photo.status in (Photo.Status.READY, Photo.Status.REJECTED), photo.status
        shown = api.get(f"/api/v1/photos/{photo.id}/").json()
        if photo.status == Photo.Status.REJECTED:
            assert shown["rejection"]["code"] and len(shown["rejection"]["message"]) > 20
        else:
            assert photo.width * photo.height <= PIXEL_BUDGET
        outcomes[photo.status] = outcomes.get(photo.status, 0) + 1

    check()

    grown_mb = rss_mb("VmHWM") - rss_before
    assert grown_mb < MAX_RSS_GROWTH_MB, f"peak RSS grew {grown_mb:.0f} MB"
    # The generator reached the decoder: some files got past the checks at the door.
    assert sum(outcomes.values()) >= 10, outcomes
    assert outcomes.get(Photo.Status.REJECTED, 0) > 0, outcomes
