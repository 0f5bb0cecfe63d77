"""Stamps (``photolisting.stamps``) for a project's photo list, and the one for who may see
which project.

A project's photo list shows its photos' rows, their versions and renditions: any of them saved
or deleted, and photos changed by ``update()`` or ``bulk_update()`` (``projects.models.
PhotoQuerySet``), drops the project's stamp (``photos-stamp:<project id>``). Folders dropping
their photos' folder (Django sets it to NULL without signals) do too. Who may see a project
moves when a project or membership changes its owner, agency or user, or is deleted: that drops
``ACCESS_STAMP``, shared by every answer made from stamps (such changes are rare)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models.signals import post_delete, post_save

from photolisting.stamps import stamps_drop

ACCESS_STAMP = "stamp:access"
_OWNING_FIELDS = {"owner", "owner_id", "agency", "agency_id", "user", "user_id"}


def photo_list_stamps(project_id: str | None) -> tuple[str, ...]:
    """The keys a project's photo list is valid under (none without one well-formed project)."""
    from photolisting.api import parsed_pk  # loads DRF, which loads the models importing this
    from projects.models import Project

    pk = parsed_pk(Project, project_id) if project_id else None
    return () if pk is None else (f"photos-stamp:{pk}", ACCESS_STAMP)


def photos_changed_in(project_ids: Iterable) -> None:
    stamps_drop([f"photos-stamp:{project_id}" for project_id in set(project_ids)])


def access_changed(**kwargs) -> None:
    stamps_drop([ACCESS_STAMP])


def _access_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    """A new project or membership takes nothing away; a change may move who sees what."""
    if not created and (update_fields is None or _OWNING_FIELDS & set(update_fields)):
        access_changed()


def _photo_written(sender, instance, **kwargs) -> None:
    photos_changed_in([instance.project_id])


def _part_written(sender, instance, **kwargs) -> None:
    """A version or rendition: the list shows it under its photo."""
    from projects.models import Photo

    project_id = Photo.objects.filter(pk=instance.photo_id).values_list("project_id", flat=True)
    photos_changed_in(project_id)


def connect() -> None:
    from accounts.models import Membership
    from projects.models import Folder, Photo, PhotoVersion, Project, Rendition

    for model in (Membership, Project):
        post_save.connect(_access_saved, sender=model, dispatch_uid=f"access-saved-{model}")
        post_delete.connect(access_changed, sender=model, dispatch_uid=f"access-gone-{model}")
    for signal in (post_save, post_delete):
        signal.connect(_photo_written, sender=Photo, dispatch_uid=f"photos-stamp-{signal}")
        signal.connect(_photo_written, sender=Folder, dispatch_uid=f"folder-stamp-{signal}")
        for part in (PhotoVersion, Rendition):
            signal.connect(_part_written, sender=part, dispatch_uid=f"{part}-stamp-{signal}")
