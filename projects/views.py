"""Pages for projects and their photos. Presets and portal profiles come to the page from the
API (see ``static/``): this app sits below processing and delivery."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import agency_get_for_member, membership_list
from photolisting.errors import ApplicationError, NotFound
from projects import selectors, services
from projects.archive import photo_touch
from projects.forms import ProjectForm
from projects.links import delivered_thumbnails, photo_links, version_links
from projects.models import Photo
from projects.problems import problem_message

PROJECTS_PER_PAGE = 24


def dashboard(request: HttpRequest, form: ProjectForm | None = None) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "landing.html")
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
    """Every photo of the project in listing order, on one page: agents order the whole listing
    by dragging or with the move buttons. The query count does not grow with the photos."""
    try:
        project = selectors.project_get(user=request.user, project_id=project_id)
    except NotFound:
        return render(request, "404.html", status=404)
    text, urls = _tile_text(), _tile_urls(project.id)
    photos = [
        _tile(photo, version, thumbnail, text, urls)
        for photo, version, thumbnail in delivered_thumbnails(
            selectors.photo_tiles(user=request.user, project_id=project.id)
        )
    ]
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "photos": photos,
            "duplicates": sum(1 for item in photos if item["photo"].duplicate_of_id),
            "max_upload_mb": settings.PHOTO_MAX_UPLOAD_BYTES // (1024 * 1024),
            "page_strings": _page_strings(),
            "text": text,
        },
    )


@login_required
def photo_tile(request: HttpRequest, project_id: str, photo_id: str) -> HttpResponse:
    """One tile, for the page's scripts to show a photo as it is now without a reload."""
    try:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    except NotFound:
        return render(request, "404.html", status=404)
    if str(photo.project_id) != str(project_id):
        return render(request, "404.html", status=404)
    text, urls = _tile_text(), _tile_urls(photo.project_id)
    [(photo, version, thumbnail)] = delivered_thumbnails([photo])
    return render(
        request,
        "projects/photo_tile.html",
        {"item": _tile(photo, version, thumbnail, text, urls), "text": text},
    )


def _tile_urls(project_id) -> dict[str, str]:
    """The prefixes a tile's links are made of, reversed once per page rather than per photo."""
    return {
        "photos": reverse("project-detail", args=[project_id]) + "photos/",
        "api_photos": reverse("api-photos"),
    }


def _tile_text() -> dict[str, str]:
    """What every tile says, in the reader's language: looked up once per page, as a page of
    hundreds of tiles would otherwise spend much of its time in translation lookups."""
    return {
        "ready": _("Ready"),
        "rejected": _("Rejected"),
        "failed": _("Failed"),
        "processing": _("Processing…"),
        "duplicate": _("duplicate"),
        "room_placeholder": _("Room (e.g. Kitchen)"),
        "move_earlier": _("Move earlier"),
        "move_later": _("Move later"),
        "try_again": _("Try again"),
        "delete": _("Delete"),
        # Per tile, with the photo's name.
        "progress_of": _("Progress of %(name)s"),
        "room_shown_in": _("Room shown in %(name)s"),
        "move_name_earlier": _("Move %(name)s earlier"),
        "move_name_later": _("Move %(name)s later"),
        "delete_name": _("Delete %(name)s"),
    }


def _tile(
    photo, version, thumbnail: str | None, text: dict[str, str], urls: dict[str, str]
) -> dict:
    """A gallery tile shows what the photo is delivered as (its chosen or newest result, else
    the original); a photo that is not ready says why, in the reader's language."""
    problem = (
        problem_message(photo.rejection_code, photo.rejection_message)
        if photo.status in (Photo.Status.REJECTED, Photo.Status.FAILED)
        else ""
    )
    name = {"name": photo.original_filename}
    photo_id = str(photo.id)
    return {
        "photo": photo,
        "page": f"{urls['photos']}{photo_id}/",
        "api": f"{urls['api_photos']}{photo_id}/",
        "latest": version,
        "thumbnail": thumbnail,
        "problem": problem,
        "labels": {
            "progress": text["progress_of"] % name,
            "room": text["room_shown_in"] % name,
            "move_earlier": text["move_name_earlier"] % name,
            "move_later": text["move_name_later"] % name,
            "delete": text["delete_name"] % name,
        },
    }


def _page_strings() -> dict[str, str]:
    """What the project page's scripts say, in the reader's language."""
    return {
        "waiting": _("Waiting…"),
        "upload_progress": _("Upload of %(name)s"),
        "processing": _("Processing…"),
        "ready": _("Ready"),
        "rejected": _("Rejected"),
        "failed": _("Failed"),
        "duplicate": _("duplicate (hidden unless duplicates are shown)"),
        "upload_failed": _("Upload failed (%(status)s)"),
        "network_error": _("Network error: check your connection and try again."),
        "retry_upload": _("Retry"),
        "retry_upload_label": _("Retry the upload of %(name)s"),
        "still_processing": _("Still processing — refresh later"),
        "no_photos": _("Select at least one ready photo first (or upload some)."),
        "starting": _("Starting…"),
        "could_not_start": _("Could not start (%(status)s)"),
        "queued": _("Queued"),
        "running": _("Running"),
        "succeeded": _("Done"),
        "cancelled": _("Cancelled"),
        "offpeak_waiting": _("Waiting for the off-peak window"),
        "batch_summary": _(
            "%(succeeded)s done, %(running)s running, %(queued)s queued, %(failed)s failed"
        ),
        "batch_offpeak": _("%(count)s photo(s) waiting for the off-peak window."),
        "job_failed_advice": _(
            "Try again from this photo, or choose another preset. If it keeps failing, "
            "contact support."
        ),
        "advice_provider_not_configured": _(
            "AI editing is not set up on this server: use a preset without AI, or ask your "
            "administrator to configure an AI provider."
        ),
        "retry_job": _("Try again"),
        "retry_job_label": _("Try %(preset)s again on %(name)s"),
        "advice_quota_exceeded": _("Your plan's monthly quota is used up: see Billing."),
        "unavailable": _("unavailable"),
        "confirm_delete": _("Delete %(name)s? The original and its edits are removed for good."),
        "deleted": _("The photo was deleted."),
        "delete_failed": _("The photo could not be deleted."),
        "moved": _("%(name)s moved to position %(position)s."),
        "order_failed": _("The order could not be saved."),
        "room_saved": _("Room label saved."),
        "checking_rules": _("Checking the portal's rules…"),
        "see_plans": _("See the plans"),
        "download": _("Download %(name)s"),
        "share_none": _("No share links yet."),
        "share_views": _("%(count)s view(s)"),
        "share_expires": _("expires %(date)s"),
        "share_revoked": _("revoked"),
        "share_expired": _("expired"),
        "share_all": _("all photos"),
        "share_photos": _("%(count)s photo(s)"),
        "revoke": _("Revoke"),
        "revoke_label": _("Revoke the share link %(url)s"),
        "revoked": _("The share link was revoked."),
        "selection_all": _("No photo selected: all ready photos (duplicates excepted)."),
        "selection_some": _("%(count)s photo(s) selected."),
    }


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
    """The photo with a before/after slider against the version it is delivered as (or the
    ``?version=`` one), and its version history with what to deliver."""
    try:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    except NotFound:
        return render(request, "404.html", status=404)
    photo_touch(photo.pk, last_accessed_at=photo.last_accessed_at, archived_at=photo.archived_at)
    versions = [version_links(v) for v in photo.versions.all()]
    delivered = selectors.delivered_version(photo)
    delivered_id = str(delivered.id) if delivered else None
    by_id = {v["id"]: v for v in versions}
    current = (
        by_id.get(request.GET.get("version", ""))
        or by_id.get(delivered_id or "")
        or (versions[0] if versions else None)
    )
    return render(
        request,
        "projects/photo_detail.html",
        {
            "project": photo.project,
            "photo": photo,
            "links": photo_links(photo),
            "versions": versions,
            "current": current,
            "delivered_id": delivered_id,
            "chosen_by_agent": bool(photo.delivered_version_id or photo.deliver_original),
        },
    )


@login_required
@require_POST
def photo_deliver(request: HttpRequest, project_id: str, photo_id: str) -> HttpResponse:
    """Delivers one of the photo's versions (``version``), the original (``original``) or the
    newest result again (``latest``), from the photo's page."""
    try:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    except NotFound:
        return render(request, "404.html", status=404)
    wanted = request.POST.get("version")
    original = bool(request.POST.get("original"))
    version = next((v for v in photo.versions.all() if str(v.id) == wanted), None)
    if wanted and version is None:
        messages.error(request, _("This version no longer exists; choose another one."))
    elif not (version or original or request.POST.get("latest")):
        messages.error(request, _("Choose a version, the original or the newest result."))
    else:
        try:
            services.photo_deliver(
                user=request.user, photo=photo, version=version, original=original
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("The original is delivered again.")
                if original
                else _("This version is now delivered.")
                if version
                else _("The newest result is delivered."),
            )
    return redirect("photo-detail", project_id=photo.project_id, photo_id=photo.id)
