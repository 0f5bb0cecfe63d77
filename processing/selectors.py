"""Reads of presets, jobs and batches, scoped to what the user may see."""

from __future__ import annotations

import uuid

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext

from accounts.models import User
from accounts.permissions import visible_to
from photolisting.api import get_visible
from photolisting.errors import NotFound
from processing.models import Batch, Job, Preset
from projects.selectors import projects_visible_to


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
