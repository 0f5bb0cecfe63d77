"""Reads of projects and photos, always scoped to what the requesting user may see."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Value

from accounts.models import User
from accounts.permissions import visible_to
from photolisting.api import get_visible, visible_row
from photolisting.queries import QueryShape
from projects.models import Folder, Photo, PhotoVersion, Project, Rendition


def projects_visible_to(user: User) -> QuerySet[Project]:
    """The user's own projects and those of every agency they belong to."""
    return Project.objects.filter(visible_to(user)).select_related("agency", "owner")


def in_visible_project(user: User) -> Q:
    """Rows (photos, jobs…) of a project the user may see: the same rule as
    ``projects_visible_to``, as a join on ``project`` — cheaper to build than a subquery, on the
    API's hot read paths."""
    return visible_to(user, owner="project__owner", agency="project__agency")


def project_list(*, user: User) -> QuerySet[Project]:
    return projects_visible_to(user).annotate(photo_count=Count("photos"))


# What the API shows of a project (``projects/api/output.py``), photo_count aside.
PROJECT_API_FIELDS = (
    "id",
    "name",
    "listing_reference",
    "address",
    "owner_id",
    "agency_id",
    "created_at",
    "updated_at",
)


def project_rows(*, user: User) -> QuerySet:
    """``project_list`` as dicts of ``PROJECT_API_FIELDS`` and ``photo_count``: one query."""
    return (
        Project.objects.filter(visible_to(user))
        .annotate(photo_count=Count("photos"))
        .values(*PROJECT_API_FIELDS, "photo_count")
    )


def projects_changed(*, user: User) -> tuple:
    """A validator for the project list in one aggregate query: how many projects and when the
    last changed, and how many photos they hold and the newest (photo counts are shown)."""
    found = Project.objects.filter(visible_to(user)).aggregate(
        count=Count("id", distinct=True),
        changed=Max("updated_at"),
        photo_total=Count("photos"),
        newest_photo=Max("photos__created_at"),
    )
    return tuple(found.values())


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
    return (
        photos_visible(user=user, project_id=project_id, folder_id=folder_id, status=status)
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


def photos_visible(
    *,
    user: User,
    project_id: uuid.UUID | str | None = None,
    folder_id: uuid.UUID | str | None = None,
    status: str | None = None,
) -> QuerySet[Photo]:
    """The photos the user may see, filtered as the API's list is."""
    photos = Photo.objects.filter(in_visible_project(user))
    if project_id:
        photos = photos.filter(project_id=project_id)
    if folder_id:
        photos = photos.filter(folder_id=folder_id)
    if status:
        photos = photos.filter(status=status)
    return photos


# What the API shows of a photo (``projects/api/output.py``), fetched as plain values.
PHOTO_API_FIELDS = (
    "id",
    "project_id",
    "folder_id",
    "original_filename",
    "status",
    "rejection_code",
    "rejection_message",
    "format",
    "bytes",
    "width",
    "height",
    "orientation",
    "sha256",
    "phash",
    "duplicate_of_id",
    "captured_at",
    "camera_make",
    "camera_model",
    "created_at",
    "ingested_at",
    "archived_at",
    "delivered_version_id",
    "deliver_original",
    "position",
    "room_label",
    "storage_key",
    "updated_at",
    "last_accessed_at",
)
# What the API shows of a version (``projects.links.version_entry``).
VERSION_FIELDS = (
    "id",
    "preset_name",
    "ai_operations",
    "format",
    "width",
    "height",
    "bytes",
    "created_at",
    "storage_name",
    "storage_key",
)


def photo_rows(photos: QuerySet[Photo]) -> QuerySet:
    """Photos (``photos_visible``) as dicts of ``PHOTO_API_FIELDS``: one query, no instances."""
    return photos.values(*PHOTO_API_FIELDS)


# A photo's detail, asked by apps and galleries: compiled once (photolisting.queries).
_PHOTO_ROW = QueryShape(
    Photo,
    lambda user_id, pk: photo_rows(photos_visible(user=User(pk=user_id))).filter(pk=pk).order_by(),
)


def photo_row_get(*, user: User, photo_id: uuid.UUID | str) -> dict:
    return visible_row(_PHOTO_ROW, photo_id, "photo", user_id=user.pk)


def _photos_changed_query(*, user_id, project_id, folder_id, status) -> QuerySet:
    # One row of aggregates (a constant group: no GROUP BY), so it can be a compiled shape.
    photos = photos_visible(
        user=User(pk=user_id), project_id=project_id, folder_id=folder_id, status=status
    )
    return (
        photos.order_by()
        .annotate(_all=Value(1))
        .values("_all")
        .annotate(count=Count("id"), changed=Max("updated_at"))
        .values("count", "changed")
    )


# Asked on every photo list call, polled by apps: compiled once (photolisting.queries).
_PHOTOS_CHANGED = QueryShape(Photo, _photos_changed_query)


def photos_changed(
    *,
    user: User,
    project_id: uuid.UUID | None = None,
    folder_id: uuid.UUID | None = None,
    status: str | None = None,
) -> tuple[int, datetime | None]:
    """How many of ``photos_visible`` there are and when the last one changed (its versions
    included): a validator for the list in one aggregate query, without reading the rows."""
    (found,) = _PHOTOS_CHANGED.rows(
        user_id=user.pk, project_id=project_id or None, folder_id=folder_id or None,
        status=status or None,
    )  # fmt: skip
    return found["count"], found["changed"]


@dataclass(frozen=True)
class PhotoExtras:
    """Of a page of photos: versions (newest first) by photo id, and rendition keys by spec by
    ``(photo id, version id or None)``."""

    versions: dict[uuid.UUID, list[dict]]
    renditions: dict[tuple[uuid.UUID, uuid.UUID | None], dict[str, str]]


def photo_extras(*, photo_ids: list[uuid.UUID]) -> PhotoExtras:
    """Versions and renditions of photos already read through a visible-to selector: two
    queries whatever the number of photos."""
    versions: dict[uuid.UUID, list[dict]] = defaultdict(list)
    renditions: dict[tuple[uuid.UUID, uuid.UUID | None], dict[str, str]] = defaultdict(dict)
    if photo_ids:
        for version in (
            PhotoVersion.objects.filter(photo_id__in=photo_ids)
            .order_by("-created_at")
            .values("photo_id", *VERSION_FIELDS)
        ):
            versions[version["photo_id"]].append(version)
        rows = Rendition.objects.filter(photo_id__in=photo_ids).values_list(
            "photo_id", "version_id", "spec", "storage_key"
        )
        for photo_id, version_id, spec, key in rows:
            renditions[photo_id, version_id][spec] = key
    return PhotoExtras(versions, renditions)


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


def version_renditions(*, version_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
    """Rendition keys by spec of versions already read through a visible-to selector, in one
    query."""
    found: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    if version_ids:
        rows = Rendition.objects.filter(version_id__in=version_ids).values_list(
            "version_id", "spec", "storage_key"
        )
        for version_id, spec, key in rows:
            found[version_id][spec] = key
    return found


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
