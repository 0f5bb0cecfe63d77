"""The operations tools against real processes on loopback: gunicorn (2 workers), a celery worker
process, S3 on moto_server, a Redis of the test's own. The smoke test passes end to end and fails
when storage goes away; a request's id is in the web's log line and in its tasks' log lines;
/readyz names Redis when it stops and recovers when it is back."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from django.conf import settings

from tests.test_production import BIN, BUCKETS, answers, free_port, server, wait_until

REQUEST_ID = "smoke-request-7f3c2a91"


def local_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """One machine's settings with debug off and JSON logs, nothing inherited from this run."""
    var_dir.mkdir(parents=True, exist_ok=True)  # as make run does
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "photolisting.settings.local",
        "PHOTOLISTING_VAR_DIR": str(var_dir),
        "DEBUG": "false",
        "LOG_FORMAT": "json",
        "ACCOUNT_EMAIL_VERIFICATION": "mandatory",
        **overrides,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def gunicorn(port: int) -> list[str]:
    return [str(BIN / "gunicorn"), "-c", "ops/gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]


def celery_worker(name: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "photolisting", "worker", "--loglevel=INFO",
        f"--queues={settings.CELERY_WORKER_QUEUES}", f"--hostname={name}@%h",
        "--without-mingle", "--without-gossip", *extra,
    ]  # fmt: skip


def json_lines(log: Path) -> list[dict]:
    lines = []
    for line in log.read_text().splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                lines.append(entry)
    return lines


class Stack:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.moto_port, self.web_port = free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.web_port}"
        self.env = local_env(
            root / "var",
            STORAGE_BACKEND="s3",
            AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{self.moto_port}",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            **BUCKETS,
            PROMETHEUS_MULTIPROC_DIR=str(root / "metrics"),
            WEB_CONCURRENCY="2",
        )
        (root / "metrics").mkdir()
        self.web_log, self.worker_log = root / "web.log", root / "worker.log"
        self.moto: subprocess.Popen | None = None

    def smoke_test(self, *extra: str) -> subprocess.CompletedProcess:
        return manage(
            self.env, "smoke_test", "--base-url", self.base_url, "--create-user", "--timeout",
            "60", *extra, timeout=240,
        )  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Web, worker and S3 started as production starts them, on the embedded database/broker."""
    stack = Stack(tmp_path_factory.mktemp("stack"))
    moto_log = stack.root / "moto.log"
    moto = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(stack.moto_port)]
    with contextlib.ExitStack() as running:
        stack.moto = running.enter_context(server(moto, {"PATH": os.environ["PATH"]}, moto_log))
        wait_until(lambda: answers("127.0.0.1", stack.moto_port), stack.moto, moto_log, 30)
        client = boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{stack.moto_port}", region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        for bucket in BUCKETS.values():
            client.create_bucket(Bucket=bucket)
        migrated = manage(stack.env, "migrate", "--no-input", "-v0")
        assert migrated.returncode == 0, migrated.stderr
        web = running.enter_context(server(gunicorn(stack.web_port), stack.env, stack.web_log))
        worker = running.enter_context(
            server(celery_worker("stack", "--concurrency=1"), stack.env, stack.worker_log)
        )
        wait_until(lambda: answers("127.0.0.1", stack.web_port), web, stack.web_log, 60)
        wait_until(lambda: "ready." in stack.worker_log.read_text(), worker, stack.worker_log, 60)
        yield stack


def test_smoke_test_passes_against_a_running_instance(stack):
    result = stack.smoke_test("--header", f"X-Request-ID: {REQUEST_ID}")
    assert result.returncode == 0, result.stdout + result.stderr + stack.worker_log.read_text()
    for step in ("health", "sign in", "upload", "ingest", "process", "signed download", "clean-up"):
        assert f"ok  {step} (" in result.stdout
    assert "smoke test passed" in result.stdout


def test_a_request_and_its_tasks_log_the_same_request_id(stack):
    # The smoke test above sent every call with REQUEST_ID, as a proxy would.
    web = [line for line in json_lines(stack.web_log) if line.get("request_id") == REQUEST_ID]
    upload = [line for line in web if line.get("route") == "api/v1/photos/"]
    assert upload and upload[0]["status"] == 201, stack.web_log.read_text()[-3000:]

    tasks = {
        line["task"]
        for line in json_lines(stack.worker_log)
        if line.get("request_id") == REQUEST_ID and "task" in line
    }
    # The upload's ingest and the job's run, each in the worker process, under the request's id.
    assert {"projects.tasks.ingest_photo", "processing.tasks.run_job"} <= tasks, tasks


def test_metrics_add_up_web_and_worker_processes(stack):
    token_env = {**stack.env, "METRICS_TOKEN": "t" * 32}
    port = free_port()
    with server(gunicorn(port), token_env, stack.root / "web2.log") as web:
        wait_until(lambda: answers("127.0.0.1", port), web, stack.root / "web2.log", 60)
        body = requests.get(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": "Bearer " + "t" * 32},
            timeout=30,
        ).text
    # Counted by the worker process, read through the shared PROMETHEUS_MULTIPROC_DIR.
    assert 'photolisting_ingest_outcomes_total{outcome="ready"}' in body
    assert 'task="processing.tasks.run_job"' in body
    assert 'route="api/v1/photos/"' in body


def test_smoke_test_fails_when_storage_is_unreachable(stack):
    stack.moto.terminate()
    stack.moto.wait(timeout=20)
    result = stack.smoke_test()
    assert result.returncode != 0
    assert "smoke test failed at health" in result.stderr, result.stdout + result.stderr
    assert "storage" in result.stderr


# --- /readyz and Redis ----------------------------------------------------------------------


@contextlib.contextmanager
def redis_server(port: int, log: Path) -> Iterator[subprocess.Popen]:
    command = [
        shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no",
    ]  # fmt: skip
    with server(command, {"PATH": os.environ["PATH"]}, log) as process:
        wait_until(lambda: answers("127.0.0.1", port), process, log, 20)
        yield process


def ready(base_url: str) -> requests.Response:
    return requests.get(f"{base_url}/readyz", timeout=20)


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
def test_readyz_names_redis_while_it_is_down_and_recovers(tmp_path):
    redis_port, web_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = local_env(tmp_path / "var", REDIS_URL=redis_url, READINESS_TIMEOUT="1")
    base_url = f"http://127.0.0.1:{web_port}"
    log = tmp_path / "web.log"
    with (
        redis_server(redis_port, tmp_path / "redis.log") as redis,
        server(gunicorn(web_port), env, log) as web,
    ):
        wait_until(lambda: answers("127.0.0.1", web_port), web, log, 60)
        assert ready(base_url).status_code == 200, ready(base_url).text

        redis.terminate()
        redis.wait(timeout=10)
        started = time.monotonic()
        down = ready(base_url)
        assert time.monotonic() - started < 5  # each dependency had READINESS_TIMEOUT, at once
        assert down.status_code == 503
        assert down.json()["failed"] == ["cache", "broker"]
        assert down.json()["checks"]["database"] == "ok"

        with redis_server(redis_port, tmp_path / "redis-again.log"):
            back = ready(base_url)
            assert back.status_code == 200, back.text
            assert back.json()["failed"] == []
