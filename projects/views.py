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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import agency_get_for_member, membership_list
from photolisting.errors import ApplicationError, NotFound
from projects import selectors, services
from projects.archive import photo_touch
from projects.forms import ProjectForm
from projects.links import delivered_links, photo_links, version_links
from projects.models import Photo
from projects.problems import problem_message

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
            "max_upload_mb": settings.PHOTO_MAX_UPLOAD_BYTES // (1024 * 1024),
        },
    )


def _tile(photo) -> dict:
    """A gallery tile shows the latest result when there is one, else the original; a photo
    that is not ready says why, in the reader's language."""
    delivered = delivered_links(photo)
    problem = (
        problem_message(photo.rejection_code, photo.rejection_message)
        if photo.status in (Photo.Status.REJECTED, Photo.Status.FAILED)
        else ""
    )
    return {
        "photo": photo,
        "latest": delivered["version"],
        "thumbnail": delivered["thumbnail"],
        "problem": problem,
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
