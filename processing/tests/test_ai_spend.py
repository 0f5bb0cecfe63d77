"""AI spend through the API against the fake provider: every paid answer recorded (a cancel or a
deleted project included), outages that cost a handful of calls, the daily budget, the per-account
cache, and the daily reconciliation."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from billing.models import Plan, UsageCounter
from processing.models import AIResult, Job, ProviderCall, ProviderCircuit
from processing.tasks import release_waiting_jobs
from projects.tests.factories import ProjectFactory
from runtime.services import switch_set
from tests.fakes.openai_server import CALL_COST

pytestmark = pytest.mark.django_db(transaction=True)
STAGING = "virtual-staging-living-room"
# Time travel moves this process's clock only: a separate worker process would not follow.
EAGER_ONLY = pytest.mark.skipif(
    not settings.CELERY_TASK_ALWAYS_EAGER, reason="time travel needs the jobs run in this process"
)


@pytest.fixture
def roomy_plan(db):
    """Free plan quotas large enough that quota never refuses here."""
    Plan.objects.filter(code="free").update(monthly_processed_quota=100, monthly_ai_quota=100)


def start(api, photos, preset=STAGING, **body):
    response = api.post(
        "/api/v1/jobs/", {"photos": photos, "preset": preset, **body}, format="json"
    )
    assert response.status_code == 202, response.content
    return [job["id"] for job in response.json()["jobs"]]


def used(subject: str, metric: str) -> int:
    counter = UsageCounter.objects.filter(subject=subject, metric=metric).first()
    return counter.used if counter else 0


def eventually(condition, timeout: float = 60) -> None:
    """Waits for what a worker process records after the provider answered."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def control(openai_fake, path: str, body: dict | None = None) -> dict:
    """The fake's loopback control endpoints, as a benchmark or another process uses them."""
    server, _ = openai_fake
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.server_port}/_fake/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_a_job_cancelled_during_its_provider_call_still_records_the_cost(
    api, user, ready_photos, openai, wait_for_job
):
    (photo,) = ready_photos(1)
    openai.delay = 2
    job_ids: list[str] = []

    def request() -> None:
        try:
            job_ids.extend(start(api, [photo]))
        finally:
            connection.close()

    thread = threading.Thread(target=request)
    thread.start()
    deadline = time.monotonic() + 60
    while not (openai.calls and Job.objects.filter(status="running").exists()):
        assert time.monotonic() < deadline, "the provider was never called"
        time.sleep(0.05)
    job = Job.objects.get(status="running")
    cancelled = api.post(f"/api/v1/jobs/{job.id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    thread.join()
    eventually(ProviderCall.objects.exists)
    job = wait_for_job(str(job.id))

    assert job.status == "cancelled" and openai.successes == 1
    assert job.cost == CALL_COST and job.provider_usage["calls"] == 1
    assert job.provider_usage["output_tokens"] == 4160
    (call,) = ProviderCall.objects.all()
    assert call.job_id == job.id and call.cost == CALL_COST and call.subject == f"user:{user.id}"
    assert used(f"user:{user.id}", "ai") == 0, "a cancelled job gives its quota back"
    # The answer was kept: asking again is a free cache hit, not a second payment.
    again = wait_for_job(start(api, [photo])[0])
    assert again.status == "succeeded" and again.provider_usage["cache_hits"] == 1
    assert openai.successes == 1 and used(f"user:{user.id}", "ai") == 0


def test_a_paid_answer_for_a_deleted_project_is_recorded_against_its_owner(
    api, user, project, ready_photos, openai
):
    (photo,) = ready_photos(1)
    openai.delay = 2
    thread = threading.Thread(target=lambda: (start(api, [photo]), connection.close()))
    thread.start()
    deadline = time.monotonic() + 60
    while not openai.calls:
        assert time.monotonic() < deadline, "the provider was never called"
        time.sleep(0.05)
    job_id = Job.objects.get().id
    assert api.delete(f"/api/v1/projects/{project.id}/").status_code == 204
    thread.join()
    eventually(ProviderCall.objects.exists)
    assert not Job.objects.exists()
    (call,) = ProviderCall.objects.all()
    assert call.job_id is None and call.job_ref == job_id
    assert call.subject == f"user:{user.id}" and call.user_id == user.id
    assert call.cost == CALL_COST


@EAGER_ONLY
def test_a_ten_minute_outage_with_fifty_queued_jobs_costs_a_handful_of_calls(
    api, user, client, ready_photos, openai, openai_fake, time_machine, settings, roomy_plan
):
    settings.OPENAI_RETRY_BACKOFF = 0.01
    staff = StaffFactory()
    photos = ready_photos(50)
    time_machine.move_to(timezone.now(), tick=True)
    control(openai_fake, "plan", {"down": True})

    job_ids = start(api, photos)
    jobs = Job.objects.filter(id__in=job_ids)
    assert set(jobs.values_list("status", "error_code")) == {("queued", "provider_down")}
    calls = control(openai_fake, "calls")
    assert calls["total"] == settings.AI_CIRCUIT_FAILURES == 3
    circuit = ProviderCircuit.objects.get(operation="virtual_staging")
    assert circuit.state == "open" and circuit.failures == 3
    (alert,) = mail.outbox
    assert alert.to == [staff.email] and "virtual_staging" in alert.subject
    shown = api.get(f"/api/v1/jobs/{job_ids[-1]}/").json()
    assert shown["status"] == "queued" and shown["error"]["code"] == "provider_down"
    assert "will continue by itself" in shown["error"]["message"]
    client.force_login(staff)
    assert (
        "Open (provider down, jobs wait)"
        in client.get("/admin/processing/providercircuit/").content.decode()
    )

    # Ten minutes of outage, beat releasing waiting jobs every minute: only probes call.
    for _minute in range(10):
        time_machine.shift(timedelta(minutes=1))
        release_waiting_jobs.delay()
    during = control(openai_fake, "calls")
    assert during["by_status"] == {"500": during["total"]}
    assert during["total"] <= 6, f"{during['total']} calls during the outage"

    control(openai_fake, "plan", {"down": False})
    for _minute in range(10):
        time_machine.shift(timedelta(minutes=1))
        release_waiting_jobs.delay()
        if not jobs.exclude(status="succeeded").exists():
            break
    assert set(jobs.values_list("status", flat=True)) == {"succeeded"}
    assert openai.successes == 50
    assert used(f"user:{user.id}", "ai") == 50 and used(f"user:{user.id}", "processed") == 50
    assert max(job.provider_usage["requests"] for job in jobs) <= settings.AI_MAX_CALLS_PER_JOB
    assert ProviderCircuit.objects.get(operation="virtual_staging").state == "closed"


def test_a_job_never_makes_more_provider_requests_than_allowed(
    api, user, ready_photos, openai, settings, wait_for_job
):
    """Our retries of 429s are bounded by the per-job request budget (SDK retries are off).

    The budget is the configured one, not an override: a real worker reads its own settings."""
    budget = settings.AI_MAX_CALLS_PER_JOB
    (photo,) = ready_photos(1)
    openai.plan(*[429] * (budget + 12))
    job = wait_for_job(start(api, [photo])[0], timeout=150)
    assert job.status == "failed" and job.error_code == "provider_unavailable"
    assert len(openai.calls) == budget and job.provider_usage["requests"] == budget
    assert used(f"user:{user.id}", "ai") == 0


@EAGER_ONLY
def test_the_daily_budget_holds_new_ai_jobs_until_the_next_day(
    api, user, ready_photos, openai, time_machine, roomy_plan
):
    time_machine.move_to(timezone.now().replace(hour=12, minute=0), tick=True)
    switch_set(name="ai_daily_budget_usd", text="0.30")
    photos = ready_photos(3)
    first, second = start(api, [photos[0]]), start(api, [photos[1]])
    assert {Job.objects.get(id=j).status for j in first + second} == {"succeeded"}
    assert openai.successes == 2  # 0.36 USD spent: past the budget now

    (held,) = start(api, [photos[2]])
    assert openai.successes == 2, "no call past the budget"
    french = api.get(f"/api/v1/jobs/{held}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert french["status"] == "queued" and french["error"]["code"] == "ai_budget_reached"
    assert "demain" in french["error"]["message"]
    # A cache hit costs nothing: it goes through even past the budget, and uses no quota.
    (hit,) = start(api, [photos[0]])
    assert Job.objects.get(id=hit).status == "succeeded" and openai.successes == 2
    assert used(f"user:{user.id}", "ai") == 3  # two paid, one reserved for the held job

    assert release_waiting_jobs.delay().get() == 0
    assert Job.objects.get(id=held).status == "queued"
    time_machine.shift(timedelta(days=1))
    assert release_waiting_jobs.delay().get() == 1
    assert Job.objects.get(id=held).status == "succeeded" and openai.successes == 3
    assert used(f"user:{user.id}", "ai") == 3


def test_ai_switched_off_holds_jobs_and_switched_on_lets_them_run(
    api, ready_photos, openai, wait_for_job
):
    switch_set(name="ai_provider_enabled", text="off")
    (photo,) = ready_photos(1)
    (job_id,) = start(api, [photo])
    deadline = time.monotonic() + 60
    while Job.objects.get(id=job_id).error_code != "ai_paused":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # Run here: tasks keep no results (CELERY_TASK_IGNORE_RESULT), so only apply() returns one.
    assert not openai.calls and release_waiting_jobs.apply().get() == 0
    switch_set(name="ai_provider_enabled", text="on")
    assert release_waiting_jobs.apply().get() == 1
    assert wait_for_job(job_id).status == "succeeded" and openai.successes == 1


def _same_photo_for(client_for, upload, wait_for_ingest, users_projects, data: bytes) -> list:
    ids = []
    for person, project in users_projects:
        response = upload(data, "same.jpg", client=client_for(person), project_id=project.id)
        ids.append(str(wait_for_ingest(response.json()["id"]).id))
    return ids


def test_the_cache_is_per_account_as_the_readme_says(
    client_for, upload, wait_for_ingest, wait_for_job, openai
):
    from PIL import Image

    from conftest import INTERIOR, jpeg_bytes, shared_photo

    data = jpeg_bytes(
        Image.open(io.BytesIO(shared_photo(INTERIOR))).convert("RGB").resize((800, 480))
    )
    # Two accounts, the very same bytes and preset: each pays for its own answer.
    alice, bob = UserFactory(), UserFactory()
    accounts = [(alice, ProjectFactory(owner=alice)), (bob, ProjectFactory(owner=bob))]
    photos = _same_photo_for(client_for, upload, wait_for_ingest, accounts, data)
    jobs = [
        wait_for_job(start(client_for(p), [photo])[0])
        for (p, _), photo in zip(accounts, photos, strict=True)
    ]
    assert [job.status for job in jobs] == ["succeeded", "succeeded"]
    assert openai.successes == 2 and [job.provider_usage["calls"] for job in jobs] == [1, 1]
    assert set(AIResult.objects.values_list("subject", flat=True)) == {
        f"user:{alice.id}",
        f"user:{bob.id}",
    }
    assert used(f"user:{alice.id}", "ai") == used(f"user:{bob.id}", "ai") == 1

    # Two agents of one agency share its cache: the second is served free.
    first = MembershipFactory()
    second = MembershipFactory(agency=first.agency)
    project = ProjectFactory(owner=None, agency=first.agency)
    team = [(first.user, project), (second.user, project)]
    photos = _same_photo_for(client_for, upload, wait_for_ingest, team, data)
    jobs = [
        wait_for_job(start(client_for(p), [photo])[0])
        for (p, _), photo in zip(team, photos, strict=True)
    ]
    assert [job.status for job in jobs] == ["succeeded", "succeeded"]
    assert openai.successes == 3 and jobs[1].provider_usage == {"cache_hits": 1}
    assert jobs[1].cost == 0 and used(f"agency:{first.agency_id}", "ai") == 1


def test_daily_reconciliation_matches_to_the_cent_and_reports_a_difference(
    api, ready_photos, openai, wait_for_job
):
    photos = ready_photos(2)
    for photo in photos:
        assert wait_for_job(start(api, [photo])[0]).status == "succeeded"
    today = timezone.localdate().isoformat()
    out = io.StringIO()
    call_command("reconcile_ai_spend", "--day", today, stdout=out)
    assert "recorded 2 calls, 0.36 USD" in out.getvalue()
    assert "provider 2 calls, 0.36 USD" in out.getvalue()
    assert "reconciles to the cent" in out.getvalue()

    # Someone spends on the same key outside the product: the provider's numbers disagree.
    import openai as sdk

    client = sdk.OpenAI(api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL)
    client.images.edit(image=("p.png", _png(), "image/png"), prompt="x", model="gpt-image-1")
    errors = io.StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile_ai_spend", "--day", today, stdout=io.StringIO(), stderr=errors)
    assert "against provider: +1 calls, 0.18 USD" in errors.getvalue()
    assert Decimal(str(CALL_COST)).quantize(Decimal("0.01")) == Decimal("0.18")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buffer, format="PNG")
    return buffer.getvalue()
