"""Signed, expiring links to stored files: S3 presigned URLs in S3 mode, a signed view locally.

A link names a storage and a key, never a local path; it carries the content type and download
name the file must be served with, so a stored file is never sniffed or rendered as something else.
"""

from __future__ import annotations

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
        return storage.url(
            key,
            parameters={
                "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
            },
            expire=max_age,
        )
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
