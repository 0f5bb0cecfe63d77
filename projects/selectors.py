"""Reads of projects and photos, always scoped to what the requesting user may see."""

from __future__ import annotations

import uuid

from django.db.models import Count, F, Prefetch, QuerySet

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
