"""AI spend on a scripted agency workload: what the provider is paid against the naive one call
per AI edit unit, replayed through the API (Django's test client, jobs run in-process) against
the fake OpenAI server run as a separate process, faults injected over its loopback control
endpoints. Scenarios live in ``bench/ai_cost_scenarios.json``.

Prints per scenario: units requested (AI steps × photos), provider calls, paid calls, cost
recorded, quota charged; then one JSON line with the totals, the ratio of paid calls to the
naive baseline, the calls made during the simulated outage, and whether the recorded cost
equals the provider's total to the cent.

Run: ``.venv/bin/python bench/ai_cost.py`` (about two minutes).
"""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCENARIOS = Path(__file__).with_name("ai_cost_scenarios.json")
INTERIORS = ROOT.parent / "shared" / "data" / "interiors"
CENT = Decimal("0.01")


class Fake:
    """The fake provider in its own process, driven only over HTTP."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self.process.stdout.readline().strip()
        self.control_url = self.base_url.removesuffix("/v1") + "/_fake"

    def _call(self, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.control_url}/{path}",
            data=None if body is None else json.dumps(body).encode(),
            method="GET" if body is None else "POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def calls(self) -> dict:
        return self._call("calls")

    def plan(self, **order) -> dict:
        return self._call("plan", order)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def photo_bytes(spec: dict) -> bytes:
    from PIL import Image

    base = Image.open(INTERIORS / spec["file"]).convert("RGB").resize((800, 480))
    shaded = Image.eval(base, lambda v: min(255, int(v * spec["shade"])))
    buffer = io.BytesIO()
    shaded.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def main() -> None:
    fake = Fake()
    var_dir = tempfile.mkdtemp(prefix="photolisting-bench-ai-")
    os.environ.update(
        PHOTOLISTING_VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="photolisting.settings.test",
        STORAGE_BACKEND="local",
        OPENAI_BASE_URL=fake.base_url,
        OPENAI_API_KEY="sk-test-photolisting",
        OPENAI_ADMIN_KEY="sk-admin-test-photolisting",
        OPENAI_RETRY_BACKOFF="0.01",
        LOG_LEVEL="WARNING",
    )
    try:
        run(fake, json.loads(SCENARIOS.read_text()))
    finally:
        fake.stop()


def run(fake: Fake, script: dict) -> None:
    import django
    from django.conf import settings

    django.setup()
    settings.ALLOWED_HOSTS = ["*"]
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    import time_machine
    from rest_framework.test import APIClient

    from accounts.models import Agency, Membership, User
    from billing.models import Plan, UsageCounter
    from imaging.ops import REGISTRY
    from processing.models import Job, ProviderCall
    from processing.providers import get_provider
    from processing.spend import spend_reconcile
    from processing.tasks import release_offpeak_jobs, release_waiting_jobs
    from projects.models import Project

    # The workload, not the plan, is measured: quotas never refuse here.
    Plan.objects.update(monthly_processed_quota=100_000, monthly_ai_quota=100_000)
    agency = Agency.objects.create(name="Bench Realty", slug="bench-realty")
    clients, projects = {}, {}
    for name, kind in script["people"].items():
        person = User.objects.create_user(email=f"{name}@bench.local", password="x-bench-x")
        if kind == "agency":
            Membership.objects.create(user=person, agency=agency, role=Membership.Role.OWNER)
            projects[name] = projects.get("agency") or Project.objects.create(
                name="12 rue des Lilas", agency=agency
            )
            projects["agency"] = projects[name]
        else:
            projects[name] = Project.objects.create(name=f"{name}'s flat", owner=person)
        clients[name] = APIClient()
        clients[name].force_login(person)

    first_person = next(iter(script["people"]))
    presets = {}
    for slug, operations in script["presets"].items():
        response = clients[first_person].post(
            "/api/v1/presets/",
            {"name": slug, "operations": operations, "agency": agency.id},
            format="json",
        )
        assert response.status_code == 201, response.content
        presets[slug] = response.json()["id"]
    preset_steps = {
        slug: sum(REGISTRY[step["op"]].kind == "ai" for step in operations)
        for slug, operations in script["presets"].items()
    }

    photos: dict[str, str] = {}
    data: dict[str, bytes] = {}
    for name, spec in script["photos"].items():
        data[name] = data[spec["same_as"]] if "same_as" in spec else photo_bytes(spec)
        owner = spec.get("owner", first_person)
        upload = io.BytesIO(data[name])
        upload.name = f"{name}.jpg"
        response = clients[owner].post(
            "/api/v1/photos/",
            {"project": str(projects[owner].id), "file": upload},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        photos[name] = response.json()["id"]

    def steps_of(preset: str) -> int:
        if preset in preset_steps:
            return preset_steps[preset]
        return 1  # the shipped staging preset: one AI step

    def post(request: dict, lane: str, mask: list | None) -> list[str]:
        body = {
            "photos": [photos[name] for name in request["photos"]],
            "preset": presets.get(request["preset"], request["preset"]),
            "lane": lane,
        }
        if mask:
            body["mask_regions"] = mask
        try:
            response = clients[request["who"]].post("/api/v1/jobs/", body, format="json")
        finally:
            connection.close()
        assert response.status_code == 202, response.content
        return [job["id"] for job in response.json()["jobs"]]

    def spend() -> tuple[Decimal, int]:
        cost = ProviderCall.objects.aggregate(total=Sum("cost"))["total"] or Decimal(0)
        quota = UsageCounter.objects.filter(metric="ai").aggregate(total=Sum("used"))["total"]
        return cost, quota or 0

    rows, outage_calls = [], None
    traveller = time_machine.travel(timezone.now(), tick=True)
    clock = traveller.start()
    for scenario in script["scenarios"]:
        before_calls, before = fake.calls(), spend()
        units, lane = 0, scenario.get("lane", "standard")
        mask, copies = scenario.get("mask"), scenario.get("concurrent", 1)
        if scenario.get("faults"):
            fake.plan(outcomes=scenario["faults"])
        if lane == "offpeak":  # outside the window first: the jobs wait for beat
            hour = timezone.localtime().hour
            settings.OFFPEAK_WINDOW = ((hour + 2) % 24, (hour + 3) % 24)
        if scenario.get("outage_minutes"):
            fake.plan(down=True)
        job_ids: list[str] = []
        for request in scenario["requests"]:
            units += steps_of(request["preset"]) * len(request["photos"]) * copies
            send = functools.partial(post, request, lane, mask)
            if scenario.get("cancel"):
                job_ids += cancel_in_flight(fake, send)
            elif copies > 1:
                threads = [
                    threading.Thread(target=lambda s=send, ids=job_ids: ids.extend(s()))
                    for _ in range(copies)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            else:
                job_ids += post(request, lane, mask)
        if lane == "offpeak":
            settings.OFFPEAK_WINDOW = (
                timezone.localtime().hour,
                (timezone.localtime().hour + 1) % 24,
            )
            release_offpeak_jobs.delay()
        if scenario.get("outage_minutes"):
            for _minute in range(scenario["outage_minutes"]):
                clock.shift(timedelta(minutes=1))
                release_waiting_jobs.delay()
            outage_calls = fake.calls()["total"] - before_calls["total"]
            fake.plan(down=False)
            for _minute in range(30):
                clock.shift(timedelta(minutes=1))
                release_waiting_jobs.delay()
                if not Job.objects.filter(id__in=job_ids).exclude(status__in=Job.FINISHED).exists():
                    break
        after_calls, after = fake.calls(), spend()
        statuses = list(Job.objects.filter(id__in=job_ids).values_list("status", flat=True))
        rows.append(
            {
                "scenario": scenario["name"],
                "requests": len(scenario["requests"]) * copies,
                "units": units,
                "provider_calls": after_calls["total"] - before_calls["total"],
                "paid_calls": after_calls["paid"] - before_calls["paid"],
                "cost_recorded": str((after[0] - before[0]).quantize(CENT)),
                "quota_charged": after[1] - before[1],
                "unfinished": sum(status in ("queued", "running") for status in statuses),
            }
        )
    traveller.stop()

    columns = ("req", 4), ("units", 5), ("calls", 5), ("paid", 4), ("cost $", 7), ("quota", 5)
    print(f"{'scenario':48} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for row in rows:
        print(
            f"{row['scenario']:48} {row['requests']:>4} {row['units']:>5} "
            f"{row['provider_calls']:>5} {row['paid_calls']:>4} {row['cost_recorded']:>7} "
            f"{row['quota_charged']:>5}"
        )
    final = fake.calls()
    recorded = spend()[0]
    provider_total = Decimal(final["cost_usd"])
    report = spend_reconcile(day=timezone.localdate(), provider=get_provider())
    units = sum(row["units"] for row in rows)
    paid = sum(row["paid_calls"] for row in rows)
    print(
        json.dumps(
            {
                "bench": "ai_cost",
                "requests": sum(row["requests"] for row in rows),
                "units": units,
                "naive_paid_calls": units,
                "provider_calls": sum(row["provider_calls"] for row in rows),
                "paid_calls": paid,
                "paid_calls_per_unit": round(paid / units, 3),
                "calls_during_outage": outage_calls,
                "recorded_cost_usd": str(recorded.quantize(CENT)),
                "provider_cost_usd": str(provider_total.quantize(CENT)),
                "cost_equal_to_the_cent": recorded.quantize(CENT) == provider_total.quantize(CENT),
                "reconciliation_differences": report.differences,
                "quota_charged": sum(row["quota_charged"] for row in rows),
                "unfinished_jobs": sum(row["unfinished"] for row in rows),
            }
        )
    )


def cancel_in_flight(fake: Fake, send) -> list[str]:
    """Sends the request; cancels its job while the (slowed) provider call is in flight."""
    from processing.models import Job

    fake.plan(delay=1.5)
    before = fake.calls()["total"]
    job_ids: list[str] = []
    thread = threading.Thread(target=lambda: job_ids.extend(send()))
    thread.start()
    deadline = time.monotonic() + 60
    while fake.calls()["total"] == before or not Job.objects.filter(status="running").exists():
        assert time.monotonic() < deadline, "the provider was never called"
        time.sleep(0.05)
    from rest_framework.test import APIClient

    job = Job.objects.select_related("created_by").get(status="running")
    client = APIClient()
    client.force_login(job.created_by)
    assert client.post(f"/api/v1/jobs/{job.id}/cancel").status_code == 200
    thread.join()
    fake.plan(delay=0)
    return job_ids


if __name__ == "__main__":
    main()
