"""Signed links to what a photo is delivered as, for the API, the pages, the admin and jobs.

One place builds them, so every screen links the same files with the same content type and name.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.text import slugify

from imaging.decode import FORMAT_CONTENT_TYPES
from photolisting.storage import absolute_url, signed_url
from projects.models import Photo, PhotoVersion
from projects.selectors import delivered_version, thumbnail_keys

RENDITION_NAMES = ("thumbnail", "preview")


def version_links(version: PhotoVersion, *, request=None) -> dict:
    """A processed version with signed links to the file and its renditions."""
    extension = version.storage_key.rsplit(".", 1)[-1]
    renditions = {r.spec: r for r in version.renditions.all()}
    links = {
        spec: _absolute(
            request, _version_rendition_url(version, spec, renditions[spec].storage_key)
        )
        if spec in renditions
        else None
        for spec in RENDITION_NAMES
    }
    links["download"] = _absolute(
        request,
        signed_url(
            version.storage_name,
            version.storage_key,
            content_type=FORMAT_CONTENT_TYPES.get(version.format, f"image/{extension}"),
            filename=version_download_name(version),
            inline=False,
        ),
    )
    return {
        "id": str(version.id),
        "preset_name": version.preset_name,
        "ai_edited": bool(version.ai_operations),
        "ai_operations": version.ai_operations,
        "format": version.format,
        "width": version.width,
        "height": version.height,
        "bytes": version.bytes,
        "created_at": version.created_at,
        "urls": links,
    }


def photo_links(photo: Photo, *, request=None) -> dict:
    """Signed, expiring links to the original (as an attachment) and its renditions."""
    renditions = {r.spec: r for r in photo.renditions.all() if r.version_id is None}
    stem = _stem(photo)
    links: dict = {
        "original": _absolute(
            request,
            signed_url(
                "originals",
                photo.storage_key,
                content_type=FORMAT_CONTENT_TYPES.get(photo.format, "application/octet-stream"),
                filename=f"{_ascii(stem)}.{photo.storage_key.rsplit('.', 1)[-1]}",
                inline=False,
            ),
        ),
        "expires_in": settings.SIGNED_URL_MAX_AGE,
    }
    for spec in RENDITION_NAMES:
        rendition = renditions.get(spec)
        links[spec] = rendition and _absolute(
            request, _photo_rendition_url(spec, rendition.storage_key, stem=stem)
        )
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
            url = _version_rendition_url(version, "thumbnail", key)
        else:
            url = _photo_rendition_url("thumbnail", key, stem=_stem(photo))
        tiles.append((photo, version, url))
    return tiles


def version_download_name(version: PhotoVersion) -> str:
    """``kitchen-bright-airy.jpg``: the photo's name, then the preset's, as ASCII slugs (safe in
    a header and on every file system), with the version's own extension."""
    stem = version.photo.original_filename.rsplit(".", 1)[0]
    parts = [slugify(stem)[:60].strip("-") or "photo", slugify(version.preset_name)[:40].strip("-")]
    extension = version.storage_key.rsplit(".", 1)[-1]
    return f"{'-'.join(part for part in parts if part)}.{extension}"


def _version_rendition_url(version: PhotoVersion, spec: str, key: str) -> str:
    return signed_url(
        "thumbnails", key, content_type="image/webp", filename=f"{version.id}-{spec}.webp"
    )


def _photo_rendition_url(spec: str, key: str, *, stem: str) -> str:
    return signed_url(
        "thumbnails", key, content_type="image/webp", filename=f"{_ascii(stem)}-{spec}.webp"
    )


def _stem(photo: Photo) -> str:
    return (photo.original_filename.rsplit(".", 1)[0] or str(photo.id))[:80]


def _ascii(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in name)


def _absolute(request, url: str) -> str:
    """Pages keep local links relative; API answers make them absolute for the caller's host."""
    return url if request is None else absolute_url(url, request)
