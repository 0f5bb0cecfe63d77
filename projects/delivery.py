"""Signed, expiring links to stored files: S3 presigned URLs in S3 mode, a signed view locally.

A link names a storage and a key, never a local path; it carries the content type and download
name the file must be served with, so a stored file is never sniffed or rendered as something else.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
from django.urls import reverse

_SALT = "photolisting.delivery"


class LinkInvalid(Exception):
    """A link that was tampered with, has expired, or names an unknown storage."""


@dataclass(frozen=True)
class SignedTarget:
    storage_name: str
    key: str
    content_type: str
    filename: str


def signed_url(
    storage_name: str,
    key: str,
    *,
    content_type: str,
    filename: str,
    max_age: int | None = None,
    inline: bool = True,
) -> str:
    """A link valid for ``max_age`` seconds (``SIGNED_URL_MAX_AGE`` by default)."""
    max_age = max_age or settings.SIGNED_URL_MAX_AGE
    disposition = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    if settings.STORAGE_BACKEND == "s3":
        storage = storages[storage_name]
        if getattr(storage, "custom_domain", None):
            # CloudFront: S3's own query names, forwarded to the origin, inside the signed URL.
            parameters = {
                "response-content-type": content_type,
                "response-content-disposition": disposition,
            }
        else:
            parameters = {
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            }
        return storage.url(key, parameters=parameters, expire=max_age)
    token = signing.dumps(
        {
            "s": storage_name,
            "k": key,
            "t": content_type,
            "f": filename,
            "i": inline,
            "e": int(time.time()) + max_age,
        },
        salt=_SALT,
        compress=True,
    )
    return reverse("signed-file", kwargs={"token": token})


def resolve_token(token: str) -> tuple[SignedTarget, bool]:
    """The file a local link points at, and whether it is served inline. Raises LinkInvalid."""
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature as error:
        raise LinkInvalid("This link is not valid.") from error
    if payload["e"] < time.time():
        raise LinkInvalid("This link has expired.")
    if payload["s"] not in settings.PHOTO_STORAGE_NAMES:
        raise LinkInvalid("This link is not valid.")
    target = SignedTarget(payload["s"], payload["k"], payload["t"], payload["f"])
    return target, payload["i"]


class RangeNotSatisfiable(Exception):
    pass


def file_etag(key: str, size: int, modified: float) -> str:
    """A strong validator from what identifies this stored object's content."""
    return '"' + hashlib.sha256(f"{key}:{size}:{modified}".encode()).hexdigest()[:32] + '"'


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range (the form players and download managers send) → (start, end)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None  # other units or multipart ranges: serve the whole file
    first, _, last = spec.strip().partition("-")
    try:
        if first:
            start, end = int(first), int(last) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def read_span(handle, length: int, chunk: int = 64 * 1024):
    try:
        while length > 0:
            data = handle.read(min(chunk, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        handle.close()
