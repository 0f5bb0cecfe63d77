"""Portal exports: each portal's rules as data (``portals.json``), checked before any work, then
photos cropped, sized and encoded to meet them, one file or a ZIP in listing order."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User
from analytics.events import Kind, record
from billing.entitlements import entitlements_of
from delivery.models import Export
from delivery.selectors import deliverable_photos
from imaging import decode
from imaging.engine import run_pipeline
from imaging.ops import OperationContext, validate_operations
from integrations.services import event_emit_for_project
from photolisting import storage
from photolisting.errors import ApplicationError, NotFound
from photolisting.storage import absolute_url, signed_url
from projects.archive import photo_restore
from projects.models import Photo, Project
from projects.problems import problem_message
from projects.selectors import delivered_version, in_listing_order

logger = logging.getLogger(__name__)
PORTALS_FILE = Path(__file__).with_name("portals.json")


@dataclass(frozen=True)
class PortalProfile:
    code: str
    name: str
    max_width: int
    max_height: int
    min_width: int
    min_height: int
    max_bytes: int
    format: str
    aspect: str
    max_photos: int
    file_name: str
    other_orientation: str = "letterbox"  # a portrait photo for a landscape aspect, or the reverse

    def operations(self) -> list[dict]:
        crop = {"aspect": self.aspect, "other_orientation": self.other_orientation, "max_cut": 0.1}
        steps = [{"op": "crop", "params": crop}] if self.aspect else []
        return [
            *steps,
            {"op": "resize", "params": {"width": self.max_width, "height": self.max_height}},
            {
                "op": "encode",
                "params": {"format": self.format, "quality": 90, "max_bytes": self.max_bytes},
            },
        ]

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """What a photo of this size becomes (crop or letterbox to the aspect, shrink to fit,
        never enlarge)."""
        if self.aspect:
            ratio_w, ratio_h = (float(v) for v in self.aspect.split(":"))
            ratio = ratio_w / ratio_h
            turned = (width < height and ratio > 1) or (width > height and ratio < 1)
            padded = turned and self.other_orientation == "letterbox"
            cropped = (
                (round(height * ratio), height)
                if width / height > ratio
                else (width, round(width / ratio))
            )
            padded = padded or 1 - cropped[0] * cropped[1] / (width * height) > 0.1
            if (width / height > ratio) != padded:
                width = round(height * ratio)
            else:
                height = round(width / ratio)
        scale = min(1.0, self.max_width / width, self.max_height / height)
        return round(width * scale), round(height * scale)


@cache
def portal_profiles() -> dict[str, PortalProfile]:
    return {p["code"]: PortalProfile(**p) for p in json.loads(PORTALS_FILE.read_text())}


def _profile(code: str) -> PortalProfile:
    profile = portal_profiles().get(code)
    if profile is None:
        raise NotFound(
            _("No portal profile %(code)r; known: %(known)s.")
            % {"code": code, "known": ", ".join(portal_profiles())},
            code="profile_not_found",
        )
    return profile


def _source_size(photo: Photo) -> tuple[int, int]:
    version = delivered_version(photo)
    return (version.width, version.height) if version else (photo.width or 0, photo.height or 0)


def export_check(profile: PortalProfile, photos: list[Photo]) -> None:
    """Refuses, with every reason at once, an export the portal would reject."""
    problems: dict = {}
    if len(photos) > profile.max_photos:
        problems["photos"] = _("%(portal)s takes at most %(max)s photos; got %(count)s.") % {
            "portal": profile.name,
            "max": profile.max_photos,
            "count": len(photos),
        }
    for photo in photos:
        if photo.status != Photo.Status.READY:
            problems[str(photo.id)] = _("not ready (still ingesting, or rejected)")
            continue
        width, height = profile.output_size(*_source_size(photo))
        if width < profile.min_width or height < profile.min_height:
            problems[str(photo.id)] = _(
                "would be %(width)s×%(height)s; %(portal)s needs at least "
                "%(min_width)s×%(min_height)s"
            ) % {
                "width": width,
                "height": height,
                "portal": profile.name,
                "min_width": profile.min_width,
                "min_height": profile.min_height,
            }
    if problems:
        raise ApplicationError(
            _("These photos cannot go to %(portal)s as they are.") % {"portal": profile.name},
            code="export_not_allowed",
            details=problems,
        )


def export_warnings(profile: PortalProfile, photos: list[Photo]) -> dict[str, str]:
    """Photos the portal will get smaller than it asks (they are never enlarged): allowed, but
    the agent should know before a portal shows them small."""
    warnings = {}
    for photo in photos:
        width, height = profile.output_size(*_source_size(photo))
        if width < profile.max_width and height < profile.max_height:
            warnings[str(photo.id)] = _(
                "%(photo)s will be %(width)s×%(height)s: smaller than the "
                "%(max_width)s×%(max_height)s %(portal)s asks for (photos are never enlarged)"
            ) % {
                "photo": str(photo),
                "width": width,
                "height": height,
                "max_width": profile.max_width,
                "max_height": profile.max_height,
                "portal": profile.name,
            }
    return warnings


@transaction.atomic
def export_create(
    *, user: User, project: Project, profile_code: str, photos: list[Photo] | None = None
) -> Export:
    """Checks the portal's rules, then queues the build. ``photos`` (default: every ready photo
    that is not a duplicate) go in listing order whatever order they come in."""
    entitlements_of(project).require("exports")
    profile = _profile(profile_code)
    if photos is None:
        photos = list(deliverable_photos(project))
    else:
        wanted = {photo.id for photo in photos}
        photos = list(in_listing_order(project.photos.filter(id__in=wanted)))
    if not photos:
        raise ApplicationError(_("There is no ready photo to export."), code="no_photos")
    export_check(profile, photos)
    export = Export.objects.create(
        project=project,
        created_by=user,
        profile=profile.code,
        photo_ids=[str(photo.id) for photo in photos],
        warnings=export_warnings(profile, photos),
    )
    record(
        Kind.EXPORT,
        user_id=user.id,
        agency_id=project.agency_id,
        project_id=project.id,
        metadata={"export": str(export.id), "profile": profile.code, "photos": len(photos)},
    )
    from delivery.tasks import build_export

    # The ready e-mail goes out in the language of the request that asked for the export.
    language = translation.get_language()
    transaction.on_commit(
        lambda: build_export.apply_async(
            args=[str(export.id)], kwargs={"language": language}, queue="process"
        )
    )
    return export


def _reference(project: Project) -> str:
    return slugify(project.listing_reference or project.name)[:40] or "listing"


def _rendered(photo: Photo, profile: PortalProfile) -> bytes:
    """The photo's latest result (or its original) through the profile's pipeline."""
    version = delivered_version(photo)
    if version is not None:
        with storages[version.storage_name].open(version.storage_key, "rb") as stored:
            data = stored.read()
        ai_operations = list(version.ai_operations)
    else:
        photo_restore(photo)
        with storage.open_original(photo.storage_key) as stored:
            data = stored.read()
        ai_operations = []
    image, icc = decode.decode_upright(data, max_pixels=settings.PHOTO_MAX_PIXELS)
    context = OperationContext(icc_profile=icc, ai_operations=ai_operations)
    return run_pipeline(np.asarray(image), validate_operations(profile.operations()), context).data


def export_build(*, export_id: str, language: str | None = None) -> Export | None:
    """Builds the file once (a redelivered task rebuilds and overwrites the same key)."""
    claimed = Export.objects.filter(
        id=export_id, status__in=[Export.Status.QUEUED, Export.Status.RUNNING]
    ).update(status=Export.Status.RUNNING)
    export = Export.objects.select_related("project", "created_by").filter(id=export_id).first()
    if not claimed or export is None:
        return export
    profile = _profile(export.profile)
    photos = {str(p.id): p for p in Photo.objects.filter(id__in=export.photo_ids)}
    ordered = [photos[i] for i in export.photo_ids if i in photos]
    reference = _reference(export.project)
    names = [
        profile.file_name.format(reference=reference, index=i + 1) for i in range(len(ordered))
    ]
    exports = storages["exports"]
    try:
        if len(ordered) == 1:
            data = _rendered(ordered[0], profile)
            export.file_name = names[0]
            export.storage_key = exports.save(
                storage.export_key(export.project_id, export.id, names[0]), ContentFile(data)
            )
            export.bytes = len(data)
        else:
            with tempfile.TemporaryFile() as spool:
                with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
                    for index, (photo, name) in enumerate(zip(ordered, names, strict=True)):
                        archive.writestr(name, _rendered(photo, profile))
                        Export.objects.filter(pk=export.pk).update(
                            progress=int((index + 1) * 100 / (len(ordered) + 1))
                        )
                export.file_name = f"{reference}-{profile.code}.zip"
                export.bytes = spool.tell()
                spool.seek(0)
                export.storage_key = exports.save(
                    storage.export_key(export.project_id, export.id, export.file_name), File(spool)
                )
    except (decode.ImageRejected, ValueError, OSError) as error:
        logger.exception("export %s failed", export.id)
        message = (
            problem_message(error.code) if isinstance(error, decode.ImageRejected) else str(error)
        )
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED, error_message=message[:500], finished_at=timezone.now()
        )
        return Export.objects.get(pk=export.pk)
    export.status, export.progress, export.finished_at = (
        Export.Status.SUCCEEDED,
        100,
        timezone.now(),
    )
    export.save()
    event_emit_for_project(
        export.project,
        "export.ready",
        {
            "export": str(export.id),
            "profile": profile.code,
            "url": absolute_url(export_link(export)),
        },
    )
    if export.created_by:
        with translation.override(language or settings.LANGUAGE_CODE):
            _send_ready_mail(export, profile, len(ordered))
    return export


def _send_ready_mail(export: Export, profile: PortalProfile, count: int) -> None:
    values = {
        "portal": profile.name,
        "count": count,
        "project": export.project.name,
        "url": absolute_url(export_link(export)),
        "hours": settings.TEMP_FILE_MAX_AGE_HOURS,
    }
    send_mail(
        _("PhotoListing: your %(portal)s export is ready") % values,
        _(
            "%(count)s photo(s) of %(project)s, ready for %(portal)s:\n%(url)s\n"
            "The link works for %(hours)s hours."
        )
        % values,
        None,
        [export.created_by.email],
    )


def export_link(export: Export) -> str | None:
    if export.status != Export.Status.SUCCEEDED:
        return None
    content_type = "application/zip" if export.file_name.endswith(".zip") else "image/jpeg"
    return signed_url(
        "exports",
        export.storage_key,
        content_type=content_type,
        filename=export.file_name,
        inline=False,
        max_age=settings.TEMP_FILE_MAX_AGE_HOURS * 3600,
    )
