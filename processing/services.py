"""Writes for presets and jobs: accepting work under quota, running it once, cancel and retry."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy, ngettext
from PIL import Image

from accounts.models import Agency, Membership, User
from accounts.permissions import require_agency_manager
from billing.entitlements import Entitlements, entitlements_for, entitlements_of
from billing.models import UsageCounter
from billing.services import (
    PhotoWork,
    member_key,
    quota_release,
    quota_reserve_photos,
    quota_subject_for,
)
from imaging import decode
from imaging.engine import run_pipeline
from imaging.ops import REGISTRY, OperationContext, Pipeline, validate_operations
from imaging.ops.encode import EncodedImage
from imaging.ops.registry import Step
from imaging.scene import scene_outliers
from integrations.services import event_emit_for_project
from photolisting.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from processing import guard
from processing.ai import AIRunner
from processing.models import Batch, Job, Preset
from processing.providers import ProviderRefused, ProviderUnavailable, get_provider
from processing.usage import job_usage_record, quota_refusal_recorded
from projects.archive import photo_restore
from projects.models import Photo, Project, Rendition
from projects.problems import REJECTION_MESSAGES, problem_message
from projects.selectors import photo_list
from projects.services import version_create, version_store
from runtime import switches

logger = logging.getLogger(__name__)
PRESETS_FILE = Path(__file__).with_name("presets.json")
_EXTENSIONS = {"JPEG": "jpg", "WEBP": "webp", "AVIF": "avif"}


# --- Presets --------------------------------------------------------------------------------


def presets_sync_system() -> None:
    """Shipped presets follow ``presets.json``: created or updated on every migrate."""
    for entry in json.loads(PRESETS_FILE.read_text()):
        validate_operations(entry["operations"])
        Preset.objects.update_or_create(
            is_system=True,
            slug=entry["slug"],
            defaults={
                "name": entry["name"],
                "description": entry["description"],
                "operations": entry["operations"],
            },
        )


def preset_text(preset: Preset, text: str) -> str:
    """A preset's name or description for people: a shipped preset's (``presets.json``, in the
    catalogue) in the reader's language, someone's own as they wrote it; ``slug`` stays the id."""
    return gettext(text) if preset.is_system and text else text


def require_pipeline_features(entitlements: Entitlements, pipeline: Pipeline) -> None:
    """A watermark of one's own is a plan feature, and a logo on photos is agency branding:
    checked where a preset is saved and where it runs, so a downgrade takes them away too."""
    for step in pipeline.steps:
        if step.op == "watermark":
            entitlements.require("custom_watermark")
            if step.params.get("use_logo"):
                entitlements.require("branding")


def _check_can_edit_agency(user: User, agency: Agency) -> None:
    require_agency_manager(
        user, agency, message=gettext("Only the agency's owners and admins can change its presets.")
    )


def preset_check_edit(*, user: User, preset: Preset) -> None:
    if preset.is_system:
        raise PermissionDenied(
            gettext("Shipped presets cannot be changed; make your own instead."),
            code="system_preset",
        )
    if preset.agency_id:
        _check_can_edit_agency(user, preset.agency)
    elif preset.owner_id != user.id:
        raise PermissionDenied(gettext("This preset is not yours."), code="not_preset_owner")


def preset_create(
    *,
    user: User,
    name: str,
    operations: list,
    description: str = "",
    agency: Agency | None = None,
) -> Preset:
    pipeline = validate_operations(operations)
    if agency is not None:
        _check_can_edit_agency(user, agency)
    require_pipeline_features(entitlements_for(user=user, agency=agency), pipeline)
    slug = slugify(name)[:80] or uuid.uuid4().hex[:8]
    try:
        with transaction.atomic():
            return Preset.objects.create(
                name=name,
                slug=slug,
                description=description,
                owner=None if agency else user,
                agency=agency,
                operations=pipeline.as_json(),
            )
    except IntegrityError as error:
        raise Conflict(
            gettext("You already have a preset named “%(name)s”.") % {"name": name},
            code="preset_exists",
        ) from error


@transaction.atomic
def preset_update(*, user: User, preset: Preset, **fields) -> Preset:
    preset_check_edit(user=user, preset=preset)
    if "operations" in fields:
        pipeline = validate_operations(fields["operations"])
        owner = {"agency": preset.agency} if preset.agency_id else {"user": user}
        require_pipeline_features(entitlements_for(**owner), pipeline)
        fields["operations"] = pipeline.as_json()
    for name, value in fields.items():
        setattr(preset, name, value)
    preset.save()
    return preset


def preset_delete(*, user: User, preset: Preset) -> None:
    preset_check_edit(user=user, preset=preset)
    preset.delete()


# --- Accepting jobs -------------------------------------------------------------------------


def _validate_regions(regions: list) -> list:
    cleaned = []
    for box in regions or []:
        if not (isinstance(box, list) and len(box) == 4):
            raise ApplicationError(
                gettext("Each mask region is [x0, y0, x1, y1]."), code="invalid_mask"
            )
        try:
            x0, y0, x1, y1 = (float(v) for v in box)
        except (TypeError, ValueError) as error:
            raise ApplicationError(
                gettext("Mask regions hold numbers."), code="invalid_mask"
            ) from error
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ApplicationError(
                gettext(
                    "Mask regions are fractions of the photo: 0 ≤ x0 < x1 ≤ 1 and 0 ≤ y0 < y1 ≤ 1."
                ),
                code="invalid_mask",
            )
        cleaned.append([x0, y0, x1, y1])
    return cleaned


def jobs_create(
    *,
    user: User,
    photos: list[Photo],
    preset: Preset,
    lane: str = Job.Lane.STANDARD,
    bracket: bool = False,
    mask_regions: list | None = None,
    idempotency_key: str = "",
) -> Batch:
    """Accepts photos × preset (or one bracket group for HDR) as a batch, reserving quota.

    Quota for every job is reserved in the same transaction that creates them: either all are
    accepted and charged, or none is.
    """
    if idempotency_key:
        earlier = Batch.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    pipeline = validate_operations(preset.operations)
    regions = _validate_regions(mask_regions or [])
    if not photos:
        raise ApplicationError(gettext("Choose at least one photo."), code="no_photos")
    project = photos[0].project
    if any(photo.project_id != project.id for photo in photos):
        raise ApplicationError(
            gettext("All photos of a batch belong to one project."), code="mixed_projects"
        )
    not_ready = [str(p.id) for p in photos if p.status != Photo.Status.READY]
    if not_ready:
        raise ApplicationError(
            gettext("Some photos are not ready (still ingesting, or rejected)."),
            code="photos_not_ready",
            details={"photos": not_ready},
        )
    if pipeline.needs_brackets != bracket:
        raise ApplicationError(
            gettext(
                "HDR presets take one bracket group (bracket=true), other presets single photos."
            ),
            code="bracket_mismatch",
        )
    entitlements = entitlements_of(project)
    require_pipeline_features(entitlements, pipeline)
    if lane == Job.Lane.OFFPEAK:
        entitlements.require("offpeak_lane")
    if bracket and not 3 <= len(photos) <= 7:
        raise ApplicationError(gettext("A bracket group has 3 to 7 shots."), code="bracket_size")
    if bracket:
        _check_same_scene(photos)
    groups = [photos] if bracket else [[photo] for photo in photos]

    subject = quota_subject_for(project)
    member = _membership_charged(user, project)
    per_job_ai = pipeline.ai_steps
    job_ids = [uuid.uuid4() for _ in groups]
    with quota_refusal_recorded(user_id=user.id, project=project), transaction.atomic():
        charged = quota_reserve_photos(
            subject=subject,
            work=[
                PhotoWork(str(job_id), group[len(group) // 2].id, per_job_ai)
                for job_id, group in zip(job_ids, groups, strict=True)
            ],
            preset=preset.name,
            project_id=project.id,
            user_id=user.id,
            member=member,
        )
        try:
            batch = Batch.objects.create(
                project=project,
                preset_name=preset.name,
                created_by=user,
                idempotency_key=idempotency_key,
            )
        except IntegrityError:
            # The same key raced us: the reservation rolls back with this transaction.
            transaction.set_rollback(True)
            return Batch.objects.get(created_by=user, idempotency_key=idempotency_key)
        jobs = Job.objects.bulk_create(
            [
                Job(
                    id=job_id,
                    batch=batch,
                    project=project,
                    photo=group[len(group) // 2],
                    bracket=[str(p.id) for p in group] if bracket else [],
                    preset=preset,
                    preset_name=preset.name,
                    operations=pipeline.as_json(),
                    mask_regions=regions,
                    lane=lane,
                    quota_subject=subject.key,
                    quota_period=subject.period_start,
                    quota_member=member_key(member) if member else "",
                    reserved_processed=charged[str(job_id)],
                    reserved_ai=per_job_ai,
                    created_by=user,
                )
                for job_id, group in zip(job_ids, groups, strict=True)
            ]
        )
        if lane == Job.Lane.STANDARD or in_offpeak_window():
            ids = [job.id for job in jobs]
            transaction.on_commit(lambda: jobs_enqueue(ids))
    return batch


def _check_same_scene(photos: list[Photo]) -> None:
    """A bracket group is exposures of one view: merging different rooms makes a ghosted
    multiple exposure, so the group is refused (naming the odd shots) before any quota."""
    odd = [photos[index] for index in scene_outliers([_scene_sample(p) for p in photos])]
    if not odd:
        return
    names = ", ".join(photo.original_filename or str(photo.id) for photo in odd)
    raise ApplicationError(
        ngettext(
            "%(names)s does not show the same scene as the other shots. An HDR merge takes 3 to "
            "7 exposures of one view, taken from the same spot.",
            "%(names)s do not show the same scene as the other shots. An HDR merge takes 3 to 7 "
            "exposures of one view, taken from the same spot.",
            len(odd),
        )
        % {"names": names},
        code="not_same_scene",
        status=422,
        details={"photos": [str(photo.id) for photo in odd]},
    )


def _scene_sample(photo: Photo) -> np.ndarray:
    """The photo's 400 px thumbnail (upright), enough to compare scenes; else its original."""
    thumbnail = next(
        (
            r
            for r in photo.renditions.all()
            if r.version_id is None and r.spec == Rendition.Spec.THUMBNAIL
        ),
        None,
    )
    if thumbnail is None:
        return _load_upright(photo)[0]
    with storages["thumbnails"].open(thumbnail.storage_key, "rb") as handle:
        return np.asarray(Image.open(handle).convert("RGB"))


def _membership_charged(user: User, project: Project) -> Membership | None:
    """On an agency project, the member whose personal cap (if any) the work counts against."""
    if not project.agency_id:
        return None
    return Membership.objects.filter(user=user, agency_id=project.agency_id).first()


def in_offpeak_window(moment: datetime | None = None) -> bool:
    start, end = switches.value("offpeak_window")
    hour = timezone.localtime(moment or timezone.now()).hour
    return start <= hour < end if start <= end else (hour >= start or hour < end)


def jobs_enqueue(job_ids: list, *, countdown: float = 0) -> None:
    """Sends jobs to their lane's queue: off-peak, AI (slow, rate-limited) or local processing."""
    from processing.tasks import run_job

    jobs = list(Job.objects.filter(id__in=job_ids, status=Job.Status.QUEUED))
    Job.objects.filter(id__in=[job.id for job in jobs]).update(enqueued_at=timezone.now())
    for job in jobs:
        queue = "offpeak" if job.lane == Job.Lane.OFFPEAK else ("ai" if job.uses_ai else "process")
        soft, hard = settings.QUEUE_TIME_LIMITS[queue]
        run_job.apply_async(
            args=[str(job.id)],
            queue=queue,
            countdown=countdown,
            soft_time_limit=soft,
            time_limit=hard,
        )


def jobs_release_waiting() -> int:
    """Sends parked AI jobs again once what held them has cleared: AI switched on again, a new
    day's budget, their provider circuits closed; a circuit due for its probe lets one job go.
    Economy-lane jobs still wait for their window."""
    if not switches.value("ai_provider_enabled") or guard.budget_reached():
        return 0
    waiting = Job.objects.filter(
        status=Job.Status.QUEUED, enqueued_at=None, error_code__in=guard.WAIT_CODES
    ).order_by("started_at", "created_at")  # the least recently tried first: probes rotate
    if not in_offpeak_window():
        waiting = waiting.exclude(lane=Job.Lane.OFFPEAK)
    states: dict[str, str] = {}
    probing: set[str] = set()
    released = []
    for job in waiting[:1000]:
        operations = {s["op"] for s in job.operations if REGISTRY[s["op"]].kind == "ai"}
        for name in operations - states.keys():
            states[name] = guard.circuit_due(settings.AI_PROVIDER, name)
        if any(states[name] == "down" for name in operations):
            continue
        due = {name for name in operations if states[name] == "due"}
        if due & probing:
            continue  # one probe per circuit
        probing |= due
        released.append(job.id)
    jobs_enqueue(released)
    return len(released)


def offpeak_release() -> int:
    """Inside the off-peak window, sends waiting economy jobs to their queue."""
    if not in_offpeak_window():
        return 0
    waiting = list(
        Job.objects.filter(lane=Job.Lane.OFFPEAK, status=Job.Status.QUEUED, enqueued_at=None)
        .order_by("created_at")
        .values_list("id", flat=True)[:1000]
    )
    jobs_enqueue(waiting)
    return len(waiting)


# --- Cancel and retry -----------------------------------------------------------------------

FINISHED_MESSAGES = {
    Job.Status.SUCCEEDED: gettext_lazy("The job has already finished."),
    Job.Status.FAILED: gettext_lazy("The job has already failed."),
    Job.Status.CANCELLED: gettext_lazy("The job has already been cancelled."),
}


def _release(job: Job) -> None:
    """Gives a stopped job's quota back; a photo it counted that another job of the period ran
    on stays counted, charged to that job."""
    heir = quota_release(
        subject_key=job.quota_subject,
        period=job.quota_period,
        amounts={
            UsageCounter.Metric.PROCESSED: job.reserved_processed,
            UsageCounter.Metric.AI: job.reserved_ai,
        },
        member=job.quota_member,
        reference=str(job.id),
    )
    if heir:
        Job.objects.filter(id=heir).update(reserved_processed=job.reserved_processed)


def job_cancel(*, job: Job) -> Job:
    """Stops a job that has not finished; its quota is given back. A running step finishes,
    but its result is thrown away."""
    with transaction.atomic():
        cancelled = Job.objects.filter(
            id=job.id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).update(status=Job.Status.CANCELLED, finished_at=timezone.now())
        if not cancelled:
            job.refresh_from_db()
            raise Conflict(
                str(FINISHED_MESSAGES.get(job.status, FINISHED_MESSAGES[Job.Status.SUCCEEDED])),
                code="job_finished",
                details={"status": job.status},
            )
        job.refresh_from_db()
        _release(job)
        _batch_complete_if_done(job)
    return job


def batch_cancel(*, batch: Batch) -> int:
    count = 0
    for job in batch.jobs.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]):
        try:
            job_cancel(job=job)
            count += 1
        except Conflict:
            continue  # it finished meanwhile
    return count


def job_retry(*, job: Job) -> Job:
    """Runs a failed job again: its quota is reserved again, as for a new job."""
    refusal = quota_refusal_recorded(user_id=job.created_by_id, project=job.project)
    with refusal, transaction.atomic():
        locked = Job.objects.select_for_update().get(id=job.id)
        if locked.status != Job.Status.FAILED:
            raise Conflict(gettext("Only failed jobs can be retried."), code="job_not_failed")
        subject = quota_subject_for(locked.project)
        member = (
            _membership_charged(locked.created_by, locked.project) if locked.created_by else None
        )
        charged = quota_reserve_photos(
            subject=subject,
            work=[PhotoWork(str(locked.id), locked.photo_id, locked.reserved_ai)],
            preset=locked.preset_name,
            project_id=locked.project_id,
            user_id=locked.created_by_id,
            member=member,
        )
        locked.reserved_processed = charged[str(locked.id)]
        locked.status = Job.Status.QUEUED
        locked.quota_subject, locked.quota_period = subject.key, subject.period_start
        locked.quota_member = member_key(member) if member else ""
        locked.error_code = locked.error_message = ""
        locked.progress, locked.attempts = 0, 0
        # A retry asked for by a person starts a fresh AI_MAX_CALLS_PER_JOB budget.
        locked.provider_usage = {**(locked.provider_usage or {}), "requests": 0}
        locked.started_at = locked.finished_at = None
        locked.save()
        # The batch is open again: it completes, and says so, once more when the retry finishes.
        Batch.objects.filter(id=locked.batch_id).update(completed_at=None)
        transaction.on_commit(lambda: jobs_enqueue([locked.id]))
    return locked


# --- Running a job --------------------------------------------------------------------------

# What a failed job tells people, by its stable code, translated when it is read (a job fails in
# a worker, which has no reader's language). Other codes keep the message stored with the job.
JOB_ERRORS = {
    "too_many_attempts": gettext_lazy("The job was interrupted too many times."),
    "provider_unavailable": gettext_lazy("The AI provider is unavailable; try again later."),
    "internal_error": gettext_lazy("Processing failed unexpectedly."),
    "provider_not_configured": gettext_lazy(
        "AI editing is not set up on this server (no AI provider is configured). "
        "Use a preset without AI, or ask your administrator."
    ),
    "provider_auth_failed": gettext_lazy(
        "The AI provider refused this server's credentials; ask your administrator."
    ),
    "provider_refused": gettext_lazy("The AI provider refused this edit."),
    "moderation_blocked": gettext_lazy(
        "The AI provider's safety system refused this edit. Try another photo or preset."
    ),
    # A job waiting (queued) for what processing.guard held it back for: nothing is charged.
    guard.WAIT_PROVIDER_DOWN: gettext_lazy(
        "The AI provider is having trouble. Your job is waiting and will continue by itself "
        "once the provider is back."
    ),
    guard.WAIT_BUDGET: gettext_lazy(
        "Today's AI editing capacity is used up. Your job is waiting and will run tomorrow, "
        "or in the off-peak window."
    ),
    guard.WAIT_PAUSED: gettext_lazy(
        "AI editing is paused for now. Your job is waiting and will continue by itself."
    ),
}


def job_error_message(code: str, stored: str = "") -> str:
    """A failed job's message in the reader's language."""
    if code in JOB_ERRORS:
        return str(JOB_ERRORS[code])
    if code == "too_many_pixels" or code in REJECTION_MESSAGES:
        return problem_message(code, stored)
    return stored


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class RetryLater:
    countdown: float


def job_run(*, job_id: uuid.UUID | str) -> Job | RetryLater | None:
    """Runs a job once. Idempotent: a redelivered task (worker lost) runs it again and the
    result is stored once; a finished or cancelled job is left alone."""
    claimed = Job.objects.filter(
        id=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).update(status=Job.Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now())
    job = Job.objects.select_related("photo", "project__agency").filter(id=job_id).first()
    if not claimed or job is None:
        return job
    if job.attempts > settings.JOB_MAX_ATTEMPTS:
        return _job_fail(job, "too_many_attempts", str(JOB_ERRORS["too_many_attempts"]))
    context = None
    try:
        context = _context_for(job)
        if job.bracket:
            image = context.brackets[len(context.brackets) // 2]
        else:
            image, context.icc_profile = _load_upright(job.photo)
        encoded = run_pipeline(
            image,
            validate_operations(job.operations),
            context,
            on_step=lambda done, total, name: _progress(job, done, total),
        )
        return _job_finish(job, encoded, context)
    except _Cancelled:
        return Job.objects.filter(id=job.id).first()  # None: deleted with its project
    except guard.ProviderWait as wait:
        return _job_wait(job, wait.code)
    except ProviderRefused as refusal:
        return _job_fail(job, refusal.code, refusal.message)
    except decode.ImageRejected as rejection:
        return _job_fail(job, rejection.code, problem_message(rejection.code))
    except ValueError as error:
        return _job_fail(job, "invalid_input", str(error))
    except Exception as error:  # ProviderUnavailable, storage hiccups, bugs: retry, then give up
        if isinstance(error, ProviderUnavailable):
            code = "provider_unavailable"
        else:
            logger.exception("job %s failed on attempt %s", job.id, job.attempts)
            code = "internal_error"
        message = str(JOB_ERRORS[code])
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            return _job_fail(job, code, message)
        Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
            status=Job.Status.QUEUED, error_code=code, error_message=message[:500]
        )
        return RetryLater(countdown=min(600, 10 * 2 ** (job.attempts - 1)))


def _load_upright(photo: Photo) -> tuple[np.ndarray, bytes | None]:
    photo_restore(photo)  # an archived original comes back before it is processed
    with storages["originals"].open(photo.storage_key, "rb") as original:
        data = original.read()
    image, icc = decode.decode_upright(data, max_pixels=settings.PHOTO_MAX_PIXELS)
    return np.asarray(image), icc


def _context_for(job: Job) -> OperationContext:
    agency = job.project.agency
    context = OperationContext(
        watermark_text=agency.watermark_text if agency else "",
        mask_regions=job.mask_regions,
    )
    if agency and agency.logo_key and storages["originals"].exists(agency.logo_key):
        with storages["originals"].open(agency.logo_key, "rb") as logo:
            context.logo = Image.open(logo).copy()
    if job.reserved_ai:
        context.ai = AIRunner(get_provider(), job=job)
    if job.bracket:
        photos = {str(p.id): p for p in Photo.objects.filter(id__in=job.bracket)}
        shots = [_load_upright(photos[photo_id]) for photo_id in job.bracket]
        context.brackets = [image for image, _ in shots]
        context.icc_profile = shots[len(shots) // 2][1]
    return context


def _progress(job: Job, done: int, total: int) -> None:
    """Records progress; a job cancelled meanwhile stops here."""
    updated = Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
        progress=min(99, int(done * 100 / total))
    )
    if not updated:
        raise _Cancelled


def _refresh_usage(job: Job) -> None:
    """The job's provider totals, recorded as each call returned (``processing.spend``)."""
    job.refresh_from_db(fields=["provider_usage", "cost"])


def _job_wait(job: Job, code: str) -> Job:
    """Parks a job the guard held back (provider down, budget spent, AI paused): queued with no
    message in flight, the attempt not counted, the reason shown to its user;
    ``jobs_release_waiting`` sends it again once the reason clears."""
    Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED,
        enqueued_at=None,
        attempts=F("attempts") - 1,
        progress=0,
        error_code=code,
        error_message="",
    )
    logger.info("job %s waits: %s", job.id, code)
    return Job.objects.get(id=job.id)


def _job_fail(job: Job, code: str, message: str) -> Job:
    """A job that failed for good gives its quota back."""
    _refresh_usage(job)
    with transaction.atomic():
        failed = Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
            status=Job.Status.FAILED,
            error_code=code[:60],
            error_message=message[:500],
            finished_at=timezone.now(),
        )
        if failed:
            _release(job)
            _job_event(job, "job.failed", {"error": {"code": code, "message": message}})
            job_usage_record(job, succeeded=False, error_code=code)
    logger.info("job %s failed: %s", job.id, code)
    return Job.objects.get(id=job.id)


def _job_event(job: Job, event_type: str, extra: dict) -> None:
    """Tells integrations about a finished job, and once about its whole batch."""
    data = {"job": str(job.id), "batch": str(job.batch_id), "photo": str(job.photo_id)}
    event_emit_for_project(job.project, event_type, {**data, "preset": job.preset_name, **extra})
    _batch_complete_if_done(job)


def _batch_complete_if_done(job: Job) -> None:
    """Marks the job's batch completed, and says so once, when its last job has finished.

    Runs inside the transaction that finished the job. The batch row is locked first: two jobs
    finishing at once in two workers would otherwise each see the other still running, and
    the batch would never complete. The second waits for the first to commit, then sees it."""
    batch = Batch.objects.select_for_update().filter(id=job.batch_id, completed_at=None).first()
    pending = Job.objects.filter(batch_id=job.batch_id).exclude(status__in=Job.FINISHED)
    if batch is None or pending.exists():
        return
    batch.completed_at = timezone.now()
    batch.save(update_fields=["completed_at"])
    counts = dict(
        Job.objects.filter(batch_id=job.batch_id).values_list("status").annotate(n=Count("id"))
    )
    event_emit_for_project(
        job.project, "batch.completed", {"batch": str(job.batch_id), "jobs": counts}
    )


def _job_finish(job: Job, encoded: EncodedImage, context: OperationContext) -> Job:
    """Stores the result and its renditions under keys derived from the job (a rerun
    overwrites them), then records one version, once."""
    stored = version_store(
        photo=job.photo,
        key_id=job.id,
        data=encoded.data,
        image_format=encoded.format,
        extension=_EXTENSIONS[encoded.format],
    )
    _refresh_usage(job)
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(id=job.id)
        if locked.status != Job.Status.RUNNING or locked.result_version_id:
            return locked  # cancelled meanwhile, or another delivery already finished it
        version = version_create(
            stored=stored,
            preset_name=job.preset_name,
            operations=job.operations,
            ai_operations=context.ai_operations,
        )
        locked.result_version = version
        locked.status = Job.Status.SUCCEEDED
        locked.progress = 100
        locked.finished_at = timezone.now()
        locked.error_code = locked.error_message = ""
        locked.save()
        _release_cached_ai(locked)
        _job_event(locked, "job.succeeded", {"version": str(version.id)})
        job_usage_record(locked, succeeded=True)
    return locked


def _release_cached_ai(job: Job) -> None:
    """AI edits count when the provider is paid: the AI units of steps served from the cache
    are given back."""
    usage = job.provider_usage or {}
    free = min(usage.get("cache_hits", 0), job.reserved_ai - usage.get("calls", 0))
    if free > 0:
        quota_release(
            subject_key=job.quota_subject,
            period=job.quota_period,
            amounts={UsageCounter.Metric.AI: free},
            member=job.quota_member,
            reference=str(job.id),
        )


# --- Preview --------------------------------------------------------------------------------

PREVIEW_SECONDS = 20
_PREVIEW_ENCODE = Step("encode", REGISTRY["encode"].clean({"format": "jpeg", "quality": 85})[0])


def preset_preview(*, user: User, photo: Photo, operations: list) -> bytes:
    """The preset's local steps run on the photo's 1600 px preview, returned as a JPEG: nothing
    is stored and no quota is used. AI steps (provider calls cost money and minutes) and the HDR
    merge (it needs a bracket group) are left out; a preview running past PREVIEW_SECONDS is
    refused."""
    pipeline = validate_operations(operations)
    if not photo_list(user=user).filter(id=photo.id).exists():
        raise NotFound(gettext("No such photo."), code="photo_not_found")
    if photo.status != Photo.Status.READY:
        raise Conflict(gettext("This photo is not ready yet."), code="photo_not_ready")
    require_pipeline_features(entitlements_of(photo.project), pipeline)
    rendition = photo.renditions.filter(version=None, spec=Rendition.Spec.PREVIEW).first()
    if rendition is None:
        raise Conflict(gettext("This photo has no preview yet."), code="preview_unavailable")
    with storages["thumbnails"].open(rendition.storage_key, "rb") as handle:
        image = np.asarray(Image.open(handle).convert("RGB"))
    steps = [
        _preview_step(step)
        for step in pipeline.steps
        if REGISTRY[step.op].kind == "local" and step.op != "hdr_merge"
    ]
    # An unsaved job carries what the photo's project brands results with (watermark, logo).
    context = _context_for(Job(project=photo.project, mask_regions=[], reserved_ai=0, bracket=[]))
    deadline = time.monotonic() + PREVIEW_SECONDS

    def within_time(done: int, total: int, name: str) -> None:
        if time.monotonic() > deadline:
            raise ApplicationError(
                gettext("The preview took too long; try fewer steps."), code="preview_too_slow"
            )

    try:
        encoded = run_pipeline(
            image, Pipeline((*steps, _PREVIEW_ENCODE)), context, on_step=within_time
        )
    except ValueError as error:
        raise ApplicationError(str(error), code="invalid_input") from error
    return encoded.data


def _preview_step(step: Step) -> Step:
    """A preview never grows past its 1600 px rendition."""
    if step.op == "resize":
        return Step(step.op, {**step.params, "upscale": False})
    return step
