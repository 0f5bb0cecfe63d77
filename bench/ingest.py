"""Ingest throughput on 12-megapixel camera JPEGs, beside Pillow's full decode of the same files.

Run: ``make bench`` (or ``.venv/bin/python bench/ingest.py [--repeat N]``). Everything runs in one
process on one core, so photos/s is per core. Prints a table of medians, then one JSON line per
result. Rows:
  full_decode     baseline: ``Image.open(...).load()`` at full resolution
  naive_pillow    reference: full decode, exif_transpose, LANCZOS resizes, WebP method 4
  pyvips          the same renditions with libvips (shrink-on-load), one thread
  analyse         our image work alone (processing.imaging.analyse)
  photo_ingest    the whole service: read the original from storage, analyse, store renditions,
                  update the database (SQLite, local storage in a temporary folder)
A worker process then ingests every photo again and reports its peak RSS.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "camera"


def camera_jpegs(folder: Path) -> list[tuple[str, bytes]]:
    """The 12 MP iPhone JPEG as shot (portrait), and the same scene as a landscape frame with an
    EXIF orientation tag re-encoded at another quality, as phones also send."""
    from PIL import Image

    original = (DATA / "kitchen-iphone13-12mp.jpg").read_bytes()
    image = Image.open(io.BytesIO(original))
    exif = image.getexif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.transpose(Image.Transpose.ROTATE_90).save(
        buffer,
        format="JPEG",
        quality=85,
        exif=exif.tobytes(),
        icc_profile=image.info.get("icc_profile"),
    )
    return [
        ("kitchen-iphone13-12mp.jpg", original),
        ("kitchen-landscape-orient6.jpg", buffer.getvalue()),
    ]


def median_seconds(function, payloads: list[bytes], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        for payload in payloads:
            started = time.perf_counter()
            function(payload)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def full_decode(data: bytes) -> None:
    from PIL import Image

    Image.open(io.BytesIO(data)).load()


def naive_pillow(data: bytes) -> None:
    from PIL import Image, ImageOps

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    for edge in (1600, 400):
        copy = image.copy()
        copy.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=None)
        copy.save(io.BytesIO(), format="WEBP", quality=82, method=4)


def pyvips_renditions(data: bytes) -> None:
    import pyvips

    preview = pyvips.Image.thumbnail_buffer(data, 1600).copy_memory()
    preview.webpsave_buffer(Q=82, effort=0, keep="icc")
    preview.thumbnail_image(400).webpsave_buffer(Q=80, effort=0, keep="icc")


def setup_django(var_dir: str) -> None:
    os.environ["PHOTOLISTING_VAR_DIR"] = var_dir
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # uploads queue to files; we time ingest
    os.environ["DJANGO_SETTINGS_MODULE"] = "photolisting.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def queued_photos(payloads: list[bytes], count: int) -> list[str]:
    from django.core.files.base import ContentFile

    from accounts.models import User
    from projects.services import photo_upload, project_create

    user, _ = User.objects.get_or_create(email="bench@photolisting.local")
    project = project_create(user=user, name="bench")
    return [
        str(
            photo_upload(
                user=user,
                project=project,
                upload=ContentFile(payloads[i % len(payloads)], name="b.jpg"),
            ).photo.id
        )
        for i in range(count)
    ]


def worker_peak_rss(paths: list[str], count: int) -> None:
    """Child mode: ingest ``count`` photos like a worker would, print peak RSS in MB."""
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from projects.services import photo_ingest

        payloads = [Path(path).read_bytes() for path in paths]
        for photo_id in queued_photos(payloads, count):
            assert photo_ingest(photo_id=photo_id).status == "ready"
    print(peak_rss_mb())


def peak_rss_mb() -> float:
    """VmHWM of this process image: unlike ru_maxrss it does not inherit the parent's peak
    across fork+exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--worker-rss", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_rss:
        count, *paths = args.worker_rss
        worker_peak_rss(paths, int(count))
        return
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one core, like one worker process
    if not (DATA / "kitchen-iphone13-12mp.jpg").exists():
        sys.exit(f"bench photos not found in {DATA}")
    files = camera_jpegs(DATA)
    payloads = [data for _, data in files]

    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from processing.imaging import analyse
        from projects.services import RENDITION_SPECS, photo_ingest

        def analyse_only(data: bytes) -> None:
            analyse(data, specs=RENDITION_SPECS, max_pixels=150_000_000)

        photo_ids = iter(queued_photos(payloads, args.repeat * len(payloads)))
        results = {
            "full_decode": median_seconds(full_decode, payloads, args.repeat),
            "naive_pillow": median_seconds(naive_pillow, payloads, max(2, args.repeat // 3)),
            "pyvips": median_seconds(pyvips_renditions, payloads, args.repeat),
            "analyse": median_seconds(analyse_only, payloads, args.repeat),
            "photo_ingest": median_seconds(
                lambda _: photo_ingest(photo_id=next(photo_ids)), payloads, args.repeat
            ),
        }
        paths = []
        for name, data in files:
            paths.append(str(Path(var_dir) / name))
            Path(paths[-1]).write_bytes(data)
        rss = float(
            subprocess.run(
                [sys.executable, __file__, "--worker-rss", str(4 * len(payloads)), *paths],
                capture_output=True, text=True, check=True,
            ).stdout.strip().splitlines()[-1]
        )  # fmt: skip

    baseline = results["full_decode"]
    print(f"Ingest of 12 MP camera JPEGs ({', '.join(n for n, _ in files)}), one core, median")
    print(f"{'path':<14}{'ms/photo':>10}{'photos/s':>10}{'rate vs full decode':>22}")
    for name, seconds in results.items():
        print(f"{name:<14}{seconds * 1000:>10.1f}{1 / seconds:>10.2f}{baseline / seconds:>21.2f}x")
    print(f"worker peak RSS after {4 * len(payloads)} ingests: {rss:.0f} MB")
    for name, seconds in results.items():
        json_line(f"{name}_photos_per_s_per_core", 1 / seconds, "photos/s", 1 / baseline)
    json_line("worker_peak_rss", rss, "MB", 300)


def json_line(metric: str, value: float, unit: str, baseline: float) -> None:
    record = {"bench": "ingest", "metric": metric, "value": round(value, 3), "unit": unit}
    record |= {"baseline": round(baseline, 3), "ratio": round(value / baseline, 3)}
    print(json.dumps(record))


if __name__ == "__main__":
    main()
