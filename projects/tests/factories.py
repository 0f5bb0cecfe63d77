from __future__ import annotations

import factory

from accounts.tests.factories import UserFactory
from projects.models import Folder, Project


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
