"""Which photos leave the product, and in what order: the agent's selection (or every ready
photo that is not a duplicate), always in listing order, each as its delivered version."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.selectors import agency_logo_url
from billing.entitlements import entitlements_of
from photolisting.errors import NotFound
from projects.models import Photo, Project
from projects.selectors import in_listing_order


def deliverable_photos(project: Project) -> QuerySet[Photo]:
    """The default selection: ready photos that are not duplicates of another, listing order."""
    return in_listing_order(
        project.photos.filter(status=Photo.Status.READY, duplicate_of__isnull=True)
    )


def selected_photos(project: Project, photo_ids: Iterable) -> list[Photo]:
    """The chosen photos of the project in listing order (whatever order they were sent in);
    an id that is not one of the project's photos is refused, naming it."""
    wanted = list(dict.fromkeys(str(photo_id) for photo_id in photo_ids))
    photos = list(in_listing_order(project.photos.filter(id__in=wanted)))
    missing = sorted(set(wanted) - {str(photo.id) for photo in photos})
    if missing:
        raise NotFound(
            _("No such photo in this project."),
            code="photo_not_found",
            details={"photos": missing},
        )
    return photos


def gallery_branding(project: Project) -> dict:
    """The agency's name and logo on a shared gallery, when the agency's plan includes
    branding; otherwise the gallery is PhotoListing's own."""
    agency = project.agency
    if agency is None or not entitlements_of(project).allows("branding"):
        return {"agency": None, "logo": None}
    return {"agency": agency, "logo": agency_logo_url(agency)}
