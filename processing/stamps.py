"""Stamps (``photolisting.stamps``) for a job's status, so that an app polling a job is answered
without PostgreSQL while nothing changed.

What the API shows of a job (``JobDetailView``) comes from the job's row, its result version (and
that version's photo name), the preset it names and who may see its project: its answer is valid
under the job's stamp (``job-stamp:<id>``) and ``projects.stamps.ACCESS_STAMP``. The job's stamp
is dropped when its row is saved or deleted (cascades included: with receivers, Django sends the
signals), changed by ``update()`` or ``bulk_update()`` (``processing.models.JobQuerySet``), or
when its result version or preset is deleted (Django sets those columns to NULL without signals).
Photo names and versions are written once, when made.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save, pre_delete

from photolisting.api import parsed_pk
from photolisting.stamps import stamps_drop
from projects.stamps import ACCESS_STAMP


def job_stamps(job_id: str) -> tuple[str, ...]:
    """The cache keys whose values a job's answer is valid under (none for a malformed id)."""
    from processing.models import Job

    pk = parsed_pk(Job, job_id)
    return () if pk is None else (f"job-stamp:{pk}", ACCESS_STAMP)


def jobs_changed(job_ids: Iterable) -> None:
    stamps_drop([f"job-stamp:{job_id}" for job_id in job_ids])


def _job_written(sender, instance, **kwargs) -> None:
    jobs_changed([instance.pk])


def _version_deleted(sender, instance, **kwargs) -> None:
    from processing.models import Job

    jobs_changed(Job.objects.filter(result_version_id=instance.pk).values_list("pk", flat=True))


def _preset_deleted(sender, instance, **kwargs) -> None:
    from processing.models import Job

    jobs_changed(Job.objects.filter(preset_id=instance.pk).values_list("pk", flat=True))


def connect() -> None:
    from processing.models import Job, Preset
    from projects.models import PhotoVersion

    for signal in (post_save, post_delete):
        signal.connect(_job_written, sender=Job, dispatch_uid=f"job-stamp-{signal}")
    pre_delete.connect(_version_deleted, sender=PhotoVersion, dispatch_uid="job-stamp-version")
    pre_delete.connect(_preset_deleted, sender=Preset, dispatch_uid="job-stamp-preset")
