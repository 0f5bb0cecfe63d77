"""Pages of delivery: the local signed-file view (S3 serves its own links) and the public
gallery behind a share link."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from delivery.files import RangeNotSatisfiable, parse_range, read_span
from delivery.selectors import gallery_branding
from delivery.sharing import (
    ShareLinkGone,
    share_link_check_password,
    share_link_open,
    share_link_record_view,
    shared_photos,
)
from photolisting.errors import ApplicationError, NotFound
from photolisting.storage import (
    LinkInvalid,
    SignedTarget,
    file_etag,
    link_targets,
    resolve_token,
)
from projects.links import delivered_links


@require_GET
def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    """Serves a stored file named by a signed link; the link itself is the permission."""
    try:
        target, inline = resolve_token(token)
    except LinkInvalid as error:
        return HttpResponseForbidden(str(error))
    return _serve(request, target, inline)


def _serve(request: HttpRequest, target: SignedTarget, inline: bool) -> HttpResponse:
    """A stored file with its type and name, conditional (ETag) and ranged."""
    storage = storages[target.storage_name]
    if not storage.exists(target.key):
        return render(request, "404.html", status=404)
    size = storage.size(target.key)
    etag = file_etag(target.key, size, storage.get_modified_time(target.key).timestamp())
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    try:
        byte_range = parse_range(request.headers.get("Range", ""), size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle = storage.open(target.key, "rb")
    if byte_range is None:
        response = FileResponse(
            handle,
            content_type=target.content_type,
            as_attachment=not inline,
            filename=target.filename,
        )
    else:
        start, end = byte_range
        handle.seek(start)
        response = StreamingHttpResponse(
            read_span(handle, end - start + 1), status=206, content_type=target.content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        response["Content-Disposition"] = content_disposition_header(not inline, target.filename)
    response["ETag"] = etag
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = f"private, max-age={settings.SIGNED_URL_MAX_AGE}"
    return response


def _unlocked_key(link) -> str:
    """The session key that says this visitor gave the link's password."""
    return f"share:{link.pk}"


SHARED_FILE_KINDS = ("thumbnail", "preview", "download")


@require_GET
def shared_file(request: HttpRequest, token: str, photo_id: str, kind: str) -> HttpResponse:
    """A gallery's file through its share link: served here while the link is live (not
    revoked, not expired, unlocked if it has a password), never through a signed link that
    would outlive it, so a file link copied out of the gallery stops with the share link."""
    try:
        link = share_link_open(token)
    except ShareLinkGone as gone:
        return render(request, "delivery/share_gone.html", {"message": gone.message}, status=410)
    except NotFound:
        return render(request, "404.html", status=404)
    if link.password_hash and not request.session.get(_unlocked_key(link)):
        return redirect("shared-gallery", token=token)
    try:
        photo = shared_photos(link).filter(id=uuid.UUID(photo_id)).first()
    except ValueError:
        photo = None
    allowed = kind in SHARED_FILE_KINDS and (kind != "download" or link.allow_download)
    with link_targets() as targets:
        url = delivered_links(photo)[kind] if photo is not None and allowed else None
    if url is None:
        return render(request, "404.html", status=404)
    response = _serve(request, *targets[url])
    response["Cache-Control"] = "private, no-store"  # asked again each time: the link may end
    response["Referrer-Policy"] = "no-referrer"
    return response


def shared_gallery(request: HttpRequest, token: str) -> HttpResponse:
    """The public gallery behind a share link (no account)."""
    try:
        link = share_link_open(token)
    except ShareLinkGone as gone:
        return render(request, "delivery/share_gone.html", {"message": gone.message}, status=410)
    except NotFound:
        return render(request, "404.html", status=404)
    unlocked = _unlocked_key(link)
    if link.password_hash and not request.session.get(unlocked):
        error = None
        if request.method == "POST":
            client_ip = request.META.get("REMOTE_ADDR", "")
            try:
                if share_link_check_password(link, request.POST.get("password", ""), client_ip):
                    request.session[unlocked] = True
                    return redirect(request.path)
                error = _("That password is not right.")
            except ApplicationError as refusal:
                error = refusal.message
        return render(
            request, "delivery/share_password.html", {"link": link, "error": error}, status=401
        )
    share_link_record_view(link)
    items = []
    for photo in shared_photos(link):
        # Files go through the share link (shared_file), so they stop when it does.
        delivered = delivered_links(photo)
        items.append(
            {
                "photo": photo,
                **{
                    kind: reverse("shared-file", args=[token, photo.id, kind])
                    if delivered[kind]
                    else None
                    for kind in ("thumbnail", "preview")
                },
                "download": reverse("shared-file", args=[token, photo.id, "download"])
                if link.allow_download
                else None,
                "ai_edited": delivered["ai_edited"],
            }
        )
    response = render(
        request,
        "delivery/shared_gallery.html",
        {"link": link, "items": items, **gallery_branding(link.project)},
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
