from __future__ import annotations

import uuid

import factory

from accounts.tests.factories import UserFactory
from projects.models import Folder, Photo, PhotoVersion, Project, Rendition


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"{n} Rue des Lilas")
    address = "Lyon"
    owner = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("owner")


class FolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Folder

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class PhotoFactory(factory.django.DjangoModelFactory):
    """A ready photo's row (no stored file: for reads, not downloads)."""

    class Meta:
        model = Photo

    project = factory.SubFactory(ProjectFactory)
    uploaded_by = factory.SelfAttribute("project.owner")
    original_filename = factory.Sequence(lambda n: f"room-{n}.jpg")
    storage_key = factory.LazyAttribute(lambda p: f"{p.project.id}/{uuid.uuid4()}/original.jpg")
    bytes = 4_000_000
    sha256 = factory.LazyFunction(lambda: uuid.uuid4().hex * 2)
    format = "JPEG"
    status = Photo.Status.READY
    width = 4032
    height = 3024


class PhotoVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhotoVersion

    photo = factory.SubFactory(PhotoFactory)
    preset_name = "Natural"
    storage_key = factory.LazyAttribute(lambda v: f"{v.photo.project_id}/{uuid.uuid4()}/v.jpg")
    format = "JPEG"
    width = 4032
    height = 3024
    bytes = 3_000_000


class RenditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rendition

    photo = factory.SubFactory(PhotoFactory)
    version = None
    spec = Rendition.Spec.THUMBNAIL
    storage_key = factory.LazyAttribute(lambda r: f"{r.photo.project_id}/{uuid.uuid4()}.webp")
    format = "WEBP"
    width = 400
    height = 300
    bytes = 30_000


def ready_photo_with_version(project: Project) -> Photo:
    """A photo as ingest and one job leave it: its thumbnail and preview, and a version with
    its own."""
    photo = PhotoFactory(project=project)
    version = PhotoVersionFactory(photo=photo)
    for spec in Rendition.Spec.values:
        RenditionFactory(photo=photo, spec=spec)
        RenditionFactory(photo=photo, version=version, spec=spec)
    return photo
