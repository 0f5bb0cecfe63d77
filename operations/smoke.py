"""The end-to-end check a deploy runs against a new instance before it takes traffic: health,
sign in through the app API, upload, ingest, process, signed download, clean-up. Only HTTP, as a
phone app would talk to it; the first failing step ends the run with what it saw."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

import urllib3
from PIL import Image


class SmokeFailed(Exception):
    """A step did not get the answer it needed."""


@dataclass
class Smoke:
    base_url: str
    email: str
    password: str
    headers: dict[str, str] = field(default_factory=dict)
    preset: str = "bright-airy"
    timeout: float = 90.0
    say: Callable[[str], None] = print
    http: urllib3.PoolManager = field(
        default_factory=lambda: urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=30), retries=False
        )
    )

    def run(self) -> None:
        self.step("health", self.health)
        self.step("sign in", self.sign_in)
        self.step("create project", self.create_project)
        try:
            self.step("upload", self.upload)
            self.step("ingest", self.wait_for_ingest)
            self.step("process", self.process)
            self.step("signed download", self.download)
        except SmokeFailed:
            with contextlib.suppress(SmokeFailed):  # the first failure is the one to report
                self.step("clean-up", self.clean_up)
            raise
        self.step("clean-up", self.clean_up)

    def step(self, name: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        try:
            action()
        except SmokeFailed as failure:
            raise SmokeFailed(f"{name}: {failure}") from failure
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise SmokeFailed(f"{name}: {error}") from error
        self.say(f"ok  {name} ({(time.monotonic() - started) * 1000:.0f} ms)")

    # --- HTTP --------------------------------------------------------------------------

    def call(self, method: str, path: str, expect: int, **options) -> dict:
        headers = {**self.headers, **options.pop("headers", {})}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        if "body" in options:
            options["body"] = json.dumps(options["body"])
            headers["Content-Type"] = "application/json"
        response = self.http.request(
            method, urljoin(self.base_url, path), headers=headers, **options
        )
        if response.status != expect:
            raise SmokeFailed(
                f"{method} {path} answered {response.status}, not {expect}: "
                f"{response.data[:300].decode('utf-8', 'replace')}"
            )
        return response.json() if response.data else {}

    def poll(self, path: str, done: Callable[[dict], bool]) -> dict:
        """Asks again, less and less often (the account's plan rate applies to us too)."""
        deadline = time.monotonic() + self.timeout
        pause = 0.2
        while True:
            answer = self.call("GET", path, 200)
            if done(answer):
                return answer
            if time.monotonic() > deadline:
                raise SmokeFailed(f"{path} still not done after {self.timeout:.0f} s: {answer}")
            time.sleep(pause)
            pause = min(pause * 1.5, 3.0)

    # --- Steps -------------------------------------------------------------------------

    def health(self) -> None:
        self.call("GET", "/healthz", 200)
        self.call("GET", "/readyz", 200)

    def sign_in(self) -> None:
        answer = self.call(
            "POST",
            "/_allauth/app/v1/auth/login",
            200,
            body={"email": self.email, "password": self.password},
        )
        self.token = answer["meta"]["access_token"]
        self.call("GET", "/api/v1/me", 200)

    def create_project(self) -> None:
        name = f"smoke-test {uuid.uuid4().hex[:8]}"
        self.project = self.call("POST", "/api/v1/projects/", 201, body={"name": name})["id"]

    def upload(self) -> None:
        image = Image.new("RGB", (640, 480), (200, 170, 140))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        answer = self.call(
            "POST",
            "/api/v1/photos/",
            201,
            fields={
                "project": self.project,
                "file": ("smoke.jpg", buffer.getvalue(), "image/jpeg"),
            },
        )
        self.photo = answer["id"]

    def wait_for_ingest(self) -> None:
        photo = self.poll(f"/api/v1/photos/{self.photo}/", lambda p: p["status"] != "uploaded")
        photo = self.poll(f"/api/v1/photos/{self.photo}/", lambda p: p["status"] != "processing")
        if photo["status"] != "ready":
            raise SmokeFailed(f"photo ended {photo['status']}: {photo.get('failure')}")

    def process(self) -> None:
        answer = self.call(
            "POST", "/api/v1/jobs/", 202, body={"photos": [self.photo], "preset": self.preset}
        )
        job_id = answer["jobs"][0]["id"]
        job = self.poll(
            f"/api/v1/jobs/{job_id}/",
            lambda j: j["status"] in ("succeeded", "failed", "cancelled"),
        )
        if job["status"] != "succeeded":
            raise SmokeFailed(f"job ended {job['status']}: {job.get('error')}")
        self.download_url = job["result"]["urls"]["download"]

    def download(self) -> None:
        # A signed link works without our credentials: that is the point of signing it.
        response = self.http.request("GET", urljoin(self.base_url, self.download_url))
        if response.status != 200:
            raise SmokeFailed(f"the signed link answered {response.status}")
        if not response.data.startswith((b"\xff\xd8", b"RIFF", b"\x89PNG")):
            raise SmokeFailed(f"the signed link served {response.data[:16]!r}, not an image")

    def clean_up(self) -> None:
        if getattr(self, "project", None):
            self.call("DELETE", f"/api/v1/projects/{self.project}/", 204)
