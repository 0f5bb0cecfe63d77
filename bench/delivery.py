"""Delivery speed: signed-link generation, and serving a 12 MP original through the signed view
(whole and in 1 MB ranges) beside the same file served as a plain static file by the same server
in the same run. Loopback only; ends by itself.

Run: ``.venv/bin/python bench/delivery.py`` (also part of ``make bench``).
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from _embedded import embedded_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHOTO = ROOT.parent / "shared" / "data" / "camera" / "kitchen-iphone13-12mp.jpg"
urlpatterns: list = []  # filled in main(): the project's URLs plus a plain static route


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def timed(function, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def fetch(port: int, path: str, headers: dict | None = None) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status in (200, 206), (path, response.status)
    return body


def main() -> None:
    var_dir = embedded_django()
    from django.conf import settings

    settings.ROOT_URLCONF = "__main__"  # this script: the project URLs plus a static route
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import include, path, reverse
    from django.views.static import serve

    from photolisting.storage import signed_url

    static_dir = Path(var_dir) / "static-bench"
    static_dir.mkdir()
    shutil.copy(PHOTO, static_dir / "photo.jpg")
    urlpatterns[:] = [
        path("plain/<path:path>", serve, {"document_root": str(static_dir)}, name="plain"),
        path("", include("photolisting.urls")),
    ]
    key = storages["originals"].save("bench/original.jpg", ContentFile(PHOTO.read_bytes()))
    size = PHOTO.stat().st_size

    server = make_server(
        "127.0.0.1", 0, WSGIHandler(), server_class=ThreadingServer, handler_class=QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    link = signed_url("originals", key, content_type="image/jpeg", filename="photo.jpg")
    plain = reverse("plain", kwargs={"path": "photo.jpg"})
    assert fetch(port, link) == fetch(port, plain) == PHOTO.read_bytes()

    n = 5000
    results = {}
    import boto3

    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    makers = {
        "reverse() of a plain URL": lambda: reverse("plain", kwargs={"path": "photo.jpg"}),
        "signed link (local)": lambda: signed_url(
            "originals", key, content_type="image/jpeg", filename="p.jpg"
        ),
        "S3 presigned GET (boto3)": lambda: s3.generate_presigned_url(
            "get_object", Params={"Bucket": "b", "Key": key}, ExpiresIn=900
        ),
    }
    for name, make in makers.items():
        results[name] = ("links/s", n / timed(lambda m=make: [m() for _ in range(n)], 3))

    mb = size / 1e6
    results["plain static file, whole"] = ("MB/s", mb / timed(lambda: fetch(port, plain), 9))
    results["signed view, whole"] = ("MB/s", mb / timed(lambda: fetch(port, link), 9))

    def ranged() -> None:
        for start in range(0, size, 1 << 20):
            fetch(port, link, {"Range": f"bytes={start}-{min(size, start + (1 << 20)) - 1}"})

    def ranged_plain() -> None:
        for start in range(0, size, 1 << 20):
            fetch(port, plain, {"Range": f"bytes={start}-{min(size, start + (1 << 20)) - 1}"})

    results["plain static, Range ignored"] = ("MB/s", mb / timed(ranged_plain, 5))
    results["signed view, 1 MB ranges"] = ("MB/s", mb / timed(ranged, 5))
    server.shutdown()
    shutil.rmtree(var_dir, ignore_errors=True)

    baselines = {
        "links/s": results["reverse() of a plain URL"][1],
        "MB/s": results["plain static file, whole"][1],
    }
    print(f"Delivery on loopback ({mb:.1f} MB photo), median")
    print(f"{'what':<30}{'value':>12}  {'unit':<8}{'vs baseline':>12}")
    for name, (unit, value) in results.items():
        print(f"{name:<30}{value:>12.1f}  {unit:<8}{value / baselines[unit]:>11.2f}x")
    for name, (unit, value) in results.items():
        record = {"bench": "delivery", "metric": name, "value": round(value, 2), "unit": unit}
        record |= {
            "baseline": round(baselines[unit], 2),
            "ratio": round(value / baselines[unit], 3),
        }
        print(json.dumps(record))


if __name__ == "__main__":
    main()
