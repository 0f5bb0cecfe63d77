"""Usage events of processing (analytics): each finished job with what it ran, how long it took
and what the provider cost; and quota refusals, recorded after their transaction rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from analytics.events import Kind, record
from billing.services import QuotaExceeded
from imaging.ops import REGISTRY
from processing.models import Job
from projects.models import Project


def job_operation(job: Job) -> str:
    """What a job is counted under: its generative steps (they fail and cost differently),
    else its first local step."""
    names = [step["op"] for step in job.operations]
    ai = [name for name in names if name in REGISTRY and REGISTRY[name].kind == "ai"]
    return "+".join(ai) if ai else (names[0] if names else "")


def job_usage_record(job: Job, *, succeeded: bool, error_code: str = "") -> None:
    finished = job.finished_at or timezone.now()
    started = job.started_at or job.created_at
    record(
        Kind.JOB_SUCCEEDED if succeeded else Kind.JOB_FAILED,
        user_id=job.created_by_id,
        agency_id=job.project.agency_id,
        project_id=job.project_id,
        operation=job_operation(job),
        duration_ms=max(0, int((finished - started).total_seconds() * 1000)) if started else None,
        provider_cost=job.cost,
        ai_edits=int((job.provider_usage or {}).get("calls", 0)),
        metadata={"job": str(job.id), "preset": job.preset_name, "error": error_code},
    )


@contextmanager
def quota_refusal_recorded(*, user_id: int | None, project: Project) -> Iterator[None]:
    """Wraps a reservation's transaction: the refusal is recorded once it has rolled back."""
    try:
        yield
    except QuotaExceeded as error:
        record(
            Kind.QUOTA_REFUSED,
            user_id=user_id,
            agency_id=project.agency_id,
            project_id=project.id,
            plan=error.details.get("plan"),
            metadata={"code": error.code, "metric": error.details.get("metric", "")},
        )
        raise
