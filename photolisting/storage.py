"""Where files live. The only module that knows whether the four storages are S3 buckets or
local folders: key layout, signed links, direct-upload targets, the cold tier, listing and
deleting. Every app goes through it, so a new kind of stored file cannot be forgotten by a delete.

Key layout: everything of a project sits under ``<project id>/`` in every storage, everything of a
photo under ``<project id>/<photo id>/`` — so deleting a project or a photo is deleting a prefix.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.storage import Storage, storages
from django.urls import get_script_prefix, reverse

_LINK_SALT = "photolisting.delivery"
# One encoder for every link: json.dumps with options would build a new one per call.
_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
Id = uuid.UUID | str


# What a storage that is unreachable or failing raises: worth retrying later, unlike bad data.
UNAVAILABLE_ERRORS = (OSError, BotoCoreError, ClientError)


def is_s3() -> bool:
    return settings.STORAGE_BACKEND == "s3"


# --- Key layout ------------------------------------------------------------------------------


def project_prefix(project_id: Id) -> str:
    return f"{project_id}/"


def photo_prefix(project_id: Id, photo_id: Id) -> str:
    return f"{project_id}/{photo_id}/"


def original_key(project_id: Id, photo_id: Id, extension: str) -> str:
    return f"{photo_prefix(project_id, photo_id)}original.{extension}"


def upload_key(project_id: Id, upload_id: Id, extension: str) -> str:
    """A direct upload lands here; the photo made from it keeps this key."""
    return f"{project_id}/uploads/{upload_id}/original.{extension}"


def rendition_key(project_id: Id, photo_id: Id, spec: str, version_id: Id | None = None) -> str:
    if version_id is None:
        return f"{photo_prefix(project_id, photo_id)}{spec}.webp"
    return f"{photo_prefix(project_id, photo_id)}versions/{version_id}-{spec}.webp"


def version_key(project_id: Id, photo_id: Id, version_id: Id, extension: str) -> str:
    return f"{photo_prefix(project_id, photo_id)}versions/{version_id}.{extension}"


def export_key(project_id: Id, export_id: Id, file_name: str) -> str:
    return f"{project_id}/exports/{export_id}/{file_name}"


# --- Listing and deleting ------------------------------------------------------------------------


def list_objects(storage_name: str, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(key, size) of every object under ``prefix`` ("" for all)."""
    storage = storages[storage_name]
    if is_s3():
        for item in storage.bucket.objects.filter(Prefix=prefix):
            yield item.key, item.size
        return
    yield from _walk(storage, prefix.rstrip("/"))


def _walk(storage: Storage, folder: str) -> Iterator[tuple[str, int]]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        key = f"{folder}/{name}" if folder else name
        yield key, storage.size(key)
    for name in folders:
        yield from _walk(storage, f"{folder}/{name}" if folder else name)


def delete_prefix(prefix: str) -> int:
    """Deletes every object under ``prefix`` in all four storages and the local cold tier.
    Returns how many objects went."""
    if not prefix.endswith("/") or prefix == "/":
        raise ValueError(f"refusing to delete {prefix!r}: a prefix ends with '/' and names one")
    deleted = 0
    for name in settings.PHOTO_STORAGE_NAMES:
        if is_s3():
            # Unfinished multipart uploads hold stored parts too, invisible to a listing.
            for pending in storages[name].bucket.multipart_uploads.filter(Prefix=prefix):
                pending.abort()
            objects = list(storages[name].bucket.objects.filter(Prefix=prefix))
            for start in range(0, len(objects), 1000):  # S3's batch limit
                storages[name].bucket.delete_objects(
                    Delete={"Objects": [{"Key": o.key} for o in objects[start : start + 1000]]}
                )
            deleted += len(objects)
        else:
            deleted += _remove_tree(Path(storages[name].path(prefix)))
    if not is_s3():
        deleted += _remove_tree(_archive_root() / prefix)
    return deleted


def _remove_tree(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    count = sum(1 for path in folder.rglob("*") if path.is_file())
    shutil.rmtree(folder)
    return count


def delete_keys(keys: list[tuple[str, str]]) -> None:
    """Named objects, for files that live outside a photo's prefix (direct uploads)."""
    for storage_name, key in keys:
        storages[storage_name].delete(key)
        if storage_name == "originals":
            delete_archived(key)


# --- Cold tier: originals nobody opened for a while ------------------------------------------


def _archive_root() -> Path:
    return Path(settings.ARCHIVE_ROOT) / "originals"


def _archived(key: str) -> Path:
    return _archive_root() / key


def archive_original(key: str) -> None:
    """S3: the object moves to a colder storage class. Local: the file moves to the archive."""
    if is_s3():
        _set_storage_class(key, settings.ARCHIVE_S3_STORAGE_CLASS)
        return
    target = _archived(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(storages["originals"].path(key), target)


def restore_original(key: str) -> None:
    if is_s3():
        _set_storage_class(key, "STANDARD")
        return
    if _archived(key).exists():
        target = Path(storages["originals"].path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(_archived(key), target)


def list_archived() -> Iterator[str]:
    """Keys of the originals in the local cold tier (S3 keeps them in place: none here)."""
    if is_s3():
        return
    root = _archive_root()
    for path in root.rglob("*") if root.is_dir() else ():
        if path.is_file():
            yield path.relative_to(root).as_posix()


def delete_archived(key: str) -> None:
    """The local cold-tier copy of an original, if there is one."""
    if not is_s3():
        _archived(key).unlink(missing_ok=True)


def archived_locally(key: str) -> bool:
    return not is_s3() and _archived(key).exists()


def open_original(key: str) -> IO[bytes]:
    """An original wherever it is, the local cold tier included."""
    if archived_locally(key) and not storages["originals"].exists(key):
        return _archived(key).open("rb")
    return storages["originals"].open(key, "rb")


def _set_storage_class(key: str, storage_class: str) -> None:
    storage = storages["originals"]
    storage.connection.meta.client.copy_object(
        Bucket=storage.bucket_name,
        Key=key,
        CopySource={"Bucket": storage.bucket_name, "Key": key},
        StorageClass=storage_class,
        MetadataDirective="COPY",
    )


# --- Signed links -------------------------------------------------------------------------------


class LinkInvalid(Exception):
    """A link that was tampered with, has expired, or names an unknown storage."""


@dataclass(frozen=True)
class SignedTarget:
    storage_name: str
    key: str
    content_type: str
    filename: str


# While set (``link_targets``): every link signed is also recorded with the file it names.
_captured_targets: ContextVar[dict | None] = ContextVar("captured_targets", default=None)


@contextmanager
def link_targets() -> Iterator[dict[str, tuple[SignedTarget, bool]]]:
    """Records, for each link signed inside the block, the file it names and whether it is
    served inline: a view that must serve a file itself (a share gallery's, which stops with
    its link) gets the file the shared link builders chose, without a link that outlives it."""
    captured: dict[str, tuple[SignedTarget, bool]] = {}
    token = _captured_targets.set(captured)
    try:
        yield captured
    finally:
        _captured_targets.reset(token)


def signed_url(
    storage_name: str,
    key: str,
    *,
    content_type: str,
    filename: str,
    max_age: int | None = None,
    inline: bool = True,
) -> str:
    """A link valid for ``max_age`` seconds: S3 presigned (or CloudFront-signed), else a signed
    token for the local file view. It carries the content type and download name the file is
    served with, so it is never sniffed as something else.

    Links of the default lifetime (``SIGNED_URL_MAX_AGE``) are the same for one object during a
    ``SIGNED_URL_WINDOW``-second window, so a browser keeps the thumbnails it has across page
    loads: they expire at the window's end plus the lifetime, so they stay valid at least that
    long. A link asked for an explicit ``max_age`` (an export's) expires exactly then."""
    now = int(time.time())
    if max_age is not None or not settings.SIGNED_URL_WINDOW:
        expires_at = now + (max_age or settings.SIGNED_URL_MAX_AGE)
        window_end = None
    else:
        window_end = (now // settings.SIGNED_URL_WINDOW + 1) * settings.SIGNED_URL_WINDOW
        expires_at = window_end + settings.SIGNED_URL_MAX_AGE
    disposition = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    if is_s3():
        url = _presigned_get(
            storage_name, key, content_type, disposition, expires_at, now, window_end
        )
    else:
        payload = _compact_json(
            [storage_name, key, content_type, filename, int(inline), expires_at]
        ).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=")
        mac = base64.urlsafe_b64encode(_link_mac(settings.SECRET_KEY, body)).rstrip(b"=")
        url = f"{_signed_file_prefix(get_script_prefix())}{body.decode()}.{mac.decode()}"
    if (captured := _captured_targets.get()) is not None:
        captured[url] = (SignedTarget(storage_name, key, content_type, filename), inline)
    return url


@functools.lru_cache(maxsize=8)
def _link_hmac(secret: str) -> hmac.HMAC:
    """The keyed hash (its key derived from the secret and the links' salt), set up once per
    secret: a page signs hundreds of links."""
    key = hashlib.sha256(f"{_LINK_SALT}:{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _link_mac(secret: str, body: bytes) -> bytes:
    mac = _link_hmac(secret).copy()
    mac.update(body)
    return mac.digest()


@functools.lru_cache(maxsize=8)
def _signed_file_prefix(script_prefix: str) -> str:
    """The local file view's path up to its token, reversed once per script prefix."""
    marker = "0"
    return reverse("signed-file", kwargs={"token": marker})[: -len(marker)]


def _presigned_get(
    storage_name: str,
    key: str,
    content_type: str,
    disposition: str,
    expires_at: int,
    now: int,
    window_end: int | None,
) -> str:
    """S3 with static credentials: signed here in microseconds (``_s3_presign``), stamped with the
    window's start so the link of a window is the same without keeping it anywhere. CloudFront, or
    credentials from the instance's role, go through the storage (botocore stamps the signing time
    into each URL), so the link of a window is kept in the cache until the window ends."""
    storage = storages[storage_name]
    custom_domain = getattr(storage, "custom_domain", None)
    parameters = {
        "response-content-disposition": disposition,
        "response-content-type": content_type,
    }
    if not custom_domain and storage.access_key and storage.secret_key:
        signed_at = now if window_end is None else window_end - settings.SIGNED_URL_WINDOW
        return _s3_presign(storage_name, key, parameters, signed_at, expires_at - signed_at)
    cache_key = None
    if window_end is not None:
        identity = "\n".join((storage_name, key, content_type, disposition, str(expires_at)))
        cache_key = "signed-url:" + hashlib.sha256(identity.encode()).hexdigest()
        if cached := cache.get(cache_key):
            return cached
    if not custom_domain:
        parameters = {
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
        }
    # CloudFront: S3's own query names, forwarded to the origin, inside the signed URL.
    url = storage.url(key, parameters=parameters, expire=expires_at - now)
    if cache_key is not None:
        cache.set(cache_key, url, timeout=window_end - now)
    return url


@dataclass(frozen=True)
class _S3Target:
    """Where a bucket's objects are addressed, as botocore resolves it for this storage."""

    scheme: str
    host: str
    path_prefix: str
    region: str


@functools.lru_cache(maxsize=32)
def _s3_target(
    storage_name: str, bucket: str, endpoint_url: str | None, region: str | None, style: str | None
) -> _S3Target:
    """Resolved by botocore once per storage configuration: its endpoint rules cost far more
    than a signature."""
    client = storages[storage_name].connection.meta.client
    probe = "k"
    parts = urlsplit(client.generate_presigned_url("get_object", {"Bucket": bucket, "Key": probe}))
    return _S3Target(parts.scheme, parts.netloc, parts.path[: -len(probe)], client.meta.region_name)


@functools.lru_cache(maxsize=64)
def _sigv4_key(secret: str, day: str, region: str) -> bytes:
    """SigV4's signing key: four HMACs, derived once per secret, day and region, not per link."""
    key = f"AWS4{secret}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _s3_presign(
    storage_name: str, key: str, parameters: dict, signed_at: int, expires_in: int
) -> str:
    """A presigned GET as AWS documents SigV4 query authentication (what botocore makes, without
    its per-call request pipeline)."""
    storage = storages[storage_name]
    target = _s3_target(
        storage_name,
        storage.bucket_name,
        storage.endpoint_url,
        storage.region_name,
        getattr(storage, "addressing_style", None),
    )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at))
    day = stamp[:8]
    query = {
        **parameters,
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": f"{storage.access_key}/{day}/{target.region}/s3/aws4_request",
        "X-Amz-Date": stamp,
        "X-Amz-Expires": str(expires_in),
        "X-Amz-SignedHeaders": "host",
    }
    if token := getattr(storage, "security_token", None):
        query["X-Amz-Security-Token"] = token
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
        for name, value in sorted(query.items())
    )
    path = target.path_prefix + quote(key, safe="/~")
    canonical_request = (
        f"GET\n{path}\n{canonical_query}\nhost:{target.host}\n\nhost\nUNSIGNED-PAYLOAD"
    )
    string_to_sign = (
        f"AWS4-HMAC-SHA256\n{stamp}\n{day}/{target.region}/s3/aws4_request\n"
        + hashlib.sha256(canonical_request.encode()).hexdigest()
    )
    signature = hmac.new(
        _sigv4_key(storage.secret_key, day, target.region), string_to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return f"{target.scheme}://{target.host}{path}?{canonical_query}&X-Amz-Signature={signature}"


def absolute_url(url: str, request=None) -> str:
    """Local links are paths: absolute for the request's host, or for ``SITE_URL`` when there is
    no request (e-mails, webhooks). S3 and CloudFront links already are."""
    if url.startswith("http"):
        return url
    return request.build_absolute_uri(url) if request is not None else f"{settings.SITE_URL}{url}"


def resolve_token(token: str) -> tuple[SignedTarget, bool]:
    """The file a local link points at, and whether it is served inline. Raises LinkInvalid."""
    if ":" in token:
        payload = _resolve_legacy_token(token)
    else:
        body, _, mac = token.partition(".")
        try:
            given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
        except (ValueError, binascii.Error) as error:
            raise LinkInvalid("This link is not valid.") from error
        secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        if not any(
            hmac.compare_digest(given, _link_mac(secret, body.encode())) for secret in secrets
        ):
            raise LinkInvalid("This link is not valid.")
        storage_name, key, content_type, filename, inline, expires_at = json.loads(
            base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        )
        payload = {
            "s": storage_name,
            "k": key,
            "t": content_type,
            "f": filename,
            "i": bool(inline),
            "e": expires_at,
        }
    if payload["e"] < time.time():
        raise LinkInvalid("This link has expired.")
    if payload["s"] not in settings.PHOTO_STORAGE_NAMES:
        raise LinkInvalid("This link is not valid.")
    target = SignedTarget(payload["s"], payload["k"], payload["t"], payload["f"])
    return target, payload["i"]


def _resolve_legacy_token(token: str) -> dict:
    """Links signed before the compact format (an export's e-mailed link lives for days) keep
    working until they expire."""
    try:
        return signing.Signer(salt=_LINK_SALT).unsign_object(token)
    except signing.BadSignature as error:
        raise LinkInvalid("This link is not valid.") from error


def file_etag(key: str, size: int, modified: float) -> str:
    """A strong validator from what identifies this stored object's content."""
    return '"' + hashlib.sha256(f"{key}:{size}:{modified}".encode()).hexdigest()[:32] + '"'


# --- Direct uploads: where a client sends bytes without going through our web servers ----------


def presigned_post(key: str, *, content_type: str, max_size: int, expires: int) -> dict:
    """S3 presigned POST (url + form fields) limited to this key, type and size."""
    storage = storages["originals"]
    return storage.connection.meta.client.generate_presigned_post(
        storage.bucket_name,
        key,
        Fields={"Content-Type": content_type},
        Conditions=[["content-length-range", 1, max_size], {"Content-Type": content_type}],
        ExpiresIn=expires,
    )


def multipart_start(key: str, *, content_type: str) -> str:
    storage = storages["originals"]
    return storage.connection.meta.client.create_multipart_upload(
        Bucket=storage.bucket_name, Key=key, ContentType=content_type
    )["UploadId"]


def multipart_parts(key: str, multipart_id: str) -> list[dict]:
    """The parts S3 has received (``PartNumber``, ``Size``, ``ETag``), every page of them."""
    storage = storages["originals"]
    parts, marker = [], 0
    while True:
        page = storage.connection.meta.client.list_parts(
            Bucket=storage.bucket_name, Key=key, UploadId=multipart_id, PartNumberMarker=marker
        )
        parts += page.get("Parts", [])
        if not page.get("IsTruncated"):
            return parts
        marker = page["NextPartNumberMarker"]


def multipart_part_url(key: str, multipart_id: str, number: int, *, expires: int) -> str:
    storage = storages["originals"]
    return storage.connection.meta.client.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": storage.bucket_name,
            "Key": key,
            "UploadId": multipart_id,
            "PartNumber": number,
        },
        ExpiresIn=expires,
    )


def multipart_complete(key: str, multipart_id: str, parts: list[dict]) -> None:
    storage = storages["originals"]
    storage.connection.meta.client.complete_multipart_upload(
        Bucket=storage.bucket_name,
        Key=key,
        UploadId=multipart_id,
        MultipartUpload={
            "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
        },
    )


def multipart_abort(key: str, multipart_id: str) -> None:
    storage = storages["originals"]
    storage.connection.meta.client.abort_multipart_upload(
        Bucket=storage.bucket_name, Key=key, UploadId=multipart_id
    )


def stored_content_type(key: str) -> str | None:
    """The Content-Type an S3 object was stored with (None locally: a file has none)."""
    if not is_s3():
        return None
    storage = storages["originals"]
    head = storage.connection.meta.client.head_object(Bucket=storage.bucket_name, Key=key)
    return head.get("ContentType")


def write_span(key: str, body: IO[bytes], offset: int, length: int) -> int:
    """Local stand-in for S3 parts: copies up to ``length`` bytes of ``body`` to ``offset`` of an
    original being uploaded, a megabyte at a time (never the whole span in memory); returns how
    many bytes arrived."""
    path = Path(storages["originals"].path(key))
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "r+b" if offset else "wb") as handle:
        handle.seek(offset)
        while written < length and (chunk := body.read(min(1024 * 1024, length - written))):
            handle.write(chunk)
            written += len(chunk)
    return written
