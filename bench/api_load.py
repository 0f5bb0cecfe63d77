"""API throughput under the production server configuration, on loopback: gunicorn with 2 sync
workers, PostgreSQL (a database of its own, dropped at the end), Redis (db 11, flushed), measured
with ``wrk -t2 -c32``. Two passes: local storage (the local settings with debug off: production
settings refuse local folders), then production settings in S3 mode against ``moto_server``.

Each pass seeds 50 ready photos with a processed version each through the real API (upload, then
a job; Celery eager while seeding), restarts gunicorn as production runs it, then measures the bare
endpoint (the baseline: a ``JsonResponse`` behind the same middleware), the plain DRF peer (a
``ListAPIView`` + ``ModelSerializer(fields="__all__")`` over the same 50 photos), and our
endpoints. Prints a table, then one JSON line per endpoint with its ratio to the pass's baseline.

Run: ``make bench-api`` (or ``.venv/bin/python bench/api_load.py``; ``BENCH_SECONDS`` per
endpoint, default 5). Needs ``wrk`` (Debian package), PostgreSQL on 127.0.0.1:5432 and Redis on
127.0.0.1:6379.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import psycopg
import redis
import requests
from _loopback import (
    BIN,
    BUCKETS,
    POSTGRES_ADMIN_URL,
    ROOT,
    answers,
    free_port,
    production_env,
    server,
    wait_until,
)
from PIL import Image
from psycopg import sql

DATABASE = "photolisting_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"  # test_production uses /13, the suite's Redis run /15
PHOTOS = 50
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
CONNECTIONS = 32
EMAIL_PASSWORD = "Bench-listing-2026!"
HEADERS = {"X-Forwarded-Proto": "https"}  # as the TLS proxy sends it (production redirects)
SEED = """
from billing.models import Plan, Subscription
from billing.services import subscription_for
from accounts.services import user_create_verified

user = user_create_verified(email={email!r}, password={password!r})
# The throttle still runs (as in production), at a rate the bench cannot reach.
Plan.objects.filter(code="agency").update(api_rate="100000000/min")
Subscription.objects.filter(pk=subscription_for(user=user).pk).update(
    plan=Plan.objects.get(code="agency")
)
"""


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench/api_load.py needs wrk: sudo apt-get install wrk")
    return wrk


def jpeg(index: int) -> bytes:
    """A small, distinct photo (no two are duplicates)."""
    image = Image.new("RGB", (800, 600), ((index * 37) % 256, (index * 91) % 256, 128))
    for x in range(0, 800, 40):
        image.paste((index % 256, 255 - x % 256, x % 256), (x, (index * 7) % 500, x + 20, 600))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=600,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def gunicorn(env: dict[str, str], port: int, log: Path, *extra: str):
    command = [str(BIN / "gunicorn"), "photolisting.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
    return server([*command, *extra], env, log)


def log_in(base: str, email: str) -> dict[str, str]:
    login = requests.post(
        f"{base}/_allauth/app/v1/auth/login", json={"email": email, "password": EMAIL_PASSWORD},
        headers=HEADERS, timeout=30,
    )  # fmt: skip
    login.raise_for_status()
    return {**HEADERS, "Authorization": f"Bearer {login.json()['meta']['access_token']}"}


def seed(base: str, email: str) -> dict[str, str]:
    """A project of 50 ready photos, each with one processed version, made through the API."""
    auth = log_in(base, email)
    project = requests.post(
        f"{base}/api/v1/projects/", json={"name": "Bench listing"}, headers=auth, timeout=30
    )
    project.raise_for_status()
    project_id = project.json()["id"]
    photo_ids = []
    for index in range(PHOTOS):
        sent = requests.post(
            f"{base}/api/v1/photos/", data={"project": project_id}, headers=auth, timeout=60,
            files={"file": (f"room-{index:02}.jpg", jpeg(index), "image/jpeg")},
        )  # fmt: skip
        sent.raise_for_status()
        photo_ids.append(sent.json()["id"])
    for start in range(0, PHOTOS, 10):
        chunk = {"photos": photo_ids[start : start + 10], "preset": "natural"}
        started = requests.post(f"{base}/api/v1/jobs/", json=chunk, headers=auth, timeout=600)
        started.raise_for_status()
    listed = requests.get(
        f"{base}/api/v1/photos/?project={project_id}&page_size={PHOTOS}", headers=auth, timeout=30
    ).json()["results"]
    assert len(listed) == PHOTOS and all(p["status"] == "ready" for p in listed), listed[:1]
    assert all(p["versions"] for p in listed), "a photo has no processed version"
    return {
        "project": project_id,
        "photo": photo_ids[0],
        "job": started.json()["jobs"][0]["id"],
    }


def fresh_url_script(folder: Path) -> Path:
    """A wrk script adding an ever-changing parameter (ignored by the API): every answer is
    built, none comes from the body cache."""
    script = folder / "fresh.lua"
    script.write_text(
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        '  return wrk.format(nil, wrk.path .. "&fresh=" .. n .. "-" .. math.random(1e9))\n'
        "end\n"
    )
    return script


def upload_script(folder: Path, project_id: str) -> Path:
    """A wrk script sending one multipart photo upload per request."""
    boundary = "benchboundary7d1f"
    part = f"--{boundary}\r\nContent-Disposition: form-data; "
    head = (
        f'{part}name="project"\r\n\r\n{project_id}\r\n'
        f'{part}name="file"; filename="up.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    )
    body = head.encode() + jpeg(999) + f"\r\n--{boundary}--\r\n".encode()
    (folder / "upload.body").write_bytes(body)
    script = folder / "upload.lua"
    script.write_text(
        f'local f = io.open("{folder / "upload.body"}", "rb")\n'
        'wrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n'
        f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={boundary}"\n'
    )
    return script


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(binary: str, url: str, headers: dict[str, str], script: Path | None = None) -> dict:
    command = [binary, "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "--latency"]
    command.append(url)
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        assert found, f"no {percent}% latency in wrk's output:\n{output}"
        return float(found.group(1)) * UNITS[found.group(2)]

    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "non_2xx": int(failed.group(1)) if failed else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def measure(binary: str, base: str, email: str, ids: dict, folder: Path) -> dict[str, dict]:
    auth = log_in(base, email)  # fresh: access tokens live 15 minutes
    photos = f"{base}/api/v1/photos/?project={ids['project']}&page_size={PHOTOS}"
    job = f"{base}/api/v1/jobs/{ids['job']}/"
    endpoints = {
        "bare JsonResponse (baseline)": (f"{base}/bench/bare", HEADERS),
        "plain DRF peer list (50)": (f"{base}/bench/peer/photos", auth),
        "photo list (50)": (photos, auth),
        "photo list revalidation (If-None-Match)": (photos, None),
        "photo detail": (f"{base}/api/v1/photos/{ids['photo']}/", auth),
        "job list (50)": (f"{base}/api/v1/jobs/?page_size={PHOTOS}", auth),
        "job status": (job, auth),
        "job status revalidation (If-None-Match)": (job, None),
        "project list": (f"{base}/api/v1/projects/", auth),
        "/api/v1/me": (f"{base}/api/v1/me", auth),
    }
    results = {}
    for name, (url, headers) in endpoints.items():
        if headers is None:
            results[name] = revalidations(binary, url, auth)
        else:
            status = requests.get(url, headers=headers, timeout=30).status_code
            assert status == 200, (name, status)
            results[name] = wrk(binary, url, headers)
        print(f"  {name}: {results[name]['rps']:.0f} req/s", flush=True)
    fresh = "photo list (50), each answer built (no body cache)"
    results[fresh] = wrk(binary, photos, auth, fresh_url_script(folder))
    print(f"  {fresh}: {results[fresh]['rps']:.0f} req/s", flush=True)
    script = upload_script(folder, ids["project"])
    results["photo upload (multipart)"] = wrk(binary, f"{base}/api/v1/photos/", auth, script)
    return results


def revalidations(binary: str, url: str, auth: dict[str, str]) -> dict:
    """wrk sending the answer's current ETag: every answer a 304. A validator changes when the
    signed-link window turns over (``SIGNED_URL_WINDOW``); a run that crossed a turnover
    measured full answers too, so it is run again."""
    for _ in range(3):
        current = requests.get(url, headers=auth, timeout=30).headers["ETag"]
        headers = {**auth, "If-None-Match": current}
        result = wrk(binary, url, headers)
        if requests.get(url, headers=headers, timeout=30).status_code == 304:
            return result
    raise AssertionError(f"{url}: its validator changed during three runs in a row")


def run_pass(binary: str, label: str, env: dict[str, str], folder: Path) -> dict[str, dict]:
    email = f"bench-{label.split()[0]}@photolisting.example.com"
    manage(env, "shell", "-c", SEED.format(email=email, password=EMAIL_PASSWORD))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / f"gunicorn-{label.split()[0]}.log"
    seeding = {**env, "CELERY_TASK_ALWAYS_EAGER": "true"}
    # Eager jobs run inside the request: give them time.
    with gunicorn(seeding, port, log, "--timeout", "600") as process:
        wait_until(lambda: answers("127.0.0.1", port), process, log, timeout=60)
        try:
            ids = seed(base, email)
        except Exception:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise
    redis.Redis.from_url(REDIS_URL).flushdb()
    with gunicorn(env, port, log) as process:
        wait_until(lambda: answers("127.0.0.1", port), process, log, timeout=60)
        results = measure(binary, base, email, ids, folder)
    redis.Redis.from_url(REDIS_URL).flushdb()  # the upload pass queued ingests nobody runs
    return results


def report(passes: dict[str, dict[str, dict]]) -> None:
    print(f"\nAPI on loopback: gunicorn 2 sync workers, wrk -t2 -c{CONNECTIONS} -d{SECONDS}s")
    header = f"{'pass / endpoint':<52}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}"
    print(header + f"{'× bare':>8}")
    for label, results in passes.items():
        bare = results["bare JsonResponse (baseline)"]["rps"]
        for name, r in results.items():
            print(
                f"{label + ': ' + name:<52}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
                f"{r['non_2xx']:>9}{r['rps'] / bare:>8.2f}"
            )
    for label, results in passes.items():
        bare = results["bare JsonResponse (baseline)"]["rps"]
        for name, r in results.items():
            record = {
                "bench": "api_load",
                "metric": f"{label}: {name}",
                "value": round(r["rps"], 1),
                "unit": "req/s",
                "baseline": round(bare, 1),
                "ratio": round(r["rps"] / bare, 3),
                "p50_ms": round(r["p50"], 2),
                "p99_ms": round(r["p99"], 2),
                "non_2xx": r["non_2xx"],
            }
            print(json.dumps(record))


def main() -> None:
    # Stopped from outside, still stop the servers and drop the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench/api_load.py: stopped"))
    binary = require_wrk()
    if not (answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379)):
        sys.exit("bench/api_load.py needs PostgreSQL on 127.0.0.1:5432 and Redis on :6379")
    folder = Path(tempfile.mkdtemp(prefix="photolisting-bench-api-"))
    database_url = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(DATABASE)))  # fmt: skip
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = production_env(
        folder / "var",
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        DJANGO_SETTINGS_MODULE="api_load_settings",
        PYTHONPATH=f"{ROOT / 'bench'}:{ROOT}",
        ALLOWED_HOSTS="127.0.0.1",
    )
    passes = {}
    try:
        local = {**env, "BENCH_BASE_SETTINGS": "local", "STORAGE_BACKEND": "local"}
        manage(local, "migrate", "--no-input", "--skip-checks", "-v0")
        print("local storage pass", flush=True)
        passes["local"] = run_pass(binary, "local storage", local, folder)
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        moto = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        log = folder / "moto.log"
        with server(moto, {"PATH": os.environ["PATH"]}, log) as process:
            wait_until(lambda: answers("127.0.0.1", port), process, log, timeout=30)
            client = boto3.client(
                "s3", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
            for bucket in BUCKETS.values():
                client.create_bucket(Bucket=bucket)
            print("S3 pass", flush=True)
            passes["s3"] = run_pass(
                binary, "s3 (moto)", {**env, "AWS_S3_ENDPOINT_URL": endpoint}, folder
            )
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(DATABASE)))  # fmt: skip
        redis.Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(folder, ignore_errors=True)
    report(passes)


if __name__ == "__main__":
    main()
