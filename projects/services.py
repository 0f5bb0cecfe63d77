"""Writes for projects, folders and photos: creation, upload and ingest of originals."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agency, User
from accounts.permissions import manageable_by, require_agency_member
from analytics.events import Kind, record
from imaging import decode
from integrations.services import event_emit_for_project
from photolisting import storage
from photolisting.errors import ApplicationError, Conflict, PermissionDenied
from photolisting.observability import INGEST_OUTCOMES
from projects.models import Folder, Photo, PhotoVersion, Project, Rendition
from projects.problems import problem_message
from projects.signals import project_requested

logger = logging.getLogger(__name__)

_HASH_CHUNK = 1024 * 1024


# --- Projects and folders ------------------------------------------------------------------


@transaction.atomic
def project_create(
    *,
    user: User,
    name: str,
    listing_reference: str = "",
    address: str = "",
    agency: Agency | None = None,
) -> Project:
    """A project owned by the user, or by an agency the user belongs to, if the owner's plan
    has room for it (the owner's row is locked so two creations cannot both take the last one)."""
    if agency is not None:
        require_agency_member(user, agency)
        Agency.objects.select_for_update().filter(pk=agency.pk).first()
    else:
        User.objects.select_for_update().filter(pk=user.pk).first()
    project_requested.send(sender=Project, user=user, agency=agency)
    return Project.objects.create(
        name=name,
        listing_reference=listing_reference,
        address=address,
        owner=None if agency else user,
        agency=agency,
        created_by=user,
    )


def project_check_manage(*, user: User, project: Project) -> None:
    """Deleting a project is for its owner, or an agency's owners and admins."""
    if not Project.objects.filter(manageable_by(user), pk=project.pk).exists():
        raise PermissionDenied(
            _("Only the project's owner or an agency admin can do this."), code="not_project_admin"
        )


@transaction.atomic
def project_update(*, project: Project, **fields: str) -> Project:
    for name, value in fields.items():
        setattr(project, name, value)
    project.save(update_fields=[*fields, "updated_at"])
    return project


def project_delete(*, user: User, project: Project) -> None:
    """Removes the project's rows, then, once that has committed, everything stored for it in
    every storage: originals (archived ones too), versions, renditions, exports."""
    project_check_manage(user=user, project=project)
    project_purge(project=project)


def project_purge(*, project: Project) -> None:
    """The delete itself, for callers that already decided (account purges)."""
    uploads = _stored_outside_prefix(Photo.objects.filter(project=project))
    prefix = storage.project_prefix(project.id)
    with transaction.atomic():
        project.delete()
        transaction.on_commit(lambda: _delete_stored(prefix, uploads))


@transaction.atomic
def folder_rename(*, folder: Folder, name: str) -> Folder:
    if (
        Folder.objects.filter(project_id=folder.project_id, name=name)
        .exclude(id=folder.id)
        .exists()
    ):
        raise Conflict(
            _("The project already has a folder named “%(name)s”.") % {"name": name},
            code="folder_exists",
        )
    folder.name = name
    folder.save(update_fields=["name"])
    return folder


@transaction.atomic
def folder_delete(*, folder: Folder) -> None:
    """The folder goes; its photos stay in the project, unfiled."""
    folder.photos.update(updated_at=timezone.now())
    folder.delete()


@transaction.atomic
def folder_create(*, project: Project, name: str) -> Folder:
    folder, created = Folder.objects.get_or_create(project=project, name=name)
    if not created:
        raise Conflict(
            _("The project already has a folder named “%(name)s”.") % {"name": name},
            code="folder_exists",
        )
    return folder


def photo_delete(*, photo: Photo) -> None:
    """The photo's rows, then its original, versions and renditions in every storage."""
    uploads = _stored_outside_prefix(Photo.objects.filter(id=photo.id))
    prefix = storage.photo_prefix(photo.project_id, photo.id)
    with transaction.atomic():
        photo.delete()
        transaction.on_commit(lambda: _delete_stored(prefix, uploads))


# --- Upload ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadResult:
    photo: Photo
    created: bool


def photo_upload(
    *,
    user: User,
    project: Project,
    upload: File,
    folder: Folder | None = None,
    idempotency_key: str | None = None,
) -> UploadResult:
    """Stores an original untouched and queues its ingest.

    Only what can be judged from the first bytes is refused here (empty, not a photo format);
    anything that needs decoding is judged by ingest, which keeps the original for inspection.
    A retry with the same ``Idempotency-Key`` and the same bytes returns the first photo.
    """
    if folder is not None and folder.project_id != project.id:
        raise ApplicationError(_("The folder belongs to another project."), code="folder_mismatch")
    if upload.size == 0:
        raise ApplicationError(problem_message("empty_file"), code="empty_file")
    upload.seek(0)
    image_format = decode.sniff_format(upload.read(decode.SNIFF_BYTES))
    if image_format is None:
        raise ApplicationError(
            problem_message("unsupported_format"),
            code="unsupported_format",
            status=415,
        )
    sha256 = _sha256(upload)
    if idempotency_key:
        replay = _idempotent_replay(user, idempotency_key, project, sha256)
        if replay is not None:
            return UploadResult(replay, created=False)

    photo_id = uuid.uuid4()
    key = storage.original_key(project.id, photo_id, decode.FORMAT_EXTENSIONS[image_format])
    upload.seek(0)
    stored_key = storages["originals"].save(key, upload)
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                id=photo_id,
                project=project,
                folder=folder,
                uploaded_by=user,
                original_filename=display_name(upload.name),
                storage_key=stored_key,
                bytes=upload.size,
                sha256=sha256,
                format=image_format,
                idempotency_key=idempotency_key or "",
            )
            photo_usage_record(photo, Kind.UPLOAD)
            transaction.on_commit(lambda: enqueue_ingest(photo.id))
    except Exception as error:
        # No row, no file: a failed insert must not leave an orphan original behind.
        storages["originals"].delete(stored_key)
        if isinstance(error, IntegrityError) and idempotency_key:
            # A concurrent retry with the same key won the race: answer with its photo.
            replay = _idempotent_replay(user, idempotency_key, project, sha256)
            if replay is not None:
                return UploadResult(replay, created=False)
        raise
    return UploadResult(photo, created=True)


def _idempotent_replay(user: User, key: str, project: Project, sha256: str) -> Photo | None:
    earlier = Photo.objects.filter(uploaded_by=user, idempotency_key=key).first()
    if earlier is None:
        return None
    if earlier.sha256 != sha256 or earlier.project_id != project.id:
        raise ApplicationError(
            _("This Idempotency-Key was already used for a different upload."),
            code="idempotency_key_reused",
            status=422,
        )
    return earlier


def _sha256(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(_HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def display_name(name: str | None) -> str:
    """The client's file name, for display only: never part of a storage key."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:255]


def enqueue_ingest(photo_id: uuid.UUID) -> None:
    from projects.tasks import ingest_photo

    ingest_photo.delay(str(photo_id))


# --- Ingest ---------------------------------------------------------------------------------


def photo_ingest(*, photo_id: uuid.UUID | str) -> Photo | None:
    """Validates an original, reads its metadata and stores its renditions. Idempotent.

    The claim is a compare-and-set, so the slow image work runs outside any transaction; a
    redelivered task (worker lost mid-ingest) redoes the work and overwrites the same keys.
    """
    claimed = Photo.objects.filter(id=photo_id, status__in=Photo.IN_FLIGHT).update(
        status=Photo.Status.PROCESSING, updated_at=timezone.now()
    )
    photo = Photo.objects.select_related("project").filter(id=photo_id).first()
    if not claimed or photo is None:
        return photo
    with storages["originals"].open(photo.storage_key, "rb") as original:
        data = original.read()
    try:
        analysis = decode.analyse(
            data, specs=decode.RENDITION_SPECS, max_pixels=settings.PHOTO_MAX_PIXELS
        )
    except decode.ImageRejected as rejection:
        logger.info("photo %s rejected: %s", photo.id, rejection)
        return _photo_end(photo, Photo.Status.REJECTED, rejection.code)

    stored = _store_renditions(photo, analysis.renditions)
    sha256 = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        for name, (key, rendition) in stored.items():
            Rendition.objects.update_or_create(
                photo=photo,
                version=None,
                spec=name,
                defaults={
                    "storage_key": key,
                    "format": "WEBP",
                    "width": rendition.width,
                    "height": rendition.height,
                    "bytes": len(rendition.data),
                },
            )
        photo.sha256 = sha256
        photo.format = analysis.format
        photo.width, photo.height = analysis.width, analysis.height
        photo.orientation = analysis.orientation
        photo.phash = analysis.phash
        photo.captured_at = analysis.captured_at
        photo.camera_make, photo.camera_model = analysis.camera_make, analysis.camera_model
        photo.duplicate_of = _earlier_duplicate(photo)
        photo.status = Photo.Status.READY
        photo.ingested_at = timezone.now()
        photo.save()
        INGEST_OUTCOMES.labels(Photo.Status.READY).inc()
        event_emit_for_project(
            photo.project,
            "photo.ingested",
            {
                "photo": str(photo.id),
                "project": str(photo.project_id),
                "format": photo.format,
                "width": photo.width,
                "height": photo.height,
                "duplicate_of": str(photo.duplicate_of_id) if photo.duplicate_of_id else None,
            },
        )
    return photo


def _store_renditions(
    photo: Photo, renditions: dict[str, decode.EncodedRendition], version_key_id=None
) -> dict[str, tuple[str, decode.EncodedRendition]]:
    """Saved under keys derived from ids, so a retried ingest or job overwrites, never copies."""
    return {
        name: (
            storages["thumbnails"].save(
                storage.rendition_key(photo.project_id, photo.id, name, version_key_id),
                ContentFile(rendition.data),
            ),
            rendition,
        )
        for name, rendition in renditions.items()
    }


# --- Versions: results of processing -------------------------------------------------------


@dataclass(frozen=True)
class StoredResult:
    """A result's file and renditions, stored; ``version_create`` records them."""

    photo: Photo
    key: str
    format: str
    width: int
    height: int
    bytes: int
    renditions: dict[str, tuple[str, decode.EncodedRendition]]


def version_store(
    *, photo: Photo, key_id: uuid.UUID, data: bytes, image_format: str, extension: str
) -> StoredResult:
    """Stores a processed result and its renditions under keys derived from ``key_id`` (the
    job), outside any transaction: a rerun of the same job overwrites the same objects."""
    analysis = decode.analyse(
        data, specs=decode.RENDITION_SPECS, max_pixels=settings.PHOTO_MAX_PIXELS
    )
    key = storages["processed"].save(
        storage.version_key(photo.project_id, photo.id, key_id, extension), ContentFile(data)
    )
    return StoredResult(
        photo=photo,
        key=key,
        format=image_format,
        width=analysis.width,
        height=analysis.height,
        bytes=len(data),
        renditions=_store_renditions(photo, analysis.renditions, key_id),
    )


def version_create(
    *, stored: StoredResult, preset_name: str, operations: list, ai_operations: list
) -> PhotoVersion:
    """The one way a result becomes a version of a photo (with its renditions). Runs inside the
    caller's transaction, so the caller decides atomically whether the result still counts."""
    version = PhotoVersion.objects.create(
        photo=stored.photo,
        preset_name=preset_name,
        operations=operations,
        ai_operations=ai_operations,
        storage_key=stored.key,
        format=stored.format,
        width=stored.width,
        height=stored.height,
        bytes=stored.bytes,
    )
    Rendition.objects.bulk_create(
        [
            Rendition(
                photo=stored.photo,
                version=version,
                spec=name,
                storage_key=key,
                format="WEBP",
                width=rendition.width,
                height=rendition.height,
                bytes=len(rendition.data),
            )
            for name, (key, rendition) in stored.renditions.items()
        ]
    )
    Photo.objects.filter(pk=stored.photo.pk).update(updated_at=timezone.now())
    return version


def _earlier_duplicate(photo: Photo) -> Photo | None:
    """The first photo of the project with the same bytes, whichever was ingested first."""
    return (
        Photo.objects.filter(project_id=photo.project_id, sha256=photo.sha256)
        .exclude(id=photo.id)
        .exclude(status__in=[Photo.Status.REJECTED, Photo.Status.FAILED])
        .filter(created_at__lte=photo.created_at)
        .order_by("created_at", "id")
        .first()
    )


def photo_usage_record(photo: Photo, kind: str, **metadata: str) -> None:
    """A usage event about a photo (analytics), in the caller's transaction."""
    record(
        kind,
        user_id=photo.uploaded_by_id,
        agency_id=photo.project.agency_id,
        project_id=photo.project_id,
        metadata={"photo": str(photo.id), **metadata},
    )


def _photo_end(photo: Photo, status: str, code: str) -> Photo:
    """Rejected (the file) or failed (our side), with a reason; the original stays in storage
    so support can inspect what was sent and the user can retry or delete."""
    message = problem_message(code)
    photo.status = status
    photo.rejection_code = code
    photo.rejection_message = message[:300]
    photo.ingested_at = timezone.now()
    INGEST_OUTCOMES.labels(status).inc()
    with transaction.atomic():
        photo.save(
            update_fields=[
                "status",
                "rejection_code",
                "rejection_message",
                "ingested_at",
                "updated_at",
            ]
        )
        if status == Photo.Status.REJECTED:
            photo_usage_record(photo, Kind.INGEST_REJECTED, code=code)
        event_emit_for_project(
            photo.project,
            f"photo.{status}",
            {
                "photo": str(photo.id),
                "project": str(photo.project_id),
                "code": code,
                "message": message,
            },
        )
    return photo


def photo_ingest_fail(*, photo_id: uuid.UUID | str, code: str = "ingest_failed") -> Photo | None:
    """Ends an ingest that our side could not finish, unless it finished meanwhile."""
    photo = (
        Photo.objects.select_related("project")
        .filter(id=photo_id, status__in=Photo.IN_FLIGHT)
        .first()
    )
    if photo is None:
        return None
    return _photo_end(photo, Photo.Status.FAILED, code)


def photo_ingest_retry(*, photo: Photo) -> Photo:
    """Queues a failed or rejected photo's ingest again (say, after an outage on our side)."""
    retried = Photo.objects.filter(
        id=photo.id, status__in=[Photo.Status.FAILED, Photo.Status.REJECTED]
    ).update(
        status=Photo.Status.UPLOADED,
        rejection_code="",
        rejection_message="",
        ingest_queued_at=timezone.now(),
        ingest_sweeps=0,
        updated_at=timezone.now(),
    )
    if not retried:
        raise Conflict(
            _("Only a failed or rejected photo can be processed again."), code="not_retryable"
        )
    transaction.on_commit(lambda: enqueue_ingest(photo.id))
    photo.refresh_from_db()
    return photo


@dataclass(frozen=True)
class SweepResult:
    requeued: list[uuid.UUID]
    failed: list[uuid.UUID]


def photos_sweep_stuck(*, dry_run: bool = False) -> SweepResult:
    """Photos still uploaded/processing past the deadline (a lost message, a killed worker, a
    broker that was down at upload): queued again once, then failed on the next deadline."""
    deadline = timezone.now() - timedelta(seconds=settings.PHOTO_INGEST_DEADLINE)
    stuck = Photo.objects.filter(status__in=Photo.IN_FLIGHT, ingest_queued_at__lt=deadline)
    requeue = list(stuck.filter(ingest_sweeps=0).values_list("id", flat=True))
    give_up = list(stuck.exclude(ingest_sweeps=0).values_list("id", flat=True))
    if dry_run:
        return SweepResult(requeue, give_up)
    requeued = []
    for photo_id in requeue:
        # Compare-and-set: a photo that finished meanwhile is left alone.
        if stuck.filter(id=photo_id, ingest_sweeps=0).update(
            ingest_sweeps=1, ingest_queued_at=timezone.now()
        ):
            logger.warning("photo %s stuck in ingest: queued again", photo_id)
            enqueue_ingest(photo_id)
            requeued.append(photo_id)
    failed = []
    for photo_id in give_up:
        if photo_ingest_fail(photo_id=photo_id, code="ingest_stalled"):
            logger.error("photo %s stuck in ingest after a retry: failed", photo_id)
            failed.append(photo_id)
    return SweepResult(requeued, failed)


def _stored_outside_prefix(photos) -> list[tuple[str, str]]:
    """Originals that arrived by direct upload keep their upload key, outside the photo's prefix."""
    return [
        ("originals", key)
        for project_id, photo_id, key in photos.values_list("project_id", "id", "storage_key")
        if not key.startswith(storage.photo_prefix(project_id, photo_id))
    ]


def _delete_stored(prefix: str, keys: list[tuple[str, str]]) -> None:
    storage.delete_keys(keys)
    deleted = storage.delete_prefix(prefix)
    logger.info("deleted %s stored objects under %s", deleted + len(keys), prefix)


# --- Listing order and room labels ------------------------------------------------------------


@transaction.atomic
def photo_order_set(*, project: Project, photo_ids: list[str]) -> list[Photo]:
    """Puts the named photos of the project first, in that order; the others keep their listing
    order after them. Ids of other projects' photos (or unknown ones) are refused."""
    from projects.selectors import in_listing_order

    wanted = [str(photo_id) for photo_id in photo_ids]
    if len(set(wanted)) != len(wanted):
        raise ApplicationError(_("A photo appears twice in the order."), code="duplicate_photo")
    photos = list(in_listing_order(Photo.objects.select_for_update().filter(project=project)))
    by_id = {str(photo.id): photo for photo in photos}
    missing = [photo_id for photo_id in wanted if photo_id not in by_id]
    if missing:
        raise ApplicationError(
            _("These photos are not in this project."),
            code="photo_not_found",
            details={"photos": missing},
            status=404,
        )
    named = set(wanted)
    ordered = [by_id[photo_id] for photo_id in wanted] + [
        photo for photo in photos if str(photo.id) not in named
    ]
    now = timezone.now()
    for position, photo in enumerate(ordered):
        photo.position = position
        photo.updated_at = now
    Photo.objects.bulk_update(ordered, ["position", "updated_at"], batch_size=500)
    return ordered


@transaction.atomic
def photo_update(*, photo: Photo, room_label: str) -> Photo:
    """The room a photo shows ("Kitchen"), as the agent names it for the listing."""
    photo.room_label = room_label.strip()
    photo.save(update_fields=["room_label", "updated_at"])
    return photo


# --- What a photo is delivered as -----------------------------------------------------------


@transaction.atomic
def photo_deliver(
    *, user: User, photo: Photo, version: PhotoVersion | None = None, original: bool = False
) -> Photo:
    """Chooses what exports, share galleries and tiles deliver the photo as: one of its
    versions, the original itself (``original``), or neither — the newest result, which is the
    default. Anyone who can see the photo may choose, as anyone who can see it may run a preset
    on it: every choice is undone in one click and nothing is deleted."""
    from photolisting.errors import NotFound
    from projects.selectors import projects_visible_to

    if not Photo.objects.filter(id=photo.id, project__in=projects_visible_to(user)).exists():
        raise NotFound(_("No such photo."), code="photo_not_found")
    if version is not None and original:
        raise ApplicationError(
            _("Deliver either a version or the original, not both."), code="invalid_choice"
        )
    if version is not None and version.photo_id != photo.id:
        raise ApplicationError(_("This version belongs to another photo."), code="version_mismatch")
    photo.delivered_version = version
    photo.deliver_original = original
    photo.save(update_fields=["delivered_version", "deliver_original", "updated_at"])
    return photo
