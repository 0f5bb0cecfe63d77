"""Production settings, for real: a missing or malformed variable stops the start naming it, and
with every service present the app migrates, passes the deploy checks and serves a JWT login
behind gunicorn on PostgreSQL, Redis and S3 (moto_server), all on loopback."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import psycopg
import pytest
import requests
from django.conf import settings
from psycopg import sql

from photolisting.settings.keys import new_private_key_pem

BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"  # the suite's Redis run uses /15
BUCKETS = {
    f"AWS_STORAGE_BUCKET_{name.upper()}": f"pl-{name}" for name in settings.PHOTO_STORAGE_NAMES
}
EMAIL, PASSWORD = "agent@photolisting.example.com", "Listing-photos-2026!"


@functools.cache
def jwt_private_key() -> str:
    return new_private_key_pem()


def production_env(var_dir: Path, **overrides: str | None) -> dict[str, str]:
    """A complete production environment (nothing in it is contacted at start); ``NAME=None``
    leaves NAME out."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "photolisting.settings.production",
        "PHOTOLISTING_VAR_DIR": str(var_dir),
        "SECRET_KEY": "prod-test-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,photolisting.example.com",
        "JWT_PRIVATE_KEY": jwt_private_key(),
        # Nothing here sends mail; were it to, the refused connection would fail the request.
        "EMAIL_URL": "smtp+tls://mailer:secret@127.0.0.1:2525",
        "SITE_URL": "https://photolisting.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/photolisting_prodtest",
        "REDIS_URL": REDIS_URL,
        "STORAGE_BACKEND": "s3",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **BUCKETS,
    }
    return {name: value for name, value in {**env, **overrides}.items() if value is not None}


def start(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def assert_stops_naming(result: subprocess.CompletedProcess, name: str) -> None:
    last_line = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    assert result.returncode != 0, f"started without {name}"
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured"), result.stderr
    assert name in last_line, result.stderr


# --- A missing or malformed variable stops the start ---------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY", "ALLOWED_HOSTS", "JWT_PRIVATE_KEY", "EMAIL_URL", "SITE_URL",
        "DATABASE_URL", "REDIS_URL", "STORAGE_BACKEND", *BUCKETS,
    ],
)  # fmt: skip
def test_production_stops_without_a_required_variable(tmp_path, name):
    assert_stops_naming(start(production_env(tmp_path, **{name: None})), name)


def test_production_with_a_good_environment_starts(tmp_path):
    result = start(production_env(tmp_path))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"DATABASE_URL": ""}, "DATABASE_URL"),  # empty is unset, not a KeyError inside
        ({"DATABASE_URL": "postgres-db.internal"}, "DATABASE_URL"),
        ({"REDIS_URL": None, "CELERY_BROKER_URL": "amqp://127.0.0.1:5672//"}, "REDIS_URL"),
        ({"CELERY_BROKER_URL": "filesystem://"}, "CELERY_BROKER_URL"),
        ({"STORAGE_BACKEND": "local"}, "STORAGE_BACKEND"),
        ({"JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nnot a key"}, "JWT_PRIVATE_KEY"),
        ({"SECRET_KEY": None, "SECRET_KEY_FILE": "/nonexistent/secret"}, "SECRET_KEY_FILE"),
        ({"EMAIL_URL": "smtp://mail.example.com:twentyfive"}, "EMAIL_URL"),
    ],
)
def test_production_stops_on_an_unusable_value(tmp_path, overrides, named):
    assert_stops_naming(start(production_env(tmp_path, **overrides)), named)


@pytest.mark.parametrize("module", ["local", "test", "production"])
@pytest.mark.parametrize(
    ("name", "value"),
    # Plain django-environ read these as False, a ValueError and 2.0.
    [("DEBUG", "maybe"), ("PHOTO_MAX_PIXELS", "lots"), ("OPENAI_TIMEOUT", "2 minutes")],
)
def test_a_malformed_bool_or_number_stops_every_settings_module(tmp_path, module, name, value):
    module = f"photolisting.settings.{module}"
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE=module, **{name: value})
    assert_stops_naming(start(env), name)


# --- The real thing: PostgreSQL, Redis, S3, gunicorn, a JWT login -------------------------


def answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(ready: Callable[[], bool], process: subprocess.Popen, log: Path, timeout: float):
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.args[0]} did not come up:\n{log.read_text()}")
        time.sleep(0.1)


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A server process in its own group, killed with everything it forked, whatever happens."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=env, cwd=settings.BASE_DIR, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # gunicorn workers outliving their arbiter


@pytest.fixture
def database() -> Iterator[str]:
    """A database of its own on the local PostgreSQL, dropped at the end."""
    if not (answers("127.0.0.1", 5432) and answers("127.0.0.1", 6379)):
        pytest.skip("PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are not both running")
    name = f"photolisting_prodtest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def s3(tmp_path) -> Iterator[tuple[str, object]]:
    """A moto S3 server on a free loopback port with the four buckets; its endpoint and client."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tmp_path / "moto.log"
    command = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    with server(command, {"PATH": os.environ["PATH"]}, log) as process:
        wait_until(lambda: answers("127.0.0.1", port), process, log, timeout=30)
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        for bucket in BUCKETS.values():
            client.create_bucket(Bucket=bucket)
        yield endpoint, client


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, f"manage.py {args[0]}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


CREATE_USER = f"""
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import storages

user = get_user_model().objects.create_user(email={EMAIL!r}, password={PASSWORD!r})
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
print(storages["originals"].save("prodtest/original.txt", ContentFile(b"an original")))
"""


def test_production_serves_a_jwt_login_on_postgresql_redis_and_s3(tmp_path, database, s3):
    endpoint, s3_client = s3
    env = production_env(tmp_path / "var", DATABASE_URL=database, AWS_S3_ENDPOINT_URL=endpoint)

    manage(env, "migrate", "--no-input", "-v0", timeout=300)
    assert "no issues" in manage(env, "check", "--deploy", "--fail-level", "WARNING")
    stored = manage(env, "shell", "-c", CREATE_USER).splitlines()[-1]
    original = s3_client.get_object(Bucket=BUCKETS["AWS_STORAGE_BUCKET_ORIGINALS"], Key=stored)
    assert original["Body"].read() == b"an original"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    command = [str(BIN / "gunicorn"), "photolisting.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
    with server(command, env, log) as process:
        wait_until(lambda: answers("127.0.0.1", port), process, log, timeout=60)
        behind_tls = {"X-Forwarded-Proto": "https"}

        plain = requests.get(f"{base}/api/v1/me", allow_redirects=False, timeout=10)
        assert plain.status_code == 301, log.read_text()
        assert plain.headers["Location"] == f"https://127.0.0.1:{port}/api/v1/me"

        login = requests.post(
            f"{base}/_allauth/app/v1/auth/login", json={"email": EMAIL, "password": PASSWORD},
            headers=behind_tls, timeout=30,
        )  # fmt: skip
        assert login.status_code == 200, login.text + log.read_text()
        access_token = login.json()["meta"]["access_token"]

        me = requests.get(
            f"{base}/api/v1/me", headers={**behind_tls, "Authorization": f"Bearer {access_token}"},
            timeout=30,
        )  # fmt: skip
        assert me.status_code == 200, me.text + log.read_text()
        assert me.json()["email"] == EMAIL

        # A database restart ends the workers' persistent connections: the next requests see
        # it (without a SELECT 1 of their own) and reconnect instead of failing.
        others = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        name = [database.rsplit("/", 1)[1]]
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            ended = admin.execute(f"SELECT count(pg_terminate_backend(pid)) {others}", name)
            assert ended.fetchone()[0] >= 1
            deadline = time.monotonic() + 10  # as after a restart: the old backends are gone
            while admin.execute(f"SELECT count(*) {others}", name).fetchone()[0]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        for _ in range(6):  # both workers, whichever takes each request
            again = requests.get(
                f"{base}/api/v1/me",
                headers={**behind_tls, "Authorization": f"Bearer {access_token}"}, timeout=30,
            )  # fmt: skip
            assert again.status_code == 200, again.text + log.read_text()
