"""Signed links to what a photo is delivered as, for the API, the pages, the admin and jobs.

One place builds them, so every screen links the same files with the same content type and name.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.utils.text import slugify

from imaging.decode import FORMAT_CONTENT_TYPES
from photolisting.storage import absolute_url, signed_url
from projects.models import Photo, PhotoVersion
from projects.selectors import VERSION_FIELDS, delivered_version, thumbnail_keys

RENDITION_NAMES = ("thumbnail", "preview")
Absolute = Callable[[str], str]
# What a photo's links are made of.
PHOTO_LINK_FIELDS = ("id", "original_filename", "storage_key", "format")


def version_links(version: PhotoVersion, *, request=None) -> dict:
    """A processed version with signed links to the file and its renditions."""
    return version_entry(
        {name: getattr(version, name) for name in VERSION_FIELDS},
        {r.spec: r.storage_key for r in version.renditions.all()},
        photo_filename=version.photo.original_filename,
        absolute=absolutizer(request),
    )


def version_entry(
    version: dict, renditions: dict[str, str], *, photo_filename: str, absolute: Absolute
) -> dict:
    """``version_links`` from plain values (``VERSION_FIELDS``, rendition keys by spec): the
    API's lists build hundreds of these without model instances."""
    extension = version["storage_key"].rsplit(".", 1)[-1]
    links = {
        spec: absolute(_version_rendition_url(version["id"], spec, renditions[spec]))
        if spec in renditions
        else None
        for spec in RENDITION_NAMES
    }
    links["download"] = absolute(
        signed_url(
            version["storage_name"],
            version["storage_key"],
            content_type=FORMAT_CONTENT_TYPES.get(version["format"], f"image/{extension}"),
            filename=download_name(photo_filename, version["preset_name"], version["storage_key"]),
            inline=False,
        )
    )
    return {
        "id": str(version["id"]),
        "preset_name": version["preset_name"],
        "ai_edited": bool(version["ai_operations"]),
        "ai_operations": version["ai_operations"],
        "format": version["format"],
        "width": version["width"],
        "height": version["height"],
        "bytes": version["bytes"],
        "created_at": version["created_at"],
        "urls": links,
    }


def photo_links(photo: Photo, *, request=None) -> dict:
    """Signed, expiring links to the original (as an attachment) and its renditions."""
    renditions = {r.spec: r.storage_key for r in photo.renditions.all() if r.version_id is None}
    return photo_urls(
        {
            name: getattr(photo, name)
            for name in ("id", "original_filename", "storage_key", "format")
        },
        renditions,
        absolute=absolutizer(request),
    )


def photo_urls(photo: dict, renditions: dict[str, str], *, absolute: Absolute) -> dict:
    """``photo_links`` from plain values (id, original_filename, storage_key, format) and the
    original's rendition keys by spec."""
    stem = _stem_of(photo["original_filename"], photo["id"])
    links: dict = {
        "original": absolute(
            signed_url(
                "originals",
                photo["storage_key"],
                content_type=FORMAT_CONTENT_TYPES.get(photo["format"], "application/octet-stream"),
                filename=f"{_ascii(stem)}.{photo['storage_key'].rsplit('.', 1)[-1]}",
                inline=False,
            )
        ),
        "expires_in": settings.SIGNED_URL_MAX_AGE,
    }
    for spec in RENDITION_NAMES:
        key = renditions.get(spec)
        links[spec] = key and absolute(_photo_rendition_url(spec, key, stem=stem))
    return links


def delivered_links(photo: Photo, *, request=None) -> dict:
    """Links to what the photo is delivered as (the version or original the agent chose, else its
    newest result, else the original):
    ``thumbnail``, ``preview``, ``download``, plus ``version`` (the version's links or None)."""
    version = delivered_version(photo)
    if version is not None:
        latest = version_links(version, request=request)
        return {**latest["urls"], "version": latest, "ai_edited": latest["ai_edited"]}
    original = photo_links(photo, request=request)
    return {
        "thumbnail": original["thumbnail"],
        "preview": original["preview"],
        "download": original["original"],
        "version": None,
        "ai_edited": False,
    }


def delivered_thumbnails(
    photos: Iterable[Photo],
) -> list[tuple[Photo, PhotoVersion | None, str | None]]:
    """What gallery tiles show, for many photos at once: each photo with the version it is
    delivered as (None for the original) and the same thumbnail link as ``delivered_links``,
    signing only that link and reading every thumbnail in one query."""
    delivered = [(photo, delivered_version(photo)) for photo in photos]
    keys = thumbnail_keys(
        photo_ids=[photo.id for photo, version in delivered if version is None],
        version_ids=[version.id for _photo, version in delivered if version is not None],
    )
    tiles = []
    for photo, version in delivered:
        key = keys.get((photo.id, version and version.id))
        if key is None:
            url = None
        elif version is not None:
            url = _version_rendition_url(version.id, "thumbnail", key)
        else:
            url = _photo_rendition_url("thumbnail", key, stem=_stem(photo))
        tiles.append((photo, version, url))
    return tiles


def version_download_name(version: PhotoVersion) -> str:
    """``kitchen-bright-airy.jpg``: see ``download_name``."""
    return download_name(version.photo.original_filename, version.preset_name, version.storage_key)


def download_name(photo_filename: str, preset_name: str, storage_key: str) -> str:
    """``kitchen-bright-airy.jpg``: the photo's name, then the preset's, as ASCII slugs (safe in
    a header and on every file system), with the version's own extension."""
    stem = photo_filename.rsplit(".", 1)[0]
    parts = [slugify(stem)[:60].strip("-") or "photo", slugify(preset_name)[:40].strip("-")]
    extension = storage_key.rsplit(".", 1)[-1]
    return f"{'-'.join(part for part in parts if part)}.{extension}"


def _version_rendition_url(version_id: uuid.UUID, spec: str, key: str) -> str:
    return signed_url(
        "thumbnails", key, content_type="image/webp", filename=f"{version_id}-{spec}.webp"
    )


def _photo_rendition_url(spec: str, key: str, *, stem: str) -> str:
    return signed_url(
        "thumbnails", key, content_type="image/webp", filename=f"{_ascii(stem)}-{spec}.webp"
    )


def _stem(photo: Photo) -> str:
    return _stem_of(photo.original_filename, photo.id)


def _stem_of(original_filename: str, photo_id: uuid.UUID) -> str:
    return (original_filename.rsplit(".", 1)[0] or str(photo_id))[:80]


def _ascii(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in name)


def absolutizer(request) -> Absolute:
    """Pages keep local links relative; API answers make them absolute for the caller's host,
    resolved once per answer rather than once per link."""
    if request is None:
        return str
    base = absolute_url("/", request)[:-1]
    return lambda url: url if url.startswith("http") else base + url
