"""Scale-out on real engines: two gunicorn web processes and two celery worker processes on one
PostgreSQL and one broker (Redis, then RabbitMQ). 200 jobs go in through the API; one worker is
SIGKILLed mid-run (as the OOM killer or a lost machine would) and the other SIGTERMed once (as a
deploy does). Every job must end succeeded with exactly one stored version, the quota must count
each photo once, and nothing may be lost. Runs in CI's PostgreSQL + Redis pass."""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import redis as redis_client
import requests
from PIL import Image

from operations.tests.test_stack import celery_worker, gunicorn, json_lines, local_env, manage
from tests.test_production import answers, free_port, wait_until
from tests.test_production import database as database  # the fixture: a database of its own

PHOTOS, ROUNDS = 25, 8  # 25 photos × 8 rounds of the same preset = 200 jobs
REDIS_URL = "redis://127.0.0.1:6379/12"  # the suite's Redis run uses /15, test_production /13
RABBITMQ_VHOST = "photolisting_scale_out"
EMAIL, PASSWORD = "scale-out@photolisting.example.com", "Scale-out-2026!"

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="runs in the PostgreSQL + Redis pass of .ci/run",
)

CREATE_USER = f"""
from accounts.services import user_create_verified
from billing.tests.factories import SubscriptionFactory
SubscriptionFactory(user=user_create_verified(email={EMAIL!r}, password={PASSWORD!r}))
"""


class Process:
    """A server or worker in its own process group, which the test may kill and start again."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log, self.process = command, env, log, None

    def start(self, ready=None) -> Process:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=Path(__file__).resolve().parents[2],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        ready = ready or (lambda: "ready." in self.log.read_text()[offset:])
        wait_until(ready, self.process, self.log, timeout=90)
        return self

    def signal(self, number: int, *, group: bool) -> None:
        if group:
            os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def broker_url(name: str) -> str:
    if name == "redis":
        if not answers("127.0.0.1", 6379):
            pytest.skip("Redis is not running on 127.0.0.1:6379")
        return REDIS_URL
    if not answers("127.0.0.1", 5672):
        pytest.skip("RabbitMQ is not running on 127.0.0.1:5672")
    # A virtual host of its own: other runs' queues on this RabbitMQ are never touched.
    for command in (
        ["rabbitmqctl", "-q", "delete_vhost", RABBITMQ_VHOST],
        ["rabbitmqctl", "-q", "add_vhost", RABBITMQ_VHOST],
        ["rabbitmqctl", "-q", "set_permissions", "-p", RABBITMQ_VHOST, "guest", ".*", ".*", ".*"],
    ):
        subprocess.run(command, capture_output=True, timeout=60, check=False)
    return f"amqp://guest:guest@127.0.0.1:5672/{RABBITMQ_VHOST}"


def photo_bytes(index: int) -> bytes:
    rng = random.Random(index)
    image = Image.new("RGB", (480, 320), tuple(rng.randrange(60, 200) for _ in range(3)))
    image.paste((rng.randrange(256), 90, 40), (40 + index, 40, 200, 160 + index))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def inside_a_job(log: Path) -> bool:
    """The worker's last job line says it started, not how it ended (its JSON log)."""
    lines = [line for line in json_lines(log) if line.get("task") == "processing.tasks.run_job"]
    lines = [line for line in lines if line.get("logger") == "photolisting.task"]
    return bool(lines) and lines[-1]["message"].endswith(" started")


def count(db: psycopg.Connection, query: str, *params) -> int:
    return db.execute(query, params).fetchone()[0]


def wait_for(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.25)


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_two_webs_two_workers_a_kill_and_a_restart_lose_and_repeat_nothing(
    broker, database, tmp_path
):
    url = broker_url(broker)
    redis_client.Redis.from_url(REDIS_URL).flushdb()
    env = local_env(
        tmp_path / "var",
        DATABASE_URL=database,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=url,
        # A killed worker's message comes back quickly on Redis (production keeps an hour).
        CELERY_VISIBILITY_TIMEOUT="8",
        WEB_CONCURRENCY="1",
        API_THROTTLE="false",  # 34 API calls in a few seconds; rates have their own tests
    )
    assert manage(env, "migrate", "--no-input", "-v0").returncode == 0
    assert manage(env, "shell", "-c", CREATE_USER).returncode == 0

    ports = [free_port(), free_port()]
    webs = [Process(gunicorn(port), env, tmp_path / f"web{n}.log") for n, port in enumerate(ports)]
    workers = [
        Process(celery_worker(f"w{n}", "--concurrency=1"), env, tmp_path / f"worker{n}.log")
        for n in range(2)
    ]
    processes = [*webs, *workers]
    try:
        for web, port in zip(webs, ports, strict=True):
            web.start(ready=lambda port=port: answers("127.0.0.1", port))
        for worker in workers:
            worker.start()
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        login = requests.post(
            f"{bases[0]}/_allauth/app/v1/auth/login",
            json={"email": EMAIL, "password": PASSWORD},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        auth = {"Authorization": f"Bearer {login.json()['meta']['access_token']}"}

        def api(n: int, method: str, path: str, **options) -> dict:
            response = requests.request(
                method, bases[n % 2] + path, headers=auth, timeout=60, **options
            )
            assert response.status_code < 300, (path, response.status_code, response.text)
            return response.json()

        project = api(0, "POST", "/api/v1/projects/", json={"name": "Scale-out"})["id"]
        photos = [
            api(n, "POST", "/api/v1/photos/", data={"project": project},
                files={"file": (f"room-{n}.jpg", photo_bytes(n), "image/jpeg")})["id"]
            for n in range(PHOTOS)
        ]  # fmt: skip

        with psycopg.connect(database, autocommit=True) as db:
            wait_for(
                "every photo ingested",
                lambda: (
                    count(db, "SELECT count(*) FROM projects_photo WHERE status = 'ready'")
                    == PHOTOS
                ),
                90,
            )
            jobs = [
                job["id"]
                for n in range(ROUNDS)
                for job in api(
                    n, "POST", "/api/v1/jobs/", json={"photos": photos, "preset": "bright-airy"}
                )["jobs"]
            ]
            assert len(set(jobs)) == PHOTOS * ROUNDS == 200

            def succeeded() -> int:
                return count(db, "SELECT count(*) FROM processing_job WHERE status = 'succeeded'")

            # Mid-job, worker 0 dies with everything it forked; it comes back as a new process.
            wait_for("a quarter of the jobs done", lambda: succeeded() >= 50, 120)
            wait_for("worker 0 inside a job", lambda: inside_a_job(workers[0].log), 30)
            workers[0].signal(signal.SIGKILL, group=True)
            workers[0].wait(timeout=10)
            assert succeeded() < 200
            workers[0].start()

            # Later, worker 1 is asked to stop (a deploy): it finishes what it runs, then exits.
            wait_for("most jobs done", lambda: succeeded() >= 120, 120)
            workers[1].signal(signal.SIGTERM, group=False)
            assert workers[1].wait(timeout=60) == 0
            workers[1].start()

            wait_for("every job finished", lambda: succeeded() == 200, 120)

            statuses = dict(
                db.execute("SELECT status, count(*) FROM processing_job GROUP BY status")
            )
            assert statuses == {"succeeded": 200}
            # Exactly once: one stored version per job, none made twice by a redelivery.
            assert count(db, "SELECT count(*) FROM projects_photoversion") == 200
            assert count(db, "SELECT count(DISTINCT result_version_id) FROM processing_job") == 200
            # The quota counted each photo once, whatever ran on it and however often.
            used = db.execute(
                "SELECT used FROM billing_usagecounter WHERE metric = 'processed'"
            ).fetchall()
            assert used == [(PHOTOS,)]
            # The job the kill interrupted was claimed, then claimed and finished again.
            redelivered = count(db, "SELECT count(*) FROM processing_job WHERE attempts > 1")
            assert redelivered >= 1
        print(f"{broker}: 200 jobs, {redelivered} run again after the kill")
    finally:
        for process in processes:
            process.stop()
