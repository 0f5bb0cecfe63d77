"""Reads of presets, jobs and batches, scoped to what the user may see."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext

from accounts.models import User
from accounts.permissions import visible_to
from photolisting.api import get_visible, visible_row
from photolisting.errors import NotFound
from photolisting.queries import QueryShape
from processing.models import Batch, Job, Preset
from projects.selectors import VERSION_FIELDS, in_visible_project, projects_visible_to


def preset_list(*, user: User) -> QuerySet[Preset]:
    """System presets, the user's own, and those of the user's agencies."""
    return Preset.objects.filter(Q(is_system=True) | visible_to(user)).select_related("agency")


def preset_get(*, user: User, preset_ref: str) -> Preset:
    """By id, or by slug (the user's own first, then an agency's, then the shipped one)."""
    presets = preset_list(user=user)
    try:
        uuid.UUID(str(preset_ref))
    except ValueError:
        candidates = list(presets.filter(slug=str(preset_ref)))
        found = min(candidates, key=lambda p: (p.is_system, p.agency_id is not None), default=None)
        if found is None:
            raise NotFound(gettext("No such preset."), code="preset_not_found") from None
        return found
    return get_visible(presets, preset_ref, "preset")


def job_list(
    *,
    user: User,
    batch_id: str | None = None,
    status: str | None = None,
    photo_id: str | None = None,
) -> QuerySet[Job]:
    jobs = (
        Job.objects.filter(project__in=projects_visible_to(user))
        .select_related("result_version__photo", "photo")
        .prefetch_related("result_version__renditions")
    )
    if batch_id:
        jobs = jobs.filter(batch_id=batch_id)
    if status:
        jobs = jobs.filter(status=status)
    if photo_id:
        jobs = jobs.filter(photo_id=photo_id)
    return jobs


def job_get(*, user: User, job_id: str) -> Job:
    return get_visible(job_list(user=user), job_id, "job")


# What the API shows of a job (``processing/api/output.py``), with its result version's fields
# under ``result_version__`` and the photo's name for the result's download name.
JOB_API_FIELDS = (
    "id",
    "batch_id",
    "photo_id",
    "bracket",
    "preset_id",
    "preset_name",
    "lane",
    "status",
    "progress",
    "attempts",
    "error_code",
    "error_message",
    "provider_usage",
    "cost",
    "created_at",
    "started_at",
    "finished_at",
    "result_version_id",
    *(f"result_version__{name}" for name in VERSION_FIELDS),
    "result_version__photo__original_filename",
)


def job_rows(
    *,
    user: User,
    batch_id: str | None = None,
    status: str | None = None,
    photo_id: str | None = None,
) -> QuerySet:
    """``job_list`` as dicts of ``JOB_API_FIELDS``: one query (the result version joined)."""
    jobs = Job.objects.filter(in_visible_project(user))
    if batch_id:
        jobs = jobs.filter(batch_id=batch_id)
    if status:
        jobs = jobs.filter(status=status)
    if photo_id:
        jobs = jobs.filter(photo_id=photo_id)
    return jobs.values(*JOB_API_FIELDS)


# A job's status is polled by every open app: its query is compiled once (photolisting.queries).
_JOB_ROW = QueryShape(
    Job, lambda user_id, pk: job_rows(user=User(pk=user_id)).filter(pk=pk).order_by()
)


def job_row_get(*, user: User, job_id: str) -> dict:
    return visible_row(_JOB_ROW, job_id, "job", user_id=user.pk)


def batch_get(*, user: User, batch_id: str) -> Batch:
    return get_visible(
        Batch.objects.filter(project__in=projects_visible_to(user)), batch_id, "batch"
    )


def batch_progress(*, batch: Batch) -> dict:
    """Counts per status and overall progress (finished jobs count as 100%)."""
    counts = dict(batch.jobs.values_list("status").annotate(n=Count("id")))
    total = sum(counts.values())
    running_progress = batch.jobs.filter(status=Job.Status.RUNNING).aggregate(p=Avg("progress"))[
        "p"
    ]
    finished = sum(counts.get(s, 0) for s in Job.FINISHED)
    done = finished * 100 + (running_progress or 0) * counts.get(Job.Status.RUNNING, 0)
    return {
        "total": total,
        **{status.value: counts.get(status.value, 0) for status in Job.Status},
        "progress": round(done / total) if total else 0,
        "finished": finished == total,
    }


def job_backlog(*, lane: str = Job.Lane.STANDARD) -> tuple[int, datetime | None]:
    """Jobs of ``lane`` waiting to start, and when the oldest was accepted (staff dashboard and
    backlog checks)."""
    waiting = Job.objects.filter(status=Job.Status.QUEUED, lane=lane)
    return waiting.count(), waiting.order_by("created_at").values_list(
        "created_at", flat=True
    ).first()
