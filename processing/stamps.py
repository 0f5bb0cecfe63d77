"""Stamps for a job's status, held in Redis, so that an app polling a job is answered without
PostgreSQL while nothing changed.

What the API shows of a job (``JobDetailView``) comes from the job's row, its result version (and
that version's photo name), the preset it names and who may see its project. Each job has a stamp
(a random token under ``job-stamp:<id>``) and all jobs share one for access; a job answer's ETag is
made of the two (with the caller, language, host and link window, ``photolisting.api.etag``).
Both are read — made when missing — in the caller's authentication round trip
(``billing.throttling``), before the job's row is, so a write racing a poll drops the stamp the
poll labelled its answer with. Whatever changes what the answer shows drops a stamp, at once and
again once the change commits:

- a job's row: saved or deleted (cascades included: with receivers, Django sends the signals),
  ``update()`` and ``bulk_update()`` (``processing.models.JobQuerySet``);
- a result version or a preset deleted (Django sets their jobs' columns to NULL without signals);
- a membership or project changed (its owner, agency or user, or the whole row) or deleted: who
  may see which project (the access stamp, shared by all jobs: such changes are rare).

Photo names and versions are written once, when made. A stamp lives ``STAMP_SECONDS`` at most:
that bounds how long a lost drop (a process killed between its commit and the drop, Redis down)
can keep an old answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from photolisting.api import parsed_pk

logger = logging.getLogger(__name__)

ACCESS_STAMP = "job-stamp:access"


def job_stamps(job_id: str) -> tuple[str, ...]:
    """The cache keys whose values a job's answer is valid under (none for a malformed id)."""
    from processing.models import Job

    pk = parsed_pk(Job, job_id)
    return () if pk is None else (f"job-stamp:{pk}", ACCESS_STAMP)


def jobs_changed(job_ids: Iterable) -> None:
    _drop([f"job-stamp:{job_id}" for job_id in job_ids])


def access_changed(**kwargs) -> None:
    _drop([ACCESS_STAMP])


_OWNING_FIELDS = {"owner", "owner_id", "agency", "agency_id", "user", "user_id"}


def _access_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """A new project or membership takes nothing away; a change may move who sees what."""
    if not created and (update_fields is None or _OWNING_FIELDS & set(update_fields)):
        access_changed()


def _drop(keys: list[str]) -> None:
    if not keys:
        return
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _delete(keys: list[str]) -> None:
    """A cache that fails here must not undo the write: the stamps' lifetime bounds the rest."""
    try:
        cache.delete_many(keys)
    except Exception:
        logger.warning("could not drop %d job stamps", len(keys), exc_info=True)


def _job_written(sender, instance, **kwargs) -> None:
    jobs_changed([instance.pk])


def _version_deleted(sender, instance, **kwargs) -> None:
    from processing.models import Job

    jobs_changed(Job.objects.filter(result_version_id=instance.pk).values_list("pk", flat=True))


def _preset_deleted(sender, instance, **kwargs) -> None:
    from processing.models import Job

    jobs_changed(Job.objects.filter(preset_id=instance.pk).values_list("pk", flat=True))


def connect() -> None:
    from accounts.models import Membership
    from processing.models import Job, Preset
    from projects.models import PhotoVersion, Project

    for signal in (post_save, post_delete):
        signal.connect(_job_written, sender=Job, dispatch_uid=f"job-stamp-{signal}")
    for model in (Membership, Project):
        post_save.connect(_access_saved, sender=model, dispatch_uid=f"access-saved-{model}")
        post_delete.connect(access_changed, sender=model, dispatch_uid=f"access-gone-{model}")
    pre_delete.connect(_version_deleted, sender=PhotoVersion, dispatch_uid="job-stamp-version")
    pre_delete.connect(_preset_deleted, sender=Preset, dispatch_uid="job-stamp-preset")
