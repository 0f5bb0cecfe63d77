"""Request ids, JSON logs and Prometheus metrics shared by the web and the workers.

A request gets an id (the proxy's ``X-Request-ID`` or a new one); every log line written while
it is served carries it, Celery tasks it enqueues carry it in their headers (``request_id``) and
log it too, and provider calls send it on. Metrics live in this process's registry, or in
``PROMETHEUS_MULTIPROC_DIR`` when gunicorn and Celery run several processes (the variable must be
set before this module is imported; ``operations.views.metrics`` adds them up).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us: short and printable, so it can't forge log lines.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_task: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("task", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> contextvars.Token:
    return _request_id.set(request_id)


def bind_task(task_id: str, task_name: str) -> contextvars.Token:
    return _task.set((task_id, task_name))


def unbind(token: contextvars.Token) -> None:
    token.var.reset(token)


def new_request_id(proposed: str | None = None) -> str:
    if proposed and _ACCEPTED_ID.match(proposed):
        return proposed
    return uuid.uuid4().hex


# --- Logs ---------------------------------------------------------------------------------

# Attributes every LogRecord has; anything else came in through ``extra=`` and is logged as is.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, task, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        task = _task.get()
        if task:
            entry["task_id"], entry["task"] = task
        entry["process"] = record.process
        entry.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


# --- Metrics ------------------------------------------------------------------------------

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

HTTP_REQUEST_DURATION = Histogram(
    "photolisting_http_request_duration_seconds",
    "Time to answer a request, by route pattern, method and status.",
    ["route", "method", "status"],
    buckets=_SECONDS,
)
TASK_DURATION = Histogram(
    "photolisting_task_duration_seconds",
    "Time a Celery task ran (ingest, job, export, webhook...), by task, queue and outcome.",
    ["task", "queue", "outcome"],
    buckets=_SECONDS,
)
INGEST_OUTCOMES = Counter(
    "photolisting_ingest_outcomes_total", "Ingests that ended, by photo status.", ["outcome"]
)
PROVIDER_CALLS = Counter(
    "photolisting_provider_calls_total",
    "AI provider calls, by provider and outcome (ok, refused, unavailable).",
    ["provider", "outcome"],
)
PROVIDER_COST = Counter(
    "photolisting_provider_cost_usd_total", "What paid provider calls cost, USD.", ["provider"]
)
PROVIDER_DURATION = Histogram(
    "photolisting_provider_call_duration_seconds",
    "Time of one provider call, retries included.",
    ["provider"],
    buckets=_SECONDS,
)
QUOTA_REFUSALS = Counter(
    "photolisting_quota_refusals_total",
    "Work refused because a plan's quota or a member's cap was reached.",
    ["metric", "code"],
)
WEBHOOK_DELIVERY_FAILURES = Counter(
    "photolisting_webhook_delivery_failures_total",
    "Failed webhook delivery attempts; final=true when no retry is left.",
    ["final"],
)

request_logger = logging.getLogger("photolisting.request")
task_logger = logging.getLogger("photolisting.task")


class RequestMiddleware:
    """Outermost middleware: binds the request id, answers it in ``X-Request-ID``, writes one
    log line per request and observes its latency under its route pattern (not its path, so
    ids in URLs don't explode the series)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.headers.get(REQUEST_ID_HEADER))
        # Bound until request_finished, so Django's own "Not Found: ..." line carries it too.
        bind_request_id(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "<unmatched>"
        HTTP_REQUEST_DURATION.labels(route, request.method, str(response.status_code)).observe(
            elapsed
        )
        response[REQUEST_ID_HEADER] = request_id
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs) -> None:
    _request_id.set(None)


# --- Celery -------------------------------------------------------------------------------


def stamp_headers(headers: dict) -> None:
    """Before a task is published: the request id goes with it, and the time it was sent (for
    the oldest-message age of each queue)."""
    request_id = _request_id.get()
    if request_id and "request_id" not in headers:
        headers["request_id"] = request_id
    headers.setdefault("published_at", time.time())


_running: dict[str, tuple[float, list[contextvars.Token]]] = {}


def task_started(task_id: str, task) -> None:
    request_id = getattr(task.request, "request_id", None) or _request_id.get() or f"task-{task_id}"
    tokens = [bind_request_id(request_id), bind_task(task_id, task.name)]
    _running[task_id] = (time.perf_counter(), tokens)
    task_logger.info("task %s started", task.name, extra={"queue": _queue_of(task)})


def task_ended(task_id: str, task, state: str | None) -> None:
    started, tokens = _running.pop(task_id, (None, []))
    if started is not None:
        elapsed = time.perf_counter() - started
        outcome = (state or "unknown").lower()
        TASK_DURATION.labels(task.name, _queue_of(task), outcome).observe(elapsed)
        task_logger.info(
            "task %s %s",
            task.name,
            outcome,
            extra={"duration_ms": round(elapsed * 1000, 1), "outcome": outcome},
        )
    for token in reversed(tokens):
        unbind(token)


def _queue_of(task) -> str:
    delivery = getattr(task.request, "delivery_info", None) or {}
    return delivery.get("routing_key") or delivery.get("exchange") or "default"
