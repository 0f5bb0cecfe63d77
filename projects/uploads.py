"""Direct-to-storage uploads: start (a presigned target), send (in parts, resumable), complete
(verify what arrived against what the client declared, then ingest).

S3 does not enforce a presigned POST's policy everywhere (S3-compatible servers differ), so
completion always checks the stored object itself: size, content type, sha256 and magic bytes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from analytics.events import Kind
from imaging import decode
from photolisting import storage
from photolisting.errors import ApplicationError, Conflict
from projects.models import DirectUpload, Folder, Photo, Project
from projects.problems import problem_message
from projects.services import display_name, enqueue_ingest, photo_usage_record

CONTENT_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heic",
    "image/tiff": "tif",
}
PART_SIZE = 8 * 1024 * 1024  # S3's minimum is 5 MiB for every part but the last
UPLOAD_TTL = timedelta(hours=24)
_TOKEN_SALT = "photolisting.direct-upload"


@transaction.atomic
def upload_start(
    *,
    user: User,
    project: Project,
    filename: str,
    content_type: str,
    size: int,
    sha256: str,
    folder: Folder | None = None,
) -> DirectUpload:
    if content_type not in CONTENT_TYPES:
        raise ApplicationError(
            problem_message("unsupported_format"),
            code="unsupported_format",
            status=415,
        )
    if size <= 0:
        raise ApplicationError(problem_message("empty_file"), code="empty_file")
    if size > settings.PHOTO_MAX_UPLOAD_BYTES:
        raise ApplicationError(
            _("The file is larger than the %(limit)s MB limit.")
            % {"limit": settings.PHOTO_MAX_UPLOAD_BYTES // 1048576},
            code="file_too_large",
            status=413,
        )
    if folder is not None and folder.project_id != project.id:
        raise ApplicationError(_("The folder belongs to another project."), code="folder_mismatch")
    upload = DirectUpload(
        project=project,
        folder=folder,
        created_by=user,
        filename=display_name(filename),
        content_type=content_type,
        size=size,
        sha256=sha256.lower(),
        expires_at=timezone.now() + UPLOAD_TTL,
    )
    upload.storage_key = storage.upload_key(project.id, upload.id, CONTENT_TYPES[content_type])
    if size > PART_SIZE:
        upload.part_size = PART_SIZE
        if storage.is_s3():
            upload.multipart_id = storage.multipart_start(
                upload.storage_key, content_type=content_type
            )
    upload.save()
    return upload


@dataclass(frozen=True)
class Target:
    """Where and how the client sends the bytes, and what has already arrived."""

    method: str  # "POST" (presigned form), "PUT" (local, ranged) or "multipart"
    url: str | None
    fields: dict
    parts: list[dict]
    received: int


def upload_target(upload: DirectUpload) -> Target:
    """Fresh presigned URLs for what is still missing, so a cut upload resumes."""
    expires = int((upload.expires_at - timezone.now()).total_seconds())
    if not storage.is_s3():
        token = signing.dumps(str(upload.id), salt=_TOKEN_SALT)
        url = reverse("api-upload-data", kwargs={"upload_id": upload.id}) + f"?token={token}"
        return Target("PUT", url, {}, [], _local_received(upload))
    if not upload.multipart_id:
        post = storage.presigned_post(
            upload.storage_key,
            content_type=upload.content_type,
            max_size=upload.size,
            expires=max(60, expires),
        )
        return Target("POST", post["url"], post["fields"], [], 0)
    done = {p["PartNumber"]: p["Size"] for p in _s3_parts(upload)}
    parts = [
        {
            "number": number,
            "size": _part_length(upload, number),
            "url": None
            if number in done
            else storage.multipart_part_url(
                upload.storage_key, upload.multipart_id, number, expires=max(60, expires)
            ),
            "done": number in done,
        }
        for number in range(1, math.ceil(upload.size / upload.part_size) + 1)
    ]
    return Target("multipart", None, {}, parts, sum(done.values()))


def _part_length(upload: DirectUpload, number: int) -> int:
    return min(upload.part_size, upload.size - (number - 1) * upload.part_size)


def _s3_parts(upload: DirectUpload) -> list[dict]:
    return storage.multipart_parts(upload.storage_key, upload.multipart_id)


def _local_received(upload: DirectUpload) -> int:
    originals = storages["originals"]
    return originals.size(upload.storage_key) if originals.exists(upload.storage_key) else 0


def upload_token_check(upload_id: str, token: str) -> None:
    try:
        if signing.loads(token, salt=_TOKEN_SALT, max_age=UPLOAD_TTL) != str(upload_id):
            raise signing.BadSignature
    except signing.BadSignature as error:
        raise ApplicationError(
            _("This upload link is not valid."), code="invalid_token", status=403
        ) from error


def upload_receive_local(
    *, upload: DirectUpload, body: IO[bytes], length: int, start: int | None
) -> int:
    """Local stand-in for S3: a PUT of the whole file, or of the next span (Content-Range).
    A body longer than what is left of the declared size is refused before any of it is read
    (``length`` is the request's Content-Length); the rest streams to storage."""
    if upload.status != DirectUpload.Status.PENDING:
        raise Conflict(_("This upload is already finished."), code="upload_finished")
    received = _local_received(upload)
    offset = received if start is not None else 0
    if start is not None and start != received:
        raise ApplicationError(
            _("Expected bytes from offset %(received)s.") % {"received": received},
            code="wrong_offset",
            status=409,
            details={"received": received},
        )
    if offset + length > upload.size:
        raise ApplicationError(
            _("More bytes than declared for this upload."), code="file_too_large", status=413
        )
    return offset + storage.write_span(upload.storage_key, body, offset, length)


def upload_complete(*, upload: DirectUpload) -> Photo:
    """Verifies the stored object and hands it to ingest; calling it again returns the photo."""
    if upload.status == DirectUpload.Status.COMPLETED and upload.photo_id:
        return upload.photo
    if upload.status != DirectUpload.Status.PENDING:
        raise Conflict(
            _("This upload is no longer open (%(status)s).")
            % {"status": upload.get_status_display()},
            code="upload_finished",
        )
    originals = storages["originals"]
    if upload.multipart_id:
        parts = _s3_parts(upload)
        if sum(p["Size"] for p in parts) != upload.size:
            raise ApplicationError(
                _("Some parts are still missing."), code="upload_incomplete", status=409
            )
        storage.multipart_complete(upload.storage_key, upload.multipart_id, parts)
    if not originals.exists(upload.storage_key):
        raise ApplicationError(
            _("Nothing has been uploaded yet."), code="upload_incomplete", status=409
        )
    problem = _verify(upload)
    if problem is not None:
        originals.delete(upload.storage_key)
        DirectUpload.objects.filter(pk=upload.pk).update(
            status=DirectUpload.Status.FAILED, error_code=problem.code
        )
        raise problem
    with transaction.atomic():
        photo = Photo.objects.create(
            project=upload.project,
            folder=upload.folder,
            uploaded_by=upload.created_by,
            original_filename=upload.filename,
            storage_key=upload.storage_key,
            bytes=upload.size,
            sha256=upload.sha256,
            format=decode.sniff_format(_head(upload)) or "",
        )
        DirectUpload.objects.filter(pk=upload.pk).update(
            status=DirectUpload.Status.COMPLETED, photo=photo, completed_at=timezone.now()
        )
        photo_usage_record(photo, Kind.UPLOAD)
        transaction.on_commit(lambda: enqueue_ingest(photo.id))
    return photo


def _head(upload: DirectUpload) -> bytes:
    with storages["originals"].open(upload.storage_key, "rb") as stored:
        return stored.read(decode.SNIFF_BYTES)


def _verify(upload: DirectUpload) -> ApplicationError | None:
    """The refusal when what arrived is not what was announced. A file that is no accepted
    format at all gets the same 415 ``unsupported_format`` as a multipart upload."""
    originals = storages["originals"]
    size = originals.size(upload.storage_key)
    if size != upload.size:
        return _mismatch(
            "size_mismatch",
            _("%(size)s bytes arrived; %(announced)s were announced.")
            % {"size": size, "announced": upload.size},
        )
    stored_type = storage.stored_content_type(upload.storage_key)
    if stored_type and stored_type != upload.content_type:
        return _mismatch(
            "content_type_mismatch",
            _("Stored as %(stored)s, announced %(announced)s.")
            % {"stored": stored_type, "announced": upload.content_type},
        )
    image_format = decode.sniff_format(_head(upload))
    if image_format is None:
        return ApplicationError(
            problem_message("unsupported_format"), code="unsupported_format", status=415
        )
    announced = {"image/heic": "image/heif"}.get(upload.content_type, upload.content_type)
    if decode.FORMAT_CONTENT_TYPES[image_format] != announced:
        return _mismatch(
            "content_type_mismatch", _("The bytes are not the announced photo format.")
        )
    digest = hashlib.sha256()
    with originals.open(upload.storage_key, "rb") as stored:
        for chunk in iter(lambda: stored.read(1024 * 1024), b""):
            digest.update(chunk)
    if digest.hexdigest() != upload.sha256:
        return _mismatch(
            "checksum_mismatch", _("The file's sha256 differs from the one announced.")
        )
    return None


def _mismatch(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, code=code, status=422)


def uploads_purge_abandoned(*, dry_run: bool = False) -> int:
    """Pending uploads past their expiry: S3 multipart aborted, partial objects deleted."""
    stale = DirectUpload.objects.filter(
        status=DirectUpload.Status.PENDING, expires_at__lt=timezone.now()
    )
    count = 0
    for upload in stale:
        count += 1
        if dry_run:
            continue
        if upload.multipart_id:
            storage.multipart_abort(upload.storage_key, upload.multipart_id)
        storages["originals"].delete(upload.storage_key)
        DirectUpload.objects.filter(pk=upload.pk).update(status=DirectUpload.Status.EXPIRED)
    return count
