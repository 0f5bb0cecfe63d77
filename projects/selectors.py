"""Reads of projects and photos, always scoped to what the requesting user may see."""

from __future__ import annotations

import uuid

from django.db.models import Count, F, Prefetch, Q, QuerySet

from accounts.models import User
from accounts.permissions import visible_to
from photolisting.api import get_visible
from projects.models import Folder, Photo, PhotoVersion, Project, Rendition


def projects_visible_to(user: User) -> QuerySet[Project]:
    """The user's own projects and those of every agency they belong to."""
    return Project.objects.filter(visible_to(user)).select_related("agency", "owner")


def project_list(*, user: User) -> QuerySet[Project]:
    return projects_visible_to(user).annotate(photo_count=Count("photos"))


def project_get(*, user: User, project_id: uuid.UUID | str) -> Project:
    """A visible project, or NotFound: another user's project is indistinguishable from none."""
    return get_visible(project_list(user=user), project_id, "project")


def folder_list(*, user: User, project_id: uuid.UUID | str | None = None) -> QuerySet[Folder]:
    folders = Folder.objects.filter(project__in=projects_visible_to(user)).select_related("project")
    if project_id is not None:
        folders = folders.filter(project_id=project_id)
    return folders


def folder_get(*, user: User, folder_id: uuid.UUID | str) -> Folder:
    return get_visible(folder_list(user=user), folder_id, "folder")


def photo_list(
    *,
    user: User,
    project_id: str | None = None,
    folder_id: str | None = None,
    status: str | None = None,
) -> QuerySet[Photo]:
    photos = (
        Photo.objects.filter(project__in=projects_visible_to(user))
        .select_related("project", "folder")
        .prefetch_related(
            Prefetch("renditions", queryset=Rendition.objects.filter(version__isnull=True)),
            Prefetch(
                "versions",
                queryset=PhotoVersion.objects.prefetch_related("renditions").order_by(
                    "-created_at"
                ),
            ),
        )
    )
    if project_id:
        photos = photos.filter(project_id=project_id)
    if folder_id:
        photos = photos.filter(folder_id=folder_id)
    if status:
        photos = photos.filter(status=status)
    return photos


# What a gallery tile reads of a photo and of its versions (to tell which one it is delivered as).
TILE_PHOTO_FIELDS = (
    "id",
    "project_id",
    "original_filename",
    "status",
    "room_label",
    "duplicate_of_id",
    "rejection_code",
    "rejection_message",
    "deliver_original",
    "delivered_version_id",
)
TILE_VERSION_FIELDS = ("id", "photo_id", "created_at", "preset_name", "ai_operations")


def photo_tiles(*, user: User, project_id: uuid.UUID | str) -> QuerySet[Photo]:
    """A project's photos in listing order with just what their tiles show; their thumbnails come
    from ``thumbnail_keys``, so a page of hundreds of photos loads in a constant number of
    queries and builds few objects."""
    photos = (
        Photo.objects.filter(project__in=projects_visible_to(user), project_id=project_id)
        .only(*TILE_PHOTO_FIELDS)
        .prefetch_related(
            Prefetch("versions", queryset=PhotoVersion.objects.only(*TILE_VERSION_FIELDS))
        )
    )
    return in_listing_order(photos)


def thumbnail_keys(
    *, photo_ids: list[uuid.UUID], version_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID | None], str]:
    """In one query, the storage keys of the thumbnails of these photos' originals and of these
    versions, by ``(photo id, version id or None)``. The ids come from photos already read
    through a visible-to selector."""
    rows = Rendition.objects.filter(spec=Rendition.Spec.THUMBNAIL).filter(
        Q(photo_id__in=photo_ids, version__isnull=True) | Q(version_id__in=version_ids)
    )
    return {
        (photo_id, version_id): key
        for photo_id, version_id, key in rows.values_list("photo_id", "version_id", "storage_key")
    }


def photo_get(*, user: User, photo_id: uuid.UUID | str) -> Photo:
    return get_visible(photo_list(user=user), photo_id, "photo")


def delivered_version(photo: Photo) -> PhotoVersion | None:
    """The version a photo is delivered as (exports, galleries, tiles, API): the one the agent
    chose, else its newest result; None for the original (chosen, or nothing processed yet).
    Uses the prefetched versions when there are."""
    if photo.deliver_original:
        return None
    versions = list(photo.versions.all())
    chosen = next((v for v in versions if v.id == photo.delivered_version_id), None)
    return chosen or max(versions, key=lambda v: (v.created_at, str(v.id)), default=None)


def in_listing_order(photos: QuerySet[Photo]) -> QuerySet[Photo]:
    """The agent's order first (``position``), then the rest by upload time."""
    return photos.order_by(F("position").asc(nulls_last=True), "created_at", "id")
