"""Soak: mixed upload / process / read traffic for N minutes against the production configuration
on loopback — gunicorn with 2 workers, 2 Celery worker processes (every queue), PostgreSQL (a
database of its own, dropped at the end), Redis (db 14, flushed), S3 on ``moto_server`` — then
checks that nothing was lost or done twice.

Reports: requests and errors per kind, jobs and ingests (started, finished, lost, duplicated
versions), resident memory of every web and worker process at minute 5 and at the end (growth
%), and the oldest-message age of the queues over the run (from /metrics, as Prometheus sees it).
The last line is JSON.

Run: ``.venv/bin/python bench/soak.py --minutes 30`` (the issue's run; ``--minutes 6`` for a
quick look). Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Reuses the server
helpers of tests/test_production.py, like bench/api_load.py.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
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

DATABASE = "photolisting_soak"
REDIS_URL = "redis://127.0.0.1:6379/14"  # api_load /11, scale-out test /12, prodtest /13, CI /15
EMAIL, PASSWORD = "soak@photolisting.example.com", "Soak-test-2026!"
METRICS_TOKEN = "soak-metrics-token-0123456789"
BEHIND_TLS = {"X-Forwarded-Proto": "https"}
CREATE_USER = f"""
from accounts.services import user_create_verified
from billing.tests.factories import SubscriptionFactory
SubscriptionFactory(user=user_create_verified(email={EMAIL!r}, password={PASSWORD!r}),
                    plan_code="agency")
"""


def manage(env: dict[str, str], *args: str) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")


def photo(seed: int) -> bytes:
    """A 1600×1200 JPEG with enough texture to cost a real decode and resize."""
    rng = random.Random(seed)
    small = Image.effect_noise((200, 150), 40 + seed % 30).convert("RGB")
    tint = Image.new("RGB", small.size, tuple(rng.randrange(80, 220) for _ in range(3)))
    image = Image.blend(small, tint, 0.6).resize((1600, 1200), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (gunicorn workers, Celery pool processes)."""
    children = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


class Traffic:
    """Client threads: an uploader, a job submitter and readers, counting every answer."""

    def __init__(self, base: str, project: str, stop: threading.Event) -> None:
        self.base, self.project, self.stop = base, project, stop
        self.headers = {**BEHIND_TLS, "Authorization": f"Bearer {log_in(base)}"}
        self.answers: Counter[str] = Counter()
        self.errors: list[str] = []
        self.photos: list[str] = []
        self.jobs: list[str] = []
        self.lock = threading.Lock()

    def call(self, kind: str, method: str, path: str, expect: int, **options):
        try:
            response = requests.request(
                method, self.base + path, headers=self.headers, timeout=60, **options
            )
            if response.status_code == 401:  # the access token expired: sign in again, as apps do
                with self.lock:
                    self.answers["sign in again"] += 1
                    self.headers = {**BEHIND_TLS, "Authorization": f"Bearer {log_in(self.base)}"}
                response = requests.request(
                    method, self.base + path, headers=self.headers, timeout=60, **options
                )
        except requests.RequestException as error:
            with self.lock:
                self.answers[f"{kind} error"] += 1
                self.errors.append(f"{kind}: {error}")
            return None
        with self.lock:
            self.answers[f"{kind} {response.status_code}"] += 1
            if response.status_code != expect:
                self.errors.append(f"{kind}: {response.status_code} {response.text[:200]}")
                return None
        return response.json() if response.content else {}

    def uploader(self, every: float) -> None:
        seed = 0
        while not self.stop.wait(every):
            seed += 1
            answer = self.call(
                "upload", "POST", "/api/v1/photos/", 201, data={"project": self.project},
                files={"file": (f"room-{seed}.jpg", photo(seed), "image/jpeg")},
            )  # fmt: skip
            if answer:
                with self.lock:
                    self.photos.append(answer["id"])

    def submitter(self, every: float) -> None:
        while not self.stop.wait(every):
            with self.lock:
                candidates = self.photos[-20:]
            if not candidates:
                continue
            chosen = random.choice(candidates)
            # As an app does: process what the API says is ready (ingest takes a moment).
            current = self.call("read photo", "GET", f"/api/v1/photos/{chosen}/", 200)
            if not current or current["status"] != "ready":
                continue
            answer = self.call(
                "process", "POST", "/api/v1/jobs/", 202,
                json={"photos": [chosen], "preset": "bright-airy"},
            )  # fmt: skip
            if answer:
                with self.lock:
                    self.jobs += [job["id"] for job in answer["jobs"]]

    def reader(self, every: float) -> None:
        while not self.stop.wait(every):
            with self.lock:
                photo_id = random.choice(self.photos) if self.photos else None
                job_id = random.choice(self.jobs) if self.jobs else None
            choice = random.random()
            if choice < 0.4:
                self.call("read list", "GET", f"/api/v1/photos/?project={self.project}", 200)
            elif choice < 0.8 and photo_id:
                self.call("read photo", "GET", f"/api/v1/photos/{photo_id}/", 200)
            elif job_id:
                self.call("read job", "GET", f"/api/v1/jobs/{job_id}/", 200)


def log_in(base: str) -> str:
    """A fresh app access token (they last JWT_ACCESS_TOKEN_EXPIRES_IN seconds)."""
    login = requests.post(
        f"{base}/_allauth/app/v1/auth/login", headers=BEHIND_TLS,
        json={"email": EMAIL, "password": PASSWORD}, timeout=30,
    )  # fmt: skip
    login.raise_for_status()
    return login.json()["meta"]["access_token"]


def queue_ages(base: str) -> dict[str, float]:
    text = requests.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
    ).text
    ages = {}
    for line in text.splitlines():
        if line.startswith("photolisting_queue_oldest_message_age_seconds{"):
            queue = line.split('queue="', 1)[1].split('"', 1)[0]
            ages[queue] = float(line.rsplit(" ", 1)[1])
    return ages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--upload-every", type=float, default=2.0, help="seconds")
    parser.add_argument("--process-every", type=float, default=2.0, help="seconds")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--read-every", type=float, default=0.25, help="seconds, per reader")
    options = parser.parse_args()
    # A kill unwinds like an error: every server this started is stopped, the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("soak: stopped"))
    if not (answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379)):
        raise SystemExit("PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must be running")

    folder = Path(tempfile.mkdtemp(prefix="photolisting-soak-"))
    moto_port, web_port = free_port(), free_port()
    base = f"http://127.0.0.1:{web_port}"
    database = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
    admin.execute(drop)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    redis.Redis.from_url(REDIS_URL).flushdb()
    (folder / "metrics").mkdir()
    env = production_env(
        folder / "var",
        DATABASE_URL=database,
        REDIS_URL=REDIS_URL,
        AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
        METRICS_TOKEN=METRICS_TOKEN,
        WEB_CONCURRENCY="2",
        API_THROTTLE="false",  # the soak measures the system, not the plan's rate
        # No recycling of web or pool processes, so each one's memory can be followed from
        # minute 5 to the end (production keeps both backstops on).
        GUNICORN_MAX_REQUESTS="0",
        CELERY_WORKER_MAX_TASKS_PER_CHILD="1000000",
    )
    (folder / "var").mkdir()
    processes: dict[str, int] = {}
    try:
        with ExitStack() as running:
            moto_log = folder / "moto.log"
            moto = running.enter_context(
                server([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
                       {"PATH": os.environ["PATH"]}, moto_log)
            )  # fmt: skip
            wait_until(lambda: answers("127.0.0.1", moto_port), moto, moto_log, 30)
            s3 = boto3.client(
                "s3", endpoint_url=f"http://127.0.0.1:{moto_port}", region_name="us-east-1",
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )  # fmt: skip
            for bucket in BUCKETS.values():
                s3.create_bucket(Bucket=bucket)
            manage(env, "migrate", "--no-input", "-v0")
            manage(env, "shell", "-c", CREATE_USER)

            web_log = folder / "web.log"
            web = running.enter_context(
                server([str(BIN / "gunicorn"), "-c", "ops/gunicorn.conf.py",
                        "-b", f"127.0.0.1:{web_port}"], env, web_log)
            )  # fmt: skip
            wait_until(lambda: answers("127.0.0.1", web_port), web, web_log, 60)
            processes["web"] = web.pid
            for n in range(2):
                log = folder / f"worker{n}.log"
                worker = running.enter_context(
                    server([sys.executable, "-m", "celery", "-A", "photolisting", "worker",
                            "--loglevel=INFO", "--concurrency=1", f"--hostname=soak{n}@%h",
                            "--queues=ingest,process,ai,offpeak,default",
                            "--without-mingle", "--without-gossip"], env, log)
                )  # fmt: skip
                wait_until(lambda log=log: "ready." in log.read_text(), worker, log, 60)
                processes[f"worker{n}"] = worker.pid

            project = requests.post(
                f"{base}/api/v1/projects/", json={"name": "Soak"}, timeout=30,
                headers={**BEHIND_TLS, "Authorization": f"Bearer {log_in(base)}"},
            ).json()["id"]  # fmt: skip

            stop = threading.Event()
            traffic = Traffic(base, project, stop)
            threads = [
                threading.Thread(target=traffic.uploader, args=(options.upload_every,)),
                threading.Thread(target=traffic.submitter, args=(options.process_every,)),
                *(
                    threading.Thread(target=traffic.reader, args=(options.read_every,))
                    for _ in range(options.readers)
                ),
            ]
            for thread in threads:
                thread.start()
            started = time.monotonic()
            end = started + options.minutes * 60
            rss: dict[str, dict[str, int]] = {}
            worst_age: dict[str, float] = {}
            print(f"soak: {options.minutes:g} min against {base}; logs in {folder}", flush=True)
            while time.monotonic() < end:
                time.sleep(min(30, max(0.1, end - time.monotonic())))
                minute = (time.monotonic() - started) / 60
                sample = {
                    f"{name}:{pid}": rss_kib(pid)
                    for name, root in processes.items()
                    for pid in process_tree(root)
                }
                if minute >= 5 and "minute 5" not in rss:
                    rss["minute 5"] = sample
                rss["end"] = sample
                ages = queue_ages(base)
                for queue, age in ages.items():
                    worst_age[queue] = max(worst_age.get(queue, 0.0), age)
                with traffic.lock:
                    done = sum(traffic.answers.values())
                print(
                    f"  {minute:5.1f} min  {done} requests  {len(traffic.errors)} errors  "
                    f"queue age {max(ages.values(), default=0):.1f} s  "
                    f"RSS {sum(sample.values()) / 1024:.0f} MiB",
                    flush=True,
                )
            stop.set()
            for thread in threads:
                thread.join()

            with psycopg.connect(database, autocommit=True) as db:
                drain_deadline = time.monotonic() + 180
                while time.monotonic() < drain_deadline:
                    busy = db.execute(
                        "SELECT (SELECT count(*) FROM processing_job WHERE status IN "
                        "('queued','running')) + (SELECT count(*) FROM projects_photo WHERE "
                        "status IN ('uploaded','processing'))"
                    ).fetchone()[0]
                    if not busy:
                        break
                    time.sleep(1)
                jobs = dict(db.execute("SELECT status, count(*) FROM processing_job GROUP BY 1"))
                photos = dict(db.execute("SELECT status, count(*) FROM projects_photo GROUP BY 1"))
                versions = db.execute("SELECT count(*) FROM projects_photoversion").fetchone()[0]
                linked = db.execute(
                    "SELECT count(DISTINCT result_version_id) FROM processing_job"
                ).fetchone()[0]
        growth = {}
        for key, start_kib in rss.get("minute 5", {}).items():
            end_kib = rss["end"].get(key, 0)
            if start_kib and end_kib:
                growth[key] = round(100 * (end_kib - start_kib) / start_kib, 1)
        summary = {
            "minutes": options.minutes,
            "requests": dict(traffic.answers),
            "errors": len(traffic.errors),
            "first_errors": traffic.errors[:5],
            "uploads": len(traffic.photos),
            "photos": photos,
            "jobs_submitted": len(traffic.jobs),
            "jobs": jobs,
            "lost_jobs": len(traffic.jobs) - jobs.get("succeeded", 0) - jobs.get("failed", 0),
            "versions": versions,
            "duplicated_versions": versions - linked,
            "rss_kib_minute_5": rss.get("minute 5"),
            "rss_kib_end": rss.get("end"),
            "rss_growth_percent": growth,
            "worst_queue_age_seconds": worst_age,
        }
        print(json.dumps(summary))
    finally:
        admin.execute(drop)
        admin.close()


if __name__ == "__main__":
    main()
