"""Shared test plumbing: API clients, photo files, and the Celery mode of this run.

By default ingest runs eagerly in the test process after each commit. With
``CELERY_TASK_ALWAYS_EAGER=false`` (the CI run on PostgreSQL + Redis) a real ``celery worker``
process is started against the test database and tests wait for it.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, connections
from PIL import Image
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from processing.models import Job
from projects.models import Photo
from projects.tests.factories import ProjectFactory

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
CAMERA_JPEG = SHARED_DATA / "camera" / "kitchen-iphone13-12mp.jpg"
CAMERA_HEIC = SHARED_DATA / "camera" / "kitchen-iphone13.heic"
INTERIOR = SHARED_DATA / "interiors" / "living-room.jpg"


# CI always has ../shared/data: a missing file there is a broken run, not a test to skip.
SHARED_DATA_REQUIRED = bool(os.environ.get("CI"))


def require_shared(path: Path) -> Path:
    """The path in ../shared/data; skipped locally when absent, a failure in CI."""
    if not path.exists():
        message = f"{path} is not here (../shared/data)"
        if SHARED_DATA_REQUIRED:
            pytest.fail(f"{message}; CI runs every test that needs it", pytrace=False)
        pytest.skip(message)
    return path


def shared_photo(path: Path) -> bytes:
    return require_shared(path).read_bytes()


def jpeg_bytes(image: Image.Image, **save_options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90, **save_options)
    return buffer.getvalue()


# --- Storage: S3 buckets exist before the first test in S3 mode ---------------------------


@pytest.fixture(scope="session", autouse=True)
def _storage_buckets():
    if settings.STORAGE_BACKEND == "s3":
        from django.core.files.storage import storages

        for name in settings.PHOTO_STORAGE_NAMES:
            bucket = storages[name].bucket
            if bucket.creation_date is None:
                bucket.create()
    yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache; in Redis they would outlive a test run. Bodies
    kept in this process are keyed by row ids and times a later test can meet again."""
    from django.core.cache import cache

    from photolisting.api import kept_bodies

    cache.clear()
    kept_bodies.clear()
    yield


# --- Celery: eager in-process, or a real worker process ------------------------------------


@pytest.fixture(autouse=True)
def _celery_join_flag():
    """Eager tasks run by two request threads at once can leave Celery's process-wide "joining
    would block" flag set (``denied_join_result`` saves and restores it without a lock), and
    every later ``result.get()`` then refuses. Each test starts with it cleared."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real ``celery worker`` on the test database, which a test may kill and restart."""

    def __init__(self, env: dict, log: Path) -> None:
        self.env, self.log, self.process = env, log, None

    def start(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "photolisting", "worker",
                 "--loglevel=INFO", "--concurrency=2", f"--queues={settings.CELERY_WORKER_QUEUES}",
                 "--hostname=test@%h", "--without-mingle", "--without-gossip"],
                env=self.env, stdout=output, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while "ready." not in self.log.read_text()[offset:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the worker and its pool, as an OOM killer or a lost machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        # Pool processes outlive their parent for a moment; the test database is dropped next.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, tmp_path_factory, openai_fake, stripe_fake
):
    """A real ``celery worker`` on the test database, when this run is not eager."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "photolisting.settings.test",
        "DATABASE_URL": _database_url(),
        "PHOTOLISTING_VAR_DIR": str(settings.VAR_DIR),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Messages of a killed worker come back within a test's wait (production keeps an
        # hour), yet no task still running is handed out again: 6 s re-ran slow jobs (AI with
        # a delayed provider, HDR, privacy under load) into the next tests.
        "CELERY_VISIBILITY_TIMEOUT": "30",
        "OPENAI_BASE_URL": settings.OPENAI_BASE_URL,
        "OPENAI_API_KEY": settings.OPENAI_API_KEY,
        "OPENAI_ADMIN_KEY": settings.OPENAI_ADMIN_KEY,
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
        "STRIPE_API_BASE": settings.STRIPE_API_BASE,
        "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
    }
    worker = WorkerProcess(env, tmp_path_factory.mktemp("worker") / "worker.log")
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "photolisting", "purge", "-f",
         f"--queues={settings.CELERY_WORKER_QUEUES}"],
        env=env, cwd=settings.BASE_DIR, capture_output=True, check=False,
    )  # fmt: skip
    worker.start()
    yield worker
    worker.stop()


# --- OpenAI stand-in ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def openai_fake():
    """The local OpenAI-compatible server, and the settings pointing the real SDK at it."""
    from tests.fakes import openai_server

    server, state = openai_server.start()
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.OPENAI_API_KEY = openai_server.API_KEY
    settings.OPENAI_ADMIN_KEY = openai_server.ADMIN_KEY
    yield server, state
    server.shutdown()


@pytest.fixture
def openai(openai_fake):
    """The fake's state, reset for this test: ``openai.plan(429)``, ``openai.calls``,
    ``openai.down = True``."""
    _, state = openai_fake
    state.reset()
    yield state
    state.reset()


@pytest.fixture(autouse=True)
def _quiet_worker_before_flush(request):
    """With a real worker, a transactional test waits for the work it started to settle before
    its tables are truncated; otherwise TRUNCATE and the worker's transaction can deadlock."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if settings.CELERY_TASK_ALWAYS_EAGER or not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so torn down after this
    yield
    from delivery.models import Export
    from integrations.models import WebhookDelivery

    busy = [
        Photo.objects.filter(status__in=[Photo.Status.UPLOADED, Photo.Status.PROCESSING]),
        Job.objects.filter(status=Job.Status.RUNNING),
        Job.objects.filter(status=Job.Status.QUEUED, enqueued_at__isnull=False),
        Export.objects.filter(status__in=[Export.Status.QUEUED, Export.Status.RUNNING]),
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, endpoint__is_active=True
        ),
    ]
    deadline = time.monotonic() + 30
    while any(queryset.exists() for queryset in busy) and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def wait_for_ingest(celery_worker_process):
    """Returns the photo once ingest has decided (ready, rejected or failed)."""
    finished = (Photo.Status.READY, Photo.Status.REJECTED, Photo.Status.FAILED)
    return lambda photo_id, timeout=60: _wait_for_status(Photo, photo_id, finished, timeout)


def _wait_for_status(model, object_id, finished, timeout: float):
    """Polls a row until its status is one of ``finished`` (a real worker runs elsewhere)."""
    deadline = time.monotonic() + timeout
    while True:
        row = model.objects.get(id=object_id)
        if row.status in finished:
            return row
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{model.__name__} {object_id} still {row.status} after {timeout}s"
            )
        time.sleep(0.1)


@pytest.fixture
def ready_photos(upload, wait_for_ingest):
    """Uploads real interiors (shrunk) and returns their ids once ingested."""

    def make(count: int = 1, *, shade: float = 1.0, **upload_options) -> list[str]:
        base = Image.open(io.BytesIO(shared_photo(INTERIOR))).convert("RGB").resize((800, 480))
        ids = []
        for index in range(count):
            variant = Image.eval(base, lambda v, s=shade * (1 + index * 0.01): min(255, int(v * s)))
            response = upload(jpeg_bytes(variant), f"room-{index}.jpg", **upload_options)
            ids.append(str(wait_for_ingest(response.json()["id"]).id))
        return ids

    return make


@pytest.fixture
def wait_for_job(celery_worker_process):
    """Returns the job once it has succeeded, failed or been cancelled."""
    return lambda job_id, timeout=90: _wait_for_status(Job, job_id, Job.FINISHED, timeout)


# --- Stripe stand-in ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def stripe_fake():
    """The local Stripe-compatible server, and the settings pointing the real SDK at it."""
    from tests.fakes import stripe_server

    server, state = stripe_server.start()
    settings.STRIPE_SECRET_KEY = stripe_server.API_KEY
    settings.STRIPE_API_BASE = state.base_url
    settings.STRIPE_WEBHOOK_SECRET = stripe_server.WEBHOOK_SECRET
    yield server, state
    server.shutdown()


PRICES = {
    "premium": ("price_premium_month", "price_premium_year"),
    "agency": ("price_agency_month", "price_agency_year"),
}


@pytest.fixture
def stripe(stripe_fake, db):
    """The fake Stripe's state, with the paid plans priced as in the Stripe dashboard."""
    from billing.models import Plan

    _, state = stripe_fake
    state.requests.clear()  # each test reads the calls it caused
    for code, (monthly, yearly) in PRICES.items():
        Plan.objects.filter(code=code).update(price_monthly=monthly, price_yearly=yearly)
    return state


@pytest.fixture
def deliver(client):
    """POSTs a Stripe event to our webhook with a real signature."""
    from tests.fakes.stripe_server import signed

    def send(event: dict, *, secret: str | None = None, timestamp: int | None = None):
        body, header = signed(event, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp)
        return client.post(
            "/api/v1/billing/webhook/", body, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )  # fmt: skip

    return send


# --- People and clients ---------------------------------------------------------------------


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def premium(user):
    """The test user on the Premium plan (exports, own watermark), as tests of those need."""
    from billing.tests.factories import SubscriptionFactory

    return SubscriptionFactory(user=user)


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def app_for(settings):
    """Clients holding an app token, as the mobile apps call, with the production throttle on:
    its Redis round trip also reads what an answer's validator is made of
    (``photolisting.stamps``). Skips where the cache is not Redis."""
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("stamps are read in the authentication's Redis round trip")
    settings.API_THROTTLE = True
    settings.API_LOG_SAMPLE_RATE = 0  # query counts must not depend on a sampled INSERT

    def make(user) -> APIClient:
        login = APIClient().post(
            "/_allauth/app/v1/auth/login",
            {"email": user.email, "password": PASSWORD},
            format="json",
        )
        app = APIClient()
        app.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['meta']['access_token']}")
        return app

    return make


@pytest.fixture
def api(user, client_for) -> APIClient:
    return client_for(user)


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user)


@pytest.fixture
def upload(api, project):
    """POSTs a photo file to the API the way the apps do (multipart)."""

    def send(data: bytes, name: str = "photo.jpg", *, client=None, project_id=None, **extra):
        payload = {"project": str(project_id or project.id), "file": _named(data, name)}
        payload.update(extra.pop("fields", {}))
        return (client or api).post("/api/v1/photos/", payload, format="multipart", **extra)

    return send


def _named(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


@pytest.fixture
def fetch(client):
    """GETs a signed link, local (through Django) or presigned S3 (over HTTP), following a
    redirect as a browser does (a share gallery's files redirect to the signed file)."""

    def get(url: str) -> tuple[int, dict, bytes]:
        if url.startswith("http://testserver") or url.startswith("/"):
            response = client.get(url.removeprefix("http://testserver"))
            if response.status_code in (301, 302, 303, 307, 308):
                return get(response["Location"])
            body = b"".join(response.streaming_content) if response.streaming else response.content
            return response.status_code, dict(response.headers), body
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    return get


# --- Browser: Debian's chromium driven by Playwright --------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# What every browser test module sets as its pytestmark.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


@pytest.fixture
def chromium():
    """Headless Debian Chromium (never a downloaded browser), closed after the test."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
    # itself are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        # The ORM calls made inside Playwright's context opened their own connection.
        connections.close_all()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(chromium, request, tmp_path):
    """A 1280×900 page; on a failing test, a full-page screenshot goes to $SCREENSHOT_DIR
    (else the test's tmp_path), named after the test. Playwright's polling helpers
    (``wait_for_function``) evaluate strings, which the pages' CSP forbids: the page bypasses
    CSP, and the CSP itself is tested where it is set (tests/test_gateway.py)."""
    tab = chromium.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    failures = request.session.testsfailed
    yield tab
    # The call's report is logged (and counted) before fixtures are torn down.
    if request.session.testsfailed > failures:
        folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(folder / f"{request.node.name}.png"), full_page=True)


def log_in(page, base_url: str, user) -> None:
    """Through the login form, as a person would; lands on the dashboard."""
    from accounts.tests.factories import PASSWORD

    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")
