"""Endpoints for the load balancer and the monitoring: liveness, readiness, Prometheus metrics.

They sit outside the API (no authentication classes, no throttles, no redirects to https in
production), answer machines rather than people, and so speak in codes, not sentences.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from operations.health import readiness
from operations.queues import QueueCollector


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Depends on nothing, so a database outage does not make
    the orchestrator restart every web process."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 503 naming each dependency that did not answer, so the balancer stops
    sending traffic here until it does."""
    checks = readiness()
    failed = [name for name, state in checks.items() if state != "ok"]
    return JsonResponse(
        {"status": "unavailable" if failed else "ok", "failed": failed, "checks": checks},
        status=503 if failed else 200,
    )


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return bool(request.user.is_authenticated and request.user.is_staff)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: this machine's processes (summed across gunicorn and Celery
    processes when ``PROMETHEUS_MULTIPROC_DIR`` is set) and the broker's queues."""
    if not _may_scrape(request):
        return HttpResponse(status=403)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    queues = CollectorRegistry()
    queues.register(QueueCollector())
    return HttpResponse(
        generate_latest(processes) + generate_latest(queues), content_type=CONTENT_TYPE_LATEST
    )
