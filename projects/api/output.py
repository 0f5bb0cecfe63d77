"""Photo entries of the API as plain dicts, built from the values the selectors fetch: the shape
``PhotoOutput`` declares for the schema, without DRF's per-field machinery or model instances
(a page of 200 photos signs 600+ links)."""

from __future__ import annotations

from rest_framework.request import Request

from projects.links import absolutizer, photo_urls, version_entry
from projects.models import Photo, Project
from projects.problems import problem_message
from projects.selectors import PROJECT_API_FIELDS, PhotoExtras, photo_extras, photo_row_get


def photo_entries(rows: list[dict], *, request: Request | None) -> list[dict]:
    """Entries for photo rows (``selectors.photo_rows``) in two more queries, however many."""
    extras = photo_extras(photo_ids=[row["id"] for row in rows])
    absolute = absolutizer(request)
    return [_entry(row, extras, absolute) for row in rows]


def photo_entry(request: Request, photo_id) -> dict:
    """A photo as the API shows it, read again (after a change)."""
    return photo_entries([photo_row_get(user=request.user, photo_id=photo_id)], request=request)[0]


def project_entry(project: dict) -> dict:
    """A project as the API shows it, from ``selectors.project_rows`` (or a project's values)."""
    return {
        "id": str(project["id"]),
        "name": project["name"],
        "listing_reference": project["listing_reference"],
        "address": project["address"],
        "owner": project["owner_id"],
        "agency": project["agency_id"],
        "photo_count": project.get("photo_count"),
        "created_at": project["created_at"],
        "updated_at": project["updated_at"],
    }


def project_entry_of(project: Project) -> dict:
    """``project_entry`` of a project at hand (just created, changed, or read with its count);
    one that was not read with its count is counted, so ``photo_count`` is never null."""
    values = {name: getattr(project, name) for name in PROJECT_API_FIELDS}
    count = getattr(project, "photo_count", None)
    return project_entry(
        {**values, "photo_count": project.photos.count() if count is None else count}
    )


def _entry(row: dict, extras: PhotoExtras, absolute) -> dict:
    photo_id = row["id"]
    status = row["status"]
    problem = None
    if status in (Photo.Status.REJECTED, Photo.Status.FAILED):
        code = row["rejection_code"]
        problem = {"code": code, "message": problem_message(code, row["rejection_message"])}
    return {
        "id": str(photo_id),
        "project": str(row["project_id"]),
        "folder": _id(row["folder_id"]),
        "original_filename": row["original_filename"],
        "status": status,
        # Why the file was refused (sending it again will not help), or why our side could not
        # finish ingest (``POST .../retry`` may succeed).
        "rejection": problem if status == Photo.Status.REJECTED else None,
        "failure": problem if status == Photo.Status.FAILED else None,
        "format": row["format"],
        "bytes": row["bytes"],
        "width": row["width"],
        "height": row["height"],
        "orientation": row["orientation"],
        "sha256": row["sha256"],
        "phash": row["phash"],
        "duplicate_of": _id(row["duplicate_of_id"]),
        "captured_at": row["captured_at"],
        "camera_make": row["camera_make"],
        "camera_model": row["camera_model"],
        "created_at": row["created_at"],
        "ingested_at": row["ingested_at"],
        "archived_at": row["archived_at"],
        "delivered_version": _id(row["delivered_version_id"]),
        "deliver_original": row["deliver_original"],
        "position": row["position"],
        "room_label": row["room_label"],
        "urls": photo_urls(row, extras.renditions.get((photo_id, None), {}), absolute=absolute),
        # Processed results, newest first: with the photo's preview, before/after pairs.
        "versions": [
            version_entry(
                version,
                extras.renditions.get((photo_id, version["id"]), {}),
                photo_filename=row["original_filename"],
                absolute=absolute,
            )
            for version in extras.versions.get(photo_id, ())
        ],
    }


def _id(value) -> str | None:
    return None if value is None else str(value)
