"""Ingest throughput on 12-megapixel camera JPEGs, beside Pillow's full decode of the same files;
then a real Celery worker's memory and upload → ready latency on the embedded defaults.

Run: ``make bench`` (or ``.venv/bin/python bench/ingest.py [--repeat N] [--mixed N]
[--skip-memory] [--skip-latency]``). The first rows run in this process on one core, so photos/s
is per core. Each part prints a table, then one JSON line per result. Rows:
  full_decode     baseline: ``Image.open(...).load()`` at full resolution
  naive_pillow    reference: full decode, exif_transpose, LANCZOS resizes, WebP method 4
  pyvips          the same renditions with libvips (shrink-on-load), one thread
  analyse         our image work alone (imaging.decode.analyse)
  photo_ingest    the whole service: read the original from storage, analyse, store renditions,
                  update the database (SQLite, local storage in a temporary folder)
  worker memory   a ``celery worker`` (queue ingest, 2 pool processes, settings.local: SQLite,
                  local storage and filesystem broker in the same temporary folder) ingests
                  ``--mixed`` uploads: camera JPEG and HEIC, smaller JPEGs, PNG (RGB, RGBA), WebP,
                  TIFF, and damaged or hostile files. RSS of its main process and pool children once
                  every photo has left uploaded/processing, against the same worker just after it
                  was ready; children are also sampled every 0.5 s, as they may be replaced mid-run.
  upload → ready  from the commit of a 640x480 upload to its row being ready (polled every 5 ms),
                  20 in a row on a fresh worker, against a worker whose broker polls every 1.0 s
                  (``CELERY_BROKER_POLLING_INTERVAL``). Target: median ≤ 300 ms.
Workers run in their own process group, which is killed at the end, also on error. No network.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from projects.models import Project

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "camera"
# Hosted services a shell may point at; the worker rows measure the embedded defaults.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "STORAGE_BACKEND",
    "CELERY_BROKER_POLLING_INTERVAL",
)
PENDING = ("uploaded", "processing")
MIXED_TIMEOUT = 15 * 60
LATENCY_UPLOADS = 20
WORKER_CONCURRENCY = 2
LATENCY_TIMEOUT = 30.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


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


@dataclass(frozen=True)
class BenchFile:
    name: str
    data: bytes
    expected: tuple[str, ...]


def encoded(image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset : offset + 8])
        chunks.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def png_from_chunks(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """Chunks with valid CRCs, so a reader fails on what is inside them, not on the checksum."""
    return PNG_SIGNATURE + b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        for kind, body in chunks
    )


def mixed_files(camera: list[tuple[str, bytes]]) -> list[BenchFile]:
    """What a day of uploads looks like: camera originals, smaller re-encodes in every accepted
    format, and files that are damaged or built to exhaust a decoder."""
    from PIL import Image

    original = camera[0][1]
    heic = (DATA / "kitchen-iphone13.heic").read_bytes()
    scene = Image.open(io.BytesIO(original))
    icc = scene.info.get("icc_profile")
    scene = scene.convert("RGB")

    def scaled(megapixels: float) -> Image.Image:
        factor = (megapixels * 1e6 / (scene.width * scene.height)) ** 0.5
        size = (round(scene.width * factor), round(scene.height * factor))
        return scene.resize(size, Image.Resampling.LANCZOS)

    two_mp = scaled(2)
    rgba = two_mp.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(two_mp.size))
    png = encoded(two_mp, "PNG")
    chunks = png_chunks(png)
    idats = [index for index, (kind, _) in enumerate(chunks) if kind == b"IDAT"]
    middle = idats[len(idats) // 2]
    body = chunks[middle][1]
    half = len(body) // 2
    chunks[middle] = (b"IDAT", body[:half] + bytes(b ^ 0xFF for b in body[half : half + 256]))
    broken_zlib = png_from_chunks(chunks)
    small = png_chunks(encoded(scene.resize((640, 480)), "PNG"))
    text_bomb = b"Comment\x00\x00" + zlib.compress(bytes(50 * 1024 * 1024), 9)
    giant = 100_000
    ready, rejected = ("ready",), ("rejected",)
    return [
        *(BenchFile(name, data, ready) for name, data in camera),
        BenchFile("kitchen-iphone13.heic", heic, ready),
        BenchFile("jpeg-4mp.jpg", encoded(scaled(4), "JPEG", quality=88, icc_profile=icc), ready),
        BenchFile("jpeg-2mp.jpg", encoded(two_mp, "JPEG", quality=85, icc_profile=icc), ready),
        BenchFile("png-rgb-2mp.png", png, ready),
        BenchFile("png-rgba-2mp.png", encoded(rgba, "PNG"), ready),
        BenchFile("webp-3mp.webp", encoded(scaled(3), "WEBP", quality=85), ready),
        BenchFile("tiff-2mp.tif", encoded(two_mp, "TIFF", compression="tiff_lzw"), ready),
        BenchFile("png-broken-zlib.png", broken_zlib, rejected),
        # A photo PNG is nearly all IDAT, so its first half ends inside one.
        BenchFile("png-cut-in-idat.png", png[: len(png) // 2], rejected),
        BenchFile("jpeg-12mp-truncated.jpg", original[: len(original) // 2], rejected),
        BenchFile("heic-truncated.heic", heic[: len(heic) // 2], rejected),
        BenchFile(
            "png-100000x100000.png",
            png_from_chunks(
                [
                    (b"IHDR", struct.pack(">IIBBBBB", giant, giant, 8, 2, 0, 0, 0)),
                    (b"IDAT", zlib.compress((b"\x00" + bytes(3 * giant)) * 16)),
                    (b"IEND", b""),
                ]
            ),
            rejected,
        ),
        # A harmless picture with a 50 MB comment: either outcome is fine, memory is the point.
        BenchFile(
            "png-ztxt-50mb.png",
            png_from_chunks([small[0], (b"zTXt", text_bomb), *small[1:]]),
            ("ready", "rejected"),
        ),
    ]


def latency_photo(camera: list[tuple[str, bytes]]) -> bytes:
    from PIL import Image

    scene = Image.open(io.BytesIO(camera[0][1])).convert("RGB")
    return encoded(scene.resize((640, 480), Image.Resampling.LANCZOS), "JPEG", quality=85)


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
    for name in SERVICE_VARIABLES:
        os.environ.pop(name, None)
    os.environ["PHOTOLISTING_VAR_DIR"] = var_dir
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"  # uploads queue to files; we time ingest
    os.environ["DJANGO_SETTINGS_MODULE"] = "photolisting.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def bench_project() -> tuple[User, Project]:
    from accounts.models import User
    from projects.services import project_create

    user, _ = User.objects.get_or_create(email="bench@photolisting.local")
    return user, project_create(user=user, name="bench")


def queued_photos(payloads: list[bytes], count: int) -> list[str]:
    """Uploads through the service, each in its own transaction: on commit, ingest is queued."""
    from django.core.files.base import ContentFile

    from projects.services import photo_upload

    user, project = bench_project()
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


# --- A real worker ----------------------------------------------------------------------------


@contextlib.contextmanager
def celery_worker(var_dir: Path, name: str, **env: str) -> Iterator[tuple[subprocess.Popen, Path]]:
    """``celery worker`` on the bench's database, storage and broker, in its own process group;
    yields once it is ready, and leaves no process behind."""
    from django.conf import settings

    # Messages already queued (by the in-process rows, or a stuck photo) would be served first.
    for message in Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).glob("*"):
        message.unlink()
    log = var_dir / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "photolisting", "worker", "--loglevel=INFO",
             f"--concurrency={WORKER_CONCURRENCY}", "--queues=ingest", f"--hostname={name}@%h",
             "--without-mingle", "--without-gossip"],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "photolisting.settings.local",
                 "PHOTOLISTING_VAR_DIR": str(var_dir), **env},
            stdout=output, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield process, log
    finally:
        if process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def status_mb(pid: int, key: str) -> float:
    """``VmRSS``/``VmHWM`` of a process from /proc, 0 once it has gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pool_children(pid: int) -> list[int]:
    """Processes whose parent is the worker's main process: its pool."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # Fields after the parenthesised command name: state, ppid, ... A zombie is a child the
        # pool has replaced but not yet reaped.
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == pid and state != "Z":
            children.append(int(entry.name))
    return children


@dataclass(frozen=True)
class WorkerMemory:
    """One reading of a worker, in MB."""

    main_rss: float
    child_rss: list[float]
    child_hwm: list[float]

    @classmethod
    def read(cls, pid: int) -> WorkerMemory:
        children = pool_children(pid)
        return cls(
            main_rss=status_mb(pid, "VmRSS"),
            child_rss=[status_mb(child, "VmRSS") for child in children],
            child_hwm=[status_mb(child, "VmHWM") for child in children],
        )

    @classmethod
    def read_full_pool(cls, pid: int) -> WorkerMemory:
        """A reading once the pool is whole: billiard replaces an exited child only every 0.8 s,
        and a reading in between would count one child short."""
        deadline = time.monotonic() + 5
        while len(pool_children(pid)) < WORKER_CONCURRENCY and time.monotonic() < deadline:
            time.sleep(0.1)
        return cls.read(pid)

    @property
    def max_child_rss(self) -> float:
        return max(self.child_rss, default=0.0)

    @property
    def max_child_hwm(self) -> float:
        return max(self.child_hwm, default=0.0)

    @property
    def total_rss(self) -> float:
        return self.main_rss + sum(self.child_rss)


@dataclass
class ChildSampler:
    """Pool children read every 0.5 s during a run: a child replaced mid-run (max memory or
    tasks per child) takes its peak with it, so the reading at the end cannot see it."""

    pid: int
    peak_rss: float = 0.0
    peak_hwm: float = 0.0
    children_seen: set[int] = field(default_factory=set)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while True:
            reading = WorkerMemory.read(self.pid)
            self.peak_rss = max(self.peak_rss, reading.max_child_rss)
            self.peak_hwm = max(self.peak_hwm, reading.max_child_hwm)
            self.children_seen.update(pool_children(self.pid))
            if self.stopping.wait(0.5):
                return


def wait_for_ingest(ids: list[str], process: subprocess.Popen, started: float) -> None:
    """Until no photo is pending, the worker has died, MIXED_TIMEOUT has passed, or nothing has
    finished for longer than a task may run (what is left then is stuck, not slow)."""
    from django.conf import settings

    from projects.models import Photo

    stall = settings.CELERY_TASK_TIME_LIMIT + 60
    last_pending, last_progress = -1, time.monotonic()
    while True:
        pending = Photo.objects.filter(id__in=ids, status__in=PENDING).count()
        now = time.monotonic()
        if pending != last_pending:
            last_pending, last_progress = pending, now
        if not pending or process.poll() is not None:
            return
        if now - started > MIXED_TIMEOUT or now - last_progress > stall:
            return
        time.sleep(0.5)


def worker_memory(var_dir: Path, files: list[BenchFile], count: int) -> None:
    from projects.models import Photo

    with celery_worker(var_dir, "memory") as (process, log):
        idle = WorkerMemory.read_full_pool(process.pid)
        sampler = ChildSampler(process.pid)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            ids = queued_photos([file.data for file in files], count)
            uploaded = time.monotonic() - started
            wait_for_ingest(ids, process, started)
        finally:
            sampler.stopping.set()
            thread.join()
        elapsed = time.monotonic() - started
        after = WorkerMemory.read_full_pool(process.pid)
        exit_code = process.poll()
        errors = [line for line in log.read_text().splitlines() if "ERROR/" in line]

    outcomes = {
        str(photo_id): (status, code)
        for photo_id, status, code in Photo.objects.filter(id__in=ids).values_list(
            "id", "status", "rejection_code"
        )
    }
    per_file: dict[str, Counter] = {file.name: Counter() for file in files}
    statuses: Counter = Counter()
    for index, photo_id in enumerate(ids):
        status, code = outcomes[photo_id]
        per_file[files[index % len(files)].name][f"{status} ({code})" if code else status] += 1
        statuses[status if status in ("ready", "rejected", "failed", *PENDING) else "other"] += 1
    stuck = statuses["uploaded"] + statuses["processing"]

    print(
        f"\nWorker memory after {count} mixed ingests (celery worker, queue ingest, concurrency"
        f" {WORKER_CONCURRENCY}, SQLite + local storage + filesystem broker): {elapsed:.0f} s,"
        f" {count / elapsed:.1f} photos/s (uploads queued in {uploaded:.0f} s)"
    )
    print(f"{'file':<28}{'photos':>7}  outcome")
    for file in files:
        outcome = per_file[file.name]
        unexpected = [key for key in outcome if key.split(" ")[0] not in file.expected]
        note = f"   <- expected {' or '.join(file.expected)}" if unexpected else ""
        summary = ", ".join(f"{key} {n}" for key, n in sorted(outcome.items()))
        print(f"{file.name:<28}{sum(outcome.values()):>7}  {summary}{note}")
    print(
        f"outcomes: ready {statuses['ready']}, rejected {statuses['rejected']},"
        f" failed {statuses['failed']}, other {statuses['other']}; still pending {stuck}"
        f" (uploaded {statuses['uploaded']}, processing {statuses['processing']})"
    )
    if exit_code is not None:
        print(f"worker exited early with code {exit_code}")
    print(
        f"pool children: {len(idle.child_rss)} at start, {len(sampler.children_seen)} seen"
        f" during the run, {len(after.child_rss)} at the end; ERROR lines in worker log:"
        f" {len(errors)}"
    )
    for line in errors[:3]:
        print(f"  {line[:200]}")
    rows = [
        ("max child RSS", "worker_child_rss_after_mixed", after.max_child_rss, idle.max_child_rss),
        ("main RSS", "worker_main_rss_after_mixed", after.main_rss, idle.main_rss),
        ("main + children RSS", "worker_total_rss_after_mixed", after.total_rss, idle.total_rss),
        ("child peak (VmHWM)", "worker_child_hwm_after_mixed", after.max_child_hwm,
         idle.max_child_hwm),
        ("child RSS, peak sampled", "worker_child_rss_peak_during_mixed", sampler.peak_rss,
         idle.max_child_rss),
        ("child VmHWM, peak sampled", "worker_child_hwm_peak_during_mixed", sampler.peak_hwm,
         idle.max_child_hwm),
    ]  # fmt: skip
    print(f"{'':<28}{'idle MB':>10}{'after MB':>10}{'ratio':>9}")
    for label, _, value, baseline in rows:
        print(f"{label:<28}{baseline:>10.1f}{value:>10.1f}{value / baseline:>8.2f}x")
    for _, metric, value, baseline in rows:
        json_line(metric, value, "MB", baseline)
    for status in ("ready", "rejected", "failed", "other"):
        json_line(f"mixed_{status}", statuses[status], "photos", count)
    json_line("mixed_stuck", stuck, "photos", count)


# --- Upload → ready ---------------------------------------------------------------------------


def upload_to_ready(user: User, project: Project, photo: bytes) -> float | None:
    """Seconds from the upload's commit until its row is ready; None if it never gets there."""
    from django.core.files.base import ContentFile
    from django.db import transaction

    from projects.models import Photo
    from projects.services import photo_upload

    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs right at commit, before the upload's own enqueue.
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        photo_id = photo_upload(
            user=user, project=project, upload=ContentFile(photo, name="latency.jpg")
        ).photo.id
    while time.perf_counter() - committed[0] < LATENCY_TIMEOUT:
        status = Photo.objects.filter(id=photo_id).values_list("status", flat=True).get()
        if status == Photo.Status.READY:
            return time.perf_counter() - committed[0]
        if status not in PENDING:
            return None
        time.sleep(0.005)
    return None


def latency_ms(var_dir: Path, photo: bytes, name: str, **env: str) -> tuple[list[float], int]:
    """Upload → ready of LATENCY_UPLOADS photos in a row on a fresh worker, after one unmeasured
    upload that lets the pool open its database connection; also how many never got ready."""
    with celery_worker(var_dir, name, **env):
        user, project = bench_project()
        upload_to_ready(user, project, photo)
        timings = [upload_to_ready(user, project, photo) for _ in range(LATENCY_UPLOADS)]
    done = [seconds * 1000 for seconds in timings if seconds is not None]
    return done, len(timings) - len(done)


def upload_latency(var_dir: Path, photo: bytes) -> None:
    from django.conf import settings

    interval = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("polling_interval", "kombu's 1.0")
    runs = {
        f"default ({interval} s)": latency_ms(var_dir, photo, "latency"),
        "forced 1.0 s": latency_ms(
            var_dir, photo, "latency-baseline", CELERY_BROKER_POLLING_INTERVAL="1.0"
        ),
    }
    summary = {}
    print(f"\nUpload → ready, 640x480 JPEG, {LATENCY_UPLOADS} in a row, row polled every 5 ms")
    print(f"{'broker polling':<22}{'median ms':>11}{'p90 ms':>9}{'timed out':>11}")
    for label, (timings, missing) in runs.items():
        if len(timings) < 2:
            print(f"{label:<22}{'-':>11}{'-':>9}{missing:>11}")
            continue
        median = statistics.median(timings)
        p90 = statistics.quantiles(timings, n=10, method="inclusive")[-1]
        summary[label] = median, p90
        print(f"{label:<22}{median:>11.1f}{p90:>9.1f}{missing:>11}")
    print("target: median ≤ 300 ms")
    if len(summary) == 2:
        (median, p90), (base_median, base_p90) = summary.values()
        json_line("upload_to_ready_median_ms", median, "ms", base_median)
        json_line("upload_to_ready_p90_ms", p90, "ms", base_p90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--mixed", type=int, default=1000, help="uploads in the memory run")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the workers' process groups are still killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    sys.stdout.reconfigure(line_buffering=True)
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one core, like one worker process
    if not (DATA / "kitchen-iphone13-12mp.jpg").exists():
        sys.exit(f"bench photos not found in {DATA}")
    files = camera_jpegs(DATA)
    payloads = [data for _, data in files]

    with tempfile.TemporaryDirectory(prefix="photolisting-bench-") as var_dir:
        setup_django(var_dir)
        from imaging.decode import RENDITION_SPECS, analyse
        from projects.services import photo_ingest

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
        baseline = results["full_decode"]
        print(f"Ingest of 12 MP camera JPEGs ({', '.join(n for n, _ in files)}), one core, median")
        print(f"{'path':<14}{'ms/photo':>10}{'photos/s':>10}{'rate vs full decode':>22}")
        for name, seconds in results.items():
            print(
                f"{name:<14}{seconds * 1000:>10.1f}{1 / seconds:>10.2f}{baseline / seconds:>21.2f}x"
            )
        for name, seconds in results.items():
            json_line(f"{name}_photos_per_s_per_core", 1 / seconds, "photos/s", 1 / baseline)

        if not args.skip_memory:
            worker_memory(Path(var_dir), mixed_files(files), args.mixed)
        if not args.skip_latency:
            upload_latency(Path(var_dir), latency_photo(files))


def json_line(metric: str, value: float, unit: str, baseline: float) -> None:
    record = {"bench": "ingest", "metric": metric, "value": round(value, 3), "unit": unit}
    ratio = round(value / baseline, 3) if baseline else None
    record |= {"baseline": round(baseline, 3), "ratio": ratio}
    print(json.dumps(record))


if __name__ == "__main__":
    main()
