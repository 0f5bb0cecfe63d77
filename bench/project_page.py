"""Project page server time: a project of 500 ready photos, each with its thumbnail, preview and a
processed version with its own (the tiles show the delivered version's thumbnail), rendered
through Django's full request path (middleware, session, template) — median of repeated
requests, with the SQL query count beside the same page for 5 photos (the count must not grow
with the photos). Each JSON line carries a baseline measured in the same run: the same page of a
project without photos, so a busy machine shows as a slow baseline too. Target: 500 photos in
200 ms or less.

Run: ``.venv/bin/python bench/project_page.py`` (a fresh SQLite database in a temporary folder).
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path

from _embedded import embedded_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZES = (0, 5, 100, 500)
BASELINE = 0  # photos: the page itself, without tiles
TARGET_MS = {500: 200}
REPEAT = 15


def make_photos(project, count: int) -> None:
    from projects.models import Photo, PhotoVersion, Rendition

    size = {"format": "WEBP", "width": 400, "height": 300, "bytes": 30_000}
    photos = Photo.objects.bulk_create(
        Photo(
            project=project,
            original_filename=f"room-{index:03}.jpg",
            storage_key=f"{project.id}/{uuid.uuid4()}/original.jpg",
            bytes=4_000_000,
            sha256=uuid.uuid4().hex * 2,
            format="JPEG",
            status=Photo.Status.READY,
            width=4032,
            height=3024,
            position=index if index % 2 else None,
        )
        for index in range(count)
    )
    versions = PhotoVersion.objects.bulk_create(
        PhotoVersion(photo=photo, preset_name="Natural", storage_key=f"{photo.id}/v.jpg", **size)
        for photo in photos
    )
    Rendition.objects.bulk_create(
        [
            *(
                Rendition(photo=photo, spec=spec, storage_key=f"{photo.id}/{spec}.webp", **size)
                for photo in photos
                for spec in ("thumbnail", "preview")
            ),
            *(
                Rendition(
                    photo=version.photo,
                    version=version,
                    spec=spec,
                    storage_key=f"{version.id}/{spec}.webp",
                    **size,
                )
                for version in versions
                for spec in ("thumbnail", "preview")
            ),
        ]
    )


def main() -> None:
    var_dir = embedded_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from projects.models import Project

    user = User.objects.create_user(email="bench@photolisting.local", password="bench-password")
    client = Client()
    client.force_login(user)

    results = {}
    for count in SIZES:
        project = Project.objects.create(name=f"{count} photos", owner=user, created_by=user)
        make_photos(project, count)
        url = f"/projects/{project.id}/"
        assert client.get(url).status_code == 200  # warm: templates, session, caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        query_count = len(queries)  # before the next requests reset the query log
        assert response.content.count(b'class="pick"') == count
        assert response.content.count(b'<img src="/files/') == count
        samples = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            client.get(url)
            samples.append(time.perf_counter() - started)
        results[count] = (statistics.median(samples) * 1000, query_count)
    shutil.rmtree(var_dir, ignore_errors=True)

    print(f"Project page, server time (median of {REPEAT})")
    print(f"{'photos':>8}{'ms':>10}{'ms/photo':>10}{'queries':>9}")
    for count, (ms, queries) in results.items():
        per_photo = f"{ms / count:>10.2f}" if count else f"{'—':>10}"
        print(f"{count:>8}{ms:>10.1f}{per_photo}{queries:>9}")
    baseline_ms, baseline_queries = results[BASELINE]
    for count, (ms, queries) in results.items():
        if count == BASELINE:
            continue
        record = {
            "bench": "project_page",
            "metric": f"project page, {count} photos",
            "value": round(ms, 1),
            "unit": "ms",
            "queries": queries,
            "per_photo_ms": round(ms / count, 3),
            "baseline": {
                "metric": f"project page, {BASELINE} photos",
                "value": round(baseline_ms, 1),
                "queries": baseline_queries,
            },
        }
        if count in TARGET_MS:
            record["target_ms"] = TARGET_MS[count]
        print(json.dumps(record))


if __name__ == "__main__":
    main()
