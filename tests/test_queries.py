"""Compiled query shapes (photolisting.queries) answer what the ORM answers, and leave alone the
shapes they cannot rebind safely."""

from __future__ import annotations

import pytest
from django.db.models import Q

from photolisting.queries import QueryShape
from projects.models import Photo
from projects.tests.factories import PhotoFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_transformed_argument_is_never_rebound_and_none_is_its_own_shape():
    project = ProjectFactory()
    kitchen = PhotoFactory(project=project, original_filename="Kitchen-1.jpg")
    PhotoFactory(project=project, original_filename="garden.jpg")

    def build(name, project_id):
        # Sent as itself and as %name%: only the first could be rebound.
        photos = Photo.objects.filter(
            Q(original_filename=name) | Q(original_filename__icontains=name)
        )
        if project_id is not None:
            photos = photos.filter(project_id=project_id)
        return photos.order_by().values("id")

    shape = QueryShape(Photo, build)
    for _ in range(2):  # the second call would use what the first compiled
        assert shape.rows(name="kitchen", project_id=project.id) == [{"id": kitchen.id}]
        assert shape.rows(name="garden", project_id=None) != []
        assert shape.rows(name="kitchen", project_id=ProjectFactory().id) == []
