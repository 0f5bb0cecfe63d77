"""Pages for projects and the signed-link file view used when storage is local."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import agency_get_for_member, membership_list
from photolisting.errors import ApplicationError, NotFound
from processing.selectors import preset_list
from projects import selectors, services
from projects.api.serializers import photo_links, version_links
from projects.delivery import (
    LinkInvalid,
    RangeNotSatisfiable,
    file_etag,
    parse_range,
    read_span,
    resolve_token,
)
from projects.exports import portal_profiles
from projects.forms import ProjectForm
from projects.lifecycle import photo_touch
from projects.models import Photo
from projects.problems import problem_message
from projects.sharing import (
    ShareLinkGone,
    share_link_check_password,
    share_link_open,
    share_link_record_view,
    shared_photos,
)

PROJECTS_PER_PAGE = 24
PHOTOS_PER_PAGE = 60


@login_required
def dashboard(request: HttpRequest, form: ProjectForm | None = None) -> HttpResponse:
    projects = Paginator(
        selectors.project_list(user=request.user).order_by("-created_at"), PROJECTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/dashboard.html",
        {
            "projects": projects,
            "form": form or ProjectForm(),
            "agencies": membership_list(user=request.user),
        },
    )


@login_required
@require_POST
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST)
    if not form.is_valid():
        return dashboard(request, form=form)
    data = dict(form.cleaned_data)
    agency_id = data.pop("agency")
    try:
        agency = (
            agency_get_for_member(user=request.user, agency_id=agency_id) if agency_id else None
        )
        project = services.project_create(user=request.user, agency=agency, **data)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("dashboard")
    return redirect("project-detail", project_id=project.id)


@login_required
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    try:
        project = selectors.project_get(user=request.user, project_id=project_id)
    except NotFound:
        return render(request, "404.html", status=404)
    page = Paginator(
        selectors.photo_list(user=request.user, project_id=project.id), PHOTOS_PER_PAGE
    ).get_page(request.GET.get("page"))
    page.object_list = [_tile(photo) for photo in page.object_list]
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "photos": page,
            "presets": preset_list(user=request.user),
            "portals": portal_profiles().values(),
            "max_upload_mb": settings.PHOTO_MAX_UPLOAD_BYTES // (1024 * 1024),
        },
    )


def _tile(photo) -> dict:
    """A gallery tile shows the latest result when there is one, else the original; a photo
    that is not ready says why, in the reader's language."""
    versions = list(photo.versions.all())
    latest = version_links(versions[0]) if versions else None
    thumbnail = (latest and latest["urls"]["thumbnail"]) or photo_links(photo)["thumbnail"]
    problem = (
        problem_message(photo.rejection_code, photo.rejection_message)
        if photo.status in (Photo.Status.REJECTED, Photo.Status.FAILED)
        else ""
    )
    return {"photo": photo, "latest": latest, "thumbnail": thumbnail, "problem": problem}


@login_required
@require_POST
def photo_retry(request: HttpRequest, project_id: str, photo_id: str) -> HttpResponse:
    """Processes a failed or rejected photo again, from its project page."""
    try:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
        services.photo_ingest_retry(photo=photo)
    except NotFound:
        return render(request, "404.html", status=404)
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("project-detail", project_id=project_id)


@login_required
@require_POST
def photo_delete(request: HttpRequest, project_id: str, photo_id: str) -> HttpResponse:
    try:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    except NotFound:
        return render(request, "404.html", status=404)
    services.photo_delete(photo=photo)
    messages.success(request, _("The photo was deleted."))
    return redirect("project-detail", project_id=photo.project_id)


@login_required
def photo_detail(request: HttpRequest, project_id: str, photo_id: str) -> HttpResponse:
    """The photo with a before/after slider against its latest (or chosen) version."""
    try:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    except NotFound:
        return render(request, "404.html", status=404)
    photo_touch(photo)
    versions = [version_links(v) for v in photo.versions.all()]
    chosen = request.GET.get("version")
    current = next((v for v in versions if v["id"] == chosen), versions[0] if versions else None)
    return render(
        request,
        "projects/photo_detail.html",
        {
            "project": photo.project,
            "photo": photo,
            "links": photo_links(photo),
            "versions": versions,
            "current": current,
        },
    )


@require_GET
def signed_file(request: HttpRequest, token: str) -> HttpResponse:
    """Serves a stored file named by a signed link; the link itself is the permission."""
    try:
        target, inline = resolve_token(token)
    except LinkInvalid as error:
        return HttpResponseForbidden(str(error))
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


def shared_gallery(request: HttpRequest, token: str) -> HttpResponse:
    """The public gallery behind a share link (no account)."""
    try:
        link = share_link_open(token)
    except ShareLinkGone as gone:
        return render(request, "projects/share_gone.html", {"message": gone.message}, status=410)
    except NotFound:
        return render(request, "404.html", status=404)
    unlocked = f"share:{link.pk}"
    if link.password_hash and not request.session.get(unlocked):
        error = None
        if request.method == "POST":
            client_ip = request.META.get("REMOTE_ADDR", "")
            try:
                if share_link_check_password(link, request.POST.get("password", ""), client_ip):
                    request.session[unlocked] = True
                    return redirect(request.path)
                error = "That password is not right."
            except ApplicationError as refusal:
                error = refusal.message
        return render(
            request, "projects/share_password.html", {"link": link, "error": error}, status=401
        )
    share_link_record_view(link)
    items = []
    for photo in shared_photos(link):
        versions = list(photo.versions.all())
        latest = version_links(versions[0]) if versions else None
        original = photo_links(photo)
        items.append(
            {
                "photo": photo,
                "thumbnail": latest["urls"]["thumbnail"] if latest else original["thumbnail"],
                "preview": latest["urls"]["preview"] if latest else original["preview"],
                "download": (latest["urls"]["download"] if latest else original["original"])
                if link.allow_download
                else None,
                "ai_edited": bool(latest and latest["ai_edited"]),
            }
        )
    response = render(request, "projects/shared_gallery.html", {"link": link, "items": items})
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
