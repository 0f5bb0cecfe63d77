"""Liveness, readiness and metrics in-process: the answers, the protection of /metrics, and that
requests, ingests and quota refusals show up in it under the names the alert rules use."""

from __future__ import annotations

import logging
import re

import pytest
from django.conf import settings
from django.test import override_settings
from PIL import Image

from accounts.tests.factories import UserFactory
from conftest import jpeg_bytes

TOKEN = "scrape-token-for-tests-0123456789"


def sample(body: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus text format (0 when absent)."""
    for line in body.splitlines():
        if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
            series, value = line.rsplit(" ", 1)
            if all(f'{key}="{wanted}"' in series for key, wanted in labels.items()):
                return float(value)
    return 0.0


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return response.content.decode()


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_checks_every_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "storage": "ok",
    }


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_need_the_token_or_a_staff_session(client):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    client.force_login(UserFactory())
    assert client.get("/metrics").status_code == 403
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/metrics").status_code == 200
    client.logout()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_count_requests_by_route_pattern_and_status(client, api, project):
    count = "photolisting_http_request_duration_seconds_count"
    route = {"route": "api/v1/projects/<str:project_id>/", "method": "GET"}
    before = scrape(client)
    assert api.get(f"/api/v1/projects/{project.id}/").status_code == 200
    assert api.get("/api/v1/projects/no-such-project/").status_code == 404
    after = scrape(client)
    for status in ("200", "404"):
        assert sample(after, count, **route, status=status) == (
            sample(before, count, **route, status=status) + 1
        )
    assert 'photolisting_queue_messages{queue="ingest"}' in after
    assert "photolisting_broker_up 1.0" in after


@pytest.mark.django_db(transaction=True)
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_count_ingest_outcomes(client, upload):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a worker process counts ingests here; test_stack.py scrapes those")
    outcomes = "photolisting_ingest_outcomes_total"
    before = scrape(client)
    assert upload(jpeg_bytes(Image.new("RGB", (64, 48), "white"))).status_code == 201
    after = scrape(client)
    assert sample(after, outcomes, outcome="ready") == sample(before, outcomes, outcome="ready") + 1


@pytest.mark.django_db
def test_a_request_logs_one_line_with_the_id_it_answers(api, caplog):
    with caplog.at_level(logging.INFO, logger="photolisting.request"):
        response = api.get("/api/v1/me", HTTP_X_REQUEST_ID="lb-3f2a9c1e77")
    assert response["X-Request-ID"] == "lb-3f2a9c1e77"
    (line,) = [r for r in caplog.records if r.name == "photolisting.request"]
    assert (line.route, line.status, line.method) == ("api/v1/me", 200, "GET")
    # An id that could forge log lines is replaced by one of ours.
    forged = api.get("/api/v1/me", HTTP_X_REQUEST_ID="x\nlevel=ERROR")
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])


def test_alert_rules_and_dashboard_use_metrics_we_export():
    """A renamed metric would silence its alert: every name in the rules and the dashboard
    must be one the app exports."""
    from prometheus_client import REGISTRY

    from operations.queues import QueueCollector

    exported = {
        metric.name for collector in (REGISTRY, QueueCollector()) for metric in collector.collect()
    }
    ops = settings.BASE_DIR / "ops"
    used = set()
    for path in (ops / "prometheus" / "alerts.yml", ops / "grafana" / "dashboard.json"):
        used |= set(re.findall(r"photolisting_[a-z_]+", path.read_text()))
    assert used, "no metric found in the rules"
    suffixes = ("_bucket", "_count", "_sum", "_total")
    unknown = {
        name
        for name in used
        if name not in exported
        and not any(name.endswith(s) and name.removesuffix(s) in exported for s in suffixes)
    }
    assert not unknown
    # Each alert family of the issue has a rule.
    rules = (ops / "prometheus" / "alerts.yml").read_text()
    for alert in ("ApiLatencyHigh", "ServerErrorRateHigh", "QueueBacklogOld", "ProviderFailing",
                  "ProviderCostHigh"):  # fmt: skip
        assert f"alert: {alert}" in rules


@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
@override_settings(METRICS_TOKEN=TOKEN, CELERY_WORKER_QUEUES="ingest,ops-test-backlog")
def test_metrics_report_a_waiting_message_and_its_age(client):
    """A queue no worker reads: its message waits, and /metrics says how many and how long."""
    import time

    from photolisting.celery import app

    queue = "ops-test-backlog"
    app.send_task("operations.tests.never_run", queue=queue)
    try:
        time.sleep(1.2)
        body = scrape(client)
        assert sample(body, "photolisting_queue_messages", queue=queue) == 1
        age = sample(body, "photolisting_queue_oldest_message_age_seconds", queue=queue)
        if app.conf.broker_url.startswith("amqp"):
            return  # AMQP tells the depth only
        assert 1.0 <= age < 30
    finally:
        with app.connection_for_write() as broker:
            broker.default_channel.queue_purge(queue)


@pytest.mark.django_db(transaction=True)
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_count_quota_refusals_and_paid_provider_calls(
    client, api, ready_photos, wait_for_job, openai
):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a worker process calls the provider here; its registry is its own")
    from billing.models import Plan

    Plan.objects.filter(code="free").update(monthly_processed_quota=1)
    photos = ready_photos(2)
    before = scrape(client)
    refused = api.post("/api/v1/jobs/", {"photos": photos, "preset": "natural"}, format="json")
    assert refused.status_code == 402
    staged = api.post(
        "/api/v1/jobs/",
        {"photos": photos[:1], "preset": "virtual-staging-living-room"},
        format="json",
    )
    assert staged.status_code == 202, staged.json()
    job = wait_for_job(staged.json()["jobs"][0]["id"])
    assert job.status == "succeeded", job.error_message
    after = scrape(client)

    refusals = "photolisting_quota_refusals_total"
    labels = {"metric": "processed", "code": "quota_exceeded"}
    assert sample(after, refusals, **labels) == sample(before, refusals, **labels) + 1
    calls = "photolisting_provider_calls_total"
    ok = {"provider": "openai", "outcome": "ok"}
    assert openai.successes == 1
    assert sample(after, calls, **ok) == sample(before, calls, **ok) + 1
    cost = "photolisting_provider_cost_usd_total"
    assert sample(after, cost, provider="openai") == pytest.approx(
        sample(before, cost, provider="openai") + float(job.cost)
    )
